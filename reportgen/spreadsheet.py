"""Making CSV exports safe to open in a spreadsheet.

A cell such as `=HYPERLINK(...)` in a customer id would run as a formula in
Excel or Sheets. Text cells that would start a formula once leading spaces and
quotes are ignored get a leading apostrophe, which spreadsheets show as text;
real numbers (including negative ones such as -10) are left alone. The checks
run as vectorised Arrow kernels, since an export can hold millions of ids.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

_FORMULA_START = r"^[\s'\"]*[=+\-@\t\r]"
_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


def _text(values: pd.Series) -> pa.Array:
    """The values as one Arrow string array. pandas may hold them as large_string, which
    older pyarrow (18, for one) does not mix with string literals in its kernels."""
    return pa.array(values.astype("string[pyarrow]")).cast(pa.string())


def neutralise(values: pd.Series) -> pd.Series:
    """Text values with a formula prefix get a leading "'"; numbers are kept as they are."""
    if values.dtype.kind in "biuf":
        return values
    text = _text(values)
    risky = pc.and_(
        pc.match_substring_regex(text, _FORMULA_START),
        pc.invert(pc.match_substring_regex(text, _NUMBER)),
    )
    guarded = pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)
    return pd.Series(guarded, index=values.index, dtype="string[pyarrow]", name=values.name)


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A people-facing CSV (UTF-8, header, quotes only where needed) with every text cell
    neutralised."""
    safe = pa.Table.from_pandas(table.apply(neutralise), preserve_index=False)
    sink = io.BytesIO()
    pa_csv.write_csv(safe, sink, write_options=pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()


def restore(values: pd.Series) -> pd.Series:
    """Undo `neutralise` when reading an export back: "'=x" becomes "=x" again."""
    text = _text(values)
    guarded = pc.match_substring_regex(text, "^'" + _FORMULA_START.removeprefix("^"))
    original = pc.if_else(guarded, pc.utf8_slice_codeunits(text, 1), text)
    return pd.Series(original, index=values.index, dtype="string[pyarrow]", name=values.name)
