"""What the brief reports, gathered from the analysis, and its archived form (brief.json).

The report is drawn from `Findings` alone: aggregates, the method, the changes
since last period, and seeded samples of customers for the charts that show
individuals. The snapshot keeps them as brief.json, so `rerender` can rebuild the
HTML and PDF after a template change without the input data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from reportgen.errors import SnapshotError
from reportgen.features import Features
from reportgen.history import Identity, Migration, SegmentChange
from reportgen.profile import Profiles
from reportgen.records import from_plain, to_plain
from reportgen.rules import SegmentRules
from reportgen.segment import Segmentation, SegmentationSummary, sample_rows
from reportgen.trend import PeriodPoint
from reportgen.validate import CleanData, DataQuality

SCATTER_POINTS = 3_000
BOX_POINTS = 20_000
DISTRIBUTION_ROLES = ("spend", "frequency", "recency", "rating")
BRIEF_FILE = "brief.json"
BRIEF_FORMAT = 2
"""Bumped when Findings changes shape, so an old reportgen never misreads a newer file."""


@dataclass(frozen=True, kw_only=True)
class ChartData:
    """What the charts show of individual customers: seeded samples, small enough to archive.

    Every other chart is drawn from the profiles. Keeping these samples with the
    snapshot lets `rerender` redraw every chart without the customer data.
    """

    scatter_x: tuple[float, ...]
    scatter_y: tuple[float, ...]
    scatter_segment: tuple[int, ...]
    centres: Mapping[int, tuple[float, float]]
    """Each shown segment's centre in the same projection."""
    explained: tuple[float, float]
    """Share of the variance each projection axis explains."""
    sample_segment: tuple[int, ...]
    """Segment of each customer in the distribution sample."""
    distributions: Mapping[str, tuple[float, ...]]
    """Role -> its value for each customer in the distribution sample."""


Picker = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, pd.DataFrame]]
"""The customers at some positions (sorted): their scaled points, segment ids, and the
DISTRIBUTION_ROLES they have. In memory (in_memory), or from the engine that holds them."""


def in_memory(clean: CleanData, features: Features, segmentation: Segmentation) -> Picker:
    """The Picker of customers held in memory."""
    labels = segmentation.labels
    assert isinstance(labels, np.ndarray)
    roles = [role for role in DISTRIBUTION_ROLES if role in clean.frame]

    def pick(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        return features.matrix[rows], labels[rows], clean.frame[roles].iloc[rows]

    return pick


def chart_data(
    customers: int,
    pick: Picker,
    segmentation: Segmentation,
    hidden: frozenset[int] = frozenset(),
) -> ChartData:
    """Draw the samples of `customers`: a 2-D PCA projection and the values of the
    distribution roles.

    Customers of `hidden` (suppressed) segments are left out of every sample, and their
    segment's centre too: a segment too small to describe appears in no chart.
    """
    matrix, labels, _ = pick(sample_rows(customers, SCATTER_POINTS, segmentation.seed))
    components = min(2, matrix.shape[1])  # one driver: its axis, and a flat one
    pca = PCA(n_components=components, random_state=segmentation.seed)
    pca.fit(matrix)
    shown = ~np.isin(labels, list(hidden))

    def project(points: np.ndarray) -> np.ndarray:
        flat = np.zeros((len(points), 2))
        if len(points):
            flat[:, :components] = pca.transform(points)
        return flat.round(4)

    points = project(matrix[shown])
    centres = project(segmentation.centroids)
    _, sample_labels, values = pick(sample_rows(customers, BOX_POINTS, segmentation.seed))
    kept = ~np.isin(sample_labels, list(hidden))
    ratio = [*pca.explained_variance_ratio_, 0.0]
    return ChartData(
        scatter_x=tuple(points[:, 0].tolist()),
        scatter_y=tuple(points[:, 1].tolist()),
        scatter_segment=tuple(labels[shown].tolist()),
        centres={
            segment_id: (float(x), float(y))
            for segment_id, (x, y) in zip(segmentation.ids, centres, strict=True)
            if segment_id not in hidden
        },
        explained=(float(ratio[0]), float(ratio[1])),
        sample_segment=tuple(sample_labels[kept].tolist()),
        distributions={
            role: tuple(values[role].to_numpy(dtype="float64")[kept].tolist())
            for role in values.columns
        },
    )


@dataclass(frozen=True, kw_only=True)
class Findings:
    """Everything the brief reports about one period."""

    period: str
    generated: date
    profiles: Profiles
    segmentation: SegmentationSummary
    quality: DataQuality
    columns: Mapping[str, str]
    """Role -> the user's column name."""
    drivers: tuple[str, ...]
    dropped: tuple[str, ...]
    """Driver features left out because they were constant."""
    transformed: tuple[str, ...]
    """Driver roles taken on a log scale (log1p) before clustering."""
    unseen: tuple[str, ...]
    """Category levels a frozen model was not fitted on (role=value)."""
    migration: Migration | None
    identity: Identity | None
    changes: Mapping[int, SegmentChange]
    """Kept segment id -> its change since the previous period."""
    plots: ChartData
    rules: SegmentRules | None = None
    """Each segment's rule; None in a brief archived before rules were learned."""
    earlier: tuple[PeriodPoint, ...] = ()
    """The archived periods of the trend window before this one (trend.py)."""


def findings_bytes(findings: Findings) -> bytes:
    record = {"format": BRIEF_FORMAT, "findings": to_plain(findings)}
    return (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode()


def load_findings(folder: Path) -> Findings:
    """The findings archived in a snapshot folder, for `rerender`."""
    path = folder / BRIEF_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(
            f"{folder} has no {BRIEF_FILE}: it was written by a reportgen older than "
            "rerender; run that period again with --force to rebuild it from the data"
        ) from None
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path} cannot be read: {exc}") from None
    if record.get("format") != BRIEF_FORMAT:
        raise SnapshotError(
            f"{path} has format {record.get('format')!r}; this reportgen reads format "
            f"{BRIEF_FORMAT}: use the reportgen version that wrote it"
        )
    try:
        findings: Findings = from_plain(Findings, record["findings"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{path} is not a valid brief record ({exc!r})") from None
    return findings
