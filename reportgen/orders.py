"""Turning an order log into a customer table, in DuckDB.

`[data] kind = "transactions"`: the input has one row per order line. DuckDB
reads the file(s) where they lie (CSV or Parquet, a glob or a folder of them),
counts what is wrong with the lines, and aggregates the valid ones per customer,
so a log of tens of millions of lines never passes through pandas; only the
customer table (one row per customer) does. That table, with columns named by
role, then goes through the same validation, segmentation and report as a
customer table.

Per customer, counted to the as-of day (default: the day after the last order):
recency (days since the last purchase), tenure (days since the first order),
frequency (distinct purchase orders), spend (net: purchases minus returns), aov
(purchase amount per purchase order), items_per_order (when there is a quantity)
and return_rate (returned or cancelled orders / all orders). A line is a return
when its quantity is negative or its order id starts with [orders] return_prefix.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from reportgen import column_names, numbers
from reportgen.config import MEMORY_MB, ORDER_ROLES, DataSettings, OrderSettings
from reportgen.engines import LOG, DuckDBEngine, duckdb_connection
from reportgen.errors import ConfigError, DataError, InputError
from reportgen.ingest import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    Dataset,
    check_size,
    check_unique,
    csv_header,
    parquet_columns,
)
from reportgen.validate import MAX_MAGNITUDE, Fix
from reportgen.wording import N_

if TYPE_CHECKING:
    import duckdb

    from reportgen.engines import SqlEngine
    from reportgen.spark_customers import HeldCustomers

CUSTOMER_ROLES = (
    "customer_id",
    "recency",
    "tenure",
    "frequency",
    "spend",
    "aov",
    "items_per_order",
    "return_rate",
)


@dataclass(frozen=True, kw_only=True)
class OrderLog:
    """The customer table built from an order log, and what was wrong with the log."""

    dataset: Dataset
    """One row per customer, columns named by role; path and sha256 are the log's."""
    lines: int
    """Order lines read."""
    fixes: tuple[Fix, ...]
    as_of: date
    columns: Mapping[str, str]
    """Order-log role -> the log's column."""
    number_formats: tuple[numbers.NumberFormat, ...] = ()
    """How each number column written as text was read."""


def files_of(source: Path) -> list[Path]:
    """The log's files: one file, every CSV or Parquet file in a folder, or a glob (only
    when no file has that very name)."""
    if source.is_dir():
        found = sorted(p for p in source.iterdir() if p.suffix.lower() in _SUFFIXES)
    elif source.exists():  # a file by its own name, even `orders[2026].csv`
        found = [source]  # a pipe or device is refused by check_size, by name
    elif any(ch in str(source) for ch in "*?["):
        pattern = source if source.is_absolute() else Path.cwd() / source
        anchor = Path(pattern.anchor)
        found = sorted(p for p in anchor.glob(str(pattern.relative_to(anchor))) if p.is_file())
    else:
        raise InputError(f"{source}: file not found")
    if not found:
        raise InputError(f"{source}: no .csv or .parquet files there")
    kinds = {p.suffix.lower() in PARQUET_SUFFIXES for p in found}
    unknown = [p for p in found if p.suffix.lower() not in _SUFFIXES]
    if unknown or len(kinds) > 1:
        raise InputError(
            f"{source}: an order log is CSV files or Parquet files, not a mix "
            f"({', '.join(p.name for p in found[:5])})"
        )
    return found


_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES


def sha256_of(files: list[Path]) -> str:
    """One digest of the files read one after another (of a single file, its own sha256,
    as a customer table's)."""
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as handle:
            hashlib.file_digest(handle, lambda: digest)  # adds to `digest`, block by block
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _day(day: date) -> str:
    return f"DATE {_literal(str(day))}"


_GLOB = re.compile(r"[*?\[]")


def _paths(files: list[Path]) -> str:
    """The files as a DuckDB list of literal paths. DuckDB expands every name in the list
    as a glob pattern, so "[a].csv" would read "a.csv" instead; wrapping each *, ? and [
    in brackets makes it match only itself."""
    escaped = (_GLOB.sub(lambda found: f"[{found.group()}]", str(path)) for path in files)
    return "[" + ", ".join(map(_literal, escaped)) + "]"


_LINE_SAMPLE = 64 * 1024
"""How much of a CSV log is read to tell its line ends (CRLF or LF)."""


def _line_end(head: bytes) -> str:
    """How the header line ends, CRLF (Excel) or LF, as DuckDB's `new_line` spells it.

    DuckDB's sniffer cannot tell a CRLF file from a line break inside a quoted header
    name unless it is told; a CR or LF inside quotes is part of a name, not the end."""
    quoted = False
    for position, byte in enumerate(head):
        if byte == ord('"'):
            quoted = not quoted
        elif byte == ord("\n") and not quoted:
            return "\\r\\n" if head[position - 1 : position] == b"\r" else "\\n"
    return "\\n"


def _reader(source: Path, files: list[Path], max_columns: int) -> tuple[str, str | None]:
    """The SQL that reads the log's files, once their columns are counted.

    Every file's columns are counted before DuckDB opens any (thousands of columns cost
    DuckDB gigabytes), each on its own and all of them together, as union_by_name joins
    them: a Parquet file from its footer, a CSV file's whole header with the customer
    table's own csv_header. DuckDB is then given the dialect that was counted (that
    file's delimiter, double quotes, no lines skipped, no comment lines), so it reads
    the same header instead of sniffing one of its own, such as a later line. Also
    returns the CSV files' delimiter when they share one (it can tell how numbers are
    written, see numbers.py).
    """
    names: set[str] = set()
    groups: dict[tuple[str, str], list[Path]] = {}  # (delimiter, line end) -> its CSV files
    for path in files:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            columns = parquet_columns(path, path, max_columns)
            check_unique(path, columns)
            names.update(columns)
            continue
        try:
            with path.open("rb") as stream:
                line_end = _line_end(stream.read(_LINE_SAMPLE))
                stream.seek(0)
                delimiter, header = csv_header(stream, "utf-8-sig", path, max_columns)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
        check_unique(path, header)
        names.update(header)
        groups.setdefault((delimiter, line_end), []).append(path)
    if len(names) > max_columns:
        raise InputError(
            f"{source}: its files have {len(names):,} different columns together, over the "
            f"limit of [data] max_columns = {max_columns}; is this the right folder? Raise "
            "the limit if it is"
        )
    if not groups:
        return f"read_parquet({_paths(files)}, union_by_name = true)", None
    reads = (
        f"SELECT * FROM read_csv({_paths(group)}, header = true, all_varchar = true, "
        f"union_by_name = true, delim = {_literal(delimiter)}, quote = '\"', escape = '\"', "
        f"skip = 0, comment = '', new_line = {_literal(line_end)})"
        for (delimiter, line_end), group in groups.items()
    )
    delimiters = {delimiter for delimiter, _ in groups}
    shared = delimiters.pop() if len(delimiters) == 1 else None
    return "(" + " UNION ALL BY NAME ".join(reads) + ")", shared


_ADVICE = ("The search space", "Possible ")
"""Where DuckDB's account of an error ends and its advice to DuckDB's own users begins."""


def _engine_error(source: Path, exc: duckdb.Error) -> InputError:
    """A DuckDB error as one line naming the log: DuckDB's account of what is wrong (up
    to the first blank line or piece of advice; what follows is advice, the query and
    the dialect), without the offending line of data, which may be long or hold
    anything; and the file, when DuckDB names one that is not the log itself."""
    lines = str(exc).strip().splitlines()
    said = itertools.takewhile(lambda line: line.strip() and not line.startswith(_ADVICE), lines)
    detail = " ".join(line.strip() for line in said if not line.startswith("Original Line:"))
    named = [line.split("=", 1)[1].strip() for line in lines if line.strip().startswith("file =")]
    where = f" (in {named[0]})" if named and named[0] != str(source) else ""
    return InputError(
        f"{source}: cannot be read as an order log: {detail}{where}", values=(detail,)
    )


def _infer(columns: list[str], explicit: Mapping[str, str]) -> dict[str, str]:
    """Order-log role -> column: explicit ones checked, the rest guessed by name the way a
    customer table's roles are (column_names.best_column against [orders.<role>] of
    column_names.toml), each role in the order of ORDER_ROLES taking its best match
    among the columns still free."""
    for role, column in explicit.items():
        if column not in columns:
            raise ConfigError(
                f"[orders] {role} = {column!r}: no such column; the log has "
                f"{', '.join(map(repr, columns))}"
            )
    found = dict(explicit)
    for role in ORDER_ROLES:
        if role in found:
            continue
        free = [c for c in columns if c not in found.values()]
        best = column_names.best_column(column_names.order_names(role), free)
        if best is not None:
            found[role] = best
    missing = [r for r in ("customer_id", "order_date") if r not in found]
    if "amount" not in found and not {"quantity", "unit_price"} <= found.keys():
        missing.append("amount (or quantity and unit_price)")
    if missing:
        raise ConfigError(
            f"the order log needs a column for {', '.join(missing)}; name them in [orders] "
            f"(columns: {', '.join(map(repr, columns))})"
        )
    return found


def _day_expression(column: str, kind: str, date_format: str | None) -> str:
    col = _quote(column)
    if date_format:
        return f"CAST(try_strptime(CAST({col} AS VARCHAR), {_literal(date_format)}) AS DATE)"
    if kind.startswith(("DATE", "TIMESTAMP")):
        return f"CAST({col} AS DATE)"
    if kind in ("BIGINT", "INTEGER", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL") or kind.startswith(
        "DECIMAL"
    ):  # epoch seconds, or milliseconds when too large for seconds
        value = f"CAST({col} AS DOUBLE)"
        seconds = f"CASE WHEN {value} > 1e11 THEN {value} / 1000 ELSE {value} END"
        return f"CAST(to_timestamp({seconds}) AS DATE)"
    text = f"TRIM(CAST({col} AS VARCHAR))"
    day = f"replace(regexp_extract({text}, {_literal(ISO_DAY)}, 0), '/', '-')"
    return (
        f"CASE WHEN regexp_matches({text}, {_literal(ISO_TEXT)}) "
        f"THEN CAST(TRY_CAST({day} AS TIMESTAMP) AS DATE) END"
    )


ISO_DAY = "^[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}([ T]([01]?[0-9]|2[0-3]):[0-9]{2}(:[0-9]{2})?)?"
"""The part of a text date that is cast: the day and the time, without a fraction (it
never changes the day) or a zone (the day is the one written: engines and their
versions disagree on converting it; DuckDB 1.1 moved 23:30-02:00 to the next day, DuckDB
2.0 and Spark did not)."""
ISO_TEXT = ISO_DAY + "([.][0-9]+)?( ?(Z|UTC|GMT|[+-][0-9]{2}(:?[0-9]{2})?))?$"
"""The dates read as text without [data] date_format: ISO days (with - or /), with or
without a time (hours 0-23), a fraction and a zone; spaces around them ignored. Each
engine's own cast reads more (Spark: "2026" and "2026-01"; DuckDB: "24:00:00", named
zones), and differently; within this pattern both read the same day."""


PLACEHOLDER_DAYS = (
    date(1, 1, 1),
    date(1753, 1, 1),
    date(1899, 12, 30),
    date(1899, 12, 31),
    date(1900, 1, 1),
    date(1970, 1, 1),
)
"""Days that exports write for "no date": zero dates of databases, spreadsheets and clocks."""
_PLACEHOLDER_SQL = ", ".join(map(_day, PLACEHOLDER_DAYS))
BULK_SPANS = 4
"""A line is far from the bulk of the log when it precedes its first quartile day, or
follows its third, by more than this many interquartile spans (and at least MIN_REACH)."""
MIN_REACH = timedelta(days=730)


def _quartiles(days: list[tuple[date, int]]) -> tuple[date, date]:
    """The first and third quartile days of lines counted per day (lower quartile values,
    as quantile_disc gives them)."""
    total = sum(count for _, count in days)
    found, seen = [], 0
    targets = [0.25 * total, 0.75 * total]
    for day, count in days:
        seen += count
        while targets and seen >= targets[0]:
            found.append(day)
            targets.pop(0)
    return found[0], found[1]


def _date_bounds(engine: SqlEngine, limit: date, settings: OrderSettings) -> tuple[date, date]:
    """The earliest and latest day an order line may have.

    Far before or after the bulk of the log (its quartile days) a line is a stray: a
    real history of any age and length is kept, while a line decades before the rest,
    or one that would move the as-of day years past everyone's last order, is caught.
    [orders] min_date replaces the earliest day; [orders] as_of, when later, the latest.
    """
    # Lines per day (a few thousand days, however many lines) give exact quartiles
    # without sorting the lines themselves.
    days = engine.rows(
        f"""
        SELECT day, COUNT(*) FROM lines WHERE customer_id IS NOT NULL
        AND day <= {_day(limit)} AND day NOT IN ({_PLACEHOLDER_SQL})
        GROUP BY day ORDER BY day
        """
    )
    earliest = date(1, 1, 2)
    if not days:
        return settings.min_date or earliest, limit
    low, high = _quartiles(days)
    reach = max(BULK_SPANS * (high - low), MIN_REACH)
    floor = low - reach if low - earliest > reach else earliest
    ceiling = high + reach if limit - high > reach else limit
    if settings.as_of is not None:
        ceiling = min(max(ceiling, settings.as_of), limit)
    return settings.min_date or floor, ceiling


_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")


_NUMBER_ROLES = ("amount", "quantity", "unit_price")


@dataclass(frozen=True, kw_only=True)
class _Log:
    """The order log as the SQL reads it."""

    source: str
    """The log's path or URI, as messages name it."""
    delimiter: str | None
    """The delimiter the CSV files share, if they share one."""
    types: Mapping[str, str]
    """Column -> its DuckDB type."""
    roles: Mapping[str, str]
    """Order-log role -> column."""


def _row(engine: SqlEngine, query: str) -> tuple[Any, ...]:
    """The one row of an aggregate query without GROUP BY (it always has one)."""
    (row,) = engine.rows(query)
    return row


def _count(engine: SqlEngine, query: str) -> int:
    """The number a COUNT(*) query gives."""
    count: int = _row(engine, query)[0]
    return count


def _numbers(
    engine: SqlEngine, log: _Log, settings: numbers.Settings
) -> tuple[dict[str, str], tuple[numbers.NumberFormat, ...]]:
    """The SQL of each number role's value, and how its text was read.

    Native numbers are taken as they are. A column of text is read as the customer
    table's are (numbers.py): its distinct values are read here, each column with the
    convention its values show, and the lines look their value up in that table, so
    "481,02" is never 48102 and "3.562" never a guess.
    """
    expressions: dict[str, str] = {}
    texts = []
    for role in _NUMBER_ROLES:
        if role not in log.roles:
            continue
        column = log.roles[role]
        kind = log.types[column]
        if kind.startswith(("DECIMAL", "U")) or kind in _NUMERIC_TYPES:
            expressions[role] = f"CAST({_quote(column)} AS DOUBLE)"
        else:
            texts.append(role)
    shapes = _text_shapes(engine, log, texts)

    def file_mark() -> str | None:
        marks = {numbers.evidence(column.counts()) for column in shapes.values()} - {None}
        return marks.pop() if len(marks) == 1 else None

    context = numbers.Context(settings, file_mark, log.delimiter)
    formats = []
    for role, column_shapes in shapes.items():
        column = log.roles[role]
        try:
            number_format = numbers.decide(column, role, column_shapes, context)
        except DataError as exc:
            raise DataError(f"{log.source}: {exc}", values=exc.values) from None
        if column_shapes.separated:
            formats.append(number_format)
        expressions[role] = _number_lookup(engine, role, column, column_shapes, number_format)
    return expressions, tuple(formats)


def _text_shapes(engine: SqlEngine, log: _Log, roles: list[str]) -> dict[str, numbers.Shapes]:
    """Each text number role's distinct values, all of them in one pass over the log."""
    if not roles:
        return {}
    picked = ", ".join(
        f"CAST({_quote(log.roles[role])} AS VARCHAR) AS v{i}" for i, role in enumerate(roles)
    )
    names = [f"v{i}" for i in range(len(roles))]
    distinct = engine.frame(
        f"SELECT {', '.join(names)}, {', '.join(f'GROUPING({n})' for n in names)} "
        f"FROM (SELECT {picked} FROM {LOG}) "
        f"GROUP BY GROUPING SETS ({', '.join(f'({n})' for n in names)})"
    )
    shapes = {}
    for i, role in enumerate(roles):
        values = distinct.iloc[:, i][
            (distinct.iloc[:, len(roles) + i] == 0) & distinct.iloc[:, i].notna()
        ]
        shapes[role] = numbers.Shapes.of(values.astype(str))
    return shapes


def _number_lookup(
    engine: SqlEngine,
    role: str,
    column: str,
    shapes: numbers.Shapes,
    number_format: numbers.NumberFormat,
) -> str:
    """The SQL of a text column's value: its text looked up in a table of the distinct
    texts and the numbers they were read as."""
    table = f"numbers_{role}"
    # An Arrow table, not a DataFrame: DuckDB 1.1 cannot read pandas 3's str dtype.
    values = pa.table(
        {
            "raw": pa.array(shapes.values.astype(str).tolist(), pa.string()),
            "value": pa.array(shapes.parse(numbers.convention_of(number_format)), pa.float64()),
        }
    )
    engine.register(table, values)
    # MAX of the one value: Spark takes a correlated subquery only when it aggregates.
    return f"(SELECT MAX(value) FROM {table} WHERE raw = CAST({_quote(column)} AS VARCHAR))"


def read_orders(
    source: Path,
    settings: OrderSettings,
    data: DataSettings,
    today: date | None = None,
    memory_mb: int = MEMORY_MB,
) -> OrderLog:
    """Read and check the order log at `source` and aggregate it per customer, in DuckDB
    (within `memory_mb`, [engine] memory_mb)."""
    import duckdb

    files = files_of(source)
    check_size(files, data.max_file_mb)
    parquet = files[0].suffix.lower() in PARQUET_SUFFIXES
    reader, delimiter = _reader(source, files, data.max_columns)
    try:
        with duckdb_connection(memory_mb) as con:
            engine = DuckDBEngine(con, reader)
            built = aggregate(engine, str(source), delimiter, settings, data, today)
    except duckdb.InterruptException:
        raise  # Ctrl-C, not the data
    except duckdb.OutOfMemoryException:
        raise InputError(
            f"{source}: the order log needs more than [engine] memory_mb = {memory_mb:,} MB "
            "(and the temporary disk space DuckDB spills to); raise it"
        ) from None
    except duckdb.Error as exc:  # bad bytes, dates or types found late, deep in the log
        raise _engine_error(source, exc) from None
    file_format = "parquet" if parquet else "csv"
    read_by = {"name": "local", "duckdb": duckdb.__version__}
    return built.order_log(source, sha256_of(files), file_format, read_by)


@dataclass(frozen=True)
class Aggregate:
    """What an engine made of an order log: the customer table, the roles of the log's
    columns, and how its numbers were read."""

    customers: _Customers
    roles: Mapping[str, str]
    formats: tuple[numbers.NumberFormat, ...]

    def order_log(
        self,
        path: Path | str,
        sha256: str,
        file_format: str,
        engine: Mapping[str, str],
        held: HeldCustomers | None = None,
    ) -> OrderLog:
        """The log as the pipeline takes it, with where and by what it was read; `held`:
        the customers, when the engine keeps them (Dataset.held)."""
        frame = held.sample if held is not None else self.customers.frame
        assert frame is not None  # aggregate collects unless the engine holds them
        dataset = Dataset(
            frame=frame,
            path=path,
            sha256=sha256,
            format=file_format,
            order_columns=self.roles,
            engine=engine,
            held=held,
        )
        return OrderLog(
            dataset=dataset,
            lines=self.customers.lines,
            fixes=self.customers.fixes,
            as_of=self.customers.as_of,
            columns=self.roles,
            number_formats=self.formats,
        )


def aggregate(
    engine: SqlEngine,
    source: str,
    delimiter: str | None,
    settings: OrderSettings,
    data: DataSettings,
    today: date | None = None,
) -> Aggregate:
    """Check the log the engine reads as `log` and build its customer table: the one
    definition of the order-log features, whichever engine runs it. `source` names the
    log in messages; `delimiter` is the CSV files' (numbers.py may read it)."""
    types = engine.types()
    log = _Log(
        source=source,
        delimiter=delimiter,
        types=types,
        roles=_infer(list(types), settings.columns),
    )
    number, formats = _numbers(engine, log, data.numbers)
    customers = _aggregate(engine, log, number, settings, data.date_format, today)
    return Aggregate(customers, log.roles, formats)


@dataclass(frozen=True)
class _Customers:
    """The customer table built from the log's valid lines, and what the checks left out."""

    frame: pd.DataFrame | None
    """None when the engine holds the table (SqlEngine.holds)."""
    lines: int
    """Order lines read."""
    fixes: tuple[Fix, ...]
    as_of: date


@dataclass(frozen=True)
class _Days:
    """The days a line's date is judged by."""

    today: date
    """No line may be later."""
    floor: date
    """The earliest day a line may have (_date_bounds)."""
    ceiling: date
    """The latest."""

    @property
    def accepted(self) -> str:
        """The SQL condition of a day within the bounds that is not a placeholder."""
        return (
            f"day BETWEEN {_day(self.floor)} AND {_day(self.ceiling)} "
            f"AND day NOT IN ({_PLACEHOLDER_SQL})"
        )


@dataclass(frozen=True, kw_only=True)
class _Dropped:
    """What the checks left out, each a Fix when it is not 0: order lines, then customers."""

    duplicates: int = 0
    missing_id: int = 0
    undated: int = 0
    future: int = 0
    placeholder: int = 0
    too_old: int = 0
    too_late: int = 0
    no_amount: int = 0
    non_positive: int = 0
    after_as_of: int = 0
    returns_only: int = 0
    negative: int = 0


def _aggregate(
    engine: SqlEngine,
    log: _Log,
    number: Mapping[str, str],
    settings: OrderSettings,
    date_format: str | None,
    today: date | None,
) -> _Customers:
    """Count the log's problems and build the customer table from its valid lines
    (`number`: each number role's SQL, from _numbers); in memory unless the engine
    holds it (SqlEngine.holds; customer_query reads it)."""
    lines, unique = _load_lines(
        engine, log, _line_values(log, number, settings, date_format), settings
    )
    limit = today or date.today()
    days = _Days(limit, *_date_bounds(engine, limit, settings))
    dropped, last_day = _count_lines(engine, days)
    as_of = _as_of(log.source, dropped, last_day, days, settings)
    keep_non_positive = settings.invalid_amounts == "keep"
    after_as_of = _count(
        engine,
        f"SELECT COUNT(*) FROM lines WHERE customer_id IS NOT NULL AND day >= {_day(as_of)} "
        f"AND day <= {_day(days.ceiling)}",
    )
    valid = f"""
        customer_id IS NOT NULL AND amount IS NOT NULL AND {days.accepted}
        AND day < {_day(as_of)}
        {"" if keep_non_positive else "AND (is_return OR amount > 0)"}
    """
    _create_customers(engine, valid, as_of)
    returns_only, negative = _row(
        engine,
        "SELECT COUNT(*) FILTER (WHERE frequency = 0), "
        "COUNT(*) FILTER (WHERE frequency > 0 AND spend < 0) FROM customers",
    )
    frame = None if engine.holds else customer_frame(engine, "quantity" in log.roles)
    dropped = replace(
        dropped,
        duplicates=lines - unique,
        non_positive=0 if keep_non_positive else dropped.non_positive,
        after_as_of=after_as_of,
        returns_only=returns_only,
        negative=negative,
    )
    fixes = _fixes(log.roles, dropped, settings, date_format, days, as_of)
    return _Customers(frame, lines, fixes, as_of)


def _line_values(
    log: _Log, number: Mapping[str, str], settings: OrderSettings, date_format: str | None
) -> str:
    """The SELECT list of an order line as the checks and the aggregation read it: its
    customer id, day, order id, amount, quantity, and whether it is a return."""
    roles = log.roles
    has_quantity = "quantity" in roles
    amount = (
        number["amount"]
        if "amount" in roles
        else f"({number['quantity']} * {number['unit_price']})"
    )
    # Typed NULLs: DuckDB before 1.2 types a bare NULL as INTEGER, and COALESCE with the
    # day's text then fails to bind.
    quantity = number["quantity"] if has_quantity else "CAST(NULL AS DOUBLE)"
    day = _day_expression(roles["order_date"], log.types[roles["order_date"]], date_format)
    order_id = (
        f"NULLIF(TRIM(CAST({_quote(roles['order_id'])} AS VARCHAR)), '')"
        if "order_id" in roles
        else "CAST(NULL AS VARCHAR)"
    )
    marks = []
    if has_quantity:
        marks.append(f"COALESCE({quantity} < 0, false)")
    if settings.return_prefix and "order_id" in roles:
        marks.append(
            f"COALESCE(starts_with({order_id}, {_literal(settings.return_prefix)}), false)"
        )
    is_return = " OR ".join(marks) or "false"
    return f"""
        NULLIF(TRIM(CAST({_quote(roles["customer_id"])} AS VARCHAR)), '') AS customer_id,
        {day} AS day,
        {order_id} AS order_id,
        {amount} AS amount,
        {quantity} AS quantity,
        {is_return} AS is_return
    """


def _load_lines(
    engine: SqlEngine, log: _Log, values: str, settings: OrderSettings
) -> tuple[int, int]:
    """Read the log's lines into the table `lines` (`values`: their SELECT list), each
    identical line once unless [orders] duplicates = "keep"; the lines read, and the
    unique ones."""
    base = f"(SELECT DISTINCT * FROM {LOG})" if settings.duplicates == "drop" else LOG
    # A figure beyond ±MAX_MAGNITUDE (a sentinel such as 1e308, infinity, NaN) is an
    # unreadable one, as in a customer table: its line's amount is missing (counted and
    # dropped with the other unreadable amounts), never a sum of inf or NaN.
    limit = f"CAST({MAX_MAGNITUDE!r} AS DOUBLE)"
    engine.materialize(
        "lines",
        f"""
        SELECT customer_id, day, order_id,
            CASE WHEN ABS(amount) <= {limit} THEN amount END AS amount,
            CASE WHEN ABS(quantity) <= {limit} THEN quantity END AS quantity,
            is_return
        FROM (SELECT {values} FROM {base})
        """,
    )
    lines = _count(engine, f"SELECT COUNT(*) FROM {LOG}")
    if lines == 0:
        raise DataError(f"{log.source}: the order log has a header but no lines")
    if settings.duplicates == "keep":
        return lines, lines
    return lines, _count(engine, "SELECT COUNT(*) FROM lines")


def _count_lines(engine: SqlEngine, days: _Days) -> tuple[_Dropped, date | None]:
    """The lines each check of ids, dates and amounts drops, and the last day of a line
    with an id and an accepted day (None when no line has both)."""
    has_id = "customer_id IS NOT NULL"
    today, floor, ceiling = _day(days.today), _day(days.floor), _day(days.ceiling)
    (
        missing_id,
        undated,
        future,
        placeholder,
        too_old,
        too_late,
        no_amount,
        non_positive,
        last_day,
    ) = _row(
        engine,
        f"""
        SELECT
            COUNT(*) FILTER (WHERE customer_id IS NULL),
            COUNT(*) FILTER (WHERE {has_id} AND day IS NULL),
            COUNT(*) FILTER (WHERE {has_id} AND day > {today}),
            COUNT(*) FILTER (WHERE {has_id} AND day IN ({_PLACEHOLDER_SQL})),
            COUNT(*) FILTER (WHERE {has_id} AND day NOT IN ({_PLACEHOLDER_SQL})
                             AND day < {floor}),
            COUNT(*) FILTER (WHERE {has_id} AND day > {ceiling} AND day <= {today}),
            COUNT(*) FILTER (WHERE {has_id} AND day IS NOT NULL AND amount IS NULL),
            COUNT(*) FILTER (WHERE {has_id} AND NOT is_return AND amount <= 0),
            MAX(day) FILTER (WHERE {has_id} AND {days.accepted})
        FROM lines
        """,
    )
    dropped = _Dropped(
        missing_id=missing_id,
        undated=undated,
        future=future,
        placeholder=placeholder,
        too_old=too_old,
        too_late=too_late,
        no_amount=no_amount,
        non_positive=non_positive,
    )
    return dropped, last_day


def _as_of(
    source: str, dropped: _Dropped, last_day: date | None, days: _Days, settings: OrderSettings
) -> date:
    """The day recency and tenure are counted to: [orders] as_of, else the day after the
    last accepted line. A DataError when lines after today are an error
    ([orders] future_dates), or when no line is left to count."""
    if dropped.future and settings.future_dates == "error":
        raise DataError(
            f"{source}: {dropped.future:,} order lines are dated after {days.today} (today); "
            'fix the dates, or set [orders] future_dates = "drop"'
        )
    if last_day is None:
        raise DataError(
            f"{source}: no order line has a customer id, a readable date from {days.floor} to "
            f"{days.ceiling} (not a placeholder such as 1900-01-01) and an amount; check the "
            "column names in [orders], the date format in [data] date_format, and the "
            "earliest accepted day in [orders] min_date"
        )
    return settings.as_of or last_day + timedelta(days=1)


SUM_DECIMALS = 10
"""Amounts and quantities are summed as exact decimals with this many places (_sum)."""


def _sum(expression: str) -> str:
    """SQL for the exact sum of `expression`, as a decimal: the same value whatever order
    the rows arrive in. (Adding floats in another order can change the last digit; adding
    each group's values in sorted order instead took twice as long and 70% more memory
    on three million lines.) Every value is within ±MAX_MAGNITUDE (_load_lines), so no
    sum can leave the decimal's range."""
    return f"SUM(CAST({expression} AS DECIMAL(38, {SUM_DECIMALS})))"


def _create_customers(engine: SqlEngine, valid: str, as_of: date) -> None:
    """The table `customers`: one row per customer from the lines that are `valid`.

    Lines to orders first, then orders to customers: no COUNT(DISTINCT) over lines. An
    order with both bought and returned lines counts as a purchase and a return. Every
    sum is exact (_sum): a float sum depends on the order of addition, and DuckDB's
    threads meet the lines in an order of their own, so float sums gave figures that
    differ in their last digit with the number of cores or the order of the log's lines
    (and brief.json with them).
    """
    engine.materialize(
        "customers",
        f"""
        WITH orders AS (
            SELECT
                customer_id,
                MIN(day) AS first_day,
                MAX(day) FILTER (WHERE NOT is_return) AS bought_day,
                BOOL_OR(NOT is_return) AS bought,
                BOOL_OR(is_return) AS returned,
                {_sum("CASE WHEN is_return THEN -ABS(amount) ELSE amount END")} AS net,
                {_sum("amount")} FILTER (WHERE NOT is_return) AS value,
                {_sum("quantity")} FILTER (WHERE NOT is_return) AS units
            FROM lines WHERE {valid}
            GROUP BY customer_id, COALESCE(order_id, CAST(day AS VARCHAR))
        )
        SELECT
            customer_id,
            date_diff('day', MAX(bought_day), {_day(as_of)}) AS recency,
            date_diff('day', MIN(first_day), {_day(as_of)}) AS tenure,
            COUNT(*) FILTER (WHERE bought) AS frequency,
            CAST({_sum("net")} AS DOUBLE) AS spend,
            CAST({_sum("value")} AS DOUBLE) / NULLIF(COUNT(*) FILTER (WHERE bought), 0) AS aov,
            CAST({_sum("units")} AS DOUBLE) / NULLIF(COUNT(*) FILTER (WHERE bought), 0)
                AS items_per_order,
            COUNT(*) FILTER (WHERE returned) / COUNT(*) AS return_rate
        FROM orders
        GROUP BY customer_id
        """,
    )


def customer_query(has_quantity: bool) -> str:
    """The customers who bought and did not return more than they bought, columns named
    by role (items_per_order only when the log has a quantity), in customer-id order."""
    columns = [c for c in CUSTOMER_ROLES if has_quantity or c != "items_per_order"]
    return (
        f"SELECT {', '.join(columns)} FROM customers WHERE frequency > 0 AND spend >= 0 "
        "ORDER BY customer_id"
    )


def customer_frame(engine: SqlEngine, has_quantity: bool) -> pd.DataFrame:
    """customer_query's table, in memory."""
    frame = engine.frame(customer_query(has_quantity))
    frame["customer_id"] = frame["customer_id"].astype("string")
    return frame


@dataclass(frozen=True)
class _Check:
    """One check of the log, as its Fix says it."""

    code: str
    role: str | None
    action: str
    """A message id of the wording catalogue; %(today)s, %(floor)s, %(ceiling)s and
    %(as_of)s are filled with those days."""


_DUPLICATE = _Check("duplicate_line", None, N_("identical order lines counted once"))
_NO_ID = _Check("missing_id", "customer_id", N_("order lines without a customer id dropped"))
_UNDATED = _Check("unreadable", "order_date", N_("lines with an unreadable date dropped"))
_UNDATED_NUMBERS = _Check(  # dates such as 20261130 may be why they are unread
    "unreadable",
    "order_date",
    N_(
        "lines with an unreadable date dropped (if dates are numbers such as "
        '20261130, set [data] date_format = "%%Y%%m%%d")'
    ),
)
_FUTURE = _Check("future", "order_date", N_("order lines dated after today (%(today)s) dropped"))
_PLACEHOLDER = _Check(
    "placeholder",
    "order_date",
    N_(
        "order lines with a placeholder date (1900-01-01, 1970-01-01, 0001-01-01 and the "
        "like) dropped"
    ),
)
_BEFORE_MIN_DATE = _Check(
    "too_old", "order_date", N_("order lines dated before [orders] min_date (%(floor)s) dropped")
)
_FAR_BEFORE = _Check(
    "too_old",
    "order_date",
    N_(
        "order lines dated before %(floor)s, far before the bulk of the log, "
        "dropped (set [orders] min_date to choose the earliest day)"
    ),
)
_FAR_AFTER = _Check(
    "too_late",
    "order_date",
    N_(
        "order lines dated after %(ceiling)s, far after the bulk of the log, dropped "
        "(set [orders] as_of to a later day to keep them)"
    ),
)
_AFTER_AS_OF = _Check(
    "after_as_of", "order_date", N_("lines on or after the as-of day %(as_of)s left out")
)
_NO_AMOUNT = _Check("unreadable", "amount", N_("order lines with an unreadable amount dropped"))
_NOT_POSITIVE = _Check(
    "impossible",
    "amount",
    N_("order lines with a zero or negative amount that are not returns dropped"),
)
_RETURNS_ONLY = _Check("returns_only", None, N_("customers with returns but no purchase left out"))
_NEGATIVE = _Check("negative_spend", None, N_("customers returning more than they bought left out"))


def _fixes(
    roles: Mapping[str, str],
    dropped: _Dropped,
    settings: OrderSettings,
    date_format: str | None,
    days: _Days,
    as_of: date,
) -> tuple[Fix, ...]:
    """A Fix for each check that left something out, in the order the checks run."""
    found = (
        (_DUPLICATE, dropped.duplicates),
        (_NO_ID, dropped.missing_id),
        (_UNDATED_NUMBERS if date_format is None else _UNDATED, dropped.undated),
        (_FUTURE, dropped.future),
        (_PLACEHOLDER, dropped.placeholder),
        (_BEFORE_MIN_DATE if settings.min_date else _FAR_BEFORE, dropped.too_old),
        (_FAR_AFTER, dropped.too_late),
        (_AFTER_AS_OF, dropped.after_as_of),
        (_NO_AMOUNT, dropped.no_amount),
        (_NOT_POSITIVE, dropped.non_positive),
        (_RETURNS_ONLY, dropped.returns_only),
        (_NEGATIVE, dropped.negative),
    )
    dated = {"today": days.today, "floor": days.floor, "ceiling": days.ceiling, "as_of": as_of}
    columns = dict(roles)
    if "amount" not in columns:
        columns["amount"] = f"{roles['quantity']} × {roles['unit_price']}"
    return tuple(
        Fix(
            code=check.code,
            role=check.role,
            column=columns.get(check.role) if check.role else None,
            count=count,
            action=check.action,
            params={name: str(day) for name, day in dated.items() if f"%({name})s" in check.action},
        )
        for check, count in found
        if count
    )
