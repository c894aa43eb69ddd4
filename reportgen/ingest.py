"""Reading the input table: CSV, Parquet or Excel, with its encoding and delimiter.

CSV cells are read as text on purpose: validation then parses every value
itself and counts what it had to fix, instead of pandas guessing types and
silently turning a stray "n/a" in a number column into a text column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pandas as pd
import pyarrow.parquet as pq
from pyarrow import ArrowInvalid

from reportgen.errors import InputError

if TYPE_CHECKING:
    from reportgen.spark_customers import HeldCustomers

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024
_BLOCK = 1 << 20
"""Bytes decoded at a time when a file is read piece by piece."""
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A table as read, plus the facts about its source that the manifest records."""

    frame: pd.DataFrame
    path: Path | str
    """A local path, or (read by Spark) a URI or a catalog table's name."""
    sha256: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    order_columns: Mapping[str, str] = field(default_factory=dict)
    """For a table built from an order log: order-log role -> the log's column."""
    engine: Mapping[str, str] = field(default_factory=lambda: {"name": "local"})
    """What read it: "local" (pandas, or DuckDB and its version for an order log), or
    "spark" with Spark's version and the master or Connect server it ran on."""
    repaired_bytes: int = 0
    """Bytes of a UTF-8 file that were not UTF-8, each read as a Windows-1252 character
    (a value pasted from another program); validation reports them as a fix."""
    held: HeldCustomers | None = None
    """The customers when an engine keeps them (the Spark engine's customers from an
    order log): `frame` is then only their seeded sample, which validation checks."""

    @property
    def rows(self) -> int:
        return self.held.n if self.held is not None else len(self.frame)


_STRAY = re.compile("[\udc80-\udcff]")
"""A byte that is not UTF-8, as the surrogateescape error handler leaves it."""
_MULTIBYTE = re.compile("[\u0080-\ud7ff\ue000-\U0010ffff]")
"""A character that took more than one byte of valid UTF-8."""


def _cp1252(stray: re.Match[str]) -> str:
    """The Windows-1252 character of an escaped stray byte (Latin-1 for the five bytes
    Windows-1252 leaves undefined)."""
    byte = bytes([ord(stray.group()) - 0xDC00])
    return byte.decode("cp1252", errors="ignore") or byte.decode("latin-1")


@dataclass(frozen=True)
class _Decoded:
    data: bytes
    """The bytes to parse: the file's own, or their repair in UTF-8."""
    codec: str
    """The encoding of `data`, for the parser."""
    encoding: str
    """The file's encoding, as the manifest records it."""
    repaired: int = 0


def _decode_choice(data: bytes) -> _Decoded:
    """The file's encoding, and its bytes repaired where they are not that encoding.

    A UTF-8 file with a stray byte (one value pasted from a Windows-1252 export) stays
    UTF-8: reading the whole file as Windows-1252 would turn every "ü" into "Ã¼". Each
    stray byte is read as its Windows-1252 character and counted. A file with no valid
    multi-byte UTF-8 character at all is a Windows-1252 export (Excel's "CSV"): every
    one of its bytes is read that way, and nothing is counted as repaired.
    """
    if data.startswith(_UTF16_BOMS):
        return _Decoded(data, "utf-16", "utf-16")
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        pass
    else:
        return _Decoded(data, encoding, encoding)
    # Block by block, so a large file is not held as text (up to four bytes a character).
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    parts, repaired, multibyte = [], 0, False
    for start in range(0, len(data), _BLOCK):
        text = decoder.decode(data[start : start + _BLOCK], final=start + _BLOCK >= len(data))
        multibyte = multibyte or _MULTIBYTE.search(text) is not None
        text, count = _STRAY.subn(_cp1252, text)
        repaired += count
        parts.append(text.encode("utf-8"))
    if not multibyte:
        return _Decoded(b"".join(parts), "utf-8", "cp1252")
    return _Decoded(b"".join(parts), "utf-8", encoding, repaired)


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


_SPECIAL = {d: re.compile(f'[{re.escape(d)}"\r\n]') for d in DELIMITERS}
"""What a header scan stops at: the delimiter, a quote, a line break."""
_NAME_CHARS = 128 * 1024
"""The longest header name read (Python's csv refuses longer fields too)."""


def _text_blocks(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """The stream's text a block at a time, undecodable bytes replaced: enough to read a
    header without decoding the rest of a file of any size."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    while block := stream.read(_BLOCK):
        yield decoder.decode(block)
    yield decoder.decode(b"", final=True)


def _first_record(blocks: Iterator[str], delimiter: str, path: Path | str, max_columns: int) -> str:
    """The text of the first record (the header), counted before it is kept whole.

    A header of a million names, or one name of a gigabyte, is refused once it passes
    max_columns names (or _NAME_CHARS characters), not after it has been read into
    memory. Quotes follow the rules of the parsers that read the table afterwards: a
    quote opens a quoted name only at the start of a field, a quoted name may hold the
    delimiter and line breaks, and a doubled quote inside it stands for a quote. Blank
    lines before the header are skipped, as the parsers skip them.
    """
    scan = _HeaderScan(delimiter, path, max_columns)
    for block in blocks:
        record = scan.feed(block)
        if record is not None:
            return record
    return scan.rest()


class _HeaderScan:
    """Where _first_record is in the header, carried from one block of text to the next.
    Offsets count from the start of the text kept (`kept`)."""

    def __init__(self, delimiter: str, path: Path | str, max_columns: int) -> None:
        self.delimiter, self.special = delimiter, _SPECIAL[delimiter]
        self.path, self.max_columns = path, max_columns
        self.kept: list[str] = []
        self.base = 0  # offset of the block in the text kept so far
        self.start: int | None = None  # where the record begins
        self.field = 0  # where the current name begins
        self.fields = 1
        self.quoted = self.closed = False  # inside a quoted name; just past one's closing quote

    def feed(self, block: str) -> str | None:
        """Scan one more block: the record's text if it ends in this block, else None."""
        self.kept.append(block)
        end = self._scan(block)
        if end is not None:
            self._check_count(f"{self.fields:,}")
            _check_name(self.path, end - self.field)
            return "".join(self.kept)[self.start : end]
        # Counted to the end of this block only: a header that goes on is refused with
        # what is known, not scanned to the end of a file of any size.
        self._check_count(f"at least {self.fields:,}")
        if self.start is None:  # blank lines so far: none of them is kept
            self.kept.clear()
            return None
        _check_name(self.path, self.base + len(block) - self.field)
        self.base += len(block)
        return None

    def rest(self) -> str:
        """The record of a text that ends without a line break."""
        self._check_count(f"{self.fields:,}")
        return "".join(self.kept)[self.start or 0 :]

    def _check_count(self, count: str) -> None:
        if self.fields > self.max_columns:
            raise _too_many(self.path, count, self.max_columns)

    def _scan(self, block: str) -> int | None:
        """The offset of the line break that ends the record, if it is in this block."""
        pos = 0
        while pos < len(block):
            if self.quoted:
                end = block.find('"', pos)
                if end < 0:
                    return None
                self.quoted, self.closed, pos = False, True, end + 1
                continue
            found = self.special.search(block, pos)
            at = found.start() if found else len(block)
            if at > pos:
                self.closed = False
                if self.start is None:
                    self.start = self.field = self.base + pos
            if found is None:
                return None
            pos = found.end()
            if self._take(found.group(), self.base + at):
                return self.base + at
        return None

    def _take(self, char: str, at: int) -> bool:
        """Take the delimiter, quote or line break at offset `at`; True when it ends the
        record (a line break before any name is a blank line, skipped)."""
        if char in "\r\n":
            return self.start is not None
        if self.start is None:
            self.start = self.field = at
        if char == self.delimiter:
            _check_name(self.path, at - self.field)
            self.fields += 1
            self.field, self.closed = at + 1, False
        else:  # a quote
            self.quoted, self.closed = at == self.field or self.closed, False
        return False


def _check_name(path: Path | str, length: int) -> None:
    if length > _NAME_CHARS:
        raise InputError(
            f"{path}: a header name is longer than {_NAME_CHARS:,} characters; is this a "
            "CSV table with a header line?"
        )


def csv_header(
    stream: BinaryIO, encoding: str, path: Path | str, max_columns: int
) -> tuple[str, list[str]]:
    """The delimiter and the header names of a CSV table, refused past max_columns names.

    The whole first record counts, not a sample: a header longer than any sample (or a
    quoted name holding a line break) is still measured before a parser allocates a
    column for each name. Customer tables and order logs share it, so both limits mean
    the same.
    """
    sample = stream.read(_SNIFF_BYTES).decode(encoding, errors="ignore")
    delimiter = _sniff_delimiter(sample)
    stream.seek(0)
    text = _first_record(_text_blocks(stream, encoding), delimiter, path, max_columns)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return delimiter, next((row for row in rows if row), [])


def _read_csv(path: Path, data: bytes, max_columns: int) -> tuple[pd.DataFrame, _Decoded, str]:
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise InputError(f"{path}: the file is binary, not a text table; export it as CSV")
    decoded = _decode_choice(data)
    delimiter, header = csv_header(io.BytesIO(decoded.data), decoded.codec, path, max_columns)
    check_unique(path, header)
    try:
        frame = pd.read_csv(
            io.BytesIO(decoded.data),
            sep=delimiter,
            encoding=decoded.codec,
            # Every column as text, named one by one: pandas hands a per-column dtype to
            # pyarrow's parser, whereas a single dtype=str is applied after pyarrow has
            # guessed numbers (and turned "007" into "7") unless pyarrow is 25 or newer.
            dtype=dict.fromkeys(header, str),
            engine="pyarrow",  # multi-threaded: about 3x faster than "c" on a million rows
            # Only an empty cell is missing: "NA", "None" or "null" may be a customer's id
            # or a category; validation treats such words as missing where a number, a
            # yes/no or a level was expected (validate.MISSING_WORDS).
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file holds no table (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, ArrowInvalid) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise InputError(f"{path}: not a readable CSV table: {detail}", values=(detail,)) from None
    return frame, decoded, delimiter


def parquet_columns(source: Path | BinaryIO, path: Path, max_columns: int) -> list[str]:
    """The top-level column names of a Parquet file, refused past max_columns columns
    (counted as leaf columns, so a struct's fields count too) from its footer alone."""
    try:
        metadata = pq.read_metadata(source)
        _check_columns(path, metadata.num_columns, max_columns)
        names: list[str] = metadata.schema.to_arrow_schema().names
        return names
    except InputError:
        raise
    # A truncated or foreign file fails here, before any reading, with one of several
    # unrelated types (ArrowInvalid, OSError, ArrowNotImplementedError, ...).
    except Exception as exc:
        raise InputError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})",
            values=(str(exc),),
        ) from None


def _read_parquet(path: Path, data: bytes, max_columns: int) -> pd.DataFrame:
    check_unique(path, parquet_columns(io.BytesIO(data), path, max_columns))
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise InputError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})",
            values=(str(exc),),
        ) from None


EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
"""Excel's own sheet size: a sheet beyond it was not written by Excel."""
CELL_BYTES = 32
"""What one cell of a sheet's extent costs pandas, measured (about 24 to 33 bytes for
an empty one): pandas pads every row to the widest, so empty cells cost too."""


def _row_number(attribute: str | None, previous: int) -> int:
    """A <row> element's number as openpyxl reads it: its r attribute (an integer, or a
    float such as 1e3 that is one), or one past the previous row."""
    if attribute is None:
        return previous + 1
    try:
        return int(attribute)
    except ValueError:
        number = float(attribute)
        if not number.is_integer():
            raise ValueError(f"{attribute} is not a valid row number") from None
        return int(number)


_SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUES = f"{_SHEET}row", f"{_SHEET}c", {f"{_SHEET}v", f"{_SHEET}is"}
_DIGIT = re.compile(r"\d")
"""Where the column letters of a cell reference end: at its first digit, as openpyxl
splits it."""


class _SheetExtent:
    """A parser target that places each cell of a sheet where openpyxl places it, and
    refuses the sheet as soon as pandas would need too much memory for it.

    openpyxl numbers a row by its r attribute or one past the previous row, and a cell
    by its reference or one past the previous cell of its row. pandas keeps an entry for
    every row up to the last one and pads every row with a value to the widest valued
    column. So refused: a row past Excel's last; a row of more cells than Excel allows
    (openpyxl holds a row whole); a valued cell past max_columns; an extent (last valued
    row times last valued column) over `budget` cells. Only start tags are handled (a
    row is judged when the next one starts, and at the end), which halves the work.
    """

    def __init__(self, path: Path, max_columns: int, budget: int, limit: str) -> None:
        from openpyxl.utils.cell import column_index_from_string  # openpyxl: Excel only

        self.index = column_index_from_string  # "AB" -> 28, or ValueError as openpyxl says
        self.columns: dict[str, int] = {}
        self.path, self.max_columns, self.budget, self.limit = path, max_columns, budget, limit
        self.row = self.column = self.cells = 0  # openpyxl's counters
        self.width = self.widest = self.last = 0  # valued column of the row, of the sheet

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == _CELL:
            reference = attrib.get("r")
            if reference:
                letters = _DIGIT.split(reference, maxsplit=1)[0]
                if letters not in self.columns:
                    self.columns[letters] = self.index(letters)
                self.column = self.columns[letters]
            else:
                self.column += 1
            self.cells += 1
            if self.cells > EXCEL_COLUMNS:
                raise InputError(
                    f"{self.path}: row {self.row:,} of the first sheet holds more than "
                    f"{EXCEL_COLUMNS:,} cells, more than Excel allows; is the workbook damaged?"
                )
        elif tag in _VALUES:  # the cell has a value
            self.width = max(self.width, self.column)
        elif tag == _ROW:
            self.close()
            self.row = _row_number(attrib.get("r"), self.row)
            self.column = self.cells = self.width = 0
            if self.row > EXCEL_ROWS:
                raise InputError(
                    f"{self.path}: the first sheet has a row numbered {self.row:,}, past "
                    f"Excel's last row ({EXCEL_ROWS:,}); is the workbook damaged?"
                )

    def close(self) -> None:
        """Judge the row just read (the parser calls this at the end of the sheet)."""
        if not self.width:
            return
        self.last, self.widest = max(self.last, self.row), max(self.widest, self.width)
        _check_columns(self.path, self.widest, self.max_columns)
        if self.last * self.widest > self.budget:
            raise InputError(
                f"{self.path}: the first sheet reaches row {self.last:,} and column "
                f"{self.widest:,}, {self.last * self.widest:,} cells with the empty ones, "
                f"over the {self.budget:,} that {self.limit} allows ({CELL_BYTES} bytes "
                "a cell); delete stray cells far from the table, or save it as CSV"
            )


def _check_sheet(path: Path, data: bytes, max_mb: float, max_columns: int) -> None:
    """Measure the workbook's first sheet before pandas reads it.

    A workbook is a zip of XML: 20 KB of it can hold a single cell at XFD1048576, for
    which pandas pads a million rows to 16,384 columns (gigabytes) before anything
    fails. So the workbook is measured unpacked against max_file_mb, and the sheet that
    pandas reads (openpyxl's first worksheet) is streamed once through _SheetExtent,
    which keeps no element. The <dimension> element is not used: it may be missing or
    wrong, and pandas ignores it too.
    """
    from defusedxml.ElementTree import DefusedXMLParser
    from openpyxl.reader.excel import ExcelReader

    limit = max_mb * 1024 * 1024
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    unpacked = sum(member.file_size for member in reader.archive.infolist())
    if unpacked > limit:  # zipfile never inflates a member past its stated size
        raise InputError(
            f"{path}: the workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, over the limit "
            f"of [data] max_file_mb = {max_mb:g}; raise it if this machine has the memory "
            "for it"
        )
    reader.read_manifest()
    reader.read_workbook()
    sheet = next(
        (
            rel.target
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ),
        None,
    )
    if sheet is None:
        return  # pandas says there is no sheet
    extent = _SheetExtent(
        path, max_columns, int(limit // CELL_BYTES), f"[data] max_file_mb = {max_mb:g}"
    )
    parser = DefusedXMLParser(target=extent)
    with reader.archive.open(sheet) as stream:
        while block := stream.read(_BLOCK):
            parser.feed(block)
    parser.close()


def _read_excel(path: Path, data: bytes, max_mb: float, max_columns: int) -> pd.DataFrame:
    try:
        _check_sheet(path, data, max_mb, max_columns)
        # openpyxl parses the workbook's XML through defusedxml when it is installed
        # (a dependency of reportgen), which defeats entity-expansion bombs.
        header = pd.read_excel(io.BytesIO(data), sheet_name=0, header=None, nrows=1)
        check_unique(path, header.iloc[0].tolist() if len(header) else [])
        # Only an empty cell is missing, as for CSV. Every cell keeps the type the
        # workbook gives it: pandas would otherwise turn a text cell "3.562" (whole
        # euros, written as text) into the number 3.562 before numbers.py could see
        # how the column writes its numbers. A column of number cells only is numbers.
        return pd.read_excel(
            io.BytesIO(data), sheet_name=0, engine="openpyxl", keep_default_na=False, dtype=object
        ).infer_objects()
    except InputError:
        raise
    except Exception as exc:  # zipfile, openpyxl and XML errors alike mean "corrupt"
        raise InputError(
            f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc})",
            values=(str(exc),),
        ) from None


def check_size(paths: list[Path], max_mb: float) -> None:
    """Refuse input over the size limit, or that is not a regular file, before reading a
    byte of it: a pipe or a device (a link to /dev/zero) reports size 0 and never ends."""
    for path in paths:
        if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
            raise InputError(
                f"{path}: not a regular file (a pipe, device or socket); give reportgen "
                "the file itself"
            )
    size = sum(p.stat().st_size for p in paths)
    if size > max_mb * 1024 * 1024:
        where = paths[0] if len(paths) == 1 else f"{paths[0].parent} ({len(paths)} files)"
        raise InputError(
            f"{where}: {size / 1024 / 1024:,.0f} MB is over the limit of [data] max_file_mb = "
            f"{max_mb:g}; raise it if this machine has the memory for it"
        )


def _too_many(path: Path | str, count: str, max_columns: int) -> InputError:
    return InputError(
        f"{path}: {count} columns is over the limit of [data] max_columns = "
        f"{max_columns}; is this the right file? Raise the limit if it is"
    )


def _check_columns(path: Path, count: int, max_columns: int) -> None:
    if count > max_columns:
        raise _too_many(path, f"{count:,}", max_columns)


def read_table(path: Path, max_mb: float = 2048, max_columns: int = 1000) -> Dataset:
    """Read a customer table, or raise InputError saying why it cannot be read.

    The size and column limits are checked before the table is parsed, so a wrong or
    hostile file fails in a moment instead of exhausting the machine's memory.
    """
    suffix = path.suffix.lower()
    known = sorted(CSV_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES)
    if suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES:
        raise InputError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(known)}"
        )
    try:
        check_size([path], max_mb)
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"{path}: the file is empty")
    decoded = delimiter = None
    if suffix in CSV_SUFFIXES:
        frame, decoded, delimiter = _read_csv(path, data, max_columns)
        fmt = "csv"
    elif suffix in PARQUET_SUFFIXES:
        frame, fmt = _read_parquet(path, data, max_columns), "parquet"
    else:
        frame, fmt = _read_excel(path, data, max_mb, max_columns), "excel"
    frame.columns = _trimmed(path, frame.columns)
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
        encoding=decoded.encoding if decoded else None,
        delimiter=delimiter,
        repaired_bytes=decoded.repaired if decoded else 0,
    )


def check_unique(path: Path | str, columns: Iterable[object]) -> None:
    """Refuse two columns of one name, as written or once the spaces at their ends are
    removed: which of them a role means is unknown, and pandas would silently call the
    second `City.1`, a name the file does not hold. Empty header cells are pandas'
    `Unnamed: n` and never clash."""
    names: dict[str, str] = {}
    for raw in (str(c) for c in columns if isinstance(c, str)):
        name = raw.strip()
        if name in names:
            same = (
                "the same name"
                if raw == names[name]
                else "the same name once the spaces at their ends are removed"
            )
            raise InputError(
                f"{path}: columns {names[name]!r} and {raw!r} have {same} ({name!r}); "
                "rename one of them"
            )
        names[name] = raw


def _trimmed(path: Path, columns: pd.Index) -> list[str]:
    """Column names without spaces at their ends, checked by `check_unique` first."""
    check_unique(path, columns)
    return [str(c).strip() for c in columns]
