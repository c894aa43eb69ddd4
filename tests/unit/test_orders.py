"""Order logs to customer tables: features computed by hand on small logs."""

from datetime import date

import pandas as pd
import pytest

from reportgen.config import DataSettings, OrderSettings
from reportgen.errors import ConfigError, DataError
from reportgen.orders import read_orders

LOG = """InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice
O1,A,2026-10-01,2,10.0
O1,A,2026-10-01,1,5.0
O2,A,2026-10-21 14:30:00,1,30.0
C3,A,2026-10-25,-1,5.0
O4,B,2026-09-01,4,25.0
O4,B,2026-09-01,4,25.0
O5,,2026-10-10,1,10
O6,C,2027-01-05,1,10
O7,C,2026-10-30,1,0
O8,C,2026-10-15,3,4.0
O9,D,2026-10-02,-2,10
O10,E,not a date,1,5
O11,F,1999-05-01,1,5
"""
TODAY = date(2026, 11, 28)
DAILY = DataSettings(date_format="%Y%m%d")


def test_features_and_fixes_of_a_hand_made_log(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(LOG)
    log = read_orders(path, OrderSettings(as_of=date(2026, 11, 1)), DataSettings(), today=TODAY)
    assert log.lines == 13 and log.as_of == date(2026, 11, 1)
    assert log.columns == {
        "customer_id": "CustomerID",
        "order_date": "InvoiceDate",
        "order_id": "InvoiceNo",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
    }
    table = log.dataset.frame.set_index("customer_id")
    # D returned only, E's date is unreadable, F's is before the sane floor (2000-01-01).
    assert list(table.index) == ["A", "B", "C"]
    expected = pd.DataFrame(
        {
            # A: orders O1 (25) and O2 (30), returned C3 (5); B: O4 once; C: O8 only.
            "recency": [11, 61, 17],
            "tenure": [31, 61, 17],
            "frequency": [2, 1, 1],
            "spend": [50.0, 100.0, 12.0],
            "aov": [27.5, 100.0, 12.0],
            "items_per_order": [2.0, 4.0, 3.0],
            "return_rate": [1 / 3, 0.0, 0.0],
        },
        index=pd.Index(["A", "B", "C"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, check_index_type=False)
    counts = {(f.code, f.role): f.count for f in log.fixes}
    assert counts == {
        ("duplicate_line", None): 1,
        ("missing_id", "customer_id"): 1,
        ("unreadable", "order_date"): 1,
        ("future", "order_date"): 1,
        ("too_old", "order_date"): 1,
        ("impossible", "amount"): 1,
        ("returns_only", None): 1,
    }
    future = next(f for f in log.fixes if f.code == "future")
    assert future.column == "InvoiceDate" and "after today (2026-11-28)" in future.action


def test_parquet_glob_integer_dates_amounts_and_a_return_prefix(tmp_path):
    first = pd.DataFrame(
        {
            "order": ["1001", "1002"],
            "client id": ["007", "007"],
            "day": [20261001, 20261020],
            "line total": [40.0, 60.0],
        }
    )
    second = pd.DataFrame(
        {"order": ["R1002"], "client id": ["007"], "day": [20261022], "line total": [60.0]}
    )
    first.to_parquet(tmp_path / "orders-2026-10a.parquet")
    second.to_parquet(tmp_path / "orders-2026-10b.parquet")
    settings = OrderSettings(return_prefix="R", duplicates="keep")
    log = read_orders(tmp_path / "orders-2026-*.parquet", settings, DAILY, today=TODAY)
    assert log.lines == 3 and log.as_of == date(2026, 10, 23)  # the day after the last line
    row = log.dataset.frame.iloc[0]
    assert row["customer_id"] == "007"  # ids stay text, leading zeros kept
    assert (row["frequency"], row["spend"], row["aov"]) == (2, 40.0, 50.0)  # R1002 returned
    assert (row["recency"], row["tenure"], row["return_rate"]) == (3, 22, 1 / 3)
    assert "items_per_order" not in log.dataset.frame  # no quantity column
    assert log.dataset.format == "parquet" and len(log.dataset.sha256) == 64
    folder = read_orders(tmp_path, settings, DAILY, today=TODAY)  # every file in it
    pd.testing.assert_frame_equal(folder.dataset.frame, log.dataset.frame)
    assert folder.dataset.sha256 == log.dataset.sha256


def test_future_dates_can_be_an_error_and_missing_columns_are_named(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(LOG)
    with pytest.raises(DataError, match="1 order lines are dated after 2026-11-28"):
        read_orders(path, OrderSettings(future_dates="error"), DataSettings(), today=TODAY)
    (tmp_path / "bare.csv").write_text("who,when\nA,2026-10-01\n")
    with pytest.raises(
        ConfigError, match=r"needs a column for customer_id, order_date, amount \(or"
    ):
        read_orders(tmp_path / "bare.csv", OrderSettings(), DataSettings(), today=TODAY)
