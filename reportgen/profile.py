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
from collections.abc import Hashable, Mapping
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


def _spreads(numeric: pd.DataFrame) -> pd.Series:
    """Each role's interquartile range, else its standard deviation, else 1: the unit in
    which a difference from the base is measured (all roles in one pass over the rows)."""
    quartiles = numeric.quantile([0.25, 0.75])
    spread = quartiles.iloc[1] - quartiles.iloc[0]
    std = numeric.std(ddof=0)
    return spread.where(spread > 0, std.where(std > 0, 1.0))


def scales(
    numeric: pd.DataFrame,
    settings: LevelSettings,
    validation: ValidationSettings,
    counts: str | None,
    days: Mapping[str, Mapping[str, float]],
) -> dict[str, Scale]:
    """How each role's level is decided in this base (see the module docstring); `days`
    are the recency and tenure thresholds (day_thresholds)."""
    rating_points = settings.rating_points or (
        (validation.rating_scale[1] - validation.rating_scale[0]) / 10
    )
    found = {}
    spreads = _spreads(numeric)
    for role in numeric.columns:
        values = numeric[role]
        kind = ROLE_BY_NAME[role].kind
        spread = float(spreads[role])
        if role in DAY_ROLES:
            found[role] = Scale("median", float(values.median()), spread, days[role])
        elif kind is Kind.BOOLEAN or ROLE_BY_NAME[role].share:
            base = float(values.mean())
            points = settings.share_points
            found[role] = Scale(
                "share",
                base,
                float(values.std(ddof=0)) or 1.0,
                {
                    "high": max(base + points, base * settings.ratio),
                    "low": min(base - points, base / settings.ratio),
                },
            )
        elif kind is not Kind.NUMERIC:  # ordered labels, as positions 0, 1, ...
            base = float(values.mean())
            steps = settings.ordinal_steps
            found[role] = Scale(
                "mean position",
                base,
                float(values.std(ddof=0)) or 1.0,
                {"high": base + steps, "low": base - steps},
            )
        elif role in POINT_ROLES:
            base = float(values.median())
            found[role] = Scale(
                "median",
                base,
                spread,
                {"high": base + rating_points, "low": base - rating_points},
            )
        else:
            found[role] = _ratio_scale(role, values, spread, settings, counts)
    return found


def _ratio_scale(
    role: str, values: pd.Series, spread: float, settings: LevelSettings, counts: str | None
) -> Scale:
    """A figure with a long tail (spend, counts): the median customer against the base's,
    by [levels] ratio."""
    base = float(values.median())
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


def _bound(ratios: pd.Series) -> float:
    """A round bound that every outlier passes: "at least 50×" (or "at most 0.02×"), two
    significant digits, so the brief does not publish a small group's exact figure."""
    up = ratios.median() >= 1
    edge = float(ratios.min() if up else ratios.max())
    if edge <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(edge))
    scale = 10.0**digits
    return (math.floor if up else math.ceil)(edge * scale) / scale


def _outliers(
    numeric: pd.DataFrame, segmentation: Segmentation, drivers: tuple[str, ...]
) -> Outliers | None:
    """Who the customers set aside were: the driver they stand out on most, as a bound."""
    if not segmentation.outliers:
        return None
    rows = list(segmentation.outlier_rows)
    best: tuple[float, str, float] | None = None
    for role in drivers:
        if role not in numeric.columns or ROLE_BY_NAME[role].kind is not Kind.NUMERIC:
            continue
        base = float(numeric[role].median())
        theirs = numeric[role].iloc[rows]
        if base > 0 and (theirs > 0).all():
            distance = abs(math.log(float(theirs.median()) / base))
            if best is None or distance > best[0]:
                best = (distance, role, _bound(theirs / base))
    return Outliers(
        customers=len(rows),
        share=len(rows) / len(numeric),
        role=best[1] if best else None,
        times=best[2] if best else None,
    )


def _frequency_counts(clean: CleanData, numeric: pd.DataFrame, levels: LevelSettings) -> str | None:
    """What frequency counts, "orders" or "items" (counts_of); None without frequency."""
    if "frequency" not in numeric.columns:
        return None
    column = clean.roles.columns.get("frequency", "")
    return counts_of(column, levels, clean.quality.order_lines is not None)


@dataclass(frozen=True)
class _Figures:
    """The whole base's figures and every segment's, each computed in one pass over the
    rows, from which each segment's profile is read."""

    customers: int
    revenue: float | None
    """The base's total spend; None without spend."""
    base: dict[str, dict[str, float]]
    """Role -> the base's mean, median and standard deviation (Profiles.base)."""
    scales: Mapping[str, Scale]
    means: Mapping[Hashable, Mapping[Hashable, float]]
    """Segment id -> role -> the segment's mean; medians alike."""
    medians: Mapping[Hashable, Mapping[Hashable, float]]
    revenues: pd.Series | None
    """Segment id -> its total spend."""
    per_month: pd.Series | None
    """Segment id -> its median customer's purchases per month, when tenure is known."""
    mixes: Mapping[str, tuple[pd.DataFrame, list[str]]]
    """Category -> customers per value (a column per segment id), and the values named."""

    def profile(self, segment_id: int, size: int, shown: bool) -> SegmentProfile:
        """One segment against the base; only its size when it is not `shown`."""
        share = size / self.customers
        if not shown:
            return SegmentProfile(segment_id, size, share, None, None, {}, {}, suppressed=True)
        revenue = float(self.revenues[segment_id]) if self.revenues is not None else None
        return SegmentProfile(
            id=segment_id,
            size=size,
            share=share,
            revenue=revenue,
            revenue_share=revenue / self.revenue if revenue is not None and self.revenue else None,
            stats={role: self._stats(segment_id, role) for role in self.base},
            mix={
                role: _shares(table[segment_id], order)
                for role, (table, order) in self.mixes.items()
            },
        )

    def _stats(self, segment_id: int, role: str) -> RoleStats:
        per_month = self.per_month if role == "frequency" else None
        return _role_stats(
            role,
            float(self.means[segment_id][role]),
            float(self.medians[segment_id][role]),
            self.scales[role],
            self.base[role],
            float(per_month[segment_id]) if per_month is not None else None,
        )


def _figures(
    numeric: pd.DataFrame,
    labels: pd.Series,
    scales_by_role: Mapping[str, Scale],
    named: Mapping[str, tuple[pd.Series, list[str], bool]],
) -> _Figures:
    """The figures of the base and of every segment (labelled by `labels`); `named` are
    the categories as _named gives them."""
    has_spend = "spend" in numeric.columns
    grouped = numeric.groupby(labels)
    per_month = None
    if {"frequency", "tenure"} <= set(numeric.columns):
        months = (numeric["tenure"] / DAYS_PER_MONTH).clip(lower=1.0)
        per_month = (numeric["frequency"] / months).groupby(labels).median()
    return _Figures(
        customers=len(numeric),
        revenue=float(numeric["spend"].sum()) if has_spend else None,
        base={
            role: {
                "mean": float(numeric[role].mean()),
                "median": float(numeric[role].median()),
                "std": float(numeric[role].std(ddof=0)),
            }
            for role in numeric.columns
        },
        scales=scales_by_role,
        means=grouped.mean().to_dict("index"),
        medians=grouped.median().to_dict("index"),
        revenues=grouped["spend"].sum() if has_spend else None,
        per_month=per_month,
        mixes={
            role: (text.groupby(labels).value_counts().unstack(fill_value=0).T, order)
            for role, (text, order, _) in named.items()
        },
    )


def build_profiles(
    clean: CleanData,
    segmentation: Segmentation,
    levels: LevelSettings | None = None,
    validation: ValidationSettings | None = None,
    min_size: int = 1,
) -> Profiles:
    """Summarise each segment against the whole base, on all rows.

    A segment under `min_size` customers keeps only its size: its figures appear
    nowhere (no table, chart, alt text, email or archived brief). A category value held
    by fewer than `min_size` customers is named nowhere either (see base_mix).
    """
    levels = levels or LevelSettings()
    validation = validation or ValidationSettings()
    labels = pd.Series(segmentation.labels, index=clean.frame.index, name="segment")
    numeric = _numeric_view(clean.frame)
    categorical = _categorical_view(clean.frame)
    counts = _frequency_counts(clean, numeric, levels)
    gap = rhythm(numeric, counts)
    days, day_sources = day_thresholds(levels, gap)
    named = {
        role: _named(role, categorical[role], min_size, validation.tier_levels)
        for role in categorical.columns
    }
    figures = _figures(numeric, labels, scales(numeric, levels, validation, counts, days), named)
    sizes = labels.value_counts().reindex(segmentation.ids, fill_value=0)
    return Profiles(
        customers=figures.customers,
        revenue=figures.revenue,
        segments=tuple(
            figures.profile(i, int(sizes[i]), shown=sizes[i] >= min_size) for i in segmentation.ids
        ),
        base=figures.base,
        base_mix={
            role: _shares(text.value_counts(), order) for role, (text, order, _) in named.items()
        },
        rhythm_days=gap,
        frequency_counts=counts,
        outliers=_outliers(numeric, segmentation, clean.drivers),
        repeat_orders=levels.repeat_orders,
        day_sources=day_sources,
        level_order=tuple(role for role, (_, _, ordered) in named.items() if ordered),
        share_order=tuple(role for role, (_, _, ordered) in named.items() if not ordered),
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
