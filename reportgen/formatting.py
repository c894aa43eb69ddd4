"""How numbers and data strings look to people: money, counts, shares, ratios, days, and
text from the data cut to a readable length.

One formatter serves persona descriptions, the report and (later) the email, so
a figure reads the same everywhere. Currency and separators come from `[report]`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from reportgen.roles import ROLE_BY_NAME, Kind

ROLE_FORMATS = {
    "spend": "money",
    "aov": "money",
    "recency": "days",
    "tenure": "days",
    "return_rate": "percent",
}
"""How a role's figures read; yes/no roles are shares (percent), the rest plain numbers."""
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥"}

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


@dataclass(frozen=True)
class Formatter:
    currency: str = "USD"
    decimal_mark: str = "."
    thousands_separator: str = ","

    def _group(self, value: float, decimals: int) -> str:
        text = f"{value:,.{decimals}f}"
        return text.translate({ord(","): "\0", ord("."): self.decimal_mark}).replace(
            "\0", self.thousands_separator
        )

    def number(self, value: float | None, decimals: int | None = None) -> str:
        """1234.5 -> "1,234.5"; whole numbers lose their ".0"; None -> "–"."""
        if value is None:
            return "–"
        if decimals is None:
            decimals = 0 if abs(value) >= 100 or float(value).is_integer() else 1
            if decimals and round(value, 1).is_integer():
                decimals = 0
        return self._group(value, decimals)

    def money(self, value: float | None) -> str:
        """Whole currency units below a million ("$1,450"); "$2.4M" above."""
        if value is None:
            return "–"
        symbol = _SYMBOLS.get(self.currency.upper())
        sign = "−" if value < 0 else ""
        amount = abs(value)
        text = (self._group(amount / 1e6, 1) + "M") if amount >= 1e6 else self._group(amount, 0)
        return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {self.currency}"

    def percent(self, share: float | None) -> str:
        """0.2861 -> "28.6%" (one decimal, so columns line up); exactly 0 or 1 -> "0%", "100%"."""
        if share is None:
            return "–"
        value = share * 100
        return self._group(value, 0 if value in (0, 100) else 1) + "%"

    def times(self, ratio: float | None) -> str:
        """1.73 -> "1.7×"."""
        if ratio is None:
            return "–"
        return self._group(ratio, 1) + "×"

    def days(self, value: float | None) -> str:
        """11.2 -> "11 days"."""
        if value is None:
            return "–"
        whole = round(value)
        return f"{self._group(whole, 0)} day" + ("" if whole == 1 else "s")

    def change(self, relative: float | None) -> str:
        """0.036 -> "+3.6%": a relative change, always signed."""
        if relative is None:
            return "–"
        text = self.percent(abs(relative))
        return ("+" if relative >= 0 else "−") + text

    def points(self, difference: float | None) -> str:
        """0.012 -> "+1.2 pts": a change of a share, in percentage points."""
        if difference is None:
            return "–"
        sign = "+" if difference >= 0 else "−"
        return f"{sign}{self._group(abs(difference) * 100, 1)} pts"

    def role_value(self, value: float | None, role: str, precise: bool = False) -> str:
        """A figure in its role's format: spend as money, days as days, shares as percent;
        `precise` gives plain numbers two decimals (a threshold of 7.95 is not "8")."""
        if ROLE_BY_NAME[role].kind is Kind.BOOLEAN:
            return self.percent(value)
        name = ROLE_FORMATS.get(role, "number")
        if name == "number" and precise and value is not None:
            return self.number(value, 2)
        return getattr(self, name)(value)

    def filters(self) -> dict:
        """The formatters as Jinja filters."""
        return {
            "money": self.money,
            "number": self.number,
            "percent": self.percent,
            "times": self.times,
            "days": self.days,
            "change": self.change,
            "points": self.points,
            "role_value": self.role_value,
            "clip": clip,
        }
