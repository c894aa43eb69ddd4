"""What changed since the previous period: where each customer went.

First, segments keep their identity: this period's centroids are matched
one-to-one to the previous period's (Hungarian method on the distance between
centres, in this period's scale), and a segment whose centre moved less than
MATCH_DISTANCE keeps its id, and so its colour and persona; any other segment
gets a new id, and an unmatched old one is gone. Then the previous snapshot's
assignments give, per customer, the segment they were in, and the migration
matrix counts where they are now; customers only in one period are new or gone.
Reading the archive is `archive`'s job; this stage only compares (and reads the
Parquet that Spark wrote outside the archive, when it must).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from reportgen.errors import InputError
from reportgen.features import Features
from reportgen.profile import Profiles
from reportgen.segment import ArchivedModel, NearestLabels, Segmentation

MATCH_DISTANCE = 1.0
"""Largest move of a segment's centre, in standard deviations of this period's data,
for it to count as the same segment as last period."""


@dataclass(frozen=True, kw_only=True)
class PreviousPeriod:
    """What the archive holds of the latest earlier period."""

    period: str
    assignments: pd.DataFrame | str
    """customer_id (text) and segment (int); or, when the snapshot holds no
    assignments.csv (a Spark run above [spark] local_assignments_max_rows), where Spark
    wrote them as Parquet."""
    written_rows: int = 0
    """The rows of the Parquet assignments (when they are not in memory)."""
    names: Mapping[int, str]
    """Segment id -> persona name, as that period's brief called them."""
    features: tuple[str, ...] = ()
    centroids: Mapping[int, Mapping[str, float]] | None = None
    """Segment id -> feature -> centre in the data's units (from model.json)."""
    max_id: int = 0
    """The largest segment id the report has used, so a new segment gets a fresh one."""
    persona_keys: Mapping[int, str | None] | None = None
    profiles: Mapping[int, Mapping[str, Any]] | None = None
    """Segment id -> that period's profiles.json entry (size, shares, stats)."""
    model: ArchivedModel | None = None
    """That period's model, to score this period with in frozen mode."""

    @property
    def customers(self) -> int:
        """How many customers that period had."""
        if isinstance(self.assignments, pd.DataFrame):
            return len(self.assignments)
        return self.written_rows


@dataclass(frozen=True, kw_only=True)
class Identity:
    kept: Mapping[int, float]
    """Segment id kept from last period -> how far its centre moved."""
    new: tuple[int, ...]
    gone: tuple[int, ...]
    comparable: bool
    """False when the driver features changed, so centres cannot be compared."""
    max_id: int
    personas: Mapping[int, str]
    """Kept segment id -> the persona key it had, to keep while it still fits."""


@dataclass(frozen=True)
class Move:
    source: int
    target: int
    customers: int
    spend: float | None
    """This period's total spend of the customers who made this move."""


@dataclass(frozen=True)
class Migration:
    previous_period: str
    previous_names: Mapping[int, str]
    moves: tuple[Move, ...]
    """Every (previous segment, current segment) pair with customers, most customers first."""
    new: int
    """Customers not in the previous period."""
    churned: int
    """Customers of the previous period who are not in this one."""

    @property
    def stayed(self) -> int:
        return sum(m.customers for m in self.moves if m.source == m.target)

    @property
    def moved(self) -> int:
        return sum(m.customers for m in self.moves if m.source != m.target)

    @property
    def biggest_move(self) -> Move | None:
        changes = [m for m in self.moves if m.source != m.target]
        return changes[0] if changes else None

    def to_dict(self) -> dict[str, Any]:
        matrix: dict[str, dict[str, int]] = {}
        for move in self.moves:
            matrix.setdefault(str(move.source), {})[str(move.target)] = move.customers
        return {
            "previous_period": self.previous_period,
            "matrix": matrix,
            "new": self.new,
            "churned": self.churned,
            "stayed": self.stayed,
            "moved": self.moved,
            "moves": [vars(m) for m in self.moves],
        }


def migrate(
    previous: PreviousPeriod, customer_ids: pd.Series, labels: np.ndarray, spend: np.ndarray | None
) -> Migration:
    """Count customers by (previous segment, current segment); new and gone separately."""
    now = pd.DataFrame(
        {
            "customer_id": customer_ids.astype("string").to_numpy(),
            "target": labels,
            "spend": spend if spend is not None else np.nan,
        }
    )
    before = previous_assignments(previous).rename(columns={"segment": "source"})
    both = now.merge(before, on="customer_id", how="inner", validate="one_to_one")
    grouped = both.groupby(["source", "target"], sort=True).agg(
        customers=("customer_id", "size"), spend=("spend", "sum")
    )
    pairs = zip(
        grouped.index.get_level_values("source"),
        grouped.index.get_level_values("target"),
        grouped["customers"],
        grouped["spend"],
        strict=True,
    )
    return migration_of(previous, pairs, len(now), spend is not None)


def previous_assignments(previous: PreviousPeriod) -> pd.DataFrame:
    """The previous period's customer_id and segment in memory; read from the Parquet
    Spark wrote when the snapshot holds no CSV (pyarrow reads a local folder; a cluster's
    URI needs the Spark engine, which reads it there)."""
    if isinstance(previous.assignments, pd.DataFrame):
        return previous.assignments
    where = previous.assignments
    try:
        table = pq.read_table(where, columns=["customer_id", "segment"])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(
            f"the {previous.period} snapshot's assignments are only at {where} (written by "
            f"Spark), which cannot be read here ({exc}); run with the Spark engine to "
            "compare with that period"
        ) from None
    found = table.to_pandas()
    return pd.DataFrame(
        {
            "customer_id": found["customer_id"].astype("string"),
            "segment": found["segment"].astype("int64"),
        }
    )


def migration_of(
    previous: PreviousPeriod,
    pairs: Iterable[tuple[Any, Any, Any, Any]],
    customers: int,
    has_spend: bool,
) -> Migration:
    """The Migration from each (previous segment, current segment, customers, their
    spend) of the customers in both periods; `customers`: all of this period's."""
    moves = sorted(
        (
            Move(int(source), int(target), int(count), float(total) if has_spend else None)
            for source, target, count, total in pairs
        ),
        key=lambda m: (-m.customers, m.source, m.target),
    )
    both = sum(m.customers for m in moves)
    return Migration(
        previous_period=previous.period,
        previous_names=dict(previous.names),
        moves=tuple(moves),
        new=customers - both,
        churned=previous.customers - both,
    )


def keep_identities(
    previous: PreviousPeriod, features: Features, segmentation: Segmentation
) -> tuple[Segmentation, Identity]:
    """Renumber this period's segments so that those matching last period keep their id."""
    centres = previous.centroids or {}
    old_ids = sorted(centres)
    start = max(previous.max_id, *old_ids, 0)
    names = features.scaling.names
    if not old_ids or tuple(names) != tuple(previous.features):
        fresh_ids = [start + 1 + row for row in range(segmentation.k)]
        identity = Identity(
            kept={},
            new=tuple(fresh_ids),
            gone=tuple(old_ids),
            comparable=False,
            max_id=max(fresh_ids),
            personas={},
        )
        return _renumber(segmentation, fresh_ids), identity
    old = features.scaling.to_scaled(
        np.array([[centres[i][name] for name in names] for i in old_ids])
    )
    distances = cdist(segmentation.centroids, old)
    # Every pair too far apart to match costs the same: otherwise a new group far from
    # everything could take an old segment's partner just to shorten the total distance.
    rows, cols = linear_sum_assignment(np.minimum(distances, 2 * MATCH_DISTANCE))
    matched: list[int | None] = [None] * segmentation.k
    kept = {}
    for row, col in zip(rows, cols, strict=True):
        if distances[row, col] <= MATCH_DISTANCE:
            matched[row] = old_ids[col]
            kept[old_ids[col]] = round(float(distances[row, col]), 4)
    fresh = iter(range(start + 1, start + 1 + segmentation.k))
    ids = [i if i is not None else next(fresh) for i in matched]
    identity = Identity(
        kept=kept,
        new=tuple(sorted(i for i in ids if i not in kept)),
        gone=tuple(i for i in old_ids if i not in kept),
        comparable=True,
        max_id=max(start, *ids),
        personas=_persona_keys(previous, kept),
    )
    return _renumber(segmentation, ids), identity


def _persona_keys(previous: PreviousPeriod, kept: Iterable[int]) -> dict[int, str]:
    """Kept segment id -> the persona key it had last period, where it had one."""
    keys = previous.persona_keys or {}
    return {i: key for i in kept if (key := keys.get(i))}


def frozen_identities(previous: PreviousPeriod, segmentation: Segmentation) -> Identity:
    """Identities when this period was scored with the previous period's model.

    Every segment is the model's own, so it keeps its id and centre exactly; a
    segment no customer fell into this period is gone.
    """
    old_ids = sorted(previous.centroids or {})
    return Identity(
        kept=dict.fromkeys(segmentation.ids, 0.0),
        new=(),
        gone=tuple(i for i in old_ids if i not in segmentation.ids),
        comparable=True,
        max_id=max(previous.max_id, *segmentation.ids),
        personas=_persona_keys(previous, segmentation.ids),
    )


def _renumber(segmentation: Segmentation, ids: list[int]) -> Segmentation:
    """The same segmentation with row r's segment called ids[r], rows sorted by id."""
    order = np.argsort(ids)
    lookup = np.zeros(max(segmentation.ids) + 1, dtype=np.int64)
    lookup[list(segmentation.ids)] = ids
    labels = segmentation.labels
    return replace(
        segmentation,
        labels=(
            replace(labels, ids=lookup[labels.ids])
            if isinstance(labels, NearestLabels)
            else lookup[labels]
        ),
        centroids=segmentation.centroids[order],
        ids=tuple(int(ids[r]) for r in order),
    )


CHANGE_ROLES = ("spend", "frequency", "recency", "rating")


@dataclass(frozen=True)
class SegmentChange:
    """One kept segment against itself last period."""

    size: int
    size_change: float | None
    """Relative change in customers (0.05 = +5%)."""
    share_change: float
    """Change in share of customers, in shares (0.012 = +1.2 points)."""
    revenue_share_change: float | None
    mean_changes: Mapping[str, float]
    """Role -> relative change of the segment mean."""


def compare(
    previous: PreviousPeriod, identity: Identity, profiles: Profiles
) -> dict[int, SegmentChange]:
    """Size, shares and key means of each kept segment against the previous period."""
    before = previous.profiles or {}
    changes = {}
    for segment in profiles.segments:
        old = before.get(segment.id)
        if segment.id not in identity.kept or old is None:
            continue
        revenue = (
            segment.revenue_share - old["revenue_share"]
            if segment.revenue_share is not None and old.get("revenue_share") is not None
            else None
        )
        means = {}
        for role in CHANGE_ROLES:
            was = old.get("stats", {}).get(role, {}).get("mean")
            if role in segment.stats and was:
                means[role] = segment.stats[role].mean / was - 1
        changes[segment.id] = SegmentChange(
            size=int(old["size"]),
            size_change=segment.size / old["size"] - 1 if old["size"] else None,
            share_change=segment.share - old["share"],
            revenue_share_change=revenue,
            mean_changes=means,
        )
    return changes
