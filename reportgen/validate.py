"""Turning the table as read into clean, typed data, counting every fix.

Nothing is dropped or changed silently: each fix is a `Fix` in `DataQuality`,
with a count and a few example rows, so the CLI and the report can show it. A
problem too large to fix honestly (a required column missing, a number column
that is mostly text) is a `DataError` naming the column, rows and remedy.

Row numbers in messages count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from reportgen.config import Config, RoleMap, drivers_for, infer_roles
from reportgen.errors import DataError
from reportgen.ingest import Dataset
from reportgen.roles import ROLE_BY_NAME, Kind, Role

MAX_EXAMPLES = 3
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_MONEY = re.compile(r"^[\s$€£¥]*(-?)[\s$€£¥]*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*$")


@dataclass(frozen=True)
class Example:
    row: int
    value: str


@dataclass(frozen=True)
class Fix:
    """One kind of fix applied to one role, with how many cells or rows it touched."""

    code: str
    """unreadable | impossible | imputed | dropped_missing | missing_id | duplicate_id"""
    role: str | None
    column: str | None
    count: int
    action: str
    examples: tuple[Example, ...] = ()

    def describe(self) -> str:
        where = f"{self.column!r} ({self.role}): " if self.column else ""
        shown = ", ".join(f"row {e.row}: {e.value!r}" for e in self.examples)
        return f"{where}{self.count} {self.action}" + (f" (e.g. {shown})" if shown else "")


@dataclass(frozen=True)
class DataQuality:
    rows_read: int
    rows_kept: int
    fixes: tuple[Fix, ...]
    unused_columns: tuple[str, ...]
    order_lines: int | None = None
    """For an order log: the lines read (rows_read then counts the customers built from them)."""
    as_of: date | None = None
    """For an order log: the day recency and tenure are counted to."""


@dataclass(frozen=True)
class CleanData:
    """One row per customer, columns named by role, values typed.

    Numeric roles are float64, booleans bool, categorical text; an ordinal role
    given as labels is an ordered Categorical with the configured levels.
    """

    frame: pd.DataFrame
    roles: RoleMap
    quality: DataQuality
    drivers: tuple[str, ...]


def _examples(values: pd.Series, mask: pd.Series) -> tuple[Example, ...]:
    # The mask may cover only the rows still kept (after duplicates were dropped).
    hits = values.loc[mask.index[mask.to_numpy(dtype=bool)][:MAX_EXAMPLES]]
    return tuple(Example(row=int(i) + 2, value=str(v)) for i, v in hits.items())


@dataclass(frozen=True)
class _Distinct:
    """A text column as its distinct values plus a code per row.

    Exports repeat values endlessly (three satisfaction labels over a million
    rows), so each distinct value is parsed once and the result spread back.
    """

    codes: np.ndarray
    values: pd.Series

    @classmethod
    def of(cls, series: pd.Series) -> _Distinct:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return cls(codes, pd.Series(uniques, dtype="object"))

    def spread(self, parsed: np.ndarray, index: pd.Index) -> pd.Series:
        """Per-row values from one parsed value per distinct text (missing stays NaN)."""
        padded = np.append(np.asarray(parsed, dtype="float64"), np.nan)  # code -1 -> NaN
        return pd.Series(padded[self.codes], index=index)

    def blank(self, index: pd.Index) -> pd.Series:
        empty = self.values.astype(str).str.strip().eq("").to_numpy(dtype=bool)
        return pd.Series(np.append(empty, True)[self.codes], index=index)


def _is_blank(series: pd.Series) -> pd.Series:
    if series.dtype.kind in "biufcmM":
        return series.isna()
    return _Distinct.of(series).blank(series.index)


def _numbers_of_texts(texts: pd.Series) -> np.ndarray:
    """Each text as a float; "1,234" and "$1,234.50" are understood; anything else is NaN."""
    parsed = pd.to_numeric(texts, errors="coerce").to_numpy(dtype="float64", copy=True)
    retry = np.isnan(parsed)
    if retry.any():
        parts = texts[retry].astype(str).str.extract(_MONEY)
        ok = parts[1].notna().to_numpy()
        cleaned = parts[0].fillna("") + parts[1].str.replace(",", "") + parts[2].fillna("")
        found = np.full(int(retry.sum()), np.nan)
        found[ok] = cleaned[ok].astype("float64").to_numpy()
        parsed[retry] = found
    return parsed


def _parse_numbers(series: pd.Series) -> pd.Series:
    """Numbers as float64; text that is not a number becomes NaN."""
    if series.dtype.kind in "biufb" or series.dtype == "boolean":
        return series.astype("float64")
    distinct = _Distinct.of(series)
    return distinct.spread(_numbers_of_texts(distinct.values), series.index)


def _parse_booleans(series: pd.Series) -> pd.Series:
    """1.0 / 0.0 / NaN; accepts TRUE/FALSE, Yes/No, Y/N, T/F and 1/0 in any case."""
    if series.dtype.kind == "b":
        return series.astype("float64")
    distinct = _Distinct.of(series)
    words = distinct.values.astype(str).str.strip().str.lower()
    parsed = np.where(words.isin(_TRUE), 1.0, np.where(words.isin(_FALSE), 0.0, np.nan))
    return distinct.spread(parsed, series.index)


def _parse_ordinal(series: pd.Series, levels: tuple[str, ...]) -> pd.Series:
    """Labels matched to the configured levels (ignoring case), or numbers kept as numbers."""
    if series.dtype.kind in "biuf":
        return series.astype("float64")
    distinct = _Distinct.of(series)
    numbers = _numbers_of_texts(distinct.values)
    present = ~distinct.blank(series.index)
    if present.any() and (distinct.codes >= 0).any():
        as_numbers = distinct.spread(numbers, series.index)
        if as_numbers[present].notna().mean() > 0.5:
            return as_numbers
    position = {level.strip().lower(): i for i, level in enumerate(levels)}
    words = distinct.values.astype(str).str.strip().str.lower()
    codes = distinct.spread(words.map(position).to_numpy(dtype="float64"), series.index)
    categorical = pd.Categorical.from_codes(
        codes.fillna(-1).astype(int), categories=list(levels), ordered=True
    )
    return pd.Series(categorical, index=series.index)


def _absent_column(role: str, column: str, columns: list[str]) -> DataError:
    found = ", ".join(repr(c) for c in columns)
    return DataError(
        f"role {role!r}: column {column!r} (from [columns] {role}) is not in the data; "
        f"columns found: {found}"
    )


def _unmatched_required(role: Role, columns: list[str]) -> DataError:
    found = ", ".join(repr(c) for c in columns)
    hints = ", ".join(repr(h) for h in role.hints)
    return DataError(
        f"required role {role.name!r}: no column looks like it (looked for names with {hints}); "
        f'set [columns] {role.name} = "<column name>" in reportgen.toml; columns found: {found}'
    )


def _resolve(dataset: Dataset, config: Config) -> RoleMap:
    columns = list(dataset.frame.columns)
    roles = infer_roles(columns, config.columns)
    for role_name, column in roles.columns.items():
        if column not in columns:
            raise _absent_column(role_name, column, columns)
    for role in ROLE_BY_NAME.values():
        if role.required and not roles.has(role.name):
            raise _unmatched_required(role, columns)
    for role_name in drivers_for(config, roles):
        if not roles.has(role_name):
            raise DataError(
                f"[features] drivers names {role_name!r}, but no column plays that role; "
                f'map one with [columns] {role_name} = "<column name>" or remove it from drivers'
            )
    return roles


def _clean_ids(raw: pd.Series) -> pd.Series:
    """Ids as text, so leading zeros survive; 101.0 from a spreadsheet becomes "101"."""
    if raw.dtype.kind == "f":
        whole = raw.notna() & (raw == np.floor(raw))
        text = raw.astype("string[pyarrow]")
        text[whole] = raw[whole].astype("int64").astype("string[pyarrow]")
        return text.str.strip()
    return raw.astype("string[pyarrow]").str.strip().replace("", pd.NA)


class _Cleaner:
    """Applies the fixes in order and keeps the record of each."""

    def __init__(self, dataset: Dataset, config: Config, roles: RoleMap) -> None:
        self.config = config
        self.roles = roles
        self.path = dataset.path
        self.source = dataset.frame
        self.rows_read = len(dataset.frame)
        self.fixes: list[Fix] = []

    def fix(
        self,
        code: str,
        role: str | None,
        count: int,
        action: str,
        examples: tuple[Example, ...] = (),
    ) -> None:
        column = self.roles.column(role) if role else None
        self.fixes.append(Fix(code, role, column, int(count), action, examples))

    def ids(self) -> pd.Series:
        raw = self.source[self.roles.column("customer_id")]
        ids = _clean_ids(raw)
        missing = ids.isna()
        if missing.all():
            raise DataError(f"{self.path}: the customer id column {raw.name!r} is empty")
        if missing.any():
            self.fix(
                "missing_id",
                "customer_id",
                missing.sum(),
                "rows without a customer id dropped",
                _examples(raw.astype("string[pyarrow]").fillna(""), missing),
            )
        return ids

    def duplicates(self, ids: pd.Series, keep: pd.Series) -> pd.Series:
        dup = ids.duplicated(keep=False) & keep
        if not dup.any():
            return keep
        policy = self.config.validation.duplicates
        examples = _examples(ids, dup)
        if policy == "error":
            shown = ", ".join(f"row {e.row}: {e.value!r}" for e in examples)
            raise DataError(
                f"{self.path}: {int(dup.sum())} rows share a customer id in column "
                f"{ids.name!r} (e.g. {shown}); remove them, or set [validation] duplicates "
                'to "keep_last" or "keep_first"'
            )
        which = "last" if policy == "keep_last" else "first"
        drop = ids[keep].duplicated(keep=which)
        self.fix(
            "duplicate_id",
            "customer_id",
            drop.sum(),
            f"rows with a repeated customer id dropped (kept the {which})",
            examples,
        )
        return keep & ~drop.reindex(keep.index, fill_value=False)

    def _check_bad(
        self,
        role: Role,
        raw: pd.Series,
        blank: pd.Series,
        bad: pd.Series,
        what: str,
        code: str,
        action: str,
    ) -> None:
        if not bad.any():
            return
        present = int((~blank).sum())
        share = bad.sum() / max(present, 1)
        examples = _examples(raw, bad)
        if share > self.config.validation.max_bad_share:
            shown = ", ".join(f"row {e.row}: {e.value!r}" for e in examples)
            raise DataError(
                f"{self.path}: column {raw.name!r} (role {role.name}) holds {int(bad.sum())} of "
                f"{present} values that are {what} (e.g. {shown}); fix the column, or map "
                f'another one with [columns] {role.name} = "<column name>"'
            )
        self.fix(code, role.name, bad.sum(), action, examples)

    def parse(self, role: Role, raw: pd.Series) -> pd.Series:
        if role.kind is Kind.CATEGORICAL:
            return raw.astype("string[pyarrow]").str.strip().replace("", pd.NA)
        blank = _is_blank(raw)
        if role.kind is Kind.NUMERIC:
            values = _parse_numbers(raw)
            unreadable = values.isna() & ~blank
            unreadable |= np.isinf(values)
            self._check_bad(
                role,
                raw,
                blank,
                unreadable,
                "not numbers",
                "unreadable",
                "values that are not numbers treated as missing",
            )
            values = values.where(~unreadable)
            impossible = self.impossible(role, values)
            self._check_bad(
                role,
                raw,
                blank,
                impossible,
                "impossible",
                "impossible",
                self.impossible_action(role),
            )
            return values.where(~impossible)
        if role.kind is Kind.BOOLEAN:
            values = _parse_booleans(raw)
            self._check_bad(
                role,
                raw,
                blank,
                values.isna() & ~blank,
                "not yes/no values",
                "unreadable",
                "values that are not yes/no treated as missing",
            )
            return values
        # The last kind left is ordinal (ids are parsed apart, in ids()).
        levels = self.config.validation.satisfaction_levels
        values = _parse_ordinal(raw, levels)
        self._check_bad(
            role,
            raw,
            blank,
            values.isna() & ~blank,
            f"not one of {', '.join(levels)}",
            "unreadable",
            "values outside [validation] satisfaction_levels treated as missing",
        )
        return values

    def impossible(self, role: Role, values: pd.Series) -> pd.Series:
        if role.name == "rating":
            low, high = self.config.validation.rating_scale
            return (values < low) | (values > high)
        if role.non_negative:
            return values < 0
        return pd.Series(False, index=values.index)

    def impossible_action(self, role: Role) -> str:
        if role.name == "rating":
            low, high = self.config.validation.rating_scale
            return f"ratings outside the scale {low:g}–{high:g} treated as missing"
        return "negative values treated as missing"

    def missing(self, frame: pd.DataFrame) -> pd.DataFrame:
        limit = self.config.validation.max_missing_share
        for role_name in frame.columns.drop("customer_id"):
            share = frame[role_name].isna().mean()
            if share > limit:
                column = self.roles.column(role_name)
                raise DataError(
                    f"{self.path}: column {column!r} (role {role_name}) is {share:.0%} empty, more "
                    f"than [validation] max_missing_share = {limit:g}; fill it, or switch the role "
                    f'off with [columns] {role_name} = ""'
                )
        if self.config.validation.missing == "drop":
            incomplete = frame.isna().any(axis=1)
            for role_name in frame.columns[frame.isna().any()]:
                self.fix(
                    "dropped_missing",
                    role_name,
                    frame[role_name].isna().sum(),
                    "rows with a missing value dropped",
                )
            return frame[~incomplete]
        filled = {}
        for role_name in frame.columns[frame.isna().any()]:
            column = frame[role_name]
            if ROLE_BY_NAME[role_name].kind is Kind.NUMERIC or column.dtype.kind == "f":
                fill, how = column.median(), "median"
                shown = f"{fill:g}"
            else:
                fill, how = column.mode(dropna=True).iloc[0], "most common value"
                shown = (
                    repr(str(fill))
                    if ROLE_BY_NAME[role_name].kind is not Kind.BOOLEAN
                    else ("yes" if fill else "no")
                )
            filled[role_name] = column.fillna(fill)
            self.fix(
                "imputed",
                role_name,
                column.isna().sum(),
                f"missing values filled with the {how} ({shown})",
                _examples(
                    self.source[self.roles.column(role_name)].astype("string[pyarrow]").fillna(""),
                    column.isna(),
                ),
            )
        return frame.assign(**filled)


def validate(dataset: Dataset, config: Config) -> CleanData:
    """Check and type the table; raise DataError if it cannot be used honestly."""
    roles = _resolve(dataset, config)
    cleaner = _Cleaner(dataset, config, roles)
    ids = cleaner.ids()
    keep = cleaner.duplicates(ids, ids.notna())
    columns = {"customer_id": ids}
    for role_name, column in roles.columns.items():
        if role_name != "customer_id":
            columns[role_name] = cleaner.parse(ROLE_BY_NAME[role_name], dataset.frame[column])
    frame = pd.DataFrame(columns)[keep.to_numpy()]
    frame = cleaner.missing(frame)
    for role_name in frame.columns:
        if ROLE_BY_NAME[role_name].kind is Kind.BOOLEAN:
            frame[role_name] = frame[role_name].astype(bool)
    if frame.empty:
        raise DataError(f"{dataset.path}: no usable rows are left after validation")
    # Rows in customer-id order: K-Means and every sample draw depend on row order, so
    # the same customers listed in another order must give the same segments.
    frame = frame.sort_values("customer_id", kind="stable", ignore_index=True)
    quality = DataQuality(
        rows_read=cleaner.rows_read,
        rows_kept=len(frame),
        fixes=tuple(cleaner.fixes),
        unused_columns=roles.unused,
    )
    return CleanData(frame=frame, roles=roles, quality=quality, drivers=drivers_for(config, roles))
