"""Turning the table as read into clean, typed data, counting every fix.

Nothing is dropped or changed silently: each fix is a `Fix` in `DataQuality`,
with a count and a few example rows, so the CLI and the report can show it. A
problem too large to fix honestly (a required column missing, a number column
that is mostly text) is a `DataError` naming the column, rows and remedy.

Row numbers in messages count the header as row 1, as a spreadsheet shows them.

Two rules keep hostile or broken values from reaching later stages:
- Text (every mapped cell and every column name) loses control characters and
  bidirectional formatting characters before it is parsed; see `plain_text`.
- A number beyond ±`MAX_MAGNITUDE` is treated as missing, like an unreadable one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from reportgen import numbers
from reportgen.config import Config
from reportgen.errors import DataError
from reportgen.ingest import Dataset
from reportgen.roles import ROLE_BY_NAME, Kind, Role, RoleMap, drivers_for, infer_roles
from reportgen.terminal import BIDI_CONTROLS
from reportgen.wording import N_

MAX_EXAMPLES = 3
SHOWN_NAMES = 6
"""Column names a missing role's error lists (the table has dozens per role)."""
YES_WORDS = {"true", "t", "yes", "y", "1", "1.0", "1,0"} | {
    "ja",
    "wahr",
    "j",
    "oui",
    "vrai",
    "o",
    "sí",
    "si",
    "s",
    "verdadero",
    "vero",
    "waar",
    "sim",
    "verdadeiro",
}
NO_WORDS = {"false", "f", "no", "n", "0", "0.0", "0,0"} | {
    "nein",
    "falsch",
    "non",
    "faux",
    "falso",
    "nee",
    "onwaar",
    "não",
    "nao",
}
"""Yes and no as exports write them: English, German, French, Spanish, Italian, Dutch and
Portuguese words (and Excel's TRUE/FALSE in those languages: WAHR, VRAI, VERDADERO, VERO,
WAAR, VERDADEIRO), their initials where they cannot clash, and 1/0."""

MAX_MAGNITUDE = 1e15
"""The largest magnitude a number may have; beyond it a value is treated as missing.

No customer metric comes near it (a quadrillion is still about a billion US dollars
in the currency with the most units to the dollar), so a larger value is a unit
mistake or a sentinel such as 1e308. The bound keeps float arithmetic finite in every
later stage: squares and sums over any table stay far inside the float range (1e15²
× 1e12 rows is 1e42, against 1.8e308), where a single 1e308 overflows scaling into
NaN and a mean into inf. Every whole number up to the bound is exact in a float too
(2**53 ≈ 9.0e15)."""

_MAX_SHOWN = f"{MAX_MAGNITUDE:.0e}".replace("+", "")  # "1e15"

_BREAKS = "\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029"
"""Tabs, line and paragraph breaks (C0, C1 and Unicode ones): inside a value, a space."""
_CONTROLS = "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
"""The other C0 and C1 controls (ESC among them): removed."""
_REMOVED = re.compile(f"[{_CONTROLS}{BIDI_CONTROLS}]+")
_BROKEN = re.compile(f"[{_BREAKS}]+")
UNSAFE_CHARACTERS = f"{_CONTROLS}{BIDI_CONTROLS}{_BREAKS}"
"""What plain_text removes or replaces, as a regular-expression class body."""
_UNSAFE = f"[{UNSAFE_CHARACTERS}]"


@dataclass(frozen=True)
class Example:
    row: int
    value: str


@dataclass(frozen=True, kw_only=True)
class Fix:
    """One kind of fix applied to one role, with how many cells or rows it touched."""

    code: str
    """repaired_bytes | control_characters | unreadable | too_large | impossible | imputed |
    dropped_missing | missing_id | duplicate_id"""
    role: str | None
    column: str | None
    count: int
    action: str
    """What was done, in English: a message id of the wording catalogue (wording.py),
    with %(name)s placeholders filled from `params`, so the brief can show it in the
    reader's language."""
    examples: tuple[Example, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.action % self.params

    def describe(self) -> str:
        where = f"{self.column!r} ({self.role}): " if self.column else ""
        shown = ", ".join(f"row {e.row}: {e.value!r}" for e in self.examples)
        return f"{where}{self.count} {self.text}" + (f" (e.g. {shown})" if shown else "")


@dataclass(frozen=True, kw_only=True)
class DataQuality:
    rows_read: int
    rows_kept: int
    fixes: tuple[Fix, ...]
    unused_columns: tuple[str, ...]
    order_lines: int | None = None
    """For an order log: the lines read (rows_read then counts the customers built from them)."""
    as_of: date | None = None
    """For an order log: the day recency and tenure are counted to."""
    number_formats: tuple[numbers.NumberFormat, ...] = ()
    """How each text column whose numbers have separators was read (numbers.py)."""


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


def plain_text(text: str) -> str:
    """`text` with no character that acts on the text around it instead of showing.

    A right-to-left override in a city name reverses the figures printed after it in
    the report, and an ESC in a category recolours or rewrites the terminal that shows
    it. Controls and bidirectional formatting characters are removed, and each run of
    tabs and line breaks becomes one space, so data is shown as the letters it holds.
    """
    return _BROKEN.sub(" ", _REMOVED.sub("", text))


def _plain_columns(dataset: Dataset, config: Config) -> tuple[Dataset, Config, tuple[str, ...]]:
    """Column names as `plain_text` makes them, in the data and in `[columns]` alike
    (a config written by `reportgen init` holds the names as read), and the raw names
    that changed. Two names that become one are an error: which one is meant is unknown.
    """
    raw = [str(c) for c in dataset.frame.columns]
    names = [plain_text(c).strip() for c in raw]
    changed = tuple(r for r, n in zip(raw, names, strict=True) if r != n)
    if not changed:
        return dataset, config, ()
    seen: dict[str, str] = {}
    for before, after in zip(raw, names, strict=True):
        if after in seen:
            raise DataError(
                f"{dataset.path}: columns {seen[after]!r} and {before!r} have the same name "
                f"once control and text-direction characters are removed ({after!r}); "
                "rename one of them"
            )
        seen[after] = before
    columns = {role: plain_text(c).strip() for role, c in config.columns.items()}
    return (
        replace(dataset, frame=dataset.frame.set_axis(names, axis=1)),
        replace(config, columns=columns),
        changed,
    )


def _examples(values: pd.Series, mask: pd.Series) -> tuple[Example, ...]:
    # The mask may cover only the rows still kept (after duplicates were dropped).
    hits = values.loc[mask.index[mask.to_numpy(dtype=bool)][:MAX_EXAMPLES]]
    rows = hits.index.to_numpy(dtype="int64")  # positions in the table as read
    return tuple(Example(row=int(i) + 2, value=str(v)) for i, v in zip(rows, hits, strict=True))


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
        """Empty cells, and the words exports write for "no value" (see MISSING_WORDS)."""
        folded = self.values.astype(str).str.strip().str.casefold()
        empty = (folded.eq("") | folded.isin(MISSING_WORDS)).to_numpy(dtype=bool)
        return pd.Series(np.append(empty, True)[self.codes], index=index)


MISSING_WORDS = frozenset(
    {"na", "n/a", "#n/a", "#n/a n/a", "#na", "<na>", "null", "none", "nan", "-nan"}
    | {"1.#ind", "-1.#ind", "1.#qnan", "-1.#qnan"}
)
"""What spreadsheets, databases and pandas write for "no value" (pandas' own list,
case-folded). They are missing where a number, a yes/no or a level is expected, and
counted with the blanks; an id or a category keeps them as written ("NA" may be a
customer's initials, "None" a membership level)."""


def _is_blank(series: pd.Series) -> pd.Series:
    if series.dtype.kind in "biufcmM":
        return series.isna()
    return _Distinct.of(series).blank(series.index)


class _NumberReader:
    """Reads a dataset's text columns as numbers, each with its own convention (numbers.py),
    and keeps the record of how each was read."""

    def __init__(self, dataset: Dataset, settings: numbers.Settings, roles: RoleMap) -> None:
        self.path = dataset.path
        self.frame = dataset.frame
        # Only columns that play a role may vouch for the file's decimal mark: an unused
        # column of coordinates (47.67) says nothing sure about the amounts.
        self.vouching = list(dict.fromkeys(roles.columns.values()))
        self.context = numbers.Context(settings, self._file_mark, dataset.delimiter)
        self.formats: list[numbers.NumberFormat] = []
        self._mark: tuple[str | None] | None = None

    def _file_mark(self) -> str | None:
        if self._mark is None:  # computed once, and only when a column needs it
            self._mark = (numbers.file_mark(self.frame[self.vouching]),)
        return self._mark[0]

    def read(self, role: str, series: pd.Series) -> pd.Series:
        """Numbers as float64; text that is not a number in the column's convention is NaN.

        A workbook column may hold number cells and text cells together: a number cell
        is a number as it is, and only the text cells say how the column writes numbers.
        """
        if series.dtype.kind in "biufb" or series.dtype == "boolean":
            return series.astype("float64")
        distinct = _Distinct.of(series)
        # Only a column of Python objects (a workbook's) can hold number cells; a text
        # column (CSV) is all text, with no per-value check.
        native = (
            distinct.values.map(numbers.is_number).to_numpy(dtype=bool)
            if series.dtype == object
            else np.zeros(len(distinct.values), dtype=bool)
        )
        parsed = np.full(len(native), np.nan)
        parsed[native] = distinct.values[native].astype("float64").to_numpy()
        shapes = numbers.Shapes.of(distinct.values[~native])
        try:
            number_format = numbers.decide(str(series.name), role, shapes, self.context)
        except DataError as exc:
            raise DataError(f"{self.path}: {exc}", values=exc.values) from None
        if shapes.separated:
            self.formats.append(number_format)
        parsed[~native] = shapes.parse(numbers.convention_of(number_format))
        return distinct.spread(parsed, series.index)


def _parse_booleans(series: pd.Series) -> pd.Series:
    """1.0 / 0.0 / NaN; accepts TRUE/FALSE, Yes/No, Y/N, T/F and 1/0 in any case."""
    if series.dtype.kind == "b":
        return series.astype("float64")
    distinct = _Distinct.of(series)
    lowered = distinct.values.astype(str).str.strip().str.lower()
    parsed = np.where(lowered.isin(YES_WORDS), 1.0, np.where(lowered.isin(NO_WORDS), 0.0, np.nan))
    return distinct.spread(parsed, series.index)


def _parse_ordinal(series: pd.Series, levels: tuple[str, ...], as_numbers: pd.Series) -> pd.Series:
    """Labels matched to the configured levels (ignoring case), or numbers kept as numbers
    (`as_numbers`: the column read as numbers)."""
    if series.dtype.kind in "biuf":
        return series.astype("float64")
    distinct = _Distinct.of(series)
    present = ~distinct.blank(series.index)
    readable = as_numbers[present].notna().mean() if present.any() else 0.0
    if (distinct.codes >= 0).any() and readable > 0.5:
        return as_numbers
    position = {level.strip().lower(): i for i, level in enumerate(levels)}
    lowered = distinct.values.astype(str).str.strip().str.lower()
    codes = distinct.spread(lowered.map(position).to_numpy(dtype="float64"), series.index)
    categorical = pd.Categorical.from_codes(
        codes.fillna(-1).astype(int), categories=pd.Index(levels), ordered=True
    )
    return pd.Series(categorical, index=series.index)


def _absent_column(role: str, column: str, columns: list[str]) -> DataError:
    listed = ", ".join(repr(c) for c in columns)
    return DataError(
        f"role {role!r}: column {column!r} (from [columns] {role}) is not in the data; "
        f"columns found: {listed}"
    )


def _unmatched_required(role: Role, columns: list[str]) -> DataError:
    listed = ", ".join(repr(c) for c in columns)
    hints = ", ".join(repr(h) for h in role.hints[:SHOWN_NAMES])
    more = len(role.hints) - SHOWN_NAMES
    if more > 0:
        hints += f" and {more} more in other languages and exports"
    return DataError(
        f"required role {role.name!r}: no column looks like it (looked for names with {hints}); "
        f'set [columns] {role.name} = "<column name>" in reportgen.toml; columns found: {listed}'
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
    for role_name in drivers_for(config.features.drivers, roles):
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
    return raw.astype("string[pyarrow]").str.strip().replace({"": pd.NA})


@dataclass(frozen=True)
class _Cells:
    """A role's column as it is parsed: the role, its cells as read, which are blank."""

    role: Role
    raw: pd.Series
    blank: pd.Series


@dataclass(frozen=True)
class _Flaw:
    """A kind of bad value: what an error calls it, and the Fix that counts it."""

    what: str
    """As in "values that are {what}"."""
    code: str
    action: str
    params: Mapping[str, str] = field(default_factory=dict)


_NOT_NUMBERS = _Flaw(
    "not numbers", "unreadable", N_("values that are not numbers treated as missing")
)
_NOT_YES_NO = _Flaw(
    "not yes/no values", "unreadable", N_("values that are not yes/no treated as missing")
)
_TOO_LARGE = _Flaw(
    f"beyond ±{_MAX_SHOWN}",
    "too_large",
    N_("values beyond ±%(limit)s (no customer metric is that large) treated as missing"),
    {"limit": _MAX_SHOWN},
)


class _Cleaner:
    """Applies the fixes in order and keeps the record of each."""

    def __init__(self, dataset: Dataset, config: Config, roles: RoleMap) -> None:
        self.config = config
        self.roles = roles
        self.path = dataset.path
        self.source = dataset.frame
        self.rows_read = len(dataset.frame)
        self.fixes: list[Fix] = []
        self.numbers = _NumberReader(dataset, config.data.numbers, roles)

    def fix(
        self,
        code: str,
        role: str | None,
        count: int,
        action: str,
        examples: tuple[Example, ...] = (),
        params: Mapping[str, str] | None = None,
    ) -> None:
        column = self.roles.column(role) if role else None
        self.fixes.append(
            Fix(
                code=code,
                role=role,
                column=column,
                count=int(count),
                action=action,
                examples=examples,
                params=params or {},
            )
        )

    def text(self, role: str, raw: pd.Series) -> pd.Series:
        """The cells of a text column through `plain_text`, counting the ones it changed.

        Every role's cells go through it before they are parsed, so an id, a category
        or a label cannot carry an override or an ESC into the report or the terminal,
        and a number that Excel wrapped in a direction mark still reads as a number.
        """
        if raw.dtype.kind in "biufcmM":
            return raw
        texts = raw.astype("string[pyarrow]")
        unsafe = texts.str.contains(_UNSAFE).fillna(False).astype(bool)
        if not unsafe.any():
            return raw
        self.fix(
            "control_characters",
            role,
            unsafe.sum(),
            N_(
                "values with control or text-direction characters cleaned (removed; "
                "tabs and line breaks became a space)"
            ),
            _examples(texts, unsafe),
        )
        return texts.mask(unsafe, texts[unsafe].map(plain_text))

    def ids(self) -> pd.Series:
        raw = self.text("customer_id", self.source[self.roles.column("customer_id")])
        ids = _clean_ids(raw)
        missing = ids.isna()
        if missing.all():
            raise DataError(f"{self.path}: the customer id column {raw.name!r} is empty")
        if missing.any():
            self.fix(
                "missing_id",
                "customer_id",
                missing.sum(),
                N_("rows without a customer id dropped"),
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
                'to "keep_last" or "keep_first"',
                values=(shown,),
            )
        which: Literal["first", "last"] = "last" if policy == "keep_last" else "first"
        drop = ids[keep].duplicated(keep=which)
        self.fix(
            "duplicate_id",
            "customer_id",
            drop.sum(),
            N_("rows with a repeated customer id dropped (kept the last)")
            if which == "last"
            else N_("rows with a repeated customer id dropped (kept the first)"),
            examples,
        )
        return keep & ~drop.reindex(keep.index, fill_value=False)

    def _check_bad(self, cells: _Cells, bad: pd.Series, flaw: _Flaw) -> None:
        """Count the `bad` values of a column as a Fix (they are then treated as missing),
        or refuse the column when they are more than [validation] max_bad_share of its
        values."""
        if not bad.any():
            return
        present = int((~cells.blank).sum())
        share = bad.sum() / max(present, 1)
        examples = _examples(cells.raw, bad)
        if share > self.config.validation.max_bad_share:
            shown = ", ".join(f"row {e.row}: {e.value!r}" for e in examples)
            settings = self.config.data
            given = flaw.code == "unreadable" and settings.numbers.given
            check = (
                f"; they were read with [data] decimal_mark = {settings.decimal_mark!r} and "
                f"thousands_separator = {settings.thousands_separator!r}: check those settings"
                if given
                else ""
            )
            role = cells.role.name
            raise DataError(
                f"{self.path}: column {cells.raw.name!r} (role {role}) holds {int(bad.sum())} "
                f"of {present} values that are {flaw.what} (e.g. {shown}){check}; fix the "
                f'column, or map another one with [columns] {role} = "<column name>"',
                values=(shown,),
            )
        self.fix(flaw.code, cells.role.name, int(bad.sum()), flaw.action, examples, flaw.params)

    def parse(self, role: Role, raw: pd.Series) -> pd.Series:
        """A role's column as typed values: each value that cannot be read counted and
        treated as missing (ids are parsed apart, in ids())."""
        raw = self.text(role.name, raw)
        if role.kind is Kind.CATEGORICAL:
            return raw.astype("string[pyarrow]").str.strip().replace({"": pd.NA})
        cells = _Cells(role, raw, _is_blank(raw))
        if role.kind is Kind.NUMERIC:
            return self._numeric(cells)
        if role.kind is Kind.BOOLEAN:
            values = _parse_booleans(raw)
            self._check_bad(cells, values.isna() & ~cells.blank, _NOT_YES_NO)
            return values
        return self._ordinal(cells)  # the last kind left

    def _numeric(self, cells: _Cells) -> pd.Series:
        values = self.numbers.read(cells.role.name, cells.raw)
        unreadable = values.isna() & ~cells.blank
        unreadable |= np.isinf(values)
        self._check_bad(cells, unreadable, _NOT_NUMBERS)
        values = self.bounded(cells, values.where(~unreadable))
        impossible = self.impossible(cells.role, values)
        self._check_bad(cells, impossible, self.impossible_flaw(cells.role))
        return values.where(~impossible)

    def _ordinal(self, cells: _Cells) -> pd.Series:
        """Labels as an ordered Categorical of [validation] satisfaction_levels, or numbers
        when the column holds numbers."""
        raw = cells.raw
        levels = self.config.validation.satisfaction_levels
        as_numbers = raw if raw.dtype.kind in "biuf" else self.numbers.read(cells.role.name, raw)
        values = _parse_ordinal(raw, levels, as_numbers)
        unreadable = values.isna() & ~cells.blank
        if values.dtype.kind == "f":  # given as numbers: "inf" is not a level either
            unreadable |= np.isinf(values)
        outside = _Flaw(
            f"not one of {', '.join(levels)}",
            "unreadable",
            N_("values outside [validation] satisfaction_levels treated as missing"),
        )
        self._check_bad(cells, unreadable, outside)
        if values.dtype.kind == "f":
            return self.bounded(cells, values.where(~unreadable))
        return values

    def bounded(self, cells: _Cells, values: pd.Series) -> pd.Series:
        """`values` with every finite number beyond ±MAX_MAGNITUDE counted and made missing,
        so no sum, square or mean of a later stage can overflow (see MAX_MAGNITUDE)."""
        too_large = values.abs() > MAX_MAGNITUDE
        self._check_bad(cells, too_large, _TOO_LARGE)
        return values.where(~too_large)

    def impossible(self, role: Role, values: pd.Series) -> pd.Series:
        if role.name == "rating":
            low, high = self.config.validation.rating_scale
            return (values < low) | (values > high)
        if role.non_negative:
            return values < 0
        return pd.Series(False, index=values.index)

    def impossible_flaw(self, role: Role) -> _Flaw:
        if role.name == "rating":
            low, high = self.config.validation.rating_scale
            action = N_("ratings outside the scale %(low)s–%(high)s treated as missing")
            return _Flaw(
                "impossible", "impossible", action, {"low": f"{low:g}", "high": f"{high:g}"}
            )
        return _Flaw("impossible", "impossible", N_("negative values treated as missing"))

    def missing(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Refuse a role too empty to use, then drop or fill the missing values left
        ([validation] max_missing_share and missing)."""
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
        gaps = frame.columns[frame.isna().any()]
        if self.config.validation.missing == "drop":
            incomplete = frame.isna().any(axis=1)
            for role_name in gaps:
                self.fix(
                    "dropped_missing",
                    role_name,
                    frame[role_name].isna().sum(),
                    N_("rows with a missing value dropped"),
                )
            return frame[~incomplete]
        filled = {}
        for role_name in gaps:
            values = frame[role_name]
            fill, action = _imputation(ROLE_BY_NAME[role_name], values)
            shown = f"{fill:g}" if isinstance(fill, float) else repr(str(fill))
            filled[role_name] = values.fillna(fill)
            raw = self.source[self.roles.column(role_name)]
            self.fix(
                "imputed",
                role_name,
                values.isna().sum(),
                action,
                _examples(raw.astype("string[pyarrow]").fillna(""), values.isna()),
                {"value": shown, "fill": _fill_text(fill, ROLE_BY_NAME[role_name].kind)},
            )
        return frame.assign(**filled)


def _imputation(role: Role, values: pd.Series) -> tuple[Any, str]:
    """What a role's missing values are filled with (a number's median, else the most
    common value), and the action that says so."""
    if role.kind is Kind.NUMERIC or values.dtype.kind == "f":
        return values.median(), N_("missing values filled with the median (%(value)s)")
    fill = values.mode(dropna=True).iloc[0]
    if role.kind is not Kind.BOOLEAN:
        return fill, N_("missing values filled with the most common value (%(value)s)")
    if fill:
        return fill, N_("missing values filled with the most common value (yes)")
    return fill, N_("missing values filled with the most common value (no)")


def _fill_text(fill: Any, kind: Kind) -> str:
    """A fill value exactly, as text (rules_sql fills missing cells alike): a number as
    Python writes it back, yes/no as the word the filled column reads as once it is made
    boolean (its median, 0.5 included, is yes unless 0)."""
    if kind is Kind.BOOLEAN:
        return "yes" if bool(fill) else "no"
    if isinstance(fill, float | np.floating):
        return repr(float(fill))
    return str(fill)


def validate(dataset: Dataset, config: Config) -> CleanData:
    """Check and type the table; raise DataError if it cannot be used honestly."""
    dataset, config, renamed = _plain_columns(dataset, config)
    roles = _resolve(dataset, config)
    cleaner = _Cleaner(dataset, config, roles)
    if dataset.repaired_bytes:
        cleaner.fix(
            "repaired_bytes",
            None,
            dataset.repaired_bytes,
            N_(
                "bytes that were not UTF-8 read as Windows-1252 characters (values pasted from "
                "another program)"
            ),
        )
    if renamed:
        cleaner.fix(
            "control_characters",
            None,
            len(renamed),
            N_(
                "column names with control or text-direction characters cleaned (removed; "
                "tabs and line breaks became a space)"
            ),
            tuple(Example(row=1, value=name) for name in renamed[:MAX_EXAMPLES]),
        )
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
        number_formats=tuple(cleaner.numbers.formats),
    )
    return CleanData(
        frame=frame,
        roles=roles,
        quality=quality,
        drivers=drivers_for(config.features.drivers, roles),
    )
