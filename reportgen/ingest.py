"""Reading the input table: CSV, Parquet or Excel, with its encoding and delimiter.

CSV cells are read as text on purpose: validation then parses every value
itself and counts what it had to fix, instead of pandas guessing types and
silently turning a stray "n/a" in a number column into a text column.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyarrow import ArrowInvalid

from reportgen.errors import InputError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Dataset:
    """A table as read, plus the facts about its source that the manifest records."""

    frame: pd.DataFrame
    path: Path
    sha256: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def rows(self) -> int:
        return len(self.frame)


def _decode_choice(head: bytes, data: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"  # every byte sequence decodes; covers cp1252 exports from Excel
    return "utf-8"


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the most, equally many, fields."""
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = {len(row) for row in csv.reader(lines, delimiter=delimiter) if row}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def _read_csv(path: Path, data: bytes) -> tuple[pd.DataFrame, str, str]:
    head = data[:_SNIFF_BYTES]
    encoding = _decode_choice(head, data)
    if encoding != "utf-16" and b"\x00" in head:
        raise InputError(f"{path}: the file is binary, not a text table; export it as CSV")
    sample = head.decode(encoding, errors="ignore")
    delimiter = _sniff_delimiter(sample)
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            encoding=encoding,
            dtype=str,
            engine="pyarrow",  # multi-threaded: about 3x faster than "c" on a million rows
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file holds no table (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, ArrowInvalid) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise InputError(f"{path}: not a readable CSV table: {detail}") from None
    return frame, encoding, delimiter


def _read_parquet(path: Path, data: bytes) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise InputError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})"
        ) from None


def _read_excel(path: Path, data: bytes) -> pd.DataFrame:
    try:
        # openpyxl parses the workbook's XML through defusedxml when it is installed
        # (a dependency of reportgen), which defeats entity-expansion bombs.
        return pd.read_excel(io.BytesIO(data), sheet_name=0, engine="openpyxl")
    except Exception as exc:  # zipfile, openpyxl and XML errors alike mean "corrupt"
        raise InputError(
            f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc})"
        ) from None


def read_table(path: Path) -> Dataset:
    """Read a customer table, or raise InputError saying why it cannot be read."""
    suffix = path.suffix.lower()
    known = sorted(CSV_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES)
    if suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES:
        raise InputError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(known)}"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"{path}: the file is empty")
    encoding = delimiter = None
    if suffix in CSV_SUFFIXES:
        frame, encoding, delimiter = _read_csv(path, data)
        fmt = "csv"
    elif suffix in PARQUET_SUFFIXES:
        frame, fmt = _read_parquet(path, data), "parquet"
    else:
        frame, fmt = _read_excel(path, data), "excel"
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame.columns) < 2:
        hint = " (is the delimiter one of , ; tab |?)" if fmt == "csv" else ""
        raise InputError(
            f"{path}: only one column ({frame.columns[0]!r}) was found{hint}; "
            "a customer table needs at least an id and a spend column"
        )
    if frame.empty:
        raise InputError(f"{path}: the table has a header but no data rows")
    return Dataset(
        frame=frame,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        encoding=encoding,
        delimiter=delimiter,
    )
