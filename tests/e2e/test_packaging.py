"""A non-editable install must carry its templates and sample, and work from any folder."""

import subprocess
import sys
import zipfile

from tests.helpers import REPO


def test_wheel_ships_templates_and_sample_and_runs_from_an_empty_folder(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = (tmp_path / "dist").glob("reportgen-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "reportgen/_bundled/data/sample_customers.csv" in names
    assert "reportgen/_bundled/templates/reportgen.toml.j2" in names

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "run", "--period", "2026-01", "--quiet"],
        cwd=empty,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    manifest = (empty / "output" / "customer-segments" / "2026-01" / "manifest.json").read_text()
    # The data came from the installed copy, not from this source checkout.
    assert str(target / "reportgen" / "_bundled" / "data" / "sample_customers.csv") in manifest
