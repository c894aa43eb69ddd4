"""The order log's one definition gives the same customer table on both engines.

Each case is a seeded log of the kinds exports come in (Parquet with native types, CSV
as text, a German CSV, epoch-second dates, a line-total column, and the faults the
checks count: duplicates, missing ids, placeholder, far-off and future dates, zero
amounts, returns by sign and by prefix). DuckDB and Spark must agree exactly on every
count and as-of day, and on every figure to 1e-12 relative."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reportgen import orders
from reportgen.config import Config, parse
from reportgen.errors import ConfigError, DataError
from reportgen.sample import generate_orders

pytestmark = pytest.mark.spark  # a stage of its own: see pyproject.toml

TODAY = date(2026, 12, 1)


@dataclass(frozen=True)
class Case:
    name: str
    suffix: str
    config: dict[str, Any]
    dates: Callable[[pd.Series], pd.Series] | None = None
    """How a CSV writes its dates (default: in [data] date_format, else ISO)."""


def _unpadded(days: pd.Series) -> pd.Series:
    return days.map(lambda d: f"{d.day}/{d.month}/{d.year} {d.hour}:{d.minute:02d}")


def _loose_iso(days: pd.Series) -> pd.Series:
    """ISO days with slashes or unpadded, some with a time, a zone or spaces around."""
    forms = [
        lambda d: d.strftime("%Y/%m/%d"),
        lambda d: f"{d.year}-{d.month}-{d.day}",
        lambda d: f" {d:%Y-%m-%d} ",
        lambda d: f"{d:%Y-%m-%dT%H:%M:%S}Z",
        lambda d: f"{d:%Y-%m-%d}T23:30:00-02:00",  # the day written, not the UTC one
        lambda d: f"{d:%Y-%m-%d} 00:15+01:00",
        lambda d: f"{d:%Y-%m-%d %H:%M:%S}.1234567 UTC",  # a .NET fraction
        lambda d: f"{d:%Y-%m-%d} 24:00:00",  # no hour 24: unreadable on both
    ]
    return pd.Series([forms[i % len(forms)](d) for i, d in enumerate(days)], index=days.index)


def _faulty(seed: int) -> pd.DataFrame:
    """A generated log with a few lines of every fault the checks count."""
    rng = np.random.default_rng(seed)
    log = generate_orders(400, seed=seed).to_pandas()
    log["InvoiceDate"] = pd.to_datetime(log["InvoiceDate"])
    picks = rng.choice(len(log), size=(8, 6), replace=False)
    log.loc[picks[0], "CustomerID"] = None
    log.loc[picks[1], "InvoiceDate"] = pd.Timestamp("1900-01-01")
    log.loc[picks[2], "InvoiceDate"] = pd.Timestamp("1950-06-01")
    log.loc[picks[3], "InvoiceDate"] = pd.Timestamp("2027-03-01")
    log.loc[picks[4], "UnitPrice"] = 0.0
    log.loc[picks[5], "Quantity"] = -log.loc[picks[5], "Quantity"]
    log["InvoiceNo"] = log["InvoiceNo"].astype(str)
    log.loc[picks[6], "InvoiceNo"] = "C" + log.loc[picks[6], "InvoiceNo"]
    return pd.concat([log, log.iloc[picks[7]]], ignore_index=True)  # duplicate lines


def _write(case: Case, seed: int, folder: Path) -> Path:
    log = _faulty(seed)
    path = folder / f"{case.name}{case.suffix}"
    if case.name == "epoch_line_totals":
        log["LineTotal"] = (log["Quantity"] * log["UnitPrice"]).round(2)
        log = log.drop(columns=["Quantity", "UnitPrice"])
        log["InvoiceDate"] = (log["InvoiceDate"] - pd.Timestamp(0)) // pd.Timedelta(seconds=1)
    if case.suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(log, preserve_index=False), path)
        return path
    text = log.astype("string")
    written = case.config.get("data", {}).get("date_format", "%Y-%m-%d")
    dates = case.dates or (lambda days: days.dt.strftime(written))
    text["InvoiceDate"] = dates(log["InvoiceDate"])
    if case.name == "german":
        text["UnitPrice"] = (
            log["UnitPrice"].map(lambda v: f"{v:,.2f}").str.translate(str.maketrans(",.", ".,"))
        )
        text.to_csv(path, sep=";", index=False)
    elif case.name == "thousands":
        text["UnitPrice"] = (log["UnitPrice"] * 100).map(lambda v: f"{v:,.2f}")
        text.to_csv(path, index=False)
    else:
        text.to_csv(path, index=False)
    return path


CASES = [
    Case("native", ".parquet", {"orders": {"future_dates": "drop"}}),
    Case("text", ".csv", {"orders": {"future_dates": "drop", "return_prefix": "C"}}),
    Case(
        "german",
        ".csv",
        {"data": {"date_format": "%d.%m.%Y"}, "orders": {"future_dates": "drop"}},
    ),
    Case("thousands", ".csv", {"orders": {"future_dates": "drop", "duplicates": "keep"}}),
    Case(
        "epoch_line_totals",
        ".parquet",
        {"orders": {"future_dates": "drop", "invalid_amounts": "keep", "min_date": "2020-01-01"}},
    ),
    Case(
        "unpadded",
        ".csv",
        {"data": {"date_format": "%d/%m/%Y %H:%M"}, "orders": {"future_dates": "drop"}},
        _unpadded,
    ),
    Case(
        "bracketed",
        ".csv",
        {"data": {"date_format": "[%Y%m%d] T%H"}, "orders": {"future_dates": "drop"}},
    ),
    Case("loose_iso", ".csv", {"orders": {"future_dates": "drop"}}, _loose_iso),
    Case(
        "month_names",
        ".csv",
        {"data": {"date_format": "%d%b%Y"}, "orders": {"future_dates": "drop"}},
    ),
    Case(
        "percent_signs",
        ".csv",
        {"data": {"date_format": "%d%%%m%%%Y"}, "orders": {"future_dates": "drop"}},
    ),
]


def _config(case: Case) -> Config:
    raw: dict[str, dict[str, Any]] = {"data": {"kind": "transactions"}, "engine": {"name": "spark"}}
    for table, values in case.config.items():
        raw.setdefault(table, {}).update(values)
    return parse(raw)


@pytest.mark.parametrize("seed", [3])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_both_engines_build_the_same_customer_table(spark, tmp_path, case, seed):
    from reportgen import spark as engine

    path = _write(case, seed, tmp_path)
    config = _config(case)
    local = orders.read_orders(path, config.orders, config.data, today=TODAY)
    remote = engine.read_orders(path, config, today=TODAY)
    assert local.fixes, "the case must exercise the checks"
    assert (remote.lines, remote.as_of, remote.fixes) == (local.lines, local.as_of, local.fixes)
    assert remote.number_formats == local.number_formats
    assert remote.columns == local.columns
    assert remote.dataset.sha256 == local.dataset.sha256
    pd.testing.assert_frame_equal(
        remote.dataset.frame, local.dataset.frame, check_exact=False, rtol=1e-12, atol=0
    )


def _log(folder: Path, text: str) -> Path:
    path = folder / "orders.csv"
    path.write_text(text)
    return path


BAD = {
    "no_date_column": ("InvoiceNo,CustomerID,Quantity,UnitPrice\n1,7,2,3.5\n", ConfigError),
    "unreadable_dates": (
        "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n1,7,someday,2,3.5\n2,8,never,1,2\n",
        DataError,
    ),
    "header_only": ("InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n", DataError),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_logs_give_the_same_one_line_error_on_both_engines(spark, tmp_path, name):
    from reportgen import spark as engine

    text, kind = BAD[name]
    path = _log(tmp_path, text)
    config = parse({"data": {"kind": "transactions"}, "engine": {"name": "spark"}})
    with pytest.raises(kind) as local:
        orders.read_orders(path, config.orders, config.data, today=TODAY)
    with pytest.raises(kind) as remote:
        engine.read_orders(path, config, today=TODAY)
    assert str(remote.value) == str(local.value)
    assert "\n" not in str(remote.value)
