"""Where an order log's SQL runs: DuckDB on this machine, or Apache Spark (spark.py).

The order log's checks and features are written once, as SQL in DuckDB's dialect
(orders.py). An engine runs that SQL: DuckDB as written, Spark after SQLGlot has
transpiled it to Spark SQL. The SQL reads the log from a relation named `log`, which
each engine sets up from its own reader, and keeps its intermediate tables by name
(`materialize`), so no copy of the logic exists per engine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

LOG = "log"
"""The relation the order log's SQL reads the log's lines from."""


class SqlEngine(Protocol):
    """What orders.py needs of an engine: run a query, keep a result by name."""

    holds: bool
    """The engine keeps the customer table (orders.customer_query) rather than give it."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query whose result is small."""
        ...

    def frame(self, sql: str) -> pd.DataFrame:
        """The result of a query as a DataFrame (one row per customer at most)."""
        ...

    def materialize(self, name: str, sql: str) -> None:
        """Keep the result of a query as the table `name`, for the queries after it."""
        ...

    def register(self, name: str, table: pa.Table) -> None:
        """A small table from the driver (a lookup of parsed numbers) as the table `name`."""
        ...

    def types(self) -> dict[str, str]:
        """The log's columns and their types, in DuckDB's names ("VARCHAR", "BIGINT")."""
        ...


@contextmanager
def duckdb_connection(memory_mb: int) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB held to `memory_mb` ([engine] memory_mb), spilling beyond it
    to a temporary folder of its own. DuckDB's defaults are 80% of the machine's memory
    and a `.tmp` folder in the working folder: a 10-million-line log peaked at 1.9 GB
    in DuckDB alone, and at 1.5 GB with a limit of 1,500 MB, in the same time."""
    import duckdb  # here, not at the top: customer-table runs need not pay its import

    with tempfile.TemporaryDirectory(prefix="reportgen-duckdb-") as spill:
        settings: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": f"{memory_mb}MB",
            "temp_directory": spill,
        }
        con = duckdb.connect(":memory:", config=settings)
        try:
            # Days in UTC, as Spark counts them (spark.DEFAULT_CONF), whatever the
            # machine's zone: an epoch time or a zoned timestamp falls on one day. (A
            # DuckDB without ICU has no time zones and counts in UTC already.)
            with suppress(duckdb.Error):
                con.execute("SET TimeZone = 'UTC'")
            # DuckDB draws its own bar on stdout for a query over 2 s; the CLI has its own.
            con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()


class DuckDBEngine:
    """DuckDB in this process: the SQL as written."""

    holds = False

    def __init__(self, con: duckdb.DuckDBPyConnection, reader: str) -> None:
        self._con = con
        con.execute(f"CREATE TEMP VIEW {LOG} AS SELECT * FROM {reader}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self._con.execute(sql).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        return self._con.execute(sql).df()

    def materialize(self, name: str, sql: str) -> None:
        self._con.execute(f"CREATE TEMP TABLE {name} AS {sql}")

    def register(self, name: str, table: pa.Table) -> None:
        self._con.register(f"{name}_source", table)
        self._con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_source")
        self._con.unregister(f"{name}_source")

    def types(self) -> dict[str, str]:
        described = self._con.execute(f"DESCRIBE SELECT * FROM {LOG}").fetchall()
        return {row[0]: str(row[1]) for row in described}
