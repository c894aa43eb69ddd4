"""Segment rules: each segment described in the data's own columns, with how faithful it is.

K-Means draws segments as distances to centres, which no CRM filter can apply. For each
segment a shallow decision tree (one segment against the rest, at most MAX_CONDITIONS
splits deep) is grown on the driver roles in their own units; the path to its best node
becomes the rule ("Total Spend ≥ 1,100 and Days Since Last Purchase ≤ 20"), each number
rounded to the roundest value that costs the rule almost nothing. The trees see a seeded
sample of at most FIT_SAMPLE customers; every figure a rule carries is counted on all of
them, after rounding, so the brief quotes the rule exactly as it is written.

A rule is shown only when its precision reaches MIN_PRECISION and its recall MIN_RECALL;
a segment without one says so. A rule matching fewer than [report] min_segment_size
customers is not shown either: it would single out too few people.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from reportgen.categories import top_values
from reportgen.records import to_plain
from reportgen.roles import ROLE_BY_NAME, Kind
from reportgen.segment import sample_rows
from reportgen.validate import CleanData

RULES_FILE = "rules.json"
MAX_CONDITIONS = 3
FIT_SAMPLE = 100_000
"""The trees are grown on at most this many customers (a seeded sample)."""
MIN_PRECISION = 0.6
"""A rule is shown only if at least this share of the customers it matches are in the segment,"""
MIN_RECALL = 0.5
"""and it matches at least this share of the segment."""
WEAK = 0.75
"""Below this precision or recall, the brief adds a caution to the rule."""
SHORTER = 0.02
"""A rule with fewer conditions is preferred while its F1 is within this of the best."""
ROUNDER = 0.005
"""A rounder threshold is preferred while the rule's F1 drops by at most this."""

NUMBER, YES_NO, LABELS, CATEGORY = "number", "yes_no", "labels", "category"


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One test on one column: `column operator value` for numbers (<=, >=) and yes/no
    (= 1.0 for yes, 0.0 for no); `column operator levels` for labels (in) and categories
    (= or != one level)."""

    role: str
    column: str
    """The column of the input (for an order log, the role: reportgen derives it)."""
    kind: str
    operator: str
    value: float = math.nan
    levels: tuple[str, ...] = ()

    @property
    def decimals(self) -> int:
        """The decimals that write `value` exactly (thresholds have at most six significant
        digits): 0 for 1,200,000, 7 for 0.0000001."""
        if self.kind != NUMBER or not math.isfinite(self.value):
            return 0
        exponent = Decimal(repr(self.value)).normalize().as_tuple().exponent
        return max(0, -int(exponent))


@dataclass(frozen=True, kw_only=True)
class SegmentRule:
    segment: int
    size: int
    """Customers in the segment."""
    status: str
    """"rule" (shown); "no_short_rule" (none reaches MIN_PRECISION and MIN_RECALL); or
    "too_few" (the segment, or what its rule matches, is under [report] min_segment_size)."""
    conditions: tuple[Condition, ...] = ()
    precision: float = math.nan
    """Of the customers the rule matches, the share in the segment."""
    recall: float = math.nan
    """Of the segment, the share the rule matches."""
    support: int = 0
    """Customers the rule matches."""
    listed: Fit | None = None
    """The same figures for the segment's label in segments.sql, where a customer matching
    several rules takes the first (rules in descending precision)."""

    @property
    def weak(self) -> bool:
        return self.status == "rule" and min(self.precision, self.recall) < WEAK


@dataclass(frozen=True)
class Fit:
    precision: float
    recall: float
    support: int


@dataclass(frozen=True, kw_only=True)
class SegmentRules:
    """Every segment's rule, and what segments.sql needs to reproduce reportgen's values."""

    segments: tuple[SegmentRule, ...]
    order: tuple[int, ...]
    """The segments with a rule, in the order segments.sql tests them."""
    fills: Mapping[str, str]
    """Role -> the value reportgen filled its missing values with, as text."""
    derived: bool
    """The columns are an order log's per-customer figures, derived by reportgen."""

    def rule(self, segment: int) -> SegmentRule:
        (found,) = [r for r in self.segments if r.segment == segment]
        return found


@dataclass(frozen=True)
class _Column:
    """One column of the trees' matrix: a role as a number, or one level of a category."""

    role: str
    kind: str
    levels: tuple[str, ...] = ()
    """LABELS: every level in order (the column holds its position); CATEGORY: the one
    level the column is 1.0 for."""


def _columns(frame: pd.DataFrame, roles: Sequence[str], min_count: int) -> list[_Column]:
    found = []
    for role in roles:
        values = frame[role]
        kind = ROLE_BY_NAME[role].kind
        if isinstance(values.dtype, pd.CategoricalDtype):
            found.append(_Column(role, LABELS, tuple(map(str, values.cat.categories))))
        elif kind is Kind.BOOLEAN:
            found.append(_Column(role, YES_NO))
        elif kind is Kind.CATEGORICAL:
            levels = top_values(values.value_counts(), min_count)
            found += [_Column(role, CATEGORY, (level,)) for level in sorted(levels)]
        else:
            found.append(_Column(role, NUMBER))
    return found


def _matrix(frame: pd.DataFrame, columns: Sequence[_Column]) -> np.ndarray:
    def values(column: _Column) -> np.ndarray:
        series = frame[column.role]
        if column.kind == LABELS:
            return series.cat.codes.to_numpy(dtype="float64")
        if column.kind == CATEGORY:
            return (series == column.levels[0]).to_numpy(dtype="float64")
        return series.to_numpy(dtype="float64")

    return np.column_stack([values(c) for c in columns]) if columns else np.empty((len(frame), 0))


def matches(condition: Condition, frame: pd.DataFrame) -> np.ndarray:
    """Which customers of `frame` (columns named by role, values as validation typed them)
    meet `condition`."""
    values = frame[condition.role]
    if condition.kind == LABELS:
        found: np.ndarray = values.astype("string").isin(condition.levels).to_numpy(dtype=bool)
        return found
    if condition.kind == CATEGORY:
        equal = (values == condition.levels[0]).to_numpy(dtype=bool)
        return equal if condition.operator == "=" else ~equal
    numbers = values.to_numpy(dtype="float64")
    compare = {"<=": np.less_equal, ">=": np.greater_equal}.get(condition.operator, np.equal)
    result: np.ndarray = compare(numbers, condition.value)
    return result


def _all(conditions: Iterable[Condition], frame: pd.DataFrame) -> np.ndarray:
    found = np.ones(len(frame), dtype=bool)
    for condition in conditions:
        found &= matches(condition, frame)
    return found


def fit_of(support: int, hits: int, size: int) -> Fit:
    """The Fit of a rule matching `support` customers, `hits` of them among the `size` of
    its segment."""
    return Fit(hits / support if support else 0.0, hits / size if size else 0.0, support)


def _fit(matched: np.ndarray, inside: np.ndarray) -> Fit:
    return fit_of(int(matched.sum()), int((matched & inside).sum()), int(inside.sum()))


def _f1(fit: Fit) -> float:
    total = fit.precision + fit.recall
    return 2 * fit.precision * fit.recall / total if total else 0.0


def _split(column: _Column, threshold: float, above: bool, name: str) -> Condition:
    """The condition a tree's split puts on the customers below (or `above`) `threshold`."""
    if column.kind == LABELS:
        cut = math.floor(threshold) + 1
        levels = column.levels[cut:] if above else column.levels[:cut]
        return Condition(role=column.role, column=name, kind=LABELS, operator="in", levels=levels)
    if column.kind == CATEGORY:
        operator = "=" if above else "!="
        return Condition(
            role=column.role, column=name, kind=CATEGORY, operator=operator, levels=column.levels
        )
    if column.kind == YES_NO:
        return Condition(
            role=column.role, column=name, kind=YES_NO, operator="=", value=float(above)
        )
    return Condition(
        role=column.role,
        column=name,
        kind=NUMBER,
        operator=">=" if above else "<=",
        value=threshold,
    )


def _merge(conditions: list[Condition], new: Condition) -> list[Condition]:
    """`conditions` and `new`, a bound on the same number or labels narrowing the old one."""
    for i, old in enumerate(conditions):
        if old.role != new.role or old.kind != new.kind:
            continue
        if new.kind == NUMBER and old.operator == new.operator:
            tighter = min if new.operator == "<=" else max
            return [
                *conditions[:i],
                replace(old, value=tighter(old.value, new.value)),
                *conditions[i + 1 :],
            ]
        if new.kind == LABELS:
            kept = tuple(level for level in old.levels if level in new.levels)
            return [*conditions[:i], replace(old, levels=kept), *conditions[i + 1 :]]
    return [*conditions, new]


def _paths(
    tree: DecisionTreeClassifier, columns: Sequence[_Column], names: Mapping[str, str]
) -> list[list[Condition]]:
    """The conditions leading to every node of `tree` but its root."""
    inner = tree.tree_
    found: list[list[Condition]] = []
    stack: list[tuple[int, list[Condition]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if path:
            found.append(path)
        left, right = inner.children_left[node], inner.children_right[node]
        if left < 0:
            continue
        column = columns[inner.feature[node]]
        threshold = float(inner.threshold[node])
        for child, above in ((left, False), (right, True)):
            condition = _split(column, threshold, above, names[column.role])
            stack.append((child, _merge(path, condition)))
    return found


def _candidates(threshold: float) -> list[float]:
    """Rounder values near `threshold`, roundest first: to a power of ten above it (0.5 ->
    0 or 1, as a count is written), then to 1, 2, 3 and 4 significant digits, each rounded
    down and up."""
    if threshold == 0 or not math.isfinite(threshold):
        return []
    magnitude = math.floor(math.log10(abs(threshold)))
    found = []
    for digits in range(0, 5):
        step = 10.0 ** (magnitude - digits + 1)
        for value in (math.floor(threshold / step) * step, math.ceil(threshold / step) * step):
            rounded = round(value, max(0, digits - magnitude - 1))
            if rounded not in found:
                found.append(rounded)
    return found


def _rounded(
    conditions: list[Condition], frame: pd.DataFrame, inside: np.ndarray
) -> list[Condition]:
    """`conditions` with each number threshold replaced by the roundest candidate that keeps
    the rule's F1 within ROUNDER of what it was."""
    result = list(conditions)
    for i, condition in enumerate(result):
        if condition.kind != NUMBER:
            continue
        others = _all(result[:i] + result[i + 1 :], frame)
        best = _f1(_fit(others & matches(condition, frame), inside))
        chosen = float(f"{condition.value:.6g}")
        for value in _candidates(condition.value):
            moved = replace(condition, value=value)
            if _f1(_fit(others & matches(moved, frame), inside)) >= best - ROUNDER:
                chosen = value
                break
        result[i] = replace(condition, value=chosen)
    return result


def _best_path(
    paths: list[list[Condition]], frame: pd.DataFrame, inside: np.ndarray
) -> list[Condition]:
    """The path with the best F1, or a shorter one within SHORTER of it."""
    scored = [(_f1(_fit(_all(path, frame), inside)), len(path), path) for path in paths]
    top = max(f1 for f1, _, _ in scored)
    shortest = min(length for f1, length, _ in scored if f1 >= top - SHORTER)
    return max((item for item in scored if item[1] == shortest), key=lambda item: item[0])[2]


@dataclass(frozen=True)
class RuleInput:
    """What the rules are learned from: customers (columns named by role, as validation
    typed them) and their segment ids."""

    frame: pd.DataFrame
    labels: np.ndarray
    columns: Mapping[str, str]
    """Role -> the input's column name."""
    roles: tuple[str, ...]
    """The roles the rules may use: the drivers that are not constant."""
    fills: Mapping[str, str]
    derived: bool


Counter = Callable[[Sequence[tuple[int, tuple[Condition, ...]]]], "Counted"]
"""Counts, over every customer, how well each (segment, conditions) rule fits its segment:
alone, and as a list tested in the order given, a customer taking the first it matches."""


@dataclass(frozen=True)
class Counted:
    alone: Mapping[int, Fit]
    listed: Mapping[int, Fit]
    sizes: Mapping[int, int]
    """Customers in each segment."""


def in_memory(frame: pd.DataFrame, labels: np.ndarray) -> Counter:
    """The Counter of customers held in memory."""

    def count(rules: Sequence[tuple[int, tuple[Condition, ...]]]) -> Counted:
        taken = np.zeros(len(frame), dtype=bool)
        alone, listed, sizes = {}, {}, {}
        for segment, conditions in rules:
            mine, inside = _all(conditions, frame), labels == segment
            alone[segment] = _fit(mine, inside)
            listed[segment] = _fit(mine & ~taken, inside)
            sizes[segment] = int(inside.sum())
            taken |= mine
        return Counted(alone, listed, sizes)

    return count


def learn(
    data: RuleInput,
    segments: Sequence[int],
    suppressed: Collection[int],
    settings: tuple[int, int],
    count: Counter | None = None,
) -> SegmentRules:
    """Each of `segments`' rule, learned on a sample of `data` (`data` may be that sample
    already), its figures counted on every customer: those of `data`, or those `count`
    counts when an engine holds them. `settings`: [report] min_segment_size and the seed."""
    min_size, seed = settings
    count = count or in_memory(data.frame, data.labels)
    chosen = _choose(data, suppressed, min_size, seed)
    fits = count(
        [(segment, conditions) for segment, conditions in chosen.items() if conditions]
    ).alone
    sizes = count([(segment, ()) for segment in segments]).sizes
    found = [
        _judged(segment, sizes[segment], chosen.get(segment, ()), fits.get(segment), min_size)
        for segment in segments
    ]
    shown = sorted(
        (r for r in found if r.status == "rule"), key=lambda r: (-r.precision, r.segment)
    )
    listed = count([(r.segment, r.conditions) for r in shown]).listed
    return SegmentRules(
        segments=tuple(replace(r, listed=listed.get(r.segment)) for r in found),
        order=tuple(r.segment for r in shown),
        fills=dict(data.fills),
        derived=data.derived,
    )


def fit_rows(customers: int, seed: int) -> np.ndarray:
    """The positions of the customers the trees are grown and rounded on."""
    return sample_rows(customers, FIT_SAMPLE, seed + 11)


def _choose(
    data: RuleInput, suppressed: Collection[int], min_size: int, seed: int
) -> dict[int, tuple[Condition, ...]]:
    """Segment -> its rule's conditions (none when no tree split separates it), for the
    segments the sample holds that are not suppressed. Everything here sees the sample
    only, so an engine that hands over the same sample gets the same rules."""
    rows = fit_rows(len(data.frame), seed)
    sample, labels = data.frame.iloc[rows], data.labels[rows]
    columns = _columns(sample, data.roles, min_size)
    matrix = _matrix(sample, columns)
    chosen: dict[int, tuple[Condition, ...]] = {}
    for segment in sorted(set(np.unique(labels).tolist()) - set(suppressed)):
        if not columns:
            break
        inside = labels == segment
        tree = DecisionTreeClassifier(
            max_depth=MAX_CONDITIONS,
            class_weight="balanced",
            random_state=seed,
            min_samples_leaf=max(1, min_size // 2),
        ).fit(matrix, inside)
        paths = _paths(tree, columns, data.columns)
        best = _best_path(paths, sample, inside) if paths else []
        rounded = _rounded(best, sample, inside)
        first = {c.role: i for i, c in reversed(list(enumerate(rounded)))}
        # a range reads low to high: the conditions on one column together, ">=" first
        chosen[segment] = tuple(sorted(rounded, key=lambda c: (first[c.role], c.operator != ">=")))
    return chosen


def _judged(
    segment: int, size: int, conditions: tuple[Condition, ...], fit: Fit | None, min_size: int
) -> SegmentRule:
    """The segment's rule if it is faithful enough and matches enough customers to show."""
    if size < min_size or (fit is not None and fit.support < min_size):
        return SegmentRule(segment=segment, size=size, status="too_few")
    if fit is None or fit.precision < MIN_PRECISION or fit.recall < MIN_RECALL:
        return SegmentRule(segment=segment, size=size, status="no_short_rule")
    return SegmentRule(
        segment=segment,
        size=size,
        status="rule",
        conditions=conditions,
        precision=fit.precision,
        recall=fit.recall,
        support=fit.support,
    )


def rule_input(
    clean: CleanData, kept: Sequence[str], labels: np.ndarray, derived: bool
) -> RuleInput:
    """The rules' input from a run's clean data: the drivers among the `kept` roles (those
    the model used), and the values validation filled missing cells with."""
    fills = {
        fix.role: fix.params["fill"]
        for fix in clean.quality.fixes
        if fix.code == "imputed" and fix.role and "fill" in fix.params
    }
    return RuleInput(
        frame=clean.frame,
        labels=labels,
        columns=clean.roles.columns,
        roles=tuple(role for role in clean.drivers if role in kept),
        fills=fills,
        derived=derived,
    )


def record(rules: SegmentRules) -> dict[str, object]:
    """rules.json: every segment's rule with its figures, and the limits they were judged by."""
    return {
        "limits": {
            "max_conditions": MAX_CONDITIONS,
            "min_precision": MIN_PRECISION,
            "min_recall": MIN_RECALL,
            "weak": WEAK,
        },
        "sql_order": list(rules.order),
        "segments": [
            {
                "segment": rule.segment,
                "size": rule.size,
                "status": rule.status,
                "conditions": [_condition_record(c) for c in rule.conditions],
                "precision": _figure(rule.precision),
                "recall": _figure(rule.recall),
                "support": rule.support if rule.status == "rule" else None,
                "in_sql": to_plain(rule.listed),
            }
            for rule in rules.segments
        ],
    }


def _figure(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def _condition_record(condition: Condition) -> dict[str, object]:
    found: dict[str, object] = {
        "column": condition.column,
        "role": condition.role,
        "kind": condition.kind,
        "operator": condition.operator,
    }
    if condition.kind in (NUMBER, YES_NO):
        found["value"] = condition.value if condition.kind == NUMBER else condition.value == 1.0
    else:
        found["values"] = list(condition.levels)
    return found
