"""Shared helpers of the reliability suite: small customer tables and in-process runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from reportgen import pipeline
from reportgen.config import Config, parse
from reportgen.resources import sample_data_path

PERIOD = "2026-11"
GENERATED = date(2026, 11, 28)


def sample_table(rows: int = 400) -> pd.DataFrame:
    """The first rows of the bundled sample, as text like a CSV export."""
    return pd.read_csv(sample_data_path(), dtype=str, nrows=rows)


def run_in_process(
    table: pd.DataFrame, folder: Path, config: Config | None = None, name: str = "data.csv"
) -> pipeline.RunResult:
    path = folder / name
    table.to_csv(path, index=False)
    return pipeline.run(
        path,
        config or parse({}),
        pipeline.Destination(folder / "output", PERIOD, force=True),
        generated=GENERATED,
    )
