"""Making CSV exports safe to open in a spreadsheet.

A cell such as `=HYPERLINK(...)` in a customer id would run as a formula in
Excel or Sheets. Text cells that would start a formula once leading spaces and
quotes are ignored get a leading apostrophe, which spreadsheets show as text;
real numbers (including negative ones such as -10) are left alone.
"""

from __future__ import annotations

import re

import pandas as pd

_FORMULA_START = re.compile(r"^[\s'\"]*[=+\-@\t\r]")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def neutralise(values: pd.Series) -> pd.Series:
    """Text values with a formula prefix get a leading "'"; numbers are kept as they are."""
    if values.dtype.kind in "biuf":
        return values
    text = values.astype("string")
    risky = text.str.contains(_FORMULA_START, na=False) & ~text.str.match(_NUMBER, na=False)
    return text.mask(risky, "'" + text)
