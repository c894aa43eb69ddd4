"""The input as one clean customer table: read directly, or built from an order log.

Its own module, apart from pipeline.py, so that the commands that only read and check
the data (`validate`, `init`) and every error found before the analysis start without
loading scikit-learn, matplotlib and WeasyPrint, which take most of a run's start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from reportgen.config import Config
from reportgen.errors import ConfigError
from reportgen.ingest import Dataset, read_table
from reportgen.orders import read_orders
from reportgen.validate import CleanData, validate

T = TypeVar("T")
Timer = Callable[[str, Callable[[], T]], T]
"""Runs one named stage (the pipeline's timer records how long it took)."""


def data_path(config: Config, given: Path | None, default: Path) -> Path:
    """--data wins over [data] path, which wins over the bundled sample (a customer table)."""
    if given or config.data.path:
        return given or config.data.path
    if config.data.kind == "transactions":
        raise ConfigError(
            '[data] kind = "transactions" needs the order log: pass --data FILE, FOLDER or '
            '"GLOB", or set [data] path'
        )
    return default


def _untimed(name: str, work: Callable[[], T]) -> T:
    return work()


def read_input(path: Path, config: Config, timer: Timer = _untimed) -> tuple[Dataset, CleanData]:
    """The customer table, read directly or built from an order log, and validated."""
    if config.data.kind != "transactions":
        limits = (config.data.max_file_mb, config.data.max_columns)
        dataset = timer("ingest", lambda: read_table(path, *limits))
        return dataset, timer("validate", lambda: validate(dataset, config))
    log = timer("orders", lambda: read_orders(path, config.orders, config.data))
    # The table's columns are named by role, so the mapping is the identity.
    by_role = replace(config, columns={c: c for c in log.dataset.frame.columns})
    clean = timer("validate", lambda: validate(log.dataset, by_role))
    quality = replace(
        clean.quality,
        fixes=log.fixes + clean.quality.fixes,
        number_formats=log.number_formats,
        order_lines=log.lines,
        as_of=log.as_of,
    )
    return log.dataset, replace(clean, quality=quality)


def check(path: Path, config: Config) -> CleanData:
    """Read and validate only (the `validate` command)."""
    return read_input(path, config)[1]
