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


SPLIT_PART = 0.1
"""The least share of a segment's customers who did not change that counts as a part of
it, when it was split (and at least Migration.min_part customers)."""
SPLIT_SHARE = 0.25
"""A segment of last period counts as split when two or more of this period's segments
each hold a part of its customers who did not change, and the parts other than the
largest together hold at least this share of them."""
MERGE_SHARE = 0.5
"""Segments of last period count as merged when two or more of them each have more than
this share of their customers who did not change in one segment now."""


@dataclass(frozen=True)
class Move:
    source: int
    target: int
    customers: int
    spend: float | None
    """This period's total spend of the customers who made this move."""
    changed: int | None = None
    """Of them, those whom last period's model, scoring this period's data, no longer puts
    in `source`: their own figures moved them. The rest kept their place in last period's
    segments. None when that model could not score this period."""
    changed_spend: float | None = None

    def part(self, changed: bool) -> Move:
        """The customers of this move who changed (or, `changed` False, who did not)."""
        assert self.changed is not None
        if changed:
            return Move(self.source, self.target, self.changed, self.changed_spend)
        spend = None if self.spend is None else self.spend - (self.changed_spend or 0.0)
        return Move(self.source, self.target, self.customers - self.changed, spend)


@dataclass(frozen=True)
class Split:
    """A segment of last period whose unchanged customers are divided between segments now."""

    source: int
    targets: tuple[int, ...]
    """The segments now that each hold at least SPLIT_PART of them, most first."""
    customers: int


@dataclass(frozen=True)
class Merge:
    """Segments of last period whose unchanged customers mostly share one segment now."""

    sources: tuple[int, ...]
    target: int
    customers: int


def _largest_first(moves: Iterable[Move]) -> tuple[Move, ...]:
    return tuple(sorted(moves, key=lambda m: (-m.customers, m.source, m.target)))


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
    scored: bool = False
    """Last period's model scored this period's customers, so each move is known to be a
    change (the customer's figures moved them) or a regrouping (the segments moved)."""
    frozen: bool = False
    """This period was scored with last period's model: every move is a change."""
    min_part: int = 1
    """The fewest customers each part of a split or merge holds for it to be named: the
    brief's min_segment_size, below which a group is too small to describe."""

    @property
    def stayed(self) -> int:
        return sum(m.customers for m in self.moves if m.source == m.target)

    @property
    def between(self) -> tuple[Move, ...]:
        """The moves from one segment to another, most customers first."""
        return tuple(m for m in self.moves if m.source != m.target)

    @property
    def moved(self) -> int:
        return sum(m.customers for m in self.between)

    def _kind(self, changed: bool) -> tuple[Move, ...]:
        if not self.scored:
            return ()
        parts = (m.part(changed) for m in self.between)
        return _largest_first(p for p in parts if p.customers)

    @property
    def changes(self) -> tuple[Move, ...]:
        """The moves of customers who changed, most customers first (none unless scored)."""
        return self._kind(changed=True)

    @property
    def regroupings(self) -> tuple[Move, ...]:
        """The moves of customers who did not change: the segments were redrawn around them."""
        return self._kind(changed=False)

    @property
    def changed(self) -> int | None:
        return sum(m.customers for m in self.changes) if self.scored else None

    @property
    def regrouped(self) -> int | None:
        return sum(m.customers for m in self.regroupings) if self.scored else None

    @property
    def biggest_move(self) -> Move | None:
        """The largest change when changes are known, else the largest move."""
        found = self.changes if self.scored else self.between
        return found[0] if found else None

    def _unchanged(self) -> dict[tuple[int, int], int]:
        """(previous segment, segment now) -> customers who did not change."""
        parts = (m.part(changed=False) for m in self.moves) if self.scored else ()
        return {(p.source, p.target): p.customers for p in parts if p.customers}

    @property
    def splits(self) -> tuple[Split, ...]:
        """Segments of last period redrawn into two or more of this period's."""
        unchanged, found = self._unchanged(), []
        for source in sorted({s for s, _ in unchanged}):
            pieces = {t: n for (s, t), n in unchanged.items() if s == source}
            total = sum(pieces.values())
            least = max(SPLIT_PART * total, self.min_part)
            targets = sorted((t for t, n in pieces.items() if n >= least),
                             key=lambda t: (-pieces[t], t))  # fmt: skip
            if sum(pieces[t] for t in targets[1:]) >= SPLIT_SHARE * total:
                found.append(Split(source, tuple(targets), total))
        return tuple(found)

    @property
    def merges(self) -> tuple[Merge, ...]:
        """Segments now that took most of two or more of last period's segments."""
        unchanged, found = self._unchanged(), []
        totals: dict[int, int] = {}
        for (source, _), n in unchanged.items():
            totals[source] = totals.get(source, 0) + n
        for target in sorted({t for _, t in unchanged}):
            sources = tuple(s for (s, t), n in sorted(unchanged.items()) if t == target
                            and n > MERGE_SHARE * totals[s] and n >= self.min_part)  # fmt: skip
            if len(sources) >= 2:
                found.append(Merge(sources, target, sum(unchanged[s, target] for s in sources)))
        return tuple(found)

    @property
    def other_regroupings(self) -> tuple[Move, ...]:
        """The regroupings that are not part of a split or merge the brief names."""
        named = {(s.source, t) for s in self.splits for t in s.targets}
        named |= {(s, m.target) for m in self.merges for s in m.sources}
        return tuple(m for m in self.regroupings if (m.source, m.target) not in named)

    def net(self, segment: int) -> tuple[int, int] | None:
        """Customers a segment gained (lost, when negative) by changes and by regrouping."""
        if not self.scored:
            return None
        return _net(self.changes, segment), _net(self.regroupings, segment)

    def to_dict(self) -> dict[str, Any]:
        def matrix(moves: Iterable[Move]) -> dict[str, dict[str, int]]:
            found: dict[str, dict[str, int]] = {}
            for move in moves:
                found.setdefault(str(move.source), {})[str(move.target)] = move.customers
            return found

        def kind(moves: tuple[Move, ...]) -> dict[str, Any]:
            flows = [{k: v for k, v in vars(m).items() if not k.startswith("changed")}
                     for m in moves]  # fmt: skip
            total = sum(m.customers for m in moves)
            return {"customers": total, "matrix": matrix(moves), "moves": flows}

        return {
            "previous_period": self.previous_period,
            "matrix": matrix(self.moves),
            "new": self.new,
            "churned": self.churned,
            "stayed": self.stayed,
            "moved": self.moved,
            "moves": [vars(m) for m in self.moves],
            "scored_with": (
                None if not self.scored else "frozen model" if self.frozen else "previous model"
            ),
            "changed": kind(self.changes) if self.scored else None,
            "regrouped": kind(self.regroupings) if self.scored else None,
            "splits": [vars(s) for s in self.splits],
            "merges": [vars(m) for m in self.merges],
        }


def _net(moves: Iterable[Move], segment: int) -> int:
    return sum(m.customers * ((m.target == segment) - (m.source == segment)) for m in moves)


def migrate(
    previous: PreviousPeriod,
    customer_ids: pd.Series,
    labels: np.ndarray,
    spend: np.ndarray | None,
    scored: np.ndarray | None = None,
    frozen: bool = False,
) -> Migration:
    """Count customers by (previous segment, current segment); new and gone separately.
    `scored`: each customer's segment by last period's model (None when it cannot score
    this period), which tells a customer who changed from one the segments moved around."""
    now = pd.DataFrame(
        {
            "customer_id": customer_ids.astype("string").to_numpy(),
            "target": labels,
            "spend": spend if spend is not None else np.nan,
            "scored": scored if scored is not None else -1,
        }
    )
    before = previous_assignments(previous).rename(columns={"segment": "source"})
    both = now.merge(before, on="customer_id", how="inner", validate="one_to_one")
    both["changed"] = both["scored"] != both["source"]
    grouped = both.groupby(["source", "target", "changed"], sort=True).agg(
        customers=("customer_id", "size"), spend=("spend", "sum")
    )
    pairs = zip(
        grouped.index.get_level_values("source"),
        grouped.index.get_level_values("target"),
        grouped.index.get_level_values("changed"),
        grouped["customers"],
        grouped["spend"],
        strict=True,
    )
    return migration_of(previous, pairs, len(now), spend is not None, scored is not None, frozen)


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
    pairs: Iterable[tuple[Any, Any, Any, Any, Any]],
    customers: int,
    has_spend: bool,
    scored: bool,
    frozen: bool,
) -> Migration:
    """The Migration from each (previous segment, current segment, changed, customers,
    their spend) of the customers in both periods; `customers`: all of this period's.
    `scored`: whether `changed` is known (last period's model scored this period)."""
    found: dict[tuple[int, int], list[float]] = {}
    for source, target, changed, count, total in pairs:
        cell = found.setdefault((int(source), int(target)), [0, 0.0, 0, 0.0])
        spend = float(total) if has_spend else 0.0
        cell[0] += int(count)
        cell[1] += spend
        if scored and bool(changed):
            cell[2] += int(count)
            cell[3] += spend
    moves = _largest_first(
        Move(
            source,
            target,
            int(count),
            total if has_spend else None,
            int(changed) if scored else None,
            changed_total if has_spend and scored else None,
        )
        for (source, target), (count, total, changed, changed_total) in found.items()
    )
    both = sum(m.customers for m in moves)
    return Migration(
        previous_period=previous.period,
        previous_names=dict(previous.names),
        moves=moves,
        new=customers - both,
        churned=previous.customers - both,
        scored=scored,
        frozen=frozen,
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
    changed: int | None = None
    """Of the difference in customers: gained (lost, when negative) by customers whose own
    figures moved them in or out; None when that is not known (Migration.scored)."""
    regrouped: int | None = None
    """Of the difference: gained or lost as the segments were redrawn around customers."""
    arrived: int | None = None
    """Of the difference: new customers in it less its customers who are gone."""


def compare(
    previous: PreviousPeriod, identity: Identity, profiles: Profiles, migration: Migration
) -> dict[int, SegmentChange]:
    """Size, shares and key means of each kept segment against the previous period, and
    how much of the difference in customers is changes, regrouping, and arrivals."""
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
        net = migration.net(segment.id)
        changed, regrouped = net if net else (None, None)
        changes[segment.id] = SegmentChange(
            changed=changed,
            regrouped=regrouped,
            arrived=segment.size - int(old["size"]) - sum(net) if net else None,
            size=int(old["size"]),
            size_change=segment.size / old["size"] - 1 if old["size"] else None,
            share_change=segment.share - old["share"],
            revenue_share_change=revenue,
            mean_changes=means,
        )
    return changes
