"""An order log through the command line: DuckDB features, RFM personas, the report."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader

from reportgen.config import parse
from reportgen.inputs import read_input
from tests.helpers import rule_text, run_cli

RFM = {
    "Champions",
    "Loyal customers",
    "Potential loyalists",
    "New customers",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost customers",
}


def test_an_order_log_becomes_a_brief_with_rfm_personas(tmp_path):
    made = run_cli("sample", "--orders", "--rows", "1500", "--out", "orders.parquet", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    lines = pq.read_metadata(tmp_path / "orders.parquet").num_rows
    (tmp_path / "reportgen.toml").write_text('[data]\nkind = "transactions"\n')
    result = run_cli(
        "run",
        "--data",
        "orders.parquet",
        "--period",
        "2026-11",
        "--as-of",
        "2026-11-01",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["input"]["kind"] == "transactions"
    assert manifest["input"]["order_columns"] == {
        "customer_id": "CustomerID",
        "order_date": "InvoiceDate",
        "order_id": "InvoiceNo",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
    }
    assert manifest["input"]["order_lines"] == lines and manifest["input"]["as_of"] == "2026-11-01"
    assert f"Order lines read: {lines:,}" in result.stderr

    _check_rules_of_an_order_log(folder, tmp_path)
    segments = json.loads((folder / "profiles.json").read_text())["segments"]
    names = {s["persona"] for s in segments}
    assert len(names & RFM) >= 3, names
    mean = {s["id"]: {r: v["mean"] for r, v in s["stats"].items()} for s in segments}
    name = {s["id"]: s["persona"] for s in segments}
    best = min(mean, key=lambda i: mean[i]["recency"])
    assert max(mean, key=lambda i: mean[i]["spend"]) == best  # the generator's champions
    assert max(mean, key=lambda i: mean[i]["frequency"]) == best
    assert name[best] not in {"Lost customers", "Hibernating", "At risk", "Can't lose them"}
    lapsed = max(mean, key=lambda i: mean[i]["recency"])
    assert name[lapsed] not in {"Champions", "Loyal customers", "New customers"}

    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(folder / "report.pdf").pages
    )
    customers = manifest["input"]["rows_in"]
    assert f"{lines:,} order lines were read and gave {customers:,} customers" in text
    assert "order lines without a customer id dropped" in text
    for segment in segments:
        assert segment["persona"] in text


def _check_rules_of_an_order_log(folder, tmp_path):
    """The rules read the per-customer figures reportgen derives (named by role): over that
    table, segments.sql labels customers as rules.json says; assign reproduces the period."""
    rules = json.loads((folder / "rules.json").read_text())
    assert {r["status"] for r in rules["segments"]} <= {"rule", "no_short_rule", "too_few"}
    shown = [r for r in rules["segments"] if r["status"] == "rule"]
    assert shown and all(c["column"] == c["role"] for r in shown for c in r["conditions"])
    pages = PdfReader(folder / "report.pdf").pages
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in pages)
    for rule in shown:  # the brief words each rule as rules.json has it
        assert rule_text(rule["conditions"]) in text
    described = json.loads((folder / "profiles.json").read_text())["segments"]
    assert text.count("How to find them:") == sum(not s["suppressed"] for s in described)
    config = parse({"data": {"kind": "transactions"}, "orders": {"as_of": "2026-11-01"}})
    _, clean = read_input(tmp_path / "orders.parquet", config)
    db = duckdb.connect()
    db.register("customers", clean.frame)
    sql = (folder / "segments.sql").read_text()
    found = db.execute(f"SELECT customer_id, {sql} AS sql FROM customers").df()
    kept = pd.read_csv(folder / "assignments.csv", dtype={"customer_id": str})
    both = kept.merge(found, on="customer_id")
    assert len(both) == len(kept)
    for rule in shown:
        mine, inside = both["sql"] == rule["segment"], both["segment"] == rule["segment"]
        assert rule["in_sql"]["support"] == mine.sum()
        assert rule["in_sql"]["recall"] == pytest.approx((mine & inside).sum() / inside.sum())
    assigned = run_cli(
        "assign", "--period", "2026-11", "--data", "orders.parquet", "--as-of", "2026-11-01",
        "--out-file", "a.csv", cwd=tmp_path,
    )  # fmt: skip
    assert assigned.returncode == 0, assigned.stderr
    labels = pd.read_csv(tmp_path / "a.csv", dtype={"customer_id": str})
    assert labels["segment"].tolist() == kept["segment"].tolist()


def test_the_previous_month_is_counted_to_its_end_and_later_lines_are_left_out(
    tmp_path, monkeypatch
):
    """A monthly job on 2026-11-30 for October: the log already holds November's lines,
    which must not shift recency or spend (as-of 2026-11-01), and are counted."""
    made = run_cli("sample", "--orders", "--rows", "300", "--out", "orders.csv", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    log = pd.read_csv(tmp_path / "orders.csv", dtype={"CustomerID": "string"})
    day = pd.to_datetime(log["InvoiceDate"]) + pd.Timedelta(days=20)
    log["InvoiceDate"] = day.dt.strftime("%Y-%m-%d")
    log.to_csv(tmp_path / "orders.csv", index=False)
    november = log[log["CustomerID"].notna() & day.between("2026-11-01", "2026-11-30")]
    assert len(november) > 50
    (tmp_path / "reportgen.toml").write_text('[data]\nkind = "transactions"\n')
    monkeypatch.setattr("reportgen.periods.today", lambda: date(2026, 11, 30))

    result = run_cli("run", "--data", "orders.csv", "--period", "previous", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "output/customer-segments/2026-10"
    manifest = json.loads((tmp_path / result.stdout.strip() / "manifest.json").read_text())
    assert manifest["input"]["as_of"] == "2026-11-01"
    assert manifest["chosen"] == {
        "period": {"asked": "previous", "by": "--period", "today": "2026-11-30"},
        "as_of": {"by": "the first day after 2026-10"},
    }
    left_out = [f for f in manifest["data_quality"]["fixes"] if f["code"] == "after_as_of"]
    assert [f["count"] for f in left_out] == [len(november.drop_duplicates())]
