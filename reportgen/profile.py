"""Per-segment statistics in the data's own units, against the whole customer base.

Every number a person will read is computed here, once, on all rows; templates
only format them. Each role also gets a level (high / typical / low; for days
since the last purchase recent / typical / lapsed / lost), which persona
matching works from and which the brief states as a fact about the segment, so
a level has to be true in plain business terms, not only relative to this
base's mean:

- figures with a long tail (spend, counts) compare the segment's median customer
  with the base's median customer, and need a ratio a business would notice;
- ratings and ordered labels need a difference in points or steps of the scale;
- yes/no figures and shares need a difference in percentage points;
- days are absolute: "recent", "lapsed" and "lost" are measured against the
  business's own rhythm (the usual gap between a repeat customer's orders) where
  the data shows it, else against day thresholds; "new" and "long-standing"
  against day thresholds. A base where everyone bought this month has no lapsed
  segment, whatever its spread.

Each level keeps its evidence (the statistic, its value, the base's value and
the thresholds) so any word in the brief can be traced. Thresholds come from
`[levels]` in the config; README documents the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reportgen import column_names
from reportgen.categories import MISSING, other_label, tier_order, top_values
from reportgen.config import LevelSettings, ValidationSettings
from reportgen.roles import DISPLAY_ORDER, ROLE_BY_NAME, Kind
from reportgen.segment import Segmentation
from reportgen.validate import CleanData

DAY_ROLES = ("recency", "tenure")
POINT_ROLES = ("rating",)
"""Numeric roles on a bounded scale: compared in points of the scale."""
RECENT_DAYS, LAPSED_DAYS, LOST_DAYS = 30.0, 90.0, 365.0
"""Day thresholds for days since the last purchase when the data shows no rhythm."""
RHYTHM_MIN_CUSTOMERS = 20
"""Repeat customers needed before their usual gap between orders is trusted."""
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, kw_only=True)
class RoleStats:
    mean: float
    median: float
    vs_median: float | None
    """Segment median / base median ("3.1× the median customer"), for numeric roles."""
    vs_mean: float | None
    """Segment mean / base mean ("1.4× the average customer"), for numeric roles."""
    z: float
    """(Segment mean - base mean) / base standard deviation: what the heat map shows."""
    level: str
    statistic: str
    """What the level compares: "median", "share" (a mean of 0/1 or of shares) or
    "mean position" (ordered labels, 0 = lowest)."""
    value: float
    """The statistic for the segment."""
    base: float
    """The statistic for all customers."""
    thresholds: Mapping[str, float]
    """Level -> the bound the statistic must reach (high, lapsed, lost: at least;
    low, recent: at most), in the statistic's units."""
    strength: float
    """How distinctive the figure is, comparable across roles: the difference from the base
    in the level's direction / the base's spread (interquartile range, else standard
    deviation). 0 when the level points the other way from the base (a segment that is
    'recent' in days but less recent than the base is not distinctive for it)."""
    per_month: float | None = None
    """Frequency only, when tenure is known: the median customer's purchases per month."""


@dataclass(frozen=True)
class SegmentProfile:
    id: int
    size: int
    share: float
    revenue: float | None
    revenue_share: float | None
    stats: Mapping[str, RoleStats]
    """Numeric, yes/no (mean = share of yes) and ordinal roles (mean = level position).
    Empty for a suppressed segment."""
    mix: Mapping[str, Mapping[str, float]]
    """Share of each value of every categorical or labelled ordinal role; a category names
    only the values its base_mix names, the rest share one "Other (N values)" entry."""
    suppressed: bool = False
    """Fewer customers than [report] min_segment_size: only its size is reported."""


@dataclass(frozen=True)
class Outliers:
    """Customers whose own cluster was too small to be a segment (see segment.py)."""

    customers: int
    share: float
    role: str | None
    """The driver on which they differ most from the base, by their median."""
    times: float | None
    """Every one of them is at least this many times the base median on `role` (at most,
    when they are below it): a round bound, not a small group's exact figure."""


@dataclass(frozen=True, kw_only=True)
class Profiles:
    customers: int
    revenue: float | None
    segments: tuple[SegmentProfile, ...]
    base: Mapping[str, Mapping[str, float]]
    """Whole-base mean, median and standard deviation of every summarised role."""
    base_mix: Mapping[str, Mapping[str, float]]
    """The same shares for all customers. A category names only the values held by at
    least [report] min_segment_size customers, at most categories.MAX_VALUES of them, most
    common first (levels lowest first: see level_order); the rest come last as one
    "Other (N values)" entry, so a rare value (one customer's city) is never printed and
    a thousand values are one line."""
    rhythm_days: float | None = None
    """The median gap between a repeat customer's orders; None when the data cannot show it."""
    frequency_counts: str | None = None
    """What frequency counts: "orders" or "items"; None without a frequency column."""
    outliers: Outliers | None = None
    repeat_orders: float = 2.0
    """A repeat customer has at least this many orders ([levels] repeat_orders)."""
    day_sources: Mapping[str, str] = field(default_factory=dict)
    """recent / lapsed / lost -> where its threshold came from: "setting", "rhythm"
    (a multiple of rhythm_days) or "default"."""
    level_order: tuple[str, ...] = ()
    """The categories (base_mix keys) whose values are listed lowest level first: ordered
    labels, and the tier when [validation] tier_levels or a common ladder orders it."""
    share_order: tuple[str, ...] = ()
    """The categories whose values are listed most common first (in all customers), which
    the brief says in so many words. Both empty in a brief archived before they existed."""

    @property
    def shown(self) -> tuple[SegmentProfile, ...]:
        """The segments large enough to describe."""
        return tuple(s for s in self.segments if not s.suppressed)

    @property
    def suppressed_ids(self) -> tuple[int, ...]:
        """The segments too small to describe."""
        return tuple(s.id for s in self.segments if s.suppressed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "revenue": self.revenue,
            "rhythm_days": self.rhythm_days,
            "frequency_counts": self.frequency_counts,
            "repeat_orders": self.repeat_orders,
            "day_sources": dict(self.day_sources),
            "level_order": list(self.level_order),
            "share_order": list(self.share_order),
            "outliers": vars(self.outliers) if self.outliers else None,
            "segments": [
                {
                    "id": s.id,
                    "size": s.size,
                    "share": s.share,
                    "suppressed": s.suppressed,
                    "revenue": s.revenue,
                    "revenue_share": s.revenue_share,
                    "stats": {
                        role: {**vars(st), "thresholds": dict(st.thresholds)}
                        for role, st in s.stats.items()
                    },
                    "mix": {role: dict(m) for role, m in s.mix.items()},
                }
                for s in self.segments
            ],
            "base": {role: dict(v) for role, v in self.base.items()},
            "base_mix": {role: dict(v) for role, v in self.base_mix.items()},
        }


@dataclass(frozen=True)
class Scale:
    """How one role's level is decided in this base: the statistic and its thresholds."""

    statistic: str
    base: float
    spread: float
    thresholds: Mapping[str, float]

    def level(self, value: float) -> str:
        """The first threshold the value reaches, in the order high/lost, lapsed, low/recent."""
        t = self.thresholds
        for name in ("lost", "lapsed", "high"):
            if name in t and value >= t[name]:
                return name
        for name in ("recent", "low"):
            if name in t and value <= t[name]:
                return name
        return "typical"


def counts_of(column: str, settings: LevelSettings, order_log: bool) -> str:
    """Whether frequency counts orders or items: the setting, an order log, or the name."""
    if settings.frequency_counts != "auto":
        return settings.frequency_counts
    if order_log:
        return "orders"
    return "items" if column_names.table().counts_items(column) else "orders"


def rhythm(frame: pd.DataFrame, counts: str | None) -> float | None:
    """The median gap in days between a repeat customer's orders: (first to last order)
    / (orders - 1), over customers with two or more orders. It needs tenure (days since
    the first order), recency and frequency counting orders."""
    if counts != "orders" or not {"tenure", "recency", "frequency"} <= set(frame.columns):
        return None
    orders = frame["frequency"].astype("float64")
    repeat = orders >= 2
    if repeat.sum() < RHYTHM_MIN_CUSTOMERS:
        return None
    span = frame["tenure"].astype("float64") - frame["recency"].astype("float64")
    gaps = (span[repeat] / (orders[repeat] - 1)).clip(lower=0)
    return float(gaps.median())


RHYTHM_MULTIPLES = {"recent": 1, "lapsed": 2, "lost": 4}
"""Recency thresholds in usual gaps between orders: recent within one gap, lapsed from
two, lost from four (never below the day defaults)."""


def day_thresholds(
    settings: LevelSettings, gap: float | None
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Recency and tenure thresholds in days, and where each recency one came from: the
    setting, else the business's rhythm where it exceeds the default, else the default."""
    given = {
        "recent": settings.recent_days,
        "lapsed": settings.lapsed_days,
        "lost": settings.lost_days,
    }
    defaults = {"recent": RECENT_DAYS, "lapsed": LAPSED_DAYS, "lost": LOST_DAYS}
    recency, sources = {}, {}
    floor = 0.0
    for name, multiple in RHYTHM_MULTIPLES.items():
        setting = given[name]
        if setting is not None:
            recency[name], sources[name] = float(setting), "setting"
        elif gap is not None and multiple * gap > defaults[name]:
            recency[name], sources[name] = multiple * gap, "rhythm"
        else:
            recency[name], sources[name] = defaults[name], "default"
        recency[name] = max(recency[name], floor)
        floor = recency[name] + 1  # recent < lapsed < lost, whatever was set
    tenure = {"low": settings.new_days, "high": settings.established_days}
    return {"recency": recency, "tenure": tenure}, sources


STATISTICS = ("mean", "median", "std", "q25", "q75")
"""What Summary.base holds of each role: std is the population's (ddof 0), the quartiles
interpolated linearly between the customers' values (as the median)."""


def base_statistics(numeric: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each role's STATISTICS over all customers."""
    quartiles = numeric.quantile([0.25, 0.75])
    return {
        role: {
            "mean": float(numeric[role].mean()),
            "median": float(numeric[role].median()),
            "std": float(numeric[role].std(ddof=0)),
            "q25": float(quartiles[role].iloc[0]),
            "q75": float(quartiles[role].iloc[1]),
        }
        for role in numeric.columns
    }


def _spread(stats: Mapping[str, float]) -> float:
    """A role's interquartile range, else its standard deviation, else 1: the unit in
    which a difference from the base is measured."""
    spread = stats["q75"] - stats["q25"]
    if spread > 0:
        return spread
    return stats["std"] if stats["std"] > 0 else 1.0


def scales(
    base: Mapping[str, Mapping[str, float]],
    settings: LevelSettings,
    validation: ValidationSettings,
    counts: str | None,
    days: Mapping[str, Mapping[str, float]],
) -> dict[str, Scale]:
    """How each role's level is decided in this base (see the module docstring), from
    each role's base_statistics; `days` are the recency and tenure thresholds
    (day_thresholds)."""
    rating_points = settings.rating_points or (
        (validation.rating_scale[1] - validation.rating_scale[0]) / 10
    )
    found = {}
    for role, stats in base.items():
        kind = ROLE_BY_NAME[role].kind
        spread = _spread(stats)
        if role in DAY_ROLES:
            found[role] = Scale("median", stats["median"], spread, days[role])
        elif kind is Kind.BOOLEAN or ROLE_BY_NAME[role].share:
            mean = stats["mean"]
            points = settings.share_points
            found[role] = Scale(
                "share",
                mean,
                stats["std"] or 1.0,
                {
                    "high": max(mean + points, mean * settings.ratio),
                    "low": min(mean - points, mean / settings.ratio),
                },
            )
        elif kind is not Kind.NUMERIC:  # ordered labels, as positions 0, 1, ...
            mean = stats["mean"]
            steps = settings.ordinal_steps
            found[role] = Scale(
                "mean position",
                mean,
                stats["std"] or 1.0,
                {"high": mean + steps, "low": mean - steps},
            )
        elif role in POINT_ROLES:
            median = stats["median"]
            found[role] = Scale(
                "median",
                median,
                spread,
                {"high": median + rating_points, "low": median - rating_points},
            )
        else:
            found[role] = _ratio_scale(role, stats["median"], spread, settings, counts)
    return found


def _ratio_scale(
    role: str, base: float, spread: float, settings: LevelSettings, counts: str | None
) -> Scale:
    """A figure with a long tail (spend, counts): the median customer (`base`) against
    the base's, by [levels] ratio."""
    high = base * settings.ratio if base > 0 else math.ulp(0.0)
    low = base / settings.ratio if base > 0 else -1.0
    if role == "frequency" and counts == "orders":
        # Frequent means a repeat customer; a median customer with one order is not.
        high = max(high, settings.repeat_orders)
        low = max(low, settings.repeat_orders - 1)
    return Scale("median", base, spread, {"high": high, "low": low})


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


def numeric_roles(frame: pd.DataFrame) -> tuple[str, ...]:
    """The roles the profiles summarise with a mean and a median, in reading order; an
    engine that holds the customers reads them off their sample (`frame`)."""
    assert _categorical_view(frame).columns.empty, "an engine's customers have no category"
    return tuple(str(role) for role in _numeric_view(frame).columns)


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


def _named(
    role: str, values: pd.Series, min_count: int, tier_levels: tuple[str, ...] | None
) -> tuple[pd.Series, list[str], bool]:
    """A category as the brief shows it, its values in reading order, and whether that
    order is the levels' own (lowest first) rather than most common first.

    Ordered labels (Unsatisfied → Satisfied) are the configured scale, not data: every
    level is kept, in the scale's order. Any other category keeps the values top_values
    names and turns the rest into one other_label value, last; doing it here, before any
    share is counted, is what keeps a rare value out of every table, chart, persona text
    and file built from the profiles. The named values read most common first, except the
    tier's, which read lowest first when `tier_levels` or a common ladder orders them
    (categories.tier_order).
    """
    text = values.astype("string").fillna(MISSING)
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.ordered:
        return text, [str(c) for c in values.cat.categories], True
    counts = text.value_counts()
    named = top_values(counts, min_count)
    levels = tier_order(named, tier_levels) if role == "tier" else None
    order = named if levels is None else levels
    rest = len(counts) - len(named)
    if not rest:
        return text, order, levels is not None
    label = other_label(rest)
    return text.where(text.isin(named), label), [*order, label], levels is not None


def _ratio(value: float, base: float) -> float | None:
    return value / base if base else None


def _role_stats(
    role: str,
    mean: float,
    median: float,
    scale: Scale,
    base: Mapping[str, float],
    per_month: float | None,
) -> RoleStats:
    value = median if scale.statistic == "median" else mean
    numeric = ROLE_BY_NAME[role].kind is Kind.NUMERIC
    return RoleStats(
        mean=mean,
        median=median,
        vs_median=_ratio(median, base["median"]) if numeric else None,
        vs_mean=_ratio(mean, base["mean"]) if numeric else None,
        z=(mean - base["mean"]) / base["std"] if base["std"] > 0 else 0.0,
        level=scale.level(value),
        statistic=scale.statistic,
        value=value,
        base=scale.base,
        thresholds=dict(scale.thresholds),
        strength=_strength(scale.level(value), value, scale),
        per_month=per_month,
    )


_UP = ("high", "lapsed", "lost")
_DOWN = ("low", "recent")


def _strength(level: str, value: float, scale: Scale) -> float:
    difference = (value - scale.base) / scale.spread
    if level in _UP:
        return max(difference, 0.0)
    if level in _DOWN:
        return max(-difference, 0.0)
    return abs(difference)


def _bound(median: float, low: float, high: float) -> float:
    """A round bound that every outlier passes: "at least 50×" (or "at most 0.02×"), two
    significant digits, so the brief does not publish a small group's exact figure.
    The arguments are the outliers' median, lowest and highest ratio to the base."""
    up = median >= 1
    edge = low if up else high
    if edge <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(edge))
    scale = 10.0**digits
    return (math.floor if up else math.ceil)(edge * scale) / scale


def outliers_of(
    customers: int,
    theirs: Mapping[str, tuple[float, float, float, bool]] | None,
    count: int,
    base: Mapping[str, Mapping[str, float]],
) -> Outliers | None:
    """Who the customers set aside were: the driver they stand out on most, as a bound.
    `theirs`: numeric driver -> the set-aside customers' median, minimum and maximum, and
    whether all of them are above zero."""
    if not count or theirs is None:
        return None
    best: tuple[float, str, float] | None = None
    for role, (median, low, high, positive) in theirs.items():
        middle = base[role]["median"]
        if middle > 0 and positive:
            distance = abs(math.log(median / middle))
            if best is None or distance > best[0]:
                best = (distance, role, _bound(median / middle, low / middle, high / middle))
    return Outliers(
        customers=count,
        share=count / customers,
        role=best[1] if best else None,
        times=best[2] if best else None,
    )


def _set_aside_values(
    numeric: pd.DataFrame, segmentation: Segmentation, drivers: tuple[str, ...]
) -> dict[str, tuple[float, float, float, bool]]:
    """outliers_of's `theirs`, from the customers in memory."""
    rows = list(segmentation.outlier_rows)
    found = {}
    for role in drivers:
        if role in numeric.columns and ROLE_BY_NAME[role].kind is Kind.NUMERIC:
            values = numeric[role].iloc[rows]
            found[role] = (
                float(values.median()),
                float(values.min()),
                float(values.max()),
                bool((values > 0).all()),
            )
    return found


def frequency_counts(clean: CleanData, roles: Iterable[str], levels: LevelSettings) -> str | None:
    """What frequency counts, "orders" or "items" (counts_of); None without frequency."""
    if "frequency" not in roles:
        return None
    column = clean.roles.columns.get("frequency", "")
    return counts_of(column, levels, clean.quality.order_lines is not None)


@dataclass(frozen=True)
class Mix:
    """One category as the brief shows it (see _named)."""

    by_segment: pd.DataFrame
    """Customers per value (rows) and segment id (columns)."""
    counts: pd.Series
    """Customers per value, all of them."""
    order: list[str]
    ordered: bool
    """The values read lowest level first, not most common first."""


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the profiles read of all customers, computed in one pass over them: here by
    pandas (summarise), or by the engine that holds them (spark_customers). Everything
    after it (levels, scales, personas' evidence) is one code path for both."""

    customers: int
    base: Mapping[str, Mapping[str, float]]
    """Role -> its base_statistics, in reading order."""
    sizes: Mapping[int, int]
    """Segment id -> customers."""
    means: Mapping[int, Mapping[str, float]]
    """Segment id -> role -> the segment's mean; medians alike."""
    medians: Mapping[int, Mapping[str, float]]
    revenue: float | None
    """The base's total spend; None without spend."""
    revenues: Mapping[int, float] | None
    per_month: Mapping[int, float] | None
    """Segment id -> its median customer's purchases per month, when tenure is known."""
    counts: str | None
    """What frequency counts (frequency_counts)."""
    rhythm: float | None
    outliers: Outliers | None
    mixes: Mapping[str, Mix]


def _by_id(values: pd.Series) -> dict[int, float]:
    return {int(str(i)): float(v) for i, v in values.items()}


def _rows_by_id(table: pd.DataFrame) -> dict[int, dict[str, float]]:
    return {int(str(i)): {str(c): float(v) for c, v in row.items()} for i, row in table.iterrows()}


def summarise(
    clean: CleanData,
    segmentation: Segmentation,
    levels: LevelSettings,
    validation: ValidationSettings,
    min_size: int,
) -> Summary:
    """The Summary of customers held in memory."""
    labels = pd.Series(segmentation.labels, index=clean.frame.index, name="segment")
    numeric = _numeric_view(clean.frame)
    categorical = _categorical_view(clean.frame)
    counts = frequency_counts(clean, numeric.columns, levels)
    base = base_statistics(numeric)
    grouped = numeric.groupby(labels)
    per_month = None
    if {"frequency", "tenure"} <= set(numeric.columns):
        months = (numeric["tenure"] / DAYS_PER_MONTH).clip(lower=1.0)
        per_month = _by_id((numeric["frequency"] / months).groupby(labels).median())
    mixes = {}
    for role in categorical.columns:
        text, order, ordered = _named(role, categorical[role], min_size, validation.tier_levels)
        table = text.groupby(labels).value_counts().unstack(fill_value=0).T
        mixes[role] = Mix(table, text.value_counts(), order, ordered)
    has_spend = "spend" in numeric.columns
    return Summary(
        customers=len(numeric),
        base=base,
        sizes={int(str(i)): int(n) for i, n in labels.value_counts().items()},
        means=_rows_by_id(grouped.mean()),
        medians=_rows_by_id(grouped.median()),
        revenue=float(numeric["spend"].sum()) if has_spend else None,
        revenues=_by_id(grouped["spend"].sum()) if has_spend else None,
        per_month=per_month,
        counts=counts,
        rhythm=rhythm(numeric, counts),
        outliers=outliers_of(
            len(numeric),
            _set_aside_values(numeric, segmentation, clean.drivers),
            segmentation.outliers,
            base,
        ),
        mixes=mixes,
    )


@dataclass(frozen=True)
class _Figures:
    """A Summary and the scales its levels are read by, from which each segment's
    profile is read."""

    summary: Summary
    scales: Mapping[str, Scale]

    def profile(self, segment_id: int, size: int, shown: bool) -> SegmentProfile:
        """One segment against the base; only its size when it is not `shown`."""
        summary = self.summary
        share = size / summary.customers
        if not shown:
            return SegmentProfile(segment_id, size, share, None, None, {}, {}, suppressed=True)
        revenue = float(summary.revenues[segment_id]) if summary.revenues is not None else None
        return SegmentProfile(
            id=segment_id,
            size=size,
            share=share,
            revenue=revenue,
            revenue_share=(
                revenue / summary.revenue if revenue is not None and summary.revenue else None
            ),
            stats={role: self._stats(segment_id, role) for role in summary.base},
            mix={
                role: _shares(mix.by_segment[segment_id], mix.order)
                for role, mix in summary.mixes.items()
            },
        )

    def _stats(self, segment_id: int, role: str) -> RoleStats:
        summary = self.summary
        per_month = summary.per_month if role == "frequency" else None
        return _role_stats(
            role,
            float(summary.means[segment_id][role]),
            float(summary.medians[segment_id][role]),
            self.scales[role],
            summary.base[role],
            float(per_month[segment_id]) if per_month is not None else None,
        )


def build_profiles(
    clean: CleanData,
    segmentation: Segmentation,
    levels: LevelSettings | None = None,
    validation: ValidationSettings | None = None,
    min_size: int = 1,
) -> Profiles:
    """Summarise each segment against the whole base, on all rows (held in memory)."""
    levels = levels or LevelSettings()
    validation = validation or ValidationSettings()
    summary = summarise(clean, segmentation, levels, validation, min_size)
    return profiles_of(summary, segmentation.ids, levels, validation, min_size)


def profiles_of(
    summary: Summary,
    ids: tuple[int, ...],
    levels: LevelSettings,
    validation: ValidationSettings,
    min_size: int,
) -> Profiles:
    """Each segment (`ids`) against the whole base, from the Summary of all customers.

    A segment under `min_size` customers keeps only its size: its figures appear
    nowhere (no table, chart, alt text, email or archived brief). A category value held
    by fewer than `min_size` customers is named nowhere either (see base_mix).
    """
    days, day_sources = day_thresholds(levels, summary.rhythm)
    figures = _Figures(summary, scales(summary.base, levels, validation, summary.counts, days))
    sizes = {i: int(summary.sizes.get(i, 0)) for i in ids}
    mixes = summary.mixes
    return Profiles(
        customers=summary.customers,
        revenue=summary.revenue,
        segments=tuple(figures.profile(i, sizes[i], shown=sizes[i] >= min_size) for i in ids),
        base={
            role: {name: stats[name] for name in ("mean", "median", "std")}
            for role, stats in summary.base.items()
        },
        base_mix={role: _shares(mix.counts, mix.order) for role, mix in mixes.items()},
        rhythm_days=summary.rhythm,
        frequency_counts=summary.counts,
        outliers=summary.outliers,
        repeat_orders=levels.repeat_orders,
        day_sources=day_sources,
        level_order=tuple(role for role, mix in mixes.items() if mix.ordered),
        share_order=tuple(role for role, mix in mixes.items() if not mix.ordered),
    )


@dataclass(frozen=True)
class Highlights:
    """The segments an executive summary names (ids), chosen among segments shown."""

    largest: int | None
    most_valuable: int | None
    """The highest spend of the median customer, among segments whose spend is high: value
    per customer, not a total that any large segment would win, nor a mean a few extreme
    customers would decide. None when no segment's spend is high, or nobody spent."""
    at_risk: int | None
    """Lapsed (not lost) repeat customers holding the most revenue; else lapsed customers;
    else the most revenue among unhappy ones (low satisfaction or rating)."""
    risk: str | None
    """Why at_risk was picked: "lapsed_repeat", "lapsed" or "unhappy"."""
    lost: tuple[int, ...]
    """Segments whose median customer last bought beyond the 'lost' threshold."""


def _has(segment: SegmentProfile, role: str, *wanted: str) -> bool:
    return role in segment.stats and segment.stats[role].level in wanted


def _repeat(segment: SegmentProfile, profiles: Profiles) -> bool:
    """The segment's median customer is a repeat customer (frequency counts orders)."""
    stats = segment.stats.get("frequency")
    return (
        profiles.frequency_counts == "orders"
        and stats is not None
        and stats.median >= profiles.repeat_orders
    )


def highlights(profiles: Profiles) -> Highlights:
    """Pick the segments worth naming; suppressed segments are never named."""
    shown = profiles.shown
    if not shown:
        return Highlights(None, None, None, None, ())
    largest = max(shown, key=lambda s: (s.size, -s.id))
    valuable = None
    if profiles.revenue:
        above = [s for s in shown if s.stats["spend"].level == "high"]
        if above:
            valuable = max(above, key=lambda s: (s.stats["spend"].median, -s.id))
    candidates = (
        (
            "lapsed_repeat",
            [s for s in shown if _has(s, "recency", "lapsed") and _repeat(s, profiles)],
        ),
        ("lapsed", [s for s in shown if _has(s, "recency", "lapsed")]),
        (
            "unhappy",
            [s for s in shown if _has(s, "satisfaction", "low") or _has(s, "rating", "low")],
        ),
    )
    at_risk, risk = None, None
    for reason, risky in candidates:
        if risky:
            at_risk = max(risky, key=lambda s: (s.revenue_share or 0.0, s.size, -s.id))
            risk = reason
            break
    lost = tuple(s.id for s in shown if _has(s, "recency", "lost"))
    return Highlights(
        largest=largest.id,
        most_valuable=valuable.id if valuable else None,
        at_risk=at_risk.id if at_risk else None,
        risk=risk,
        lost=lost,
    )


def distinctive(segment: SegmentProfile) -> list[str]:
    """The roles whose level is not typical and differs from the base in its own direction,
    most distinctive first (robust difference)."""
    ranked = sorted(segment.stats.items(), key=lambda item: (-item[1].strength, item[0]))
    return [role for role, stats in ranked if stats.level != "typical" and stats.strength > 0]
