"""The input as one clean customer table: read directly, or built from an order log.

Its own module, apart from pipeline.py, so that the commands that only read and check
the data (`validate`, `init`) and every error found before the analysis start without
loading scikit-learn, matplotlib and WeasyPrint, which take most of a run's start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol, TypeVar

from reportgen.config import Config, DataSettings
from reportgen.errors import ConfigError
from reportgen.fsutil import read_small
from reportgen.ingest import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    Dataset,
    check_size,
    read_table,
)
from reportgen.orders import OrderLog, files_of, read_orders
from reportgen.resources import check_user_templates
from reportgen.validate import CleanData, validate

T = TypeVar("T")
Source = Path | str
"""Where the data is: a local path; or, read by Spark, a URI (s3a://...) or the name of a
table of the Spark session's catalog (never a Path: a Path folds a URI's "//")."""


class Timer(Protocol):
    """Runs one named stage (the pipeline's timer records how long it took)."""

    def __call__(self, name: str, work: Callable[[], T]) -> T: ...


def data_path(config: Config, given: Source | None, default: Path) -> Source:
    """--data wins over [data] path or table, which win over the bundled sample (a
    customer table). A URI or table needs the Spark engine, and an order log."""
    chosen = given or config.data.path or config.data.table
    if isinstance(chosen, str) and config.engine.name != "spark":
        raise ConfigError(
            f'{chosen}: a URI is read by the Spark engine; set [engine] name = "spark" '
            "(or pass --engine spark), or give a local path"
        )
    if isinstance(chosen, str) and config.data.kind != "transactions":
        raise ConfigError(
            f'{chosen}: Spark reads order logs ([data] kind = "transactions"); a customer '
            "table is read from a local file"
        )
    if chosen is not None:
        return chosen
    if config.data.kind == "transactions":
        raise ConfigError(
            '[data] kind = "transactions" needs the order log: pass --data FILE, FOLDER or '
            '"GLOB", or set [data] path'
        )
    return default


def check_data(path: Path, settings: DataSettings) -> None:
    """Refuse data that cannot be read at all (not there, not a file, not readable, of
    an unknown type, over the size limit) without reading it, in the reader's words.

    What needs the content (empty, binary, not a table) is left to the reader. For a
    customer table, a file that fails the quick look is handed to read_table, which
    refuses it before reading a byte; one that passes is only measured.
    """
    if settings.kind == "transactions":
        check_size(files_of(path), settings.max_file_mb)  # as read_orders starts
        return
    known = CSV_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES
    if path.suffix.lower() in known and path.is_file() and os.access(path, os.R_OK):
        check_size([path], settings.max_file_mb)
    else:
        read_table(path, settings.max_file_mb, settings.max_columns)


def check_sources(path: Source, config: Config) -> None:
    """Everything a run reads, checked before the output folder is looked at: the data
    (check_data), and the logo, persona library and template folder the config names,
    refused as their readers refuse them. A user who mistyped a path hears about that
    path, not that this month's snapshot already exists, and before the analysis."""
    if config.engine.name != "spark" or config.data.kind != "transactions":
        assert isinstance(path, Path), path  # data_path refuses the rest
        check_data(path, config.data)  # (Spark reads, and refuses, an order log itself)
    report = config.report
    if report.logo is not None:
        read_small(report.logo, "[report] logo:")
    if report.personas is not None:
        read_small(report.personas, "persona library")
    if report.templates is not None:
        check_user_templates(report.templates)


def _untimed(name: str, work: Callable[[], T]) -> T:
    return work()


def read_input(path: Source, config: Config, timer: Timer = _untimed) -> tuple[Dataset, CleanData]:
    """The customer table, read directly or built from an order log (by DuckDB, or by
    Spark with [engine] name = "spark"), and validated."""
    if config.data.kind != "transactions":
        assert isinstance(path, Path), path  # data_path refuses the rest
        limits = (config.data.max_file_mb, config.data.max_columns)
        dataset = timer("ingest", lambda: read_table(path, *limits))
        return dataset, timer("validate", lambda: validate(dataset, config))
    log = timer("orders", lambda: _read_orders(path, config))
    # The table's columns are named by role, so the mapping is the identity.
    by_role = replace(config, columns={c: c for c in log.dataset.frame.columns})
    clean = timer("validate", lambda: validate(log.dataset, by_role))
    held = log.dataset.held
    if held is not None and clean.quality.fixes:  # hold() checked that none would apply
        raise AssertionError(f"validation changed held customers: {clean.quality.fixes}")
    quality = replace(
        clean.quality,
        rows_read=held.n if held is not None else clean.quality.rows_read,
        rows_kept=held.n if held is not None else clean.quality.rows_kept,
        fixes=log.fixes + clean.quality.fixes,
        number_formats=log.number_formats,
        order_lines=log.lines,
        as_of=log.as_of,
    )
    return log.dataset, replace(clean, quality=quality)


def _read_orders(path: Source, config: Config) -> OrderLog:
    if config.engine.name == "spark":
        from reportgen import spark  # PySpark is optional: imported only when asked for

        return spark.read_orders(path, config)
    assert isinstance(path, Path), path  # data_path refuses the rest
    return read_orders(path, config.orders, config.data, memory_mb=config.engine.memory_mb)


def check(path: Source, config: Config) -> CleanData:
    """Read and validate only (the `validate` command)."""
    return read_input(path, config)[1]
