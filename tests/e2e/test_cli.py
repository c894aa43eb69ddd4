"""The CLI as a user runs it: real files, exit codes and messages (in-process runs, and
a real process where a terminal is the point)."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from reportgen.resources import sample_data_path
from tests.helpers import REAL_DATA, assert_user_error, needs_real_data, run_cli, run_process

PERIOD = "2026-11"
STAGES = (
    "ingest",
    "validate",
    "features",
    "segment",
    "history",
    "profile",
    "rules",
    "findings",
    "personas",
    "charts",
    "render",
    "assignments",
    "archive",
)


def snapshot(root: Path, slug: str = "customer-segments", period: str = PERIOD) -> Path:
    return root / "output" / slug / period


def load(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())


def test_run_with_no_arguments_uses_the_bundled_sample(tmp_path):
    result = run_cli("run", "--period", PERIOD, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = snapshot(tmp_path)
    assert result.stdout.strip() == str(Path("output") / "customer-segments" / PERIOD)
    assert sorted(p.name for p in folder.iterdir()) == [
        "assignments.csv",
        "brief.json",
        "manifest.json",
        "model.json",
        "profiles.json",
        "report.html",
        "report.pdf",
        "rules.json",
        "segments.sql",
    ]
    manifest = load(folder, "manifest.json")
    assert manifest["input"]["path"] == str(sample_data_path().resolve())
    assert manifest["input"]["rows_in"] == manifest["input"]["rows_out"] == 2000
    profiles = load(folder, "profiles.json")
    assignments = pd.read_csv(folder / "assignments.csv", dtype={"customer_id": str})
    assert len(assignments) == 2000 and assignments["customer_id"].is_unique
    sizes = assignments["segment"].value_counts().sort_index().tolist()
    assert sizes == [s["size"] for s in profiles["segments"]]
    assert sum(sizes) == profiles["customers"] == 2000
    assert profiles["k"] == load(folder, "model.json")["k"] == len(sizes)
    assert sum(s["revenue_share"] for s in profiles["segments"]) == pytest.approx(1)
    means = [s["stats"]["spend"]["mean"] for s in profiles["segments"]]
    assert means == sorted(means, reverse=True)  # segment 1 spends most
    for stage in ("ingest", "validate", "features", "segment", "profile"):
        assert manifest["timings"][stage] >= 0
    assert set(manifest["versions"]) >= {"python", "numpy", "pandas", "scikit-learn"}
    for name, entry in manifest["files"].items():
        assert entry["bytes"] == (folder / name).stat().st_size


@needs_real_data
def test_real_data_no_config_roles_inferred_gaps_reported_and_reproducible(tmp_path):
    first = run_cli("run", "--data", REAL_DATA, "--period", PERIOD, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (
        "Columns matched by name: customer_id ← 'Customer ID', recency ← 'Days Since Last "
        "Purchase', satisfaction ← 'Satisfaction Level'"
    ) in first.stderr
    assert (
        "'Satisfaction Level' (satisfaction): 2 missing values filled with the most common value"
    ) in first.stderr
    folder = snapshot(tmp_path)
    manifest = load(folder, "manifest.json")
    assert manifest["columns"]["spend"] == "Total Spend"
    fixes = manifest["data_quality"]["fixes"]
    assert [(f["code"], f["role"], f["count"]) for f in fixes] == [("imputed", "satisfaction", 2)]
    assignments = pd.read_csv(folder / "assignments.csv", dtype={"customer_id": str})
    source = pd.read_csv(REAL_DATA, dtype={"Customer ID": str})
    assert sorted(assignments["customer_id"]) == sorted(source["Customer ID"])
    assert len(assignments) == 350

    second = run_cli("run", "--data", REAL_DATA, "--period", PERIOD, "--out", "again", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    again = tmp_path / "again" / "customer-segments" / PERIOD
    assert (again / "assignments.csv").read_bytes() == (folder / "assignments.csv").read_bytes()
    assert (again / "model.json").read_bytes() == (folder / "model.json").read_bytes()


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        (
            "nospend.csv",
            "Customer ID,Age\n1,30\n2,40\n3,50\n",
            (),
            "required role 'spend': no column looks like it",
        ),
        ("empty.csv", "", (), "empty.csv: the file is empty"),
        (
            "text.csv",
            "Customer ID,Total Spend\n1,high\n2,low\n3,medium\n",
            (),
            "column 'Total Spend' (role spend) holds 3 of 3 values that are not numbers",
        ),
        (
            "binary.csv",
            b"\x00\x01\x02\x03PK\x00\x00garbage\xff\xfe",
            (),
            "the file is binary, not a text table",
        ),
        (
            "small.csv",
            "Customer ID,Total Spend\n1,10\n2,20\n3,30\n4,40\n",
            ("--k", "10"),
            "k = 10 is not smaller than the number of customers (4)",
        ),
        (
            "small.csv",
            "Customer ID,Total Spend\n1,10\n2,20\n3,30\n4,40\n",
            ("--period", "2026-13"),
            "period '2026-13' is neither a month in the form YYYY-MM",
        ),
    ],
)
def test_user_errors_give_one_line_exit_2_and_no_output(tmp_path, name, content, args, message):
    data = write(tmp_path / name, content)
    result = run_cli("run", "--data", data, *args, cwd=tmp_path)
    assert_user_error(result, message)
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "output").exists()


def test_bad_config_names_the_key(tmp_path):
    config = write(tmp_path / "r.toml", "[segmentation]\nk_max = 99\n")
    result = run_cli("run", "--config", config, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"reportgen: error: {config}: config [segmentation] k_max: 99 is out of range; use a "
        "whole number from 2 to 50\n"
    )


def test_init_writes_a_config_that_run_uses(tmp_path):
    data = write(
        tmp_path / "shop.csv",
        "Client Ref,Revenue,Orders,Comment\n"
        + "".join(f"c{i},{100 + 50 * (i % 4)},{1 + i % 4},x\n" for i in range(40)),
    )
    result = run_cli("init", "--data", data, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "reportgen.toml").read_text()
    assert 'customer_id = "Client Ref"' in text
    assert 'spend = "Revenue"' in text and 'frequency = "Orders"' in text
    assert '# rating = ""   # no column found' in text
    assert '# Columns that play no role: "Comment"' in text
    assert_user_error(run_cli("init", "--data", data, cwd=tmp_path))  # no silent overwrite
    edited = text.replace('# k = "auto"', "k = 4")
    (tmp_path / "reportgen.toml").write_text(edited)
    ran = run_cli("run", "--period", PERIOD, "--quiet", cwd=tmp_path)  # finds ./reportgen.toml
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    model = load(snapshot(tmp_path), "model.json")
    assert model["k"] == 4 and model["features"] == ["spend", "frequency"]
    assert load(snapshot(tmp_path), "manifest.json")["inferred_roles"] == []


def test_validate_prints_the_quality_summary_and_writes_nothing(tmp_path):
    data = write(
        tmp_path / "d.csv",
        "Customer ID,Total Spend,Items\n1,10,1\n1,12,2\n2,,3\n3,5,x\n"
        + "".join(f"{i},{i},{i}\n" for i in range(4, 30)),
    )
    result = run_cli("validate", "--data", data, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Rows read: 30; customers kept: 29",
        "- 'Customer ID' (customer_id): 1 rows with a repeated customer id dropped (kept the "
        "last) (e.g. row 2: '1', row 3: '1')",
        "- 'Items' (frequency): 1 values that are not numbers treated as missing (e.g. row 5: 'x')",
        "- 'Total Spend' (spend): 1 missing values filled with the median (15.5) (e.g. row 4: '')",
        "- 'Items' (frequency): 1 missing values filled with the median (15.5) (e.g. row 5: 'x')",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_k_override_existing_period_and_force(tmp_path):
    args = ("run", "--period", PERIOD, "--k", "3", "--quiet")
    assert run_cli(*args, cwd=tmp_path).returncode == 0
    assert load(snapshot(tmp_path), "model.json")["k"] == 3
    again = run_cli(*args, cwd=tmp_path)
    assert_user_error(again, "already exists; pass --force to replace it")
    forced = run_cli("run", "--period", PERIOD, "--k", "4", "--force", "--quiet", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert load(snapshot(tmp_path), "model.json")["k"] == 4


def test_verbose_prints_stage_timings_and_parquet_input_works(tmp_path):
    parquet = tmp_path / "customers.parquet"
    pd.read_csv(sample_data_path(), dtype=str).to_parquet(parquet)
    result = run_cli("run", "--data", parquet, "--period", PERIOD, "--verbose", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    timed = [line.split()[0] for line in result.stderr.splitlines() if line.endswith(" s")]
    assert timed == list(STAGES[:-1])  # archive is not timed: it writes the timings
    assert load(snapshot(tmp_path), "manifest.json")["input"]["format"] == "parquet"


def test_sample_command_is_reproducible(tmp_path):
    for name in ("a.csv", "b.csv"):
        assert run_cli("sample", "--rows", "50", "--out", name, cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert len((tmp_path / "a.csv").read_text().splitlines()) == 51
    refused = run_cli("sample", "--out", "a.csv", cwd=tmp_path)
    assert_user_error(refused, "already exists; pass --force")


def test_progress_is_shown_on_a_terminal_only(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reportgen", "run", "--period", PERIOD],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env={**os.environ, "TERM": "xterm"},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    for stage in STAGES:
        assert f"✓ {stage}" in shown, shown
    piped = run_process("run", "--period", "2026-10", cwd=tmp_path)  # stderr: a pipe
    assert "✓" not in piped.stderr and "Columns matched by name" in piped.stderr


def test_k_must_be_at_least_two(tmp_path):
    result = run_cli("run", "--k", "1", cwd=tmp_path)
    assert_user_error(result, "argument --k: a segmentation needs at least 2 segments, got 1")
    assert not (tmp_path / "output").exists()
