"""How numbers, dates and data strings look to people: money, counts, shares, ratios,
days, dates and months, and text from the data cut to a readable length.

One formatter serves persona descriptions, chart labels, the report and the email, so
a figure reads the same everywhere. Everything follows `[report] locale` through Babel
(CLDR data): decimal mark, grouping, currency symbol and its place, the percent sign and
its spacing. Words a figure carries (the unit of days, month and day names) are in the
language of the brief's wording (`Formatter.words`: English where a locale has no
translation), so a sentence never mixes languages. `[report] decimal_mark` /
`thousands_separator`, when given, replace the locale's two symbols in every number
(never in dates).
"""

from __future__ import annotations

import copy
import decimal
import math
import re
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import (
    NumberPattern,
    format_compact_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from babel.units import format_unit

from reportgen.roles import ROLE_BY_NAME, Kind

ROLE_FORMATS = {
    "spend": "money",
    "aov": "money",
    "recency": "days",
    "tenure": "days",
    "return_rate": "percent",
}
"""How a role's figures read; yes/no roles are shares (percent), the rest plain numbers."""
ROLE_DECIMALS = 1
"""The decimals of every figure of a plain-number role (rating, frequency, items per order,
age, ...) in the brief's tables: key figures, the comparison table, the levels. A
segment's mean sits beside its median and the base's, so a column read "12" beside "12.5",
and a rating "4" beside "4.1", when each figure chose its own; one decimal for every figure
of the role ("12.0", "12.5"; "4.0", "4.1") keeps them alike. The other formats have one
count of their own: money whole currency units, days whole days, shares one decimal."""
DEFAULT_LOCALE = "en_US"
MINUS = "\u2212"
"""The real minus sign, in every locale: CLDR's is often the hyphen, which a PDF may break
a line after and which reads as a dash."""
NONE = "–"
"""What a missing (or not finite) figure reads as."""
_POINTS = {"en": "pts", "de": "Pp."}
"""The abbreviation of "percentage points" by language. CLDR has no such unit (only
percent and per mille), so this small table stands in for it; a language not listed
takes the English one, as untranslated wording falls back to English."""
_PERIOD = re.compile(r"(\d{4})-(\d{2})")
_NUMBER_RUN = re.compile(r"\d+(?:\D\d+)*")
"""A written number: digits, possibly joined by single separators ("1.234,5", "2,4")."""

TEXT_WIDTH = 40
"""The most columns a string from the data (a category value, a column name) takes in the
brief, its charts and their alt text, the "…" included. A value of thousands of
characters, or one long word, would otherwise widen a table past the PDF page and push
its figures off it. Forty columns hold real names of places, plans and columns, and ten
such values still fit a table row. A wide or fullwidth (East Asian) character counts as
two columns, a combining mark or an invisible format character as none."""
_ZWJ = "\u200d"


def _columns(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _attached(char: str) -> bool:
    """A mark, joiner or emoji modifier that completes the character before it."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == _ZWJ
        or ("\U0001f3fb" <= char <= "\U0001f3ff")
    )


def clip(text: object, width: int = TEXT_WIDTH) -> str:
    """`text` in at most `width` columns: cut with "…" when longer, never between a
    character and the marks or joiners that complete it ("é" written as e + ◌́, "👩‍💻"),
    so a cut never leaves a broken character. The one cut of data strings: the report's
    `clip` filter and the charts' labels both call it."""
    text = str(text)
    sizes = [_columns(char) for char in text]
    if sum(sizes) <= width:
        return text
    used, end = 1, 0  # 1: the ellipsis
    while used + sizes[end] <= width:
        used += sizes[end]
        end += 1
    while end > 0 and (_attached(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    return text[:end].rstrip() + "…"


@lru_cache(maxsize=64)
def parse_locale(identifier: str) -> Locale:
    """A Babel locale from "de_DE", "de-DE" or "de"; Babel's error when it has no data."""
    return Locale.parse(identifier.replace("-", "_"))


def _fixed(pattern: NumberPattern, decimals: int) -> NumberPattern:
    """`pattern` (a CLDR number pattern of the locale) showing exactly `decimals` decimals."""
    fixed = copy.copy(pattern)
    fixed.frac_prec = (decimals, decimals)
    return fixed


def _rounded(value: float, decimals: int) -> Decimal:
    """`value` rounded as Python rounds for display (f"{value:.1f}"), then handed to Babel
    exactly, so a figure reads the same in every locale and as it did before Babel."""
    return Decimal(f"{value:.{decimals}f}")


def _spaced(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel leaves out: a symbol made of letters ("CHF",
    "EUR") is kept apart from the digits by a no-break space ("CHF 10", not "CHF10");
    a sign such as "$" or "€" stays where the locale's pattern puts it."""
    start = text.find(symbol)
    if start < 0 or not symbol:
        return text
    end = start + len(symbol)

    def letter(char: str) -> bool:
        return unicodedata.category(char)[0] not in "SZ"

    if end < len(text) and text[end].isdigit() and letter(symbol[-1]):
        text = text[:end] + "\u00a0" + text[end:]
    if start > 0 and text[start - 1].isdigit() and letter(symbol[0]):
        text = text[:start] + "\u00a0" + text[start:]
    return text


def _sign(value: float, text: str, always: bool) -> str:
    """The sign of a figure written as `text` (from |value|): none when it rounds to zero
    ("0.0", not "−0.0" or "+0.0"), "−" below zero, and "+" above it when `always`."""
    shown = any(char.isdigit() and unicodedata.digit(char, 0) for char in text)
    return (MINUS if value < 0 else "+" if always else "") if shown else ""


def _wide_decimals() -> AbstractContextManager[decimal.Context]:
    """A decimal context that holds any float's digits: Babel rounds in the current one,
    whose 28 digits fail on a chart tick or a revenue total of 1e25 with decimals."""
    return decimal.localcontext(prec=400)


def _finite(value: float | None) -> float | None:
    """`value`, or None when it is missing or not finite: both read as NONE."""
    return None if value is None or not math.isfinite(value) else value


def role_format(role: str) -> str:
    """The formatter method a role's figures take: "money", "days", "percent" or "number"."""
    if ROLE_BY_NAME[role].kind is Kind.BOOLEAN:
        return "percent"
    return ROLE_FORMATS.get(role, "number")


@dataclass(frozen=True)
class Formatter:
    """Figures as a reader of `locale` writes them.

    `decimal_mark` and `thousands_separator` are overrides: None takes the locale's
    symbol; a given one replaces it in every number this formatter writes. Negative
    figures take the real minus sign "−" in every locale.

    `words` is the language the brief's wording is in (wording.Wording.language), when
    it differs from the locale's: the words a figure carries (the unit of `days`, the
    month and day names of `date` and `month`, the "pts" of `points`) are then in that
    language, so a brief that falls back to English wording for fr_FR reads "124 days"
    and "December 1, 2026" while its digits, marks and currency follow fr_FR. None: the
    locale's own language (de_CH keeps German words with Swiss numbers).
    """

    currency: str = "USD"
    decimal_mark: str | None = None
    thousands_separator: str | None = None
    locale: str = DEFAULT_LOCALE
    words: str | None = None

    def __post_init__(self) -> None:
        parse_locale(self.locale)  # an unknown locale fails here, not at the first figure
        if self.words is not None:
            parse_locale(self.words)

    @classmethod
    def for_report(cls, report: object, words: object = None) -> Formatter:
        """The formatter `[report]` asks for (a config.ReportSettings), writing its words in
        the language of `words` (a wording.Wording or a language such as "en"). Without
        it, the language the wording of `[report] locale` (and `[report] templates`) has."""
        locale = getattr(report, "locale", DEFAULT_LOCALE) or DEFAULT_LOCALE
        if words is None:
            from reportgen.wording import language_for

            words = language_for(locale, getattr(report, "templates", None))
        language = str(getattr(words, "language", words))
        same = language == parse_locale(locale).language
        return cls(
            getattr(report, "currency", "USD"),
            getattr(report, "decimal_mark", None),
            getattr(report, "thousands_separator", None),
            locale,
            None if same else language,
        )

    @property
    def _locale(self) -> Locale:
        return parse_locale(self.locale)

    @property
    def _words(self) -> Locale:
        """The Babel locale of the words a figure carries: the wording's language."""
        if self.words is None or self.words == self._locale.language:
            return self._locale
        return parse_locale(self.words)

    @property
    def language(self) -> str:
        """The locale's language ("de" for de_CH), for wording chosen by language."""
        return self._locale.language

    def _marks(self, text: str) -> str:
        """`text` with the locale's decimal and grouping symbols replaced by the overrides,
        inside written numbers only (so "Mio." or a currency code keeps its dot)."""
        table = {}
        if self.decimal_mark is not None:
            table[get_decimal_symbol(self._locale)] = self.decimal_mark
        if self.thousands_separator is not None:
            table[get_group_symbol(self._locale)] = self.thousands_separator
        table = {key: value for key, value in table.items() if key != value}
        if not table:
            return text
        symbols = re.compile("|".join(re.escape(key) for key in sorted(table, key=len)[::-1]))
        return _NUMBER_RUN.sub(
            lambda run: symbols.sub(lambda found: table[found.group()], run.group()), text
        )

    def localise(self, text: str) -> str:
        """Numbers written the plain C way ("1,234.5", "−0.5", as matplotlib writes axis
        ticks) with the marks this formatter uses: de_DE "1.234,5", "−0,5"."""
        decimal = self.decimal_mark or get_decimal_symbol(self._locale)
        group = self.thousands_separator
        if group is None:
            group = get_group_symbol(self._locale)
        table = {".": decimal, ",": group}
        return _NUMBER_RUN.sub(
            lambda run: "".join(table.get(char, char) for char in run.group()), text
        )

    def _decimal(self, value: float, decimals: int) -> str:
        """|value| with the locale's decimal pattern, exactly `decimals` decimals."""
        pattern = _fixed(self._locale.decimal_formats[None], decimals)
        with _wide_decimals():
            text: str = pattern.apply(_rounded(abs(value), decimals), self._locale)
        return text

    def _signed(self, value: float, text: str, always: bool = False) -> str:
        """`text` (written from |value|) with its sign, in the override marks."""
        return self._marks(_sign(value, text, always) + text)

    def number(self, value: float | None, decimals: int | None = None) -> str:
        """1234.5 -> "1,234.5" (de_DE "1.234,5"); whole numbers lose their ".0", 100 and
        more show no decimals; None -> "–". For a count or a lone figure: the figures of a
        role go through role_value, which gives them all one count of decimals."""
        value = _finite(value)
        if value is None:
            return NONE
        if decimals is None:
            decimals = 0 if abs(value) >= 100 or float(value).is_integer() else 1
            if decimals and round(value, 1).is_integer():
                decimals = 0
        return self._signed(value, self._decimal(value, decimals))

    def signed(self, value: float | None, decimals: int = 1) -> str:
        """0.43 -> "+0.4", -1.25 -> "−1.2" (de_DE "+0,4"): a number always signed, such as
        a z-score on a chart."""
        value = _finite(value)
        if value is None:
            return NONE
        return self._signed(value, self._decimal(value, decimals), always=True)

    def money(self, value: float | None) -> str:
        """Whole currency units below a million, the symbol where the locale puts it: en_US
        "$1,450", de_DE "1.450 €", de_CH "EUR 1'450".

        From a million up, CLDR's short (compact) form with one decimal at most: en_US
        "$2.4M", "$1.2B"; de_DE "2,4 Mio. €", "1,2 Mrd. €"; fr_FR "2,4 M €". Babel's compact
        form is what a reader of the locale writes (German "Mio."/"Mrd.", not "M"/"B"), and
        it picks the next word (billion, Milliarde) instead of "2,400.0M"."""
        value = _finite(value)
        if value is None:
            return NONE
        amount = round(abs(value))  # whole units; 999,999.6 is a million, in compact form
        symbol = get_currency_symbol(self.currency, self._locale)
        with _wide_decimals():
            if amount >= 1e6 and self._words is not self._locale:
                # "M"/"Mio." are words: in the wording's language, with the locale's marks
                # (a pt_BR brief in English reads "R$12,3M", not "R$ 12,3 mi").
                text = self.localise(
                    format_compact_currency(
                        amount, self.currency, locale=self._words, fraction_digits=1
                    )
                )
            elif amount >= 1e6:
                text = format_compact_currency(
                    amount, self.currency, locale=self._locale, fraction_digits=1
                )
            else:
                pattern = _fixed(self._locale.currency_formats["standard"], 0)
                text = pattern.apply(
                    _rounded(amount, 0),
                    self._locale,
                    currency=self.currency,
                    currency_digits=False,
                )
        # CLDR writes the yen in ja_JP as the fullwidth "￥", which the brief's fonts
        # (DejaVu) lack: a blank box on every amount. "¥" is the same sign.
        text, symbol = (part.replace("\uffe5", "\u00a5") for part in (text, symbol))
        return self._signed(value, _spaced(text, symbol))

    def percent(self, share: float | None, decimals: int = 1) -> str:
        """0.2861 -> "28.6%" (de_DE "28,6 %", CLDR's pattern and spacing): one decimal, 0 and
        1 included ("0.0%", "100.0%"), so a column of shares, a mix or a sentence comparing
        two shares never mixes "100%" with "50.0%". `decimals` fixes another count (a
        chart's bar label: 0)."""
        share = _finite(share)
        if share is None:
            return NONE
        value = abs(share) * 100
        pattern = _fixed(self._locale.percent_formats[None], decimals)
        with _wide_decimals():
            text = pattern.apply(_rounded(value, decimals) / 100, self._locale)
        return self._signed(share, text)

    def times(self, ratio: float | None) -> str:
        """1.73 -> "1.7×" (de_DE "1,7×")."""
        ratio = _finite(ratio)
        if ratio is None:
            return NONE
        return self._signed(ratio, self._decimal(ratio, 1) + "×")

    def days(self, value: float | None) -> str:
        """11.2 -> "11 days" (de_DE "11 Tage", fr_FR "11 jours"): the whole number of days
        with CLDR's unit name and plural for the locale."""
        value = _finite(value)
        if value is None:
            return NONE
        whole = round(value)
        with _wide_decimals():
            text = format_unit(abs(whole), "duration-day", length="long", locale=self._words)
            if self._words is not self._locale:
                # The unit and its plural in the wording's language, the digits the locale's.
                written = format_decimal(abs(whole), locale=self._words)
                text = text.replace(written, self._decimal(whole, 0), 1)
        return self._signed(whole, text)

    def change(self, relative: float | None) -> str:
        """0.036 -> "+3.6%" (de_DE "+3,6 %"): a relative change, always signed."""
        relative = _finite(relative)
        if relative is None:
            return NONE
        text = self.percent(abs(relative))
        return _sign(relative, text, always=True) + text

    def points(self, difference: float | None) -> str:
        """0.012 -> "+1.2 pts" (de_DE "+1,2 Pp."): a change of a share, in percentage points."""
        difference = _finite(difference)
        if difference is None:
            return NONE
        unit = _POINTS.get(self._words.language, _POINTS["en"])
        text = self._decimal(difference * 100, 1)
        return self._signed(difference, f"{text} {unit}", always=True)

    def date(self, value: date | str | None, format: str = "long") -> str:
        """A day, as a datetime.date or ISO text ("2026-11-30"), written out: en_US
        "November 30, 2026", de_DE "30. November 2026". `format` is a Babel date format
        ("short", "medium", "long", "full" or a CLDR pattern). Text that is not an ISO day
        is returned unchanged; None -> "–"."""
        if value is None:
            return NONE
        day = value
        if isinstance(value, str):
            try:
                day = datetime.fromisoformat(value.strip()).date()
            except ValueError:
                return value
        if isinstance(day, datetime):
            day = day.date()
        if not isinstance(day, date):
            return str(value)
        return format_date(day, format=format, locale=self._words)

    def month(self, period: str | None) -> str:
        """A period "2026-11" as its month: en_US "November 2026", de_DE "November 2026",
        fr_FR "novembre 2026". A period that is not YYYY-MM ("2026-Q4", "week-47") is
        returned unchanged; None -> "–"."""
        if period is None:
            return NONE
        found = _PERIOD.fullmatch(str(period).strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            return str(period)
        first = date(int(found.group(1)), int(found.group(2)), 1)
        return format_skeleton("yMMMM", first, locale=self._words)

    def month_short(self, period: str, year: bool = False) -> str:
        """A period "2026-11" as its abbreviated month: en_US "Nov", de_DE "Nov.", with
        `year` "Nov 2026"; for chart ticks and table heads, where room is short."""
        first = date(int(period[:4]), int(period[5:7]), 1)
        return format_skeleton("yMMM" if year else "MMM", first, locale=self._words)

    def role_value(self, value: float | None, role: str, precise: bool = False) -> str:
        """A figure of `role` as every figure of that role reads in a brief: spend as money,
        days as days, shares as percent, plain numbers with ROLE_DECIMALS decimals. The one
        place a role's figures are written for the tables, so no column mixes two formats
        (persona sentences say counts as people do: "with 19 items").
        `precise` (a level's bound, not a figure) gives plain numbers one decimal more: a
        bound of 7.96 read as "8.0" would hide that a median of 7.95 ("8.0" too) falls
        short of it."""
        name = role_format(role)
        if name == "number":
            return self.number(value, ROLE_DECIMALS + (1 if precise else 0))
        show: Callable[[float | None], str] = getattr(self, name)
        return show(value)

    def filters(self) -> dict[str, Callable[..., str]]:
        """The formatters as Jinja filters."""
        return {
            "money": self.money,
            "number": self.number,
            "signed": self.signed,
            "percent": self.percent,
            "times": self.times,
            "days": self.days,
            "change": self.change,
            "points": self.points,
            "date": self.date,
            "month": self.month,
            "month_short": self.month_short,
            "role_value": self.role_value,
            "clip": clip,
        }
