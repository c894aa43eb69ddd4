"""model.json, the fitted model a snapshot keeps: its layout is written and read here only.

It holds what a later period needs from this one: the features and how they were
scaled, each segment's centre (scaled, and in the data's own units), the largest
segment id the report has used, and the evidence k was chosen on. A later period
matches its segments to these centres (history), or is scored with the model itself
(`[segmentation] mode = "frozen"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.features import Features, Scaling
from reportgen.records import from_plain
from reportgen.segment import ArchivedModel, KScore, Segmentation

MODEL_FILE = "model.json"


@dataclass(frozen=True)
class StoredModel:
    """What a later period reads back of model.json."""

    model: ArchivedModel
    units: Mapping[int, Mapping[str, float]]
    """Segment id -> feature -> centre in the data's own units."""
    max_id: int
    """The largest segment id the report has used, so a new segment gets a fresh one."""


def model_record(
    features: Features,
    segmentation: Segmentation,
    max_id: int | None = None,
    frozen: ArchivedModel | None = None,
) -> dict[str, Any]:
    """Everything needed to score new customers with this model, and the evidence for k.

    A period scored with a `frozen` model records that model's segments, all of them:
    one that no customer was nearest to this time must still be there next period.
    """
    ids, centroids = (
        (frozen.ids, frozen.centroids) if frozen else (segmentation.ids, segmentation.centroids)
    )
    scaling = features.scaling
    in_units = scaling.to_units(centroids.copy())
    return {
        "k": segmentation.k,
        "ids": list(ids),
        "max_id": max(ids) if max_id is None else max_id,
        "seed": segmentation.seed,
        "n_init": segmentation.n_init,
        "features": list(scaling.names),
        "feature_roles": list(scaling.roles),
        "dropped_constant": list(features.dropped_constant),
        "scaler": {
            "kind": scaling.kind,
            "center": scaling.center.tolist(),
            "scale": scaling.scale.tolist(),
            "log1p": list(scaling.log1p),
            "codes": {role: list(levels) for role, levels in scaling.codes.items()},
        },
        "centroids": [
            {
                "segment": ids[i],
                "scaled": dict(zip(scaling.names, row.tolist(), strict=True)),
                "units": dict(zip(scaling.names, unit.tolist(), strict=True)),
            }
            for i, (row, unit) in enumerate(zip(centroids, in_units, strict=True))
        ],
        "selection": {
            "fixed": segmentation.fixed,
            "votes": segmentation.votes,
            "reason": segmentation.reason,
            "sample_size": segmentation.sample_size,
            "scores": [vars(s) for s in segmentation.scores],
        },
        "outliers": segmentation.outliers,
        "silhouette": segmentation.silhouette,
        "stability": {"mean_ari": segmentation.stability, "runs": segmentation.stability_runs},
        "warnings": list(segmentation.warnings),
    }


def read_model(record: Mapping[str, Any], period: str) -> StoredModel:
    """The model of `period` from its model.json (`record`, as model_record wrote it).

    A model.json written before max_id or the label codes were recorded reads with the
    largest of its segment ids as max_id, and no label-coded role.
    """
    names = tuple(record["features"])
    scaler = record["scaler"]
    centroids = record["centroids"]
    units = {int(c["segment"]): c["units"] for c in centroids}
    model = ArchivedModel(
        period=period,
        scaling=Scaling(
            names=names,
            roles=tuple(record["feature_roles"]),
            kind=scaler["kind"],
            center=np.array(scaler["center"], dtype="float64"),
            scale=np.array(scaler["scale"], dtype="float64"),
            log1p=tuple(scaler["log1p"]),
            codes={role: tuple(levels) for role, levels in scaler.get("codes", {}).items()},
        ),
        ids=tuple(int(c["segment"]) for c in centroids),
        centroids=np.array(
            [[c["scaled"][name] for name in names] for c in centroids], dtype="float64"
        ),
        scores=tuple(from_plain(KScore, score) for score in record["selection"]["scores"]),
        k=int(record["k"]),
        seed=int(record["seed"]),
    )
    return StoredModel(model=model, units=units, max_id=int(record.get("max_id", max(units))))
