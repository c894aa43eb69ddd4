"""Per-segment statistics in the data's own units, against the whole customer base.

Every number a person will read is computed here, once, on all rows; templates
only format them. Each role also gets a level (high / typical / low, or recent /
lapsed for recency) from the z-score of the segment mean, which is what persona
matching works from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reportgen.roles import DISPLAY_ORDER, ROLE_BY_NAME, Kind
from reportgen.segment import Segmentation
from reportgen.validate import CleanData

LEVEL_Z = 0.5
"""A segment mean half a standard deviation from the base mean counts as high or low."""


@dataclass(frozen=True)
class RoleStats:
    mean: float
    median: float
    vs_base: float | None
    """Segment mean / base mean ("2.1x the typical customer") for numeric roles, else None."""
    z: float
    level: str


@dataclass(frozen=True)
class SegmentProfile:
    id: int
    size: int
    share: float
    revenue: float | None
    revenue_share: float | None
    stats: Mapping[str, RoleStats]
    """Numeric, yes/no (mean = share of yes) and ordinal roles (mean = level position)."""
    mix: Mapping[str, Mapping[str, float]]
    """Share of each value of every categorical or labelled ordinal role."""


@dataclass(frozen=True)
class Profiles:
    customers: int
    revenue: float | None
    segments: tuple[SegmentProfile, ...]
    base: Mapping[str, Mapping[str, float]]
    """Whole-base mean, median and standard deviation of every summarised role."""
    base_mix: Mapping[str, Mapping[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "revenue": self.revenue,
            "segments": [
                {
                    "id": s.id,
                    "size": s.size,
                    "share": s.share,
                    "revenue": s.revenue,
                    "revenue_share": s.revenue_share,
                    "stats": {role: vars(st) for role, st in s.stats.items()},
                    "mix": {role: dict(m) for role, m in s.mix.items()},
                }
                for s in self.segments
            ],
            "base": {role: dict(v) for role, v in self.base.items()},
            "base_mix": {role: dict(v) for role, v in self.base_mix.items()},
        }


def level(role: str, z: float) -> str:
    if role == "recency":
        return "recent" if z <= -LEVEL_Z else "lapsed" if z >= LEVEL_Z else "typical"
    return "high" if z >= LEVEL_Z else "low" if z <= -LEVEL_Z else "typical"


def _reading_order(frame: pd.DataFrame) -> list[str]:
    return sorted(
        frame.columns,
        key=lambda role: DISPLAY_ORDER.index(role) if role in DISPLAY_ORDER else len(DISPLAY_ORDER),
    )


def _numeric_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Every role that has a mean: numbers, yes/no as 0/1, ordinal labels as positions."""
    columns = {}
    for role_name in _reading_order(frame):
        values = frame[role_name]
        kind = ROLE_BY_NAME[role_name].kind
        if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.ordered:
            columns[role_name] = values.cat.codes.astype("float64")
        elif kind in (Kind.NUMERIC, Kind.BOOLEAN, Kind.ORDINAL):
            columns[role_name] = values.astype("float64")
    return pd.DataFrame(columns, index=frame.index)


def _categorical_view(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[
        [
            role_name
            for role_name in _reading_order(frame)
            if ROLE_BY_NAME[role_name].kind is Kind.CATEGORICAL
            or isinstance(frame[role_name].dtype, pd.CategoricalDtype)
        ]
    ]


def _shares(counts: pd.Series, order: list[str]) -> dict[str, float]:
    total = counts.sum()
    return {value: float(counts.get(value, 0) / total) for value in order if counts.get(value, 0)}


def _order(values: pd.Series) -> list[str]:
    """Ordered labels in their own order (Unsatisfied → Satisfied); others most common first."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.ordered:
        return [str(c) for c in values.cat.categories]
    return [str(v) for v in values.astype("string").fillna("(missing)").value_counts().index]


def build_profiles(clean: CleanData, segmentation: Segmentation) -> Profiles:
    """Summarise each segment against the whole base, on all rows."""
    labels = pd.Series(segmentation.labels, index=clean.frame.index, name="segment")
    numeric = _numeric_view(clean.frame)
    categorical = _categorical_view(clean.frame)
    n = len(clean.frame)
    has_spend = "spend" in numeric.columns
    total_revenue = float(numeric["spend"].sum()) if has_spend else None

    base_mean, base_std = numeric.mean(), numeric.std(ddof=0)
    base = {
        role: {
            "mean": float(base_mean[role]),
            "median": float(numeric[role].median()),
            "std": float(base_std[role]),
        }
        for role in numeric.columns
    }
    grouped = numeric.groupby(labels)
    means, medians = grouped.mean(), grouped.median()
    sizes = labels.value_counts().reindex(segmentation.ids, fill_value=0)
    revenues = grouped["spend"].sum() if has_spend else None
    mixes = {
        role: categorical[role]
        .astype("string")
        .fillna("(missing)")
        .groupby(labels)
        .value_counts()
        .unstack(fill_value=0)
        for role in categorical.columns
    }

    orders = {role: _order(categorical[role]) for role in categorical.columns}
    segments = []
    for segment_id in segmentation.ids:
        stats = {}
        for role in numeric.columns:
            mean = float(means.at[segment_id, role])
            std = float(base_std[role])
            z = (mean - float(base_mean[role])) / std if std > 0 else 0.0
            stats[role] = RoleStats(
                mean=mean,
                median=float(medians.at[segment_id, role]),
                vs_base=(
                    mean / float(base_mean[role])
                    if ROLE_BY_NAME[role].kind is Kind.NUMERIC and base_mean[role]
                    else None
                ),
                z=float(z),
                level=level(role, z),
            )
        revenue = float(revenues[segment_id]) if revenues is not None else None
        segments.append(
            SegmentProfile(
                id=segment_id,
                size=int(sizes[segment_id]),
                share=float(sizes[segment_id] / n),
                revenue=revenue,
                revenue_share=(
                    revenue / total_revenue if revenue is not None and total_revenue else None
                ),
                stats=stats,
                mix={
                    role: _shares(table.loc[segment_id], orders[role])
                    for role, table in mixes.items()
                },
            )
        )
    base_mix = {
        role: _shares(
            categorical[role].astype("string").fillna("(missing)").value_counts(), orders[role]
        )
        for role in categorical.columns
    }
    return Profiles(
        customers=n,
        revenue=total_revenue,
        segments=tuple(segments),
        base=base,
        base_mix=base_mix,
    )


@dataclass(frozen=True)
class Highlights:
    """The segments an executive summary names (ids), chosen among reportable segments."""

    largest: int | None
    most_valuable: int | None
    at_risk: int | None
    """The segment with most revenue among the lapsed ones, else among the dissatisfied."""


_RISKS = ({"recency": "lapsed"}, {"satisfaction": "low", "rating": "low"})
"""Warning signs, most urgent first: customers leaving, then customers unhappy."""


def highlights(profiles: Profiles, min_size: int) -> Highlights:
    """Pick the segments worth naming; segments below `min_size` are never named."""
    shown = [s for s in profiles.segments if s.size >= min_size]
    if not shown:
        return Highlights(None, None, None)
    largest = max(shown, key=lambda s: (s.size, -s.id))
    valuable = max(shown, key=lambda s: (s.revenue_share or 0.0, -s.id))
    at_risk = None
    for signs in _RISKS:
        risky = [
            s
            for s in shown
            if any(
                role in s.stats and s.stats[role].level == level for role, level in signs.items()
            )
        ]
        if risky:
            at_risk = max(risky, key=lambda s: (s.revenue_share or 0.0, s.size, -s.id))
            break

    return Highlights(
        largest=largest.id,
        most_valuable=valuable.id if profiles.revenue is not None else None,
        at_risk=at_risk.id if at_risk else None,
    )
