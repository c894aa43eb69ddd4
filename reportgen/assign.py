"""Scoring customers with an archived period's model, between briefs (`reportgen assign`).

A brief says who the segments are once a month; a CRM needs to know which segment a
customer who signed up yesterday belongs to. `assign` reads a customer table or order
log with the run's reading and validation, scales it exactly as the period's model.json
says, and gives each customer the nearest of that model's centres, as frozen mode does:
on the period's own input it reproduces the period's assignments. A customer farther
from every centre than the period's UNUSUAL_PERCENTILE-th percentile distance is
flagged `unusual`: the segment fits them less than it fits 99 of 100 of that period's
customers. Nothing is written into the archive.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reportgen.archive import Entry, check_intact, find
from reportgen.config import Config
from reportgen.errors import ConfigError, SnapshotError
from reportgen.features import apply_scaling
from reportgen.findings import Picker
from reportgen.inputs import Source, read_input
from reportgen.model_file import MODEL_FILE, StoredModel, read_model
from reportgen.segment import apply_model, sample_rows
from reportgen.spreadsheet import csv_bytes

if TYPE_CHECKING:
    from reportgen.pipeline import Reporter

T = TypeVar("T")

UNUSUAL_PERCENTILE = 99.0
DISTANCE_SAMPLE = 100_000
"""The period's distance percentile is taken over at most this many of its customers."""
BLOCK = 100_000
"""Customers per block of distances (n x k floats at a time)."""


@dataclass(frozen=True)
class Assigned:
    table: pd.DataFrame
    """customer_id, segment, persona, distance, unusual: one row per customer, in id order."""
    unusual_distance: float | None
    """None when the period's model.json predates the distance (no one is flagged)."""


def nearest_distances(matrix: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each point's distance to its nearest centroid, in blocks of BLOCK points."""
    found = np.empty(len(matrix), dtype="float64")
    for start in range(0, len(matrix), BLOCK):
        block = matrix[start : start + BLOCK]
        squared = ((block[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        found[start : start + len(block)] = np.sqrt(squared.min(axis=1))
    return found


def unusual_distance(customers: int, pick: Picker, centroids: np.ndarray, seed: int) -> float:
    """The UNUSUAL_PERCENTILE-th percentile of the customers' distances to their nearest
    centre, over a seeded sample of at most DISTANCE_SAMPLE of them."""
    points, _, _ = pick(sample_rows(customers, DISTANCE_SAMPLE, seed + 13))
    return float(np.percentile(nearest_distances(points, centroids), UNUSUAL_PERCENTILE))


def _model(entry: Entry) -> tuple[StoredModel, float | None]:
    try:
        record = json.loads((entry.path / MODEL_FILE).read_text(encoding="utf-8"))
        return read_model(record, entry.period), record.get("unusual_distance")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"{entry.path / MODEL_FILE} cannot be read ({exc})") from None


def _personas(entry: Entry) -> dict[int, str]:
    profiles = json.loads((entry.path / "profiles.json").read_text(encoding="utf-8"))
    return {int(s["id"]): str(s.get("persona") or "") for s in profiles["segments"]}


def assign(
    path: Source, config: Config, out: Path, slug: str, period: str, reporter: Reporter
) -> Assigned:
    """Every customer of `path` labelled with the model of the archived `period`."""

    def timer(name: str, work: Callable[[], T]) -> T:
        with reporter.stage(name):
            return work()

    entry = find(out, slug, period)
    check_intact(entry, "the snapshot")
    stored, limit = _model(entry)
    model = stored.model
    local = replace(config, engine=replace(config.engine, name="local"))  # all in memory
    _, clean = read_input(path, local, timer)
    min_size = config.report.min_segment_size
    features = timer(
        "features", lambda: apply_scaling(clean, config.features, model.scaling, min_size)
    )
    segmentation = timer("segment", lambda: apply_model(features, model, config.segmentation))
    labels = segmentation.labels
    assert isinstance(labels, np.ndarray)
    distance = timer("distance", lambda: nearest_distances(features.matrix, model.centroids))
    names = _personas(entry)
    table = pd.DataFrame(
        {
            "customer_id": clean.frame["customer_id"].reset_index(drop=True),
            "segment": labels,
            "persona": pd.Series([names.get(int(i), "") for i in labels], dtype="string"),
            "distance": distance.round(6),
            "unusual": distance > limit if limit is not None else False,
        }
    )
    return Assigned(table, limit)


def check_destination(target: Path, out: Path, force: bool) -> None:
    """Refuse a destination inside the archive, or an existing file without `force`. Inside
    is judged both as written and with links followed, since a period's folder may be a
    link to a folder elsewhere."""
    written = Path(os.path.normpath(target.absolute()))
    if written.is_relative_to(os.path.normpath(out.absolute())) or target.resolve().is_relative_to(
        out.resolve()
    ):
        raise ConfigError(
            f"--out-file {target} is inside the archive ({out}); assign never writes there: "
            "choose a path outside it"
        )
    if target.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out-file {target}: write a .csv or a .parquet file")
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; use --force to replace it")


def file_bytes(table: pd.DataFrame, target: Path) -> bytes:
    """The table as the file `target` names: CSV (formula-safe) or Parquet."""
    if target.suffix.lower() == ".csv":
        return csv_bytes(table)
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
    return sink.getvalue()
