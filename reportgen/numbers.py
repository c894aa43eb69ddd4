"""Numbers as they are written: the decimal mark and thousands separator of each column.

Exports write numbers the way their country does: `1,234.56` in the US, `1.234,56` in
Germany, `1 234,56` in France, `1'234.50` in Switzerland. Read the wrong way, `3.562`
(three thousand five hundred and sixty-two euros) silently becomes 3.562, so the
convention is never guessed:

1. Each text column's own values decide when only one reading fits them all (`481,02`
   has a decimal comma; `1.234.567` groups thousands with dots).
2. When every value can be read two ways (`3.562`, `12,500`), `[data] decimal_mark` and
   `[data] thousands_separator` decide, then the decimal mark the file's other columns
   show, then the delimiter (a semicolon-separated export comes from a decimal-comma
   locale, a comma-separated one from a decimal-point locale).
3. If nothing decides, or a column mixes two conventions, it is a `DataError` naming the
   column, two example values and the setting.

Currency symbols and codes around a number (`€ 12,50`, `12.50 USD`), a leading or
trailing minus (`12,50-`, as SAP writes it) and accounting brackets `(12.50)` are read.

Matching works on a value's *shape*: every run of digits becomes a letter (`s` for one
or two digits, `g` for three, `L` for four or more, `z` for a leading lone 0), so a
million distinct amounts have a few dozen shapes, and each convention is tried on the
shapes only. The same regular expressions (RE2 syntax) run in pyarrow for customer
tables and in DuckDB for order logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from babel.numbers import list_currencies

from reportgen.errors import DataError

SPACES = "\u00a0\u2007\u2009\u202f"
"""No-break, figure, thin and narrow no-break spaces: written as a plain space."""
_APOSTROPHES = "\u2019\u02bc"
"""The typographic apostrophes Swiss exports group thousands with: written as "'"."""
_SIGNS = {
    "€": "EUR", "£": "GBP", "$": "USD", "US$": "USD", "¥": "JPY", "￥": "JPY", "₹": "INR",
    "R$": "BRL", "zł": "PLN", "Kč": "CZK", "Ft": "HUF", "Fr.": "CHF", "Fr": "CHF",
    "lei": "RON", "₽": "RUB", "₩": "KRW", "₺": "TRY", "₪": "ILS", "฿": "THB", "₫": "VND",
    "₴": "UAH", "₦": "NGN", "₱": "PHP", "kr": "kr", "kr.": "kr",
}  # fmt: skip
"""Currency signs and local abbreviations, as the ISO code they stand for ("kr" is
Swedish, Norwegian, Danish or Icelandic: it stays "kr")."""
_CODES = frozenset(list_currencies())
"""ISO 4217 codes: three capitals around a number are a currency only when they are one
(checked on the distinct words found, as an alternation of 300 codes in the pattern
made it ten times slower)."""
_CURRENCY = r"US\$|R\$|kr\.?|zł|Kč|Ft|Fr\.?|lei|\p{Sc}|[A-Z]{3}"
NUMBER_PATTERN = (
    r"^\s*(?P<open>\()?\s*(?P<sign>[-−+])?\s*(?P<cur>" + _CURRENCY + r")?\s*"
    r"(?P<sign2>[-−+])?\s*(?P<core>\d[\d.,' ]*\d|\d|[.,]\d+)(?P<exp>[eE][-+]?\d+)?\s*"
    r"(?P<cur2>" + _CURRENCY + r")?\s*(?P<trail>-)?\s*(?P<close>\))?\s*$"
)
"""A number with its sign, brackets and currency: `core` holds digits and separators."""
SHAPE_STEPS = ((r"^0([^0-9])", r"z\1"), (r"\d{4,}", "L"), (r"\d{3}", "g"), (r"\d{1,2}", "s"))
"""Regex replacements, in order, that turn a `core` into its shape."""

DECIMAL_MARKS = (".", ",")
THOUSANDS_SEPARATORS = ("", ",", ".", " ", "'")
_SEPARATOR_NAMES = {"": "no", ",": "a comma", ".": "a point", " ": "a space", "'": "an apostrophe"}


@dataclass(frozen=True)
class Convention:
    """One way of writing numbers: a decimal mark and a thousands separator ("" = none)."""

    decimal_mark: str
    thousands_separator: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The shapes this convention writes: whole part grouped in threes or not, then
        an optional fraction (or a fraction alone, as in ".5")."""
        whole = "[sgLz]"
        if self.thousands_separator:
            whole = f"(?:[sg](?:{re.escape(self.thousands_separator)}g)+|[sgLz])"
        fraction = f"{re.escape(self.decimal_mark)}[sgL]"
        return re.compile(f"{whole}(?:{fraction})?|{fraction}")

    def fits(self, shape: str) -> bool:
        if shape.endswith("e"):  # "1.234e2": an exponent follows a decimal point, ungrouped
            return self.decimal_mark == "." and _PLAIN.fullmatch(shape[:-1]) is not None
        return self.pattern.fullmatch(shape) is not None

    def reading(self, shape: str) -> int | None:
        """Which separator of the shape is the decimal mark (None: a whole number).
        Two conventions that agree on every shape read every value alike."""
        separators = [c for c in shape if c in ".,' "]
        return separators.index(self.decimal_mark) if self.decimal_mark in separators else None

    def describe(self) -> str:
        mark = "decimal point" if self.decimal_mark == "." else "decimal comma"
        return f"{mark} and {_SEPARATOR_NAMES[self.thousands_separator]} thousands separator"


_PLAIN = re.compile(r"[sgLz](?:\.[sgL])?|\.[sgL]")
"""A number with an exponent: digits and at most a decimal point, never grouped."""

CONVENTIONS: tuple[Convention, ...] = tuple(
    Convention(d, t) for d in DECIMAL_MARKS for t in THOUSANDS_SEPARATORS if t != d
)


@dataclass(frozen=True)
class Settings:
    """`[data] decimal_mark` and `[data] thousands_separator`; None means "auto"."""

    decimal_mark: str | None = None
    thousands_separator: str | None = None

    def allows(self, convention: Convention) -> bool:
        return (self.decimal_mark in (None, convention.decimal_mark)) and (
            self.thousands_separator in (None, convention.thousands_separator)
        )

    @property
    def given(self) -> bool:
        return self.decimal_mark is not None or self.thousands_separator is not None


@dataclass(frozen=True, kw_only=True)
class NumberFormat:
    """How one column's numbers were read, for the manifest and the data-quality section."""

    column: str
    role: str | None
    decimal_mark: str
    thousands_separator: str
    decided_by: str
    """values | setting | other columns | delimiter"""
    currency: str | None = None
    """The one currency the values are written in ("EUR" for "€ 12,50"), if any."""

    def describe(self) -> str:
        """E.g. "'Umsatz' read with a decimal comma, a point thousands separator (decided by
        the delimiter)"."""
        convention = Convention(self.decimal_mark, self.thousands_separator)
        how = f"decided by the {self.decided_by}"
        money = f", amounts in {self.currency}" if self.currency else ""
        return f"{self.column!r} read with a {convention.describe()} ({how}){money}"


@dataclass(frozen=True)
class Shapes:
    """The text values of one column, each reduced to its sign, digits and shape."""

    values: pd.Series
    """Distinct texts."""
    parts: pa.StructArray
    codes: np.ndarray
    """Per value: the index of its shape in `names`, or -1 when it is not written as a
    number at all."""
    names: tuple[str, ...]

    @classmethod
    def of(cls, values: pd.Series) -> Shapes:
        text = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.string())
        text = pc.replace_substring_regex(text, f"[{SPACES}]", " ")
        text = pc.replace_substring_regex(text, f"[{_APOSTROPHES}]", "'")
        parts = pc.extract_regex(text, NUMBER_PATTERN)
        shape = parts.field("core")
        for pattern, replacement in SHAPE_STEPS:
            shape = pc.replace_substring_regex(shape, pattern, replacement)
        # "1,5 MIO", "12 TSD": three capitals that are no currency make a value unreadable
        tokens = pc.unique(pa.concat_arrays([parts.field("cur"), parts.field("cur2")]))
        scale = [w for w in tokens.to_pylist() if w and w not in _SIGNS and w not in _CODES]
        if scale:
            wrong = pc.or_kleene(
                pc.is_in(parts.field("cur"), value_set=pa.array(scale)),
                pc.is_in(parts.field("cur2"), value_set=pa.array(scale)),
            )
            shape = pc.if_else(wrong, pa.scalar(None, pa.string()), shape)
        exponent = pc.not_equal(parts.field("exp"), "")
        shape = pc.if_else(exponent, pc.binary_join_element_wise(shape, "e", ""), shape)
        codes, names = pd.factorize(shape.to_numpy(zero_copy_only=False), use_na_sentinel=True)
        return cls(values.reset_index(drop=True), parts, codes, tuple(names.tolist()))

    def counts(self) -> dict[str, int]:
        """Each shape that some convention can read, with how many distinct values have
        it. A shape none can read ("12..5", "1.2.3") is an unreadable value, not a
        convention of its own."""
        found = np.bincount(self.codes[self.codes >= 0], minlength=len(self.names))
        return {
            name: int(count)
            for name, count in zip(self.names, found.tolist(), strict=True)
            if any(c.fits(name) for c in CONVENTIONS)
        }

    @property
    def separated(self) -> bool:
        """Some value has a separator or a currency, so how the column was read is worth
        recording."""
        return bool(self.currencies()) or any(
            mark in shape for shape in self.counts() for mark in ".,' "
        )

    def currencies(self) -> dict[str, str]:
        """Each currency the values are written in (its ISO code where the sign is known:
        "€" is "EUR"), with one value that shows it."""
        found: dict[str, str] = {}
        for name in ("cur", "cur2"):
            tokens = self.parts.field(name)
            for token in pc.unique(tokens).to_pylist():
                if token:
                    row = pc.index(tokens, token).as_py()
                    found.setdefault(_SIGNS.get(token, token), str(self.values.iloc[row]))
        return found

    @property
    def numeric_share(self) -> float:
        """The share of the values written as numbers some convention reads."""
        return len(self.rows(list(self.counts()))) / len(self.codes) if len(self.codes) else 0.0

    def rows(self, shapes: list[str]) -> np.ndarray:
        """The positions of the values with one of `shapes`."""
        wanted = [i for i, name in enumerate(self.names) if name in shapes]
        return np.flatnonzero(np.isin(self.codes, wanted))

    def example(self, shape: str) -> str:
        return str(self.values.iloc[int(self.rows([shape])[0])])

    def parse(self, convention: Convention) -> np.ndarray:
        """Each value as a float under `convention`; NaN where it does not fit or is not
        finite."""
        ok = np.zeros(len(self.codes), dtype=bool)
        ok[self.rows([name for name in self.names if convention.fits(name)])] = True
        core = self.parts.field("core").fill_null("")
        if convention.thousands_separator:
            core = pc.replace_substring(core, convention.thousands_separator, "")
        core = pc.replace_substring(core, convention.decimal_mark, ".")
        field = {name: self.parts.field(name).fill_null("") for name in _SIGN_FIELDS}
        number = pc.binary_join_element_wise(core, field["exp"], "")
        out = np.full(len(self.codes), np.nan)
        if ok.any():
            chosen = pa.array(ok)
            out[ok] = pc.cast(pc.filter(number, chosen), pa.float64()).to_numpy()
            signs = _signs({name: pc.filter(f, chosen) for name, f in field.items()})
            out[ok] *= signs
        out[~np.isfinite(out)] = np.nan  # "1e999" and 400 digits are no amount either
        return out


_SIGN_FIELDS = ("open", "sign", "sign2", "exp", "trail", "close")


def _signs(fields: Mapping[str, pa.Array]) -> np.ndarray:
    """-1, 1, or NaN for values whose minus signs and brackets contradict each other."""
    arrays = {
        name: np.asarray(f.to_numpy(zero_copy_only=False), dtype=object)
        for name, f in fields.items()
    }
    minus = [np.isin(arrays[name], ["-", "−"]) for name in ("sign", "sign2", "trail")]
    signs = sum((arrays[name] != "").astype(int) for name in ("sign", "sign2", "trail"))
    brackets = (arrays["open"] == "(") & (arrays["close"] == ")")
    unbalanced = (arrays["open"] == "(") != (arrays["close"] == ")")
    negatives = sum(m.astype(int) for m in minus) + brackets.astype(int)
    twice = (negatives > 1) | (signs > 1)  # "--5", "+-12,50": no sign a person writes
    return np.where(unbalanced | twice, np.nan, np.where(negatives == 1, -1.0, 1.0))


Readings = dict[tuple[int | None, ...], list[Convention]]
"""Conventions grouped by how they read a list of shapes: per shape, which separator is
the decimal mark (Convention.reading)."""


def readings(shapes: Iterable[str], conventions: Iterable[Convention]) -> Readings:
    """The conventions that fit every shape, grouped by how they read the shapes."""
    listed = list(shapes)
    grouped: Readings = {}
    for convention in conventions:
        if all(convention.fits(shape) for shape in listed):
            key = tuple(convention.reading(shape) for shape in listed)
            grouped.setdefault(key, []).append(convention)
    return grouped


def _observed(convention: Convention, shapes: Iterable[str]) -> Convention:
    """The convention as the values show it: a thousands separator no value uses is
    not claimed (a column of "12,5" reads "decimal comma, no thousands separator")."""
    used = any(convention.thousands_separator in shape for shape in shapes)
    return (
        convention
        if used or not convention.thousands_separator
        else Convention(convention.decimal_mark, "")
    )


def evidence(shapes: Iterable[str]) -> str | None:
    """The decimal mark a column's values leave no doubt about, if any."""
    grouped = readings(shapes, CONVENTIONS)
    if len(grouped) != 1:
        return None
    marks = {c.decimal_mark for c in next(iter(grouped.values()))}
    return marks.pop() if len(marks) == 1 else None


def delimiter_mark(delimiter: str | None) -> str | None:
    """The decimal mark a CSV delimiter implies: spreadsheets in decimal-comma locales
    separate fields with ";", those in decimal-point locales with ","."""
    return {";": ",", ",": "."}.get(delimiter or "")


@dataclass(frozen=True)
class Context:
    """What decides between readings when a column's own values cannot."""

    settings: Settings
    file_mark: Callable[[], str | None]
    """The decimal mark the file's other columns show (computed only when needed)."""
    delimiter: str | None


def _two_readings(shapes: Shapes, grouped: Readings) -> str:
    """Two example values that can be read two ways, and the readings of the first."""
    counts = shapes.counts()
    ambiguous = [s for s in counts if len({c.reading(s) for c in CONVENTIONS if c.fits(s)}) > 1]
    rows = shapes.rows(ambiguous)[:2]
    examples = [str(shapes.values.iloc[int(row)]) for row in rows]
    options = []
    for conventions in grouped.values():
        value = shapes.parse(conventions[0])[int(rows[0])]
        options.append(f"{value:,.10g}".replace(",", "\u2009"))
    shown = " and ".join(repr(e) for e in examples)
    return f"{shown} (is {examples[0]!r} {' or '.join(options)}?)"


def _mixed(column: str, role: str | None, shapes: Shapes) -> DataError:
    """The error for a column no one convention reads, with two values that clash."""
    counts = shapes.counts()
    ordered = sorted(counts, key=lambda s: -counts[s])
    kept = [ordered[0]]
    for shape in ordered[1:]:
        if not readings([*kept, shape], CONVENTIONS):
            clash = next((k for k in kept if not readings([k, shape], CONVENTIONS)), kept[0])
            shown = f"{shapes.example(clash)!r} and {shapes.example(shape)!r}"
            return DataError(
                f"column {column!r}{_role(role)} mixes number formats: "
                f"{shown} cannot both be read "
                "with one decimal mark and one thousands separator; write the column one way, "
                "or set [data] decimal_mark and [data] thousands_separator (values that do "
                "not fit them are then counted as unreadable)",
                values=(shown,),
            )
        kept.append(shape)
    raise AssertionError("a column whose shapes have a common reading is not mixed")


def _role(role: str | None) -> str:
    return f" (role {role})" if role else ""


def decide(column: str, role: str | None, shapes: Shapes, context: Context) -> NumberFormat:
    """The convention `column` is read with, and what decided it; DataError when nothing
    decides or the values mix conventions."""
    money = shapes.currencies()
    if len(money) > 1:  # 1.234,56 EUR and 1.234,56 USD cannot be added up
        first, second = list(money.values())[:2]
        raise DataError(
            f"column {column!r}{_role(role)} holds amounts in more than one currency "
            f"({', '.join(money)}; e.g. {first!r} and {second!r}); convert them to one "
            "currency before the run",
            values=(f"{first!r} and {second!r}",),
        )
    convention, how = _choose(column, role, shapes, context)
    seen = _observed(convention, shapes.counts())
    return NumberFormat(
        column=column,
        role=role,
        decimal_mark=seen.decimal_mark,
        thousands_separator=seen.thousands_separator,
        decided_by=how,
        currency=next(iter(money), None),
    )


def _choose(
    column: str, role: str | None, shapes: Shapes, context: Context
) -> tuple[Convention, str]:
    """The convention that reads the column, and what decided it (NumberFormat.decided_by):
    its values when only one reading fits them all, else the setting, else the file."""
    counts = shapes.counts()
    settings = context.settings
    grouped = readings(counts, CONVENTIONS)
    if not grouped:  # the values mix conventions
        if not settings.given:
            raise _mixed(column, role, shapes)
        # The setting rules: the convention it allows that reads the most values; what
        # that cannot read is counted unreadable.
        return _most_read(counts, settings), "setting"
    if len(grouped) == 1:  # every convention that reads them all reads them alike
        allowed = [c for c in next(iter(grouped.values())) if settings.allows(c)]
        if allowed:
            return allowed[0], "values"
        return _most_read(counts, settings), "setting"
    permitted = {key: cs for key, cs in grouped.items() if any(settings.allows(c) for c in cs)}
    if len(permitted) == 1:
        return next(c for c in next(iter(permitted.values())) if settings.allows(c)), "setting"
    return _by_file(column, role, shapes, permitted or grouped, context)


def _most_read(counts: Mapping[str, int], settings: Settings) -> Convention:
    """Of the conventions the setting allows, the one that reads the most values."""
    return max(
        (c for c in CONVENTIONS if settings.allows(c)),
        key=lambda c: sum(n for s, n in counts.items() if c.fits(s)),
    )


def _by_file(
    column: str, role: str | None, shapes: Shapes, grouped: Readings, context: Context
) -> tuple[Convention, str]:
    """The reading the file's other columns or its delimiter choose among `grouped`; a
    DataError with two example values when neither does."""
    # The other columns and the delimiter decide only when they agree: coordinates
    # written 47.67 in a ";" file say nothing sure about its euros.
    marks = {"other columns": context.file_mark(), "delimiter": delimiter_mark(context.delimiter)}
    given = {how: mark for how, mark in marks.items() if mark is not None}
    conflict = ""
    if len(set(given.values())) > 1:
        conflict = (
            f" (the file's other columns write a decimal {_MARK_NAMES[given['other columns']]}, "
            f"its delimiter suggests a decimal {_MARK_NAMES[given['delimiter']]})"
        )
        given = {}
    for how, mark in given.items():
        chosen = [cs for cs in grouped.values() if any(c.decimal_mark == mark for c in cs)]
        if len(chosen) == 1:
            return next(c for c in chosen[0] if c.decimal_mark == mark), how
    shown = _two_readings(shapes, grouped)
    raise DataError(
        f"column {column!r}{_role(role)}: its numbers can be read two ways, e.g. "
        f"{shown}{conflict}; say how the file writes numbers with "
        '[data] decimal_mark = "," (and thousands_separator = ".") or decimal_mark = "." '
        '(and thousands_separator = ",") in the config',
        values=(shown,),
    )


_MARK_NAMES = {".": "point", ",": "comma"}


def is_number(value: object) -> bool:
    """A value that is a number already (a workbook's number cell), not text to read."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _text_columns(frame: pd.DataFrame) -> Iterator[tuple[str, Shapes]]:
    """Each column of a table that holds text, as the shapes of its distinct texts (a
    workbook's number cells among them are numbers, not text)."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind not in "biufcmMb":
            values = pd.Series(pd.unique(column.dropna()), dtype=object)
            yield str(name), Shapes.of(values[~values.map(is_number).astype(bool)])


def file_mark(frame: pd.DataFrame) -> str | None:
    """The one decimal mark a table's text columns leave no doubt about, if they agree:
    a column counts when most of its values are numbers."""
    marks = {
        evidence(shapes.counts())
        for _, shapes in _text_columns(frame)
        if shapes.numeric_share >= 0.5
    } - {None}
    return marks.pop() if len(marks) == 1 else None


@dataclass(frozen=True)
class Survey:
    """How every text column of a table that holds numbers would be read (for `init`)."""

    formats: tuple[NumberFormat, ...]
    problems: Mapping[str, str]
    """Column -> why it cannot be read without a setting."""

    @property
    def currency(self) -> str | None:
        """The one ISO currency the file's amounts are written in, if they agree on one."""
        return one_currency(self.formats)

    @property
    def convention(self) -> Convention | None:
        """The file's own convention, when its columns agree on the decimal mark and
        use at most one thousands separator: written under [data] by `init`."""
        marks = {f.decimal_mark for f in self.formats}
        groups = {f.thousands_separator for f in self.formats} - {""}
        if len(marks) != 1 or len(groups) > 1:
            return None
        return Convention(marks.pop(), groups.pop() if groups else "")


def one_currency(formats: Iterable[NumberFormat]) -> str | None:
    """The ISO code all the columns' amounts are written in, when there is exactly one
    ("kr" names no single currency, so it gives none)."""
    found = {f.currency for f in formats} - {None}
    if len(found) != 1:
        return None
    code = found.pop()
    return code if code is not None and re.fullmatch("[A-Z]{3}", code) else None


def survey(frame: pd.DataFrame, delimiter: str | None, roles: Iterable[str]) -> Survey:
    """Every text column of `frame` that holds numbers, read as a run would read it; only
    the columns in `roles` (those that play a role) vouch for the file's decimal mark."""
    context = Context(Settings(), lambda: file_mark(frame[list(roles)]), delimiter)
    formats, problems = [], {}
    for name, shapes in _text_columns(frame):
        if shapes.numeric_share < 0.5 or not shapes.separated:
            continue
        try:
            formats.append(decide(name, None, shapes, context))
        except DataError as exc:
            problems[name] = str(exc)
    return Survey(tuple(formats), problems)


def convention_of(number_format: NumberFormat) -> Convention:
    return Convention(number_format.decimal_mark, number_format.thousands_separator)
