"""Order logs to customer tables: features computed by hand on small logs."""

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from packaging.version import Version

from reportgen.config import DataSettings, OrderSettings
from reportgen.errors import ConfigError, DataError, InputError
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
O12,G,1900-01-01,1,5
"""
TODAY = date(2026, 11, 28)
DAILY = DataSettings(date_format="%Y%m%d")


def test_features_and_fixes_of_a_hand_made_log(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(LOG)
    log = read_orders(path, OrderSettings(as_of=date(2026, 11, 1)), DataSettings(), today=TODAY)
    assert log.lines == 14 and log.as_of == date(2026, 11, 1)
    assert log.columns == {
        "customer_id": "CustomerID",
        "order_date": "InvoiceDate",
        "order_id": "InvoiceNo",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
    }
    table = log.dataset.frame.set_index("customer_id")
    # D returned only, E's date is unreadable, F's is decades before the rest of the log,
    # G's is a placeholder.
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
        ("placeholder", "order_date"): 1,
        ("impossible", "amount"): 1,
        ("returns_only", None): 1,
    }
    future = next(f for f in log.fixes if f.code == "future")
    assert future.column == "InvoiceDate" and "after today (2026-11-28)" in future.text
    too_old = next(f for f in log.fixes if f.code == "too_old")
    # Two years before the log's first quartile day (2026-10-01): the bulk is 20 days wide.
    assert "dated before 2024-10-01, far before the bulk" in too_old.text
    assert "[orders] min_date" in too_old.text


@pytest.mark.parametrize("day", ["1997-03-01", "1985-07-15"])
def test_a_log_of_any_age_is_read_with_the_default_settings(tmp_path, day):
    path = tmp_path / "orders.csv"
    start = date.fromisoformat(day)
    lines = ["InvoiceNo,CustomerID,InvoiceDate,Amount"]
    lines += [f"O{i},C{i % 7},{start.replace(day=1 + i % 28)},{10 + i}" for i in range(40)]
    path.write_text("\n".join(lines) + "\n")
    log = read_orders(path, OrderSettings(), DataSettings(), today=TODAY)
    assert len(log.dataset.frame) == 7 and not log.fixes
    assert log.as_of == start.replace(day=28) + (date(2000, 1, 2) - date(2000, 1, 1))


def test_a_stray_line_years_after_the_log_cannot_move_the_as_of_day(tmp_path):
    path = tmp_path / "orders.csv"
    lines = ["InvoiceNo,CustomerID,InvoiceDate,Amount"]
    lines += [f"O{i},C{i % 7},1998-0{1 + i % 6}-{1 + i % 28:02d},{10 + i}" for i in range(40)]
    path.write_text("\n".join([*lines, "X1,C1,2021-03-04,99", ""]))
    log = read_orders(path, OrderSettings(), DataSettings(), today=TODAY)
    assert log.as_of == date(1998, 6, 25)  # the day after the last order of the bulk
    late = next(f for f in log.fixes if f.code == "too_late")
    assert late.count == 1 and "far after the bulk of the log" in late.text
    assert "[orders] as_of" in late.text
    kept = read_orders(path, OrderSettings(as_of=date(2021, 3, 5)), DataSettings(), today=TODAY)
    assert kept.as_of == date(2021, 3, 5) and not kept.fixes


def test_min_date_is_a_hard_floor_and_date_errors_name_their_settings(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(LOG)
    settings = OrderSettings(min_date=date(2026, 10, 5))
    log = read_orders(path, settings, DataSettings(), today=TODAY)
    too_old = next(f for f in log.fixes if f.code == "too_old")
    assert too_old.count == 5  # A's O1 (two lines), B's O4 (deduplicated), D's O9, F
    assert "before [orders] min_date (2026-10-05)" in too_old.text
    with pytest.raises(DataError) as caught:
        read_orders(path, OrderSettings(min_date=date(2027, 6, 1)), DataSettings(), today=TODAY)
    for setting in ("[orders]", "[data] date_format", "[orders] min_date"):
        assert setting in str(caught.value)


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


def test_every_listed_file_is_read_once_whatever_its_name(tmp_path):
    # DuckDB reads each listed name as a glob: "[a].csv" matched "a.csv", and "a*.csv"
    # matched all four.
    for name, customer in (("a", "A"), ("[a]", "B"), ("a*", "C"), ("a?", "D")):
        (tmp_path / f"{name}.csv").write_text(
            f"CustomerID,InvoiceDate,Amount\n{customer},2026-10-01,10\n"
        )
    log = read_orders(tmp_path, OrderSettings(), DataSettings(), today=TODAY)
    assert log.lines == 4
    assert log.dataset.frame["customer_id"].tolist() == ["A", "B", "C", "D"]
    assert log.dataset.frame["spend"].tolist() == [10.0] * 4


def test_files_with_different_delimiters_are_each_read_with_their_own(tmp_path):
    (tmp_path / "a.csv").write_text("CustomerID,InvoiceDate,Amount\nA,2026-10-01,10\n")
    (tmp_path / "b.csv").write_text("CustomerID;InvoiceDate;Amount\nB;2026-10-02;20\n")
    log = read_orders(tmp_path, OrderSettings(), DataSettings(), today=TODAY)
    assert log.lines == 2 and log.dataset.frame["spend"].tolist() == [10.0, 20.0]


NARROW = DataSettings(max_columns=5)


def _log(path, columns: list[str]) -> None:
    frame = pd.DataFrame([["A", "2026-10-01", "10"] + ["x"] * (len(columns) - 3)], columns=columns)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_order_log_has_a_column_limit_per_file_and_for_all_files_together(tmp_path, suffix):
    base = ["CustomerID", "InvoiceDate", "Amount"]
    _log(tmp_path / f"one{suffix}", [*base, "a", "b", "c"])
    with pytest.raises(InputError) as caught:
        read_orders(tmp_path / f"one{suffix}", OrderSettings(), NARROW, today=TODAY)
    assert str(caught.value).startswith(
        f"{tmp_path / f'one{suffix}'}: 6 columns is over the limit of [data] max_columns = 5"
    )
    _log(tmp_path / f"one{suffix}", [*base, "a", "b"])
    _log(tmp_path / f"two{suffix}", [*base, "c", "d"])  # union_by_name: 7 columns
    with pytest.raises(InputError) as caught:
        read_orders(tmp_path, OrderSettings(), NARROW, today=TODAY)
    assert str(caught.value).startswith(
        f"{tmp_path}: its files have 7 different columns together, over the limit of "
        "[data] max_columns = 5"
    )


def test_duckdb_reads_the_header_that_was_counted(tmp_path):
    # A title line before a 6-column header: DuckDB's sniffer would skip the title and
    # read the header the count never saw. Given the counted dialect, it reads the title
    # as the header and refuses the lines that do not fit it.
    path = tmp_path / "orders.csv"
    path.write_text(
        "Orders exported by the shop\nCustomerID,InvoiceDate,Amount,a,b,c\n"
        + "A,2026-10-01,10,x,y,z\n" * 3
    )
    with pytest.raises(InputError) as caught:
        read_orders(path, OrderSettings(), NARROW, today=TODAY)
    assert str(caught.value).startswith(f"{path}: cannot be read as an order log: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (
            b"CustomerID,InvoiceDate,Amount\nA,2026-10-01,10\nB\xff,2026-10-02,5\n",
            "invalid unicode",
        ),
        (
            b"CustomerID,InvoiceDate,Amount\nA,2026-10-01,10\nB,2026-10-02,5,7\n",
            "not possible to automatically detect the csv parsing dialect",
        ),
    ],
    ids=["invalid-utf8", "extra-field"],
)
def test_an_engine_error_is_one_line_naming_the_file(tmp_path, data, detail):
    (tmp_path / "a.csv").write_text("CustomerID,InvoiceDate,Amount\nA,2026-10-01,10\n")
    (tmp_path / "b.csv").write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_orders(tmp_path, OrderSettings(), DataSettings(), today=TODAY)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path}: cannot be read as an order log: ")
    assert detail in message.lower()
    if Version(duckdb.__version__) >= Version("1.2"):  # 1.1 does not say which file
        assert str(tmp_path / "b.csv") in message
    assert "\n" not in message and "Original Line" not in message


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_two_columns_of_one_name_in_a_log_are_refused(tmp_path, suffix):
    path = tmp_path / f"orders{suffix}"
    columns = ["CustomerID", "InvoiceDate", "Amount", "CustomerID"]
    if suffix == ".csv":
        path.write_text(",".join(columns) + "\nA,2026-10-01,10,INV-9\n")
    else:
        pq.write_table(pa.table([["A"], ["2026-10-01"], ["10"], ["INV-9"]], names=columns), path)
    with pytest.raises(InputError, match=r"columns 'CustomerID' and 'CustomerID' have the same"):
        read_orders(path, OrderSettings(), DataSettings(), today=TODAY)


def _shuffled_logs(tmp_path, rows: int = 20_000) -> list:
    """One log of many small amounts whose float sum depends on the order of addition,
    written in three line orders."""
    rng = np.random.default_rng(7)
    log = pd.DataFrame(
        {
            "InvoiceNo": [f"O{i // 3}" for i in range(rows)],
            "CustomerID": [f"C{i // 30}" for i in range(rows)],
            "InvoiceDate": [f"2026-{1 + (i // 3) % 10:02d}-{1 + i % 28:02d}" for i in range(rows)],
            "Quantity": rng.integers(1, 5, rows),
            "UnitPrice": rng.uniform(0.01, 99.99, rows).round(2) + 0.1,
        }
    )
    paths = []
    for seed in (0, 1, 2):
        path = tmp_path / f"log{seed}.csv"
        shuffled = log if seed == 0 else log.sample(frac=1, random_state=seed)
        shuffled.to_csv(path, index=False)
        paths.append(path)
    return paths


def test_the_order_of_a_logs_lines_never_changes_a_figure_by_one_bit(tmp_path):
    """Promise 4 for order logs: sums of floats depend on the order they are added in, and
    DuckDB adds in whatever order its threads meet the lines; reportgen adds each sum in
    the order of its values, so a reordered log (or another number of cores) gives the
    same bits, not figures that differ in their last digit."""
    frames = [
        read_orders(path, OrderSettings(), DataSettings(), today=TODAY).dataset.frame
        for path in _shuffled_logs(tmp_path)
    ]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0], check_exact=True)


@pytest.mark.parametrize("sentinel", ["1e300", "inf", "-inf", "nan", "1e16"])
def test_an_amount_beyond_any_real_one_is_an_unreadable_line_not_an_infinite_spend(
    tmp_path, sentinel
):
    path = tmp_path / "orders.csv"
    path.write_text(
        "InvoiceNo,CustomerID,InvoiceDate,Amount\n"
        "O1,A,2026-10-01,10.5\nO2,A,2026-10-02,20\nO3,B,2026-10-03,5\n"
        f"O4,B,2026-10-04,{sentinel}\n"
    )
    log = read_orders(path, OrderSettings(), DataSettings(), today=TODAY)
    spend = log.dataset.frame.set_index("customer_id")["spend"]
    assert spend.to_dict() == {"A": 30.5, "B": 5.0}
    assert [(fix.code, fix.count) for fix in log.fixes] == [("unreadable", 1)]


def test_a_small_memory_budget_gives_the_same_customers(tmp_path):
    """[engine] memory_mb holds DuckDB to a budget; what does not fit is spilled, not
    lost: at the smallest budget a log of 1.5 million lines gives the same table."""
    from reportgen.sample import generate_orders, order_log_bytes

    path = tmp_path / "orders.parquet"
    path.write_bytes(order_log_bytes(generate_orders(150_000), ".parquet"))
    roomy = read_orders(path, OrderSettings(), DataSettings(), today=TODAY)
    tight = read_orders(path, OrderSettings(), DataSettings(), today=TODAY, memory_mb=100)
    assert len(tight.dataset.frame) > 140_000
    pd.testing.assert_frame_equal(tight.dataset.frame, roomy.dataset.frame, check_exact=True)
    assert (tight.lines, tight.fixes, tight.as_of) == (roomy.lines, roomy.fixes, roomy.as_of)


UTC_DAY = """
import sys
from datetime import date
from pathlib import Path
from reportgen.config import DataSettings, OrderSettings
from reportgen.orders import read_orders
log = read_orders(Path(sys.argv[1]), OrderSettings(), DataSettings(), today=date(2026, 2, 1))
print(log.as_of)
"""


@pytest.mark.parametrize(
    ("zone", "seconds", "as_of"),
    [
        ("America/New_York", 1_767_407_400, "2026-01-04"),  # 02:30 UTC on the 3rd: NY's 2nd
        ("Asia/Tokyo", 1_767_384_000, "2026-01-03"),  # 20:00 UTC on the 2nd: Tokyo's 3rd
    ],
)
def test_days_are_counted_in_utc_whatever_the_machines_zone(tmp_path, zone, seconds, as_of):
    """A Unix time falls on its UTC day (and the as-of day is the day after), as Spark
    counts it, not on the machine's local day."""
    import os
    import subprocess
    import sys

    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "CustomerID": ["A", "B"],
                "InvoiceDate": [seconds, seconds - 86_400 * 30],
                "LineTotal": [10.0, 20.0],
            }
        ),
        path,
    )
    found = subprocess.run(
        [sys.executable, "-c", UTC_DAY, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": zone},
    )
    assert found.stdout.strip() == as_of
