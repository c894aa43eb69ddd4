"""The customers Spark holds: k chosen on a sample and the final fit by Lloyd's
iterations in Spark, frozen mode, the migration read from the Parquet of an earlier
period, and the assignments Spark writes; each against the local engine's brief."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from reportgen.config import parse
from reportgen.sample import generate_orders
from tests.helpers import assert_user_error, run_cli
from tests.spark.test_spark_run import _close, _pdf_text

pytestmark = pytest.mark.spark  # a stage of its own: see pyproject.toml

CUSTOMERS = 3000
SAMPLE = 500
"""Fewer than the customers: k is chosen on a sample and Spark fits everyone."""
OCTOBER = 2717
"""October's customers with an order before its as-of day."""
MONTHS = {"2026-10": ("2026-10-01", 7), "2026-11": ("2026-11-01", 8)}
"""Period -> its as-of day and the seed of its log (the same customer ids, other orders)."""


def _config(work: Path, name: str, mode: str, spark: bool) -> Path:
    text = (
        '[data]\nkind = "transactions"\n'
        f'[segmentation]\nsample_size = {SAMPLE}\nstability_runs = 2\nmode = "{mode}"\n'
    )
    if spark:
        text += (
            '[engine]\nname = "spark"\n'
            '[spark]\nassignments_path = "parquet"\nlocal_assignments_max_rows = 100\n'
        )
    path = work / name
    path.write_text(text)
    return path


def _run(work: Path, period: str, out: str, config: Path) -> None:
    as_of, _ = MONTHS[period]
    found = run_cli(
        "run", "--config", str(config), "--data", f"{period}.parquet", "--period", period,
        "--as-of", as_of, "--out", out, cwd=work,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr


def _snapshot(work: Path, out: str, period: str) -> Path:
    (found,) = (work / out).glob(f"*/{period}")
    return found


@pytest.fixture(scope="module")
def months(spark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two months of one customer base, each run by both engines: October refitted,
    November scored with October's model (frozen mode)."""
    work = tmp_path_factory.mktemp("spark_held")
    for period, (_, seed) in MONTHS.items():
        pq.write_table(generate_orders(CUSTOMERS, seed=seed), work / f"{period}.parquet")
    for engine, spark_engine in (("local", False), ("spark", True)):
        refit = _config(work, f"{engine}_refit.toml", "refit", spark_engine)
        frozen = _config(work, f"{engine}_frozen.toml", "frozen", spark_engine)
        _run(work, "2026-10", engine, refit)
        _run(work, "2026-11", engine, frozen)
    return work


def _same(work: Path, out: str, period: str, names: tuple[str, ...]) -> None:
    ours, local = _snapshot(work, out, period), _snapshot(work, "local", period)
    for name in names:
        _close(json.loads((ours / name).read_text()), json.loads((local / name).read_text()))
    assert _pdf_text(ours) == _pdf_text(local)


def test_a_fit_in_spark_gives_the_local_engines_brief(months):
    """k on a sample of 500, then every customer fitted by Spark: the same k, segment
    ids, personas, sizes and figures (1e-9 relative) as scikit-learn's fit in memory."""
    import pyspark

    _same(months, "spark", "2026-10", ("profiles.json", "brief.json", "model.json"))
    snapshot = _snapshot(months, "spark", "2026-10")
    profiles = json.loads((snapshot / "profiles.json").read_text())
    customers = json.loads((snapshot / "manifest.json").read_text())["input"]["rows_out"]
    assert len(profiles["segments"]) >= 2
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["engine"] == {
        "name": "spark",
        "spark_version": pyspark.__version__,
        "master": "local[2]",  # the running session's (the fixture's), not [spark]'s default
    }
    assert set(manifest["timings"]) >= {"orders", "segment", "profile", "assignments"}
    local = json.loads((_snapshot(months, "local", "2026-10") / "manifest.json").read_text())
    assert local["engine"] == {"name": "local", "duckdb": duckdb.__version__}
    assert sum(s["size"] for s in profiles["segments"]) == customers > SAMPLE


def test_frozen_mode_and_the_migration_from_sparks_parquet_match_the_local_engine(months):
    """November on Spark: October's model, and the migration counted against the
    assignments October left only as Parquet (no assignments.csv above the limit)."""
    _same(months, "spark", "2026-11", ("profiles.json", "brief.json", "migration.json"))
    migration = json.loads((_snapshot(months, "spark", "2026-11") / "migration.json").read_text())
    assert migration["moved"] > 0


def _written(snapshot: Path) -> pd.DataFrame:
    record = json.loads((snapshot / "manifest.json").read_text())["assignments"]
    root = Path(record["path"])
    files = record["files"]
    assert sum(f["rows"] for f in files) == record["rows"]
    for each in files:  # what the manifest lists is what is there, byte for byte
        assert (root / each["file"]).stat().st_size == each["bytes"]
        assert each["file"].startswith("segment=")
    assert {p.relative_to(root).as_posix() for p in root.rglob("*.parquet")} == {
        f["file"] for f in files
    }
    found = pd.read_parquet(root).astype({"segment": "int64"})
    assert len(found) == record["rows"]
    return found.sort_values("customer_id", ignore_index=True)[["customer_id", "segment"]]


def _csv(snapshot: Path) -> pd.DataFrame:
    found = pd.read_csv(snapshot / "assignments.csv", dtype={"customer_id": "string"})
    return found.sort_values("customer_id", ignore_index=True)


def test_above_the_limit_the_assignments_are_sparks_parquet_only(months):
    for period in MONTHS:
        snapshot = _snapshot(months, "spark", period)
        assert not (snapshot / "assignments.csv").exists()
        record = json.loads((snapshot / "manifest.json").read_text())["assignments"]
        # a folder of this run's own, under the report's and the period's
        assert Path(record["path"]).parent == months / "parquet" / snapshot.parent.name / period
        assert (
            record["rows"]
            == json.loads((snapshot / "manifest.json").read_text())["input"]["rows_out"]
        )
        pd.testing.assert_frame_equal(
            _written(snapshot),
            _csv(_snapshot(months, "local", period)),
            check_dtype=False,
        )
    verified = run_cli("archive", "verify", "--out", "spark", cwd=months)
    assert verified.returncode == 0, verified.stderr


def test_the_local_engine_reads_an_earlier_periods_parquet_for_its_migration(months):
    """A period Spark wrote, then a month on the local engine: the migration comes from
    the Parquet folder, as the local engine's own would."""
    october = _snapshot(months, "spark", "2026-10")
    shutil.copytree(october, months / "mixed" / october.parent.name / "2026-10")
    _run(months, "2026-11", "mixed", months / "local_frozen.toml")
    _same(months, "mixed", "2026-11", ("migration.json",))


def test_too_many_customers_for_a_csv_and_no_path_is_refused_before_fitting(months):
    config = months / "no_path.toml"
    config.write_text(
        '[data]\nkind = "transactions"\n[engine]\nname = "spark"\n'
        "[spark]\nlocal_assignments_max_rows = 100\n"
    )
    found = run_cli(
        "run", "--config", str(config), "--data", "2026-10.parquet", "--period", "2026-10",
        "--as-of", "2026-10-01", "--out", "refused", cwd=months,
    )  # fmt: skip
    assert found.returncode == 2
    assert (
        found.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"{OCTOBER:,} customers are more than [spark] local_assignments_max_rows (100) for "
            "assignments.csv in the snapshot; set [spark] assignments_path to a folder or URI "
            "where Spark writes them as Parquet (or raise the limit)"
        )
    )
    assert not (months / "refused").exists() or not any((months / "refused").rglob("*.json"))


CUSTOMER_RUN = ("--data", "customers.csv", "--period", "2026-11")


def _customers(folder: Path) -> None:
    made = run_cli("sample", "--rows", "400", "--out", "customers.csv", cwd=folder)
    assert made.returncode == 0, made.stderr


def test_a_customer_tables_assignments_are_written_by_spark_too(spark, tmp_path):
    """A customer table is read on the driver; with assignments_path Spark still writes
    its assignments, the same as the snapshot's CSV."""
    (tmp_path / "reportgen.toml").write_text(
        '[engine]\nname = "spark"\n[spark]\nassignments_path = "parquet"\n'
    )
    _customers(tmp_path)
    found = run_cli("run", *CUSTOMER_RUN, "--out", "out", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    (snapshot,) = (tmp_path / "out").glob("*/2026-11")
    pd.testing.assert_frame_equal(_written(snapshot), _csv(snapshot), check_dtype=False)


def test_a_path_spark_cannot_write_is_exit_3_in_one_line_and_no_snapshot(spark, tmp_path):
    (tmp_path / "taken").write_text("a file where the assignments' folder would go")
    (tmp_path / "reportgen.toml").write_text(
        '[engine]\nname = "spark"\n[spark]\nassignments_path = "taken"\n'
    )
    _customers(tmp_path)
    found = run_cli("run", "--quiet", *CUSTOMER_RUN, "--out", "out", cwd=tmp_path)
    assert_user_error(found, "reportgen: error: Spark at ", " failed: ", code=3)
    assert not list((tmp_path / "out").glob("*/2026-11"))


@pytest.mark.parametrize("fault", ["none", "a tab in an id", "a no-break space after an id"])
def test_spark_holds_the_customers_unless_validation_would_change_one(spark, tmp_path, fault):
    """Above the sample's size Spark keeps the customers, and the driver holds only the
    sample (the local engine's rows at the same positions); an id that validation would
    clean brings the whole table to the driver instead, validated as the local engine
    validates it (the same fixes, the same customers)."""
    from reportgen.inputs import read_input
    from reportgen.segment import sample_rows

    log = generate_orders(300, seed=5).to_pandas()
    log["CustomerID"] = log["CustomerID"].astype("Int64").astype("string")
    first = log["CustomerID"] == log["CustomerID"].iloc[0]
    if fault != "none":
        # (SQL's TRIM takes off spaces, not a no-break space; validation strips both)
        log.loc[first, "CustomerID"] = "A\tB" if fault == "a tab in an id" else "10000\u00a0"
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    raw = {"data": {"kind": "transactions"}, "segmentation": {"sample_size": 100}}
    _, local = read_input(path, parse(raw))
    dataset, clean = read_input(path, parse({**raw, "engine": {"name": "spark"}}))
    assert clean.quality.fixes == local.quality.fixes
    assert clean.quality.rows_kept == local.quality.rows_kept == len(local.frame) > 100
    if fault == "none":
        assert dataset.held is not None and dataset.held.n == len(local.frame)
        expected = local.frame.iloc[sample_rows(len(local.frame), 100, 42)]
        pd.testing.assert_frame_equal(
            clean.frame.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
        )
    else:
        assert dataset.held is None
        assert any(fix.role == "customer_id" for fix in local.quality.fixes)
        pd.testing.assert_frame_equal(clean.frame, local.frame, check_dtype=False)
