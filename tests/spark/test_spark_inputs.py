"""What the Spark engine reads, and how it refuses what it cannot: every failure one line
(a data error, not a JVM stack trace), the input's digest the local engine's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reportgen import orders
from reportgen.config import Config, parse
from reportgen.errors import ConfigError, InputError
from reportgen.sample import generate_orders, order_log_bytes

pytestmark = pytest.mark.spark  # a stage of its own: see pyproject.toml

TODAY = date(2026, 12, 1)
HEADER = "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"


def _config(**data: str) -> Config:
    return parse({"data": {"kind": "transactions", **data}, "engine": {"name": "spark"}})


def _refusal(spark_source: Path | str, config: Config) -> str:
    from reportgen import spark

    with pytest.raises(InputError) as refused:
        spark.read_orders(spark_source, config, today=TODAY)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 800, message
    return message


def _same_digest_and_customers(path: Path) -> None:
    """Both engines read the log at `path` to the same customers and input digest."""
    from reportgen import spark as engine

    config = _config()
    local = orders.read_orders(path, config.orders, config.data, today=TODAY)
    remote = engine.read_orders(path, config, today=TODAY)
    assert remote.dataset.sha256 == local.dataset.sha256
    assert remote.dataset.frame.equals(local.dataset.frame)


def test_a_csv_line_with_a_field_too_many_is_an_error_on_both_engines(spark, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "1,7,2026-10-01,2,3.5\n2,8,2026-10-02,1,2,99\n")
    config = _config()
    with pytest.raises(InputError):
        orders.read_orders(path, config.orders, config.data, today=TODAY)
    assert _refusal(path, config) == (
        f"{path}: cannot be read as an order log: [MALFORMED_CSV_RECORD] Malformed CSV record"
    )


def test_csv_files_with_different_headers_are_an_error_not_a_mix_up(spark, tmp_path):
    (tmp_path / "a.csv").write_text(HEADER + "1,7,2026-10-01,2,3.5\n")
    (tmp_path / "b.csv").write_text(
        "CustomerID,InvoiceNo,InvoiceDate,Quantity,UnitPrice\n7,2,2026-10-02,1,2\n"
    )
    message = _refusal(tmp_path, _config())
    assert message == (
        f"{tmp_path}: cannot be read as an order log: CSV header does not conform to the schema."
    )


def test_a_corrupt_parquet_file_is_one_line(spark, tmp_path):
    path = tmp_path / "orders.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 200 + b"PAR1")
    message = _refusal(path, _config())
    assert message.startswith(f"{path}: cannot be read as an order log: corrupted file")


def test_a_folder_of_parts_has_the_local_engines_digest(spark, tmp_path):
    """Spark lists a folder's files in an order of its own; the digest follows the local
    engine's (sorted)."""
    log = generate_orders(600)
    for part in range(6):
        chunk = log.slice(part * 1000, 1000)
        (tmp_path / f"part-{part:05d}.parquet").write_bytes(order_log_bytes(chunk, ".parquet"))
    _same_digest_and_customers(tmp_path)


def test_a_two_digit_year_format_is_refused_rather_than_read_as_20xx(spark, tmp_path):
    from reportgen import spark as engine

    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "1,7,31/12/99,2,3.5\n")
    with pytest.raises(ConfigError, match=r"%y is not read the same by Spark"):
        engine.read_orders(path, _config(date_format="%d/%m/%y"), today=TODAY)


def test_the_digest_of_a_log_in_a_folder_with_a_space_and_a_percent_is_its_content(spark, tmp_path):
    folder = tmp_path / "my orders 100%"
    folder.mkdir()
    path = folder / "log #1.parquet"
    path.write_bytes(order_log_bytes(generate_orders(200), ".parquet"))
    _same_digest_and_customers(path)


def test_a_table_of_the_sessions_catalog_is_read_by_name(spark, tmp_path):
    """[data] table: the log as a table (here a view) of the session's catalog gives the
    customer table the same log gives from its file."""
    from reportgen import spark as engine
    from reportgen.inputs import data_path

    path = tmp_path / "orders.parquet"
    path.write_bytes(order_log_bytes(generate_orders(300), ".parquet"))
    spark.read.parquet(str(path)).createOrReplaceTempView("shop_orders")
    config = _config()
    by_name = parse(
        {"data": {"kind": "transactions", "table": "shop_orders"}, "engine": {"name": "spark"}}
    )
    source = data_path(by_name, None, tmp_path / "unused.csv")
    assert source == "shop_orders"
    local = orders.read_orders(path, config.orders, config.data, today=TODAY)
    remote = engine.read_orders(source, by_name, today=TODAY)
    assert remote.dataset.path == "shop_orders" and remote.dataset.format == "table"
    assert remote.dataset.frame.equals(local.dataset.frame)
    assert (remote.lines, remote.fixes, remote.as_of) == (local.lines, local.fixes, local.as_of)


def test_a_uri_or_a_table_needs_the_spark_engine_and_keeps_its_slashes(tmp_path):
    from reportgen.inputs import data_path

    local = parse({"data": {"kind": "transactions", "path": "s3a://lake/orders/2026"}})
    assert local.data.path == "s3a://lake/orders/2026"  # not a Path, which folds "//"
    with pytest.raises(ConfigError, match=r"a URI is read by the Spark engine"):
        data_path(local, None, tmp_path / "unused.csv")
    with pytest.raises(ConfigError, match=r"\[data\] table: a table is read by Spark"):
        parse({"data": {"kind": "transactions", "table": "shop.orders"}})
    customers = parse({"data": {"path": "s3a://lake/customers.csv"}, "engine": {"name": "spark"}})
    with pytest.raises(ConfigError, match=r"Spark reads order logs"):
        data_path(customers, None, tmp_path / "unused.csv")
