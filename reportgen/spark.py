"""The Spark engine: an order log that lives in a cluster, aggregated there.

With `[engine] name = "spark"` an order log is read by Spark (a path or any URI Spark
reads, or a table of the session's catalog) and checked and aggregated per customer
by Spark, running the same SQL as the local engine (orders.py, DuckDB's dialect)
after SQLGlot has transpiled it to Spark SQL. Only what is small reaches this
process: the counts of the checks, lines per day, the distinct texts of number
columns written as text, and the customer table.

The session is built from [spark]: `master` (a cluster manager, `local[*]` by
default) or `remote` (a Spark Connect server). PySpark is an optional dependency
(`pip install 'reportgen[spark]'`), imported only here.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from reportgen.config import Config, SparkSettings
from reportgen.config_checks import URI
from reportgen.engines import LOG
from reportgen.errors import ConfigError, EngineError, InputError
from reportgen.ingest import CSV_SUFFIXES, PARQUET_SUFFIXES, check_unique, csv_header
from reportgen.orders import (
    CUSTOMER_ROLES,
    Aggregate,
    OrderLog,
    aggregate,
    customer_frame,
    customer_query,
    sha256_of,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from reportgen.spark_customers import HeldCustomers

INSTALL = "pip install 'reportgen[spark]'"
DEFAULT_CONF = {
    # Days are counted in UTC, as DuckDB counts them; epoch numbers and timestamps
    # would otherwise fall on the cluster's local day.
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
}
"""Settings every session gets unless [spark.conf] gives its own."""

LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")
_HEAD_LINES = 64
"""Lines of a CSV log read to find its delimiter and header."""


def session(settings: SparkSettings) -> SparkSession:
    """The Spark session [spark] describes (the active one, if it is already running).

    A ConfigError (exit 2) when PySpark or Java is missing, an EngineError (exit 3)
    when the cluster cannot be reached."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            f'[engine] name = "spark" needs PySpark 4 and Java 17 or later: {INSTALL}'
        ) from None
    if settings.remote is None and SUBMITTED not in os.environ:
        _check_java()
    builder = SparkSession.builder.appName(settings.app_name)
    if settings.remote is not None:
        _reach(settings.remote)
        builder = builder.remote(settings.remote)
    elif SUBMITTED not in os.environ:
        builder = builder.master(settings.master)  # under spark-submit, its --master rules
    for key, value in {**DEFAULT_CONF, **_local_conf(settings), **settings.conf}.items():
        builder = builder.config(key, value)
    where = settings.remote or settings.master
    try:
        with _quiet():
            spark = builder.getOrCreate()
            spark.version  # noqa: B018  (Spark Connect connects on first use)
    except Exception as exc:  # the JVM's or gRPC's own errors, of many kinds
        raise EngineError(
            f"Spark at {where} could not be started or reached: {_said(exc)}"
        ) from None
    return spark


def _local_conf(settings: SparkSettings) -> dict[str, str]:
    """Settings for a Spark that this process starts on this machine (local mode; a
    cluster, a Connect server and spark-submit keep their own): its log off
    (spark_log4j2.properties), and fewer shuffle partitions: Spark's 200 suit a cluster,
    and a small log spent most of its time on empty tasks (32 s for 20,000 lines, 13 s
    with 4)."""
    if settings.remote is not None or SUBMITTED in os.environ:
        return {}
    if not settings.master.startswith("local"):
        return {}
    return {
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
        "spark.sql.shuffle.partitions": str(2 * (os.cpu_count() or 1)),
    }


SUBMITTED = "PYSPARK_GATEWAY_PORT"
"""Set when spark-submit started this process (and its JVM, with the master it was
given); [spark] master would otherwise replace that master with its own."""
JAVA = (
    '[engine] name = "spark" runs Spark on this machine, which needs Java 17 or later: '
    "install a JDK (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
)


def _check_java() -> None:
    """Refuse, in one line, a machine whose Java Spark cannot start: none, a JAVA_HOME
    that holds none, or one older than 17 (PySpark itself says only that the Java
    gateway exited)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None:
        raise ConfigError(JAVA)
    try:
        said = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        raise ConfigError(f"{JAVA} ({java} does not run)") from None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', said)
    major = int(found.group(1)) if found else 0
    if major == 1 and found and found.group(2):  # "1.8.0": Java 8
        major = int(found.group(2))
    if major < 17:
        raise ConfigError(f"{JAVA} (found {said.strip().splitlines()[0] if said else java})")


CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Spark Connect server to accept a connection."""


def _reach(remote: str) -> None:
    """Refuse, within CONNECT_TIMEOUT, a Connect server that does not answer: the client
    itself retries for many minutes before it gives up."""
    address = urlsplit(remote)
    host, port = address.hostname or "localhost", address.port or 15002
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise EngineError(f"Spark Connect at {remote} cannot be reached: {reason}") from None


@contextmanager
def _quiet() -> Iterator[None]:
    """PySpark warns that it "does not yet fully support pandas >= 3"; reportgen hands
    it Arrow tables, not pandas frames, so the warning does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        yield


_DATA_IN_ERROR = re.compile(r"(Malformed CSV record):.*?(?= SQLSTATE|$)|\s*SQLSTATE: \w+")


def _said(exc: BaseException) -> str:
    """The first line of an engine's error, without the JVM's stack trace, the line of
    data it quotes (which may be long or hold anything) or its SQLSTATE."""
    text = str(exc).strip() or type(exc).__name__
    return _DATA_IN_ERROR.sub(lambda found: found.group(1) or "", text.splitlines()[0])[:500]


def transpile(sql: str) -> str:
    """orders.py's SQL (DuckDB's dialect) as Spark SQL. DuckDB's try_strptime has no
    SQLGlot equivalent, so it becomes Spark's TRY_TO_TIMESTAMP with the pattern
    rewritten (_java_pattern)."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "try_strptime":
            value, pattern = node.expressions
            java = exp.Literal.string(_java_pattern(pattern.name))
            return exp.Anonymous(this="TRY_TO_TIMESTAMP", expressions=[value, java])
        return node

    return tree.transform(rewrite).sql(dialect="spark")


_DIRECTIVE = re.compile(r"%-?[A-Za-z]")
_NUMBERS = {"d": "d", "m": "M", "H": "H", "M": "m", "S": "s", "I": "h"}
"""strftime's number directives as Java pattern letters: one letter reads one or two
digits, as DuckDB's strptime does; two letters read exactly two (for a number directive
right beside another, as in %Y%m%d, where Java needs fixed widths to tell them apart)."""
_WORDS = {"b": "MMM", "B": "MMMM", "p": "a"}
_TAKEN = "%Y %m %d %H %M %S %I %p %b %B"


def _java_pattern(strftime: str) -> str:
    """A [data] date_format as the Java pattern Spark's try_to_timestamp reads the same
    days with; all text between directives quoted ("%%" is text: a "%"). A directive
    Spark would read differently is refused: %y (Java puts 99 in 2099, DuckDB in 1999),
    weekday names (Spark 3+ does not parse them), zones and fractions."""
    found = [each for each in _DIRECTIVE.finditer(strftime) if not _escaped(strftime, each)]
    numeric = [each.group()[-1] in _NUMBERS or each.group()[-1] == "Y" for each in found]
    parts, position = [], 0
    for i, each in enumerate(found):
        parts.append(_java_literal(strftime[position : each.start()]))
        letter = each.group()[-1]
        beside = (i + 1 < len(found) and numeric[i + 1] and found[i + 1].start() == each.end()) or (
            i > 0 and numeric[i - 1] and found[i - 1].end() == each.start()
        )
        if letter in _NUMBERS:
            parts.append(_NUMBERS[letter] * (2 if beside else 1))
        elif letter == "Y":
            parts.append("yyyy")
        elif letter in _WORDS:
            parts.append(_WORDS[letter])
        else:
            raise ConfigError(
                f"[data] date_format = {strftime!r}: {each.group()} is not read the same by "
                f"Spark; the Spark engine takes {_TAKEN} and %% for a %"
            )
        position = each.end()
    parts.append(_java_literal(strftime[position:]))
    return "".join(parts)


def _escaped(strftime: str, found: re.Match[str]) -> bool:
    """Whether a directive's % is the second of a "%%" (a literal %, then a letter)."""
    before = strftime[: found.start()]
    return (len(before) - len(before.rstrip("%"))) % 2 == 1


def _java_literal(text: str) -> str:
    """Text between directives, quoted whole ("%%" is one "%"): in a Java pattern,
    letters, brackets and # mean something."""
    text = text.replace("%%", "%")
    return "'" + text.replace("'", "''") + "'" if text else ""


_TYPES = {
    "string": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
}
"""Spark's type names as DuckDB's (orders.py decides how to read a column by them)."""


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """A small result through Arrow, with Spark's decimals as floats and its integers as
    64-bit, as DuckDB gives them."""
    table = frame.toArrow()
    columns = []
    for column in table.columns:
        if pa.types.is_decimal(column.type):
            column = pc.cast(column, pa.float64())
        elif pa.types.is_integer(column.type):
            column = pc.cast(column, pa.int64())
        columns.append(column)
    result: pd.DataFrame = pa.table(columns, names=table.column_names).to_pandas()
    return result


_KEPT: list[DataFrame] = []
"""What the run in progress has cached in Spark (one run at a time per process: the
report lock holds a run, and the CLI runs one)."""


def keep(frame: DataFrame) -> DataFrame:
    """`frame` cached in the cluster until the run ends (release)."""
    kept = frame.persist()
    _KEPT.append(kept)
    return kept


def forget(frame: DataFrame) -> None:
    """Free what `keep` cached before the run ends (once nothing will read it again)."""
    frame.unpersist()
    _KEPT[:] = [kept for kept in _KEPT if kept is not frame]


def release() -> None:
    """Free what the run cached: the session may outlive the run (a notebook's, a
    scheduler's, the tests'), and its executors' memory is not the run's to keep."""
    if not _KEPT:
        return
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    while _KEPT:
        kept = _KEPT.pop()
        with suppress(Py4JError, PySparkException):  # its session stopped: freed already
            kept.unpersist()


class SparkEngine:
    """orders.py's SQL run by Spark; what it keeps by name is cached in the cluster."""

    holds = True

    def __init__(self, spark: SparkSession, log: DataFrame) -> None:
        self._spark = spark
        self._log = log
        self._kept: list[DataFrame] = []
        log.createOrReplaceTempView(LOG)

    def _sql(self, sql: str) -> DataFrame:
        result: DataFrame = self._spark.sql(transpile(sql))
        return result

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._sql(sql).collect()]

    def frame(self, sql: str) -> pd.DataFrame:
        return to_pandas(self._sql(sql))

    def materialize(self, name: str, sql: str) -> None:
        kept = self._sql(sql).persist()
        kept.createOrReplaceTempView(name)
        self._kept.append(kept)

    def register(self, name: str, table: pa.Table) -> None:
        self._spark.createDataFrame(table).createOrReplaceTempView(name)

    def types(self) -> dict[str, str]:
        found = {}
        for each in self._log.schema.fields:
            kind = each.dataType.simpleString()
            found[each.name] = (
                kind.upper() if kind.startswith("decimal") else _TYPES.get(kind, kind)
            )
        return found

    def close(self) -> None:
        """Free what was cached; the session itself stays (it may serve another run)."""
        for kept in self._kept:
            kept.unpersist()


@dataclass(frozen=True)
class _Source:
    """The log as Spark reads it, and what the manifest records of it."""

    frame: DataFrame
    label: str
    """The path, URI or table, as messages name it."""
    format: str
    delimiter: str | None
    files: tuple[str, ...]


def _read(spark: SparkSession, source: Path | str, config: Config) -> _Source:
    """The log's lines: a table of the catalog (a name, not a URI), or the CSV or Parquet
    files at a path or URI (a file, a folder or a glob; CSV read as text, every column,
    as the local engine reads it)."""
    if isinstance(source, str) and not URI.match(source):
        frame = spark.table(source)
        return _Source(frame, source, "table", None, tuple(frame.inputFiles()))
    # A local path from this process's folder: the JVM's may differ (a session that an
    # earlier run, a notebook or a scheduler started elsewhere).
    location = str(source.absolute() if isinstance(source, Path) else source)
    files = tuple(spark.read.text(location).inputFiles())
    if not files:
        raise InputError(f"{location}: no files there")
    suffixes = {_suffix(name) for name in files}
    if suffixes <= PARQUET_SUFFIXES:
        frame = spark.read.option("mergeSchema", "true").parquet(location)
        return _Source(frame, location, "parquet", None, files)
    if not suffixes <= CSV_SUFFIXES:
        shown = ", ".join(sorted(files)[:5])
        raise InputError(f"{location}: an order log is CSV files or Parquet files ({shown})")
    head = "\n".join(row.value for row in spark.read.text(location).limit(_HEAD_LINES).collect())
    delimiter, header = csv_header(
        BytesIO(head.encode()), "utf-8-sig", location, config.data.max_columns
    )
    check_unique(location, header)
    frame = (
        spark.read.option("header", "true")
        .option("sep", delimiter)
        .option("quote", '"')
        .option("escape", '"')
        .option("multiLine", "true")
        .option("enforceSchema", "false")
        .option("mode", "FAILFAST")  # a line with more or fewer fields is an error, as in DuckDB
        .option("encoding", "UTF-8")
        .csv(location)
    )
    return _Source(frame, location, "csv", delimiter, files)


def _suffix(name: str) -> str:
    return Path(name.rsplit("/", 1)[-1]).suffix.lower()


def _digest(files: tuple[str, ...], remote: bool) -> str:
    """sha256 of the files' content when they are on this machine (as the local engine
    records it), else of their names: reading a cluster's log twice to hash it would
    double the run. (With Spark Connect, a `file:` name is on the server's disk.)"""
    local = [urlsplit(name) for name in files]
    if files and not remote and all(part.scheme == "file" for part in local):
        # In the local engine's order (files_of sorts), not Spark's listing's.
        return sha256_of(sorted(Path(unquote(part.path)) for part in local))
    return hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()


_ENGINE_FAILURE = re.compile(
    r"SparkConnectGrpcException|Py4JNetworkError|OutOfMemoryError|maxResultSize|"
    r"SparkContext was shut down|Connection refused"
)
"""Failures of Spark itself (its server or JVM gone, out of memory, a result over
spark.driver.maxResultSize): exit 3, as a cluster out of reach, not a fault of the data."""


def _failure(exc: Exception) -> str:
    """What Spark says went wrong: a JVM error's own message, not its stack trace."""
    java = getattr(exc, "java_exception", None)
    if java is not None:
        cause = java
        while cause.getCause() is not None:  # the innermost cause names the real problem
            cause = cause.getCause()
        return _said(RuntimeError(cause.getMessage() or cause.getClass().getSimpleName()))
    return _said(exc)


@contextmanager
def failures(settings: SparkSettings) -> Iterator[None]:
    """Spark failing after the log was read (the cluster gone, out of memory, a path it
    cannot write): exit 3 with Spark's own message, not a traceback. (Told apart by
    module, so that this works where PySpark is not installed.)"""
    try:
        with _quiet():
            yield
    except Exception as exc:
        if not type(exc).__module__.startswith(("pyspark.", "py4j.")):
            raise
        cluster = settings.remote or settings.master
        said = _failure(exc)  # may quote a value of the data: never in a failure notice
        raise EngineError(f"Spark at {cluster} failed: {said}", values=(said,)) from None


def _customers(
    spark: SparkSession, engine: SparkEngine, built: Aggregate, config: Config
) -> tuple[HeldCustomers | None, Aggregate]:
    """The customer table kept in Spark; or, when the customers are no more than the
    sample or validation would change one (spark_customers.hold), brought to the driver
    to be validated and segmented as the local engine does."""
    from reportgen.spark_customers import hold

    has_quantity = "quantity" in built.roles
    roles = tuple(c for c in CUSTOMER_ROLES[1:] if has_quantity or c != "items_per_order")
    settings = config.segmentation
    query = transpile(customer_query(has_quantity))
    held = hold(spark, query, roles, settings.sample_size, settings.seed)
    if held is not None:
        return held, built
    frame = customer_frame(engine, has_quantity)
    return None, replace(built, customers=replace(built.customers, frame=frame))


def read_orders(source: Path | str, config: Config, today: date | None = None) -> OrderLog:
    """Read, check and aggregate the order log at `source` (a path or URI, or the name of
    a catalog table) in Spark; only the customer table comes back."""
    spark = session(config.spark)
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    label = str(source)
    engine = None
    try:
        with _quiet():
            read = _read(spark, source, config)
            engine = SparkEngine(spark, read.frame)
            built = aggregate(engine, read.label, read.delimiter, config.orders, config.data, today)
            held, built = _customers(spark, engine, built, config)
    except (PySparkException, Py4JError) as exc:  # a path, a table, data the cluster refused
        said = _failure(exc)
        if _ENGINE_FAILURE.search(f"{type(exc).__name__} {said}"):  # Spark, not the data
            cluster = config.spark.remote or config.spark.master
            raise EngineError(f"Spark at {cluster} failed: {said}") from None
        raise InputError(f"{label}: cannot be read as an order log: {said}") from None
    finally:
        if engine is not None:
            engine.close()
    remote = config.spark.remote
    digest = _digest(read.files, remote=remote is not None)
    # The master the session runs on: an active session (a notebook's) may differ from [spark].
    where = {"remote": remote} if remote else {"master": str(spark.sparkContext.master)}
    read_by = {"name": "spark", "spark_version": str(spark.version), **where}
    return built.order_log(source, digest, read.format, read_by, held)
