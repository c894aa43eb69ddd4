"""Promise 4: the same input and config give the same snapshot, whatever the row order
and the number of threads.

Every run is a real process: reproducible means in another process (its own hash seed,
its own thread pools, sized from the environment as the libraries load), not a second
call in one that has already warmed every cache."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.helpers import REPO, run_process
from tests.reliability.helpers import sample_table

SAME = ("assignments.csv", "profiles.json", "model.json", "brief.json", "report.html")


def run(folder: Path, data: str, env: dict[str, str] | None = None) -> Path:
    result = run_process(
        "run", "--data", data, "--period", "2026-11", "--quiet", cwd=folder, env=env
    )
    assert result.returncode == 0, result.stderr
    return folder / result.stdout.strip()


def pdf_without_dates(path: Path) -> bytes:
    """The PDF with its creation and modification dates (which must differ) blanked."""
    return re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)", b"/\\1 ()", path.read_bytes())


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("input")
    sample_table(800).to_csv(folder / "customers.csv", index=False)
    return folder / "customers.csv"


@pytest.fixture(scope="module")
def runs(table, tmp_path_factory) -> list[Path]:
    """Three runs of the table, each in a process and a folder of its own; the tests below
    only read them."""
    return [run(tmp_path_factory.mktemp(f"run{attempt}"), str(table)) for attempt in range(3)]


def test_three_runs_give_identical_files_and_a_pdf_identical_but_for_its_date(runs):
    for name in SAME:
        contents = {(snapshot / name).read_bytes() for snapshot in runs}
        assert len(contents) == 1, name
    assert len({pdf_without_dates(s / "report.pdf") for s in runs}) == 1


def test_one_or_two_threads_give_the_same_segments(table, tmp_path):
    snapshots = []
    for threads in ("1", "2"):
        folder = tmp_path / f"threads{threads}"
        folder.mkdir()
        env = {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        snapshots.append(run(folder, str(table), env))
    for name in ("assignments.csv", "model.json", "profiles.json"):
        assert (snapshots[0] / name).read_bytes() == (snapshots[1] / name).read_bytes(), name
    pools = [json.loads((s / "manifest.json").read_text())["threads"] for s in snapshots]
    assert pools[0] != pools[1]  # the manifest says how each was computed


def test_shuffled_rows_give_the_same_partition_and_ids(runs, tmp_path):
    original = runs[0]
    shuffled = sample_table(800).sample(frac=1.0, random_state=3)
    (tmp_path / "shuffled").mkdir()
    shuffled.to_csv(tmp_path / "shuffled" / "customers.csv", index=False)
    other = run(tmp_path / "shuffled", "customers.csv")
    for name in ("assignments.csv", "model.json", "profiles.json"):
        assert (original / name).read_bytes() == (other / name).read_bytes(), name


def test_the_manifest_records_what_reproduction_needs(runs):
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["seed"] == 42 and manifest["n_init"] == 4
    assert manifest["threads"]["cpus"] >= 1 and manifest["threads"]["pools"]
    required = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0] for requirement in required]
    assert "seaborn" in names and "rich" in names  # every requirement, not a chosen few
    for package in ("python", *names):
        assert re.match(r"\d+\.\d+", manifest["versions"][package]), package
