"""The clustering matrix: which roles drive segments, how they are encoded and scaled.

Only the driver roles enter the matrix; descriptive roles (age, city, ...) are
profiled later but never shape the segments. The scaler's parameters are kept
so that centroids can be shown in the data's own units and a later period can
be scored with the same model.

A category driver one-hot encodes only the levels categories.top_values names (at
most MAX_VALUES, each held by enough customers); the customers of every other level
have zeros in all of the role's columns, as the reference level of a dummy coding. A
column for a level one customer holds would, once scaled, sit far from everyone and
could only make a segment of one; thousands of them made a matrix of gigabytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from reportgen.categories import other_label, top_values
from reportgen.config import FeatureSettings
from reportgen.errors import DataError
from reportgen.roles import ROLE_BY_NAME, Kind
from reportgen.validate import CleanData


@dataclass(frozen=True, kw_only=True)
class Scaling:
    """How driver values became matrix columns: which features, encoded and scaled how.

    It is archived with the model (model.json), and a later period scored with that model
    is encoded and scaled by it alike (apply_scaling)."""

    names: tuple[str, ...]
    """Feature names: the role, or role=value for a one-hot column."""
    roles: tuple[str, ...]
    """The role each feature comes from."""
    kind: str
    """[features] scaling: "standard" or "robust"."""
    center: np.ndarray
    scale: np.ndarray
    log1p: tuple[str, ...]
    """Features transformed with log1p before scaling."""
    codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The levels of each label-coded categorical role, in code order (0, 1, ...): a later
    period must reuse them, since codes taken from its own levels would shift whenever a
    level appears or goes."""

    @property
    def drivers(self) -> tuple[str, ...]:
        """The roles the features come from, once each, in feature order: what the model
        scores with, whatever [features] drivers says later."""
        return tuple(dict.fromkeys(self.roles))

    def to_scaled(self, units: np.ndarray) -> np.ndarray:
        """Points in the data's own units (e.g. an earlier period's centroids) in this scale."""
        values = np.array(units, dtype="float64")
        for i, name in enumerate(self.names):
            if name in self.log1p:
                values[:, i] = np.log1p(values[:, i])
        scaled: np.ndarray = (values - self.center) / self.scale
        return scaled

    def to_units(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled points (e.g. centroids) back in the data's own units."""
        values: np.ndarray = scaled * self.scale + self.center
        for i, name in enumerate(self.names):
            if name in self.log1p:
                values[:, i] = np.expm1(values[:, i])
        return values


@dataclass(frozen=True)
class Features:
    matrix: np.ndarray
    """Scaled values, one row per customer, one column per feature (scaling.names)."""
    scaling: Scaling
    dropped_constant: tuple[str, ...]
    """Driver features removed because every customer has the same value."""
    unseen: tuple[str, ...] = ()
    """Category levels in this data that a frozen model was never fitted on (role=value),
    as the brief may name them: the top_values, then "role=Other (N values)" for the rest."""


@dataclass(frozen=True)
class _Encoded:
    table: pd.DataFrame
    sources: list[str]
    logged: list[str]
    codes: dict[str, tuple[str, ...]]
    unseen: list[str]
    """role=level for values outside the given levels, as _unseen names them."""


SKEW_LIMIT = 4.0
"""A non-negative driver more skewed than this (sample skewness) is log1p-transformed:
on spend or order counts with a long tail, a few extreme customers would otherwise
stretch the scale until they form a segment of their own and everyone else is 'typical'."""


def skewed(clean: CleanData) -> tuple[str, ...]:
    """Numeric drivers that cannot be negative, are not shares, and whose skewness exceeds
    SKEW_LIMIT."""
    found = []
    for role_name in clean.drivers:
        role = ROLE_BY_NAME[role_name]
        values = clean.frame[role_name]
        if role.kind is not Kind.NUMERIC or not role.non_negative or role.share:
            continue
        numbers = values.astype("float64")
        if (numbers < 0).any():
            continue
        skewness = numbers.skew()  # a numpy float; pandas-stubs allow any scalar
        if isinstance(skewness, float) and skewness > SKEW_LIMIT:
            found.append(role_name)
    return tuple(found)


def _unseen(role: str, counts: pd.Series, levels: tuple[str, ...], min_count: int) -> list[str]:
    """The levels present but not among `levels`, as the brief may name them: the
    top_values of them, then one "Other (N values)" for the rest, so a frozen model's note
    on new values neither prints a rare one nor lists thousands."""
    new = counts[~counts.index.isin(levels)]
    named = top_values(new, min_count)
    rest = len(new) - len(named)
    grouped = [other_label(rest)] if rest else []
    return [f"{role}={level}" for level in (*named, *grouped)]


def _encode(
    clean: CleanData,
    settings: FeatureSettings,
    given: Mapping[str, tuple[str, ...]] | None = None,
    log_roles: tuple[str, ...] = (),
    min_count: int = 1,
) -> _Encoded:
    """The driver columns before scaling. `given` (frozen mode) are a model's levels per
    category role, one-hot columns or label codes, used instead of this data's own."""
    columns: dict[str, pd.Series] = {}
    sources: list[str] = []
    logged: list[str] = []
    codes: dict[str, tuple[str, ...]] = {}
    unseen: list[str] = []
    for role_name in clean.drivers:
        role = ROLE_BY_NAME[role_name]
        values = clean.frame[role_name]
        if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.ordered:
            columns[role_name] = values.cat.codes.astype("float64")  # ordinal labels in order
            sources.append(role_name)
            continue
        if role.kind is not Kind.CATEGORICAL:
            numbers = values.astype("float64")
            if role_name in log_roles:
                numbers = numbers.clip(lower=0).apply(np.log1p)
                logged.append(role_name)
            columns[role_name] = numbers
            sources.append(role_name)
            continue
        counts = values.value_counts()
        if given is not None and (settings.one_hot or role_name in given):
            levels = given.get(role_name, ())  # a one-hot model without the role: no level
        elif settings.one_hot:
            levels = tuple(sorted(top_values(counts, min_count)))
        else:  # one column, whatever the number of levels
            levels = tuple(sorted(map(str, counts.index)))
        if given is not None:
            unseen += _unseen(role_name, counts, levels, min_count)
        if settings.one_hot:
            for level in levels:
                columns[f"{role_name}={level}"] = (values == level).astype("float64")
                sources.append(role_name)
        else:
            codes[role_name] = levels
            numbering = {level: i for i, level in enumerate(levels)}
            columns[role_name] = values.map(numbering).astype("float64")
            sources.append(role_name)
    return _Encoded(pd.DataFrame(columns), sources, logged, codes, unseen)


def nothing_to_segment(drivers: tuple[str, ...]) -> DataError:
    """The error when every driver has one value for all customers."""
    return DataError(
        "every driver column has the same value for all customers, so there is nothing "
        f"to segment on (drivers: {', '.join(drivers)}); add varied columns to "
        "[features] drivers"
    )


def build_features(clean: CleanData, settings: FeatureSettings, min_count: int = 1) -> Features:
    """Encode and scale the driver roles into the matrix K-Means is fitted on. A category
    level gets a one-hot column only when top_values names it: held by `min_count`
    customers or more, and among the MAX_VALUES most common."""
    log_roles = skewed(clean) if settings.log_skewed else ()
    if settings.log_spend and "spend" in clean.drivers:
        log_roles = (*log_roles, "spend")
    encoded = _encode(clean, settings, log_roles=log_roles, min_count=min_count)
    table, sources, logged = encoded.table, encoded.sources, encoded.logged
    constant = [name for name in table.columns if table[name].nunique(dropna=False) <= 1]
    kept = [name for name in table.columns if name not in constant]
    if not kept:
        raise nothing_to_segment(clean.drivers)
    values = table[kept].to_numpy(dtype="float64")
    if settings.scaling == "robust":
        center = np.median(values, axis=0)
        q75, q25 = np.percentile(values, [75, 25], axis=0)
        scale = q75 - q25
        # A feature with zero spread between its quartiles (say, a rare flag) falls
        # back to its standard deviation rather than blowing up.
        scale = np.where(scale > 0, scale, values.std(axis=0))
    else:
        center = values.mean(axis=0)
        scale = values.std(axis=0)
    matrix = (values - center) / scale
    return Features(
        matrix=np.ascontiguousarray(matrix),
        scaling=Scaling(
            names=tuple(kept),
            roles=tuple(
                src for name, src in zip(table.columns, sources, strict=True) if name in kept
            ),
            kind=settings.scaling,
            center=center,
            scale=scale,
            log1p=tuple(name for name in kept if name in logged),
            codes={role: levels for role, levels in encoded.codes.items() if role in kept},
        ),
        dropped_constant=tuple(constant),
    )


def apply_scaling(
    clean: CleanData, settings: FeatureSettings, scaling: Scaling, min_count: int = 1
) -> Features:
    """The matrix of this period in an archived model's features and scale, without refitting.

    Categories are encoded as the model was fitted (one-hot or its label codes),
    whatever the config says now. A category level the model never saw gets zeros in
    every one-hot column of its role, or the model's centre on a label-coded one; it is
    listed in `unseen` so the report can say so (levels held by fewer than `min_count`
    customers only as a count, see _unseen). A level the model knows but this period
    lacks is simply a column of zeros. The model's own drivers are encoded, whatever
    [features] drivers says now (refit mode scores with last period's model after they
    were edited); one this data does not have is an error: the model cannot place
    customers without it, and zeros in its place would move them.
    """
    as_fitted = replace(settings, one_hot=any("=" in name for name in scaling.names))
    given: dict[str, tuple[str, ...]] = dict(scaling.codes)
    for name in scaling.names:
        role, _, level = name.partition("=")
        if level:
            given[role] = (*given.get(role, ()), level)
    drivers = scaling.drivers
    missing = [role for role in drivers if role not in clean.frame]
    if missing:
        raise DataError(
            f"the archived model needs {', '.join(missing)}, which this data does not have; "
            'map its column in [columns], or refit the segments ([segmentation] mode = "refit")'
        )
    encoded = _encode(replace(clean, drivers=drivers), as_fitted, given, scaling.log1p, min_count)
    table = encoded.table
    values = np.column_stack(
        [
            table[name].to_numpy(dtype="float64")
            if name in table
            else np.zeros(len(table), dtype="float64")
            for name in scaling.names
        ]
    )
    values = np.where(np.isnan(values), scaling.center, values)  # unseen label-coded levels
    return Features(
        matrix=np.ascontiguousarray((values - scaling.center) / scaling.scale),
        scaling=scaling,
        dropped_constant=(),
        unseen=tuple(encoded.unseen),
    )
