"""`reportgen rerender`: the report rebuilt from the archived snapshot alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reportgen.resources import sample_data_path
from tests.e2e.test_report import PERIOD, Snapshot, check_figures_match
from tests.helpers import assert_user_error, run_cli

CUSTOM = (
    '{% extends "default/report.html.j2" %}'
    '{% block definitions %}<section id="definitions"><h2>Definitions</h2>'
    "<p>Reviewed by the pricing team.</p></section>{% endblock %}"
)


@pytest.fixture(scope="module")
def archived(tmp_path_factory) -> Path:
    """The output folder of one run whose input is gone since: only the snapshot remains.
    Each test works on a copy of it (see `project`)."""
    folder = tmp_path_factory.mktemp("archived")
    data = folder / "customers.csv"
    shutil.copy(sample_data_path(), data)
    result = run_cli("run", "--data", data, "--period", PERIOD, "--quiet", cwd=folder)
    assert result.returncode == 0, result.stderr
    data.unlink()
    return folder / "output"


@pytest.fixture
def project(tmp_path, archived) -> Path:
    shutil.copytree(archived, tmp_path / "output")
    return tmp_path


def test_rerender_rebuilds_the_report_without_the_data(project):
    folder = project / "output" / "customer-segments" / PERIOD
    before = Snapshot(folder)

    again = run_cli("rerender", PERIOD, cwd=project)
    assert again.returncode == 0, again.stderr
    after = Snapshot(folder)
    # Same templates: the same HTML byte for byte, the same PDF text, the same wording.
    assert after.html == before.html
    assert after.pages == before.pages
    assert after.profiles == before.profiles
    assert after.manifest["templates"] == before.manifest["templates"]
    assert after.manifest["rerendered"]["report_config"]["title"] == "Customer segments"
    assert after.manifest["input"] == before.manifest["input"]
    assert run_cli("archive", "verify", cwd=project).returncode == 0

    # A template change reaches the archived period; the figures stay the computed ones.
    (project / "mine").mkdir()
    (project / "mine" / "report.html.j2").write_text(CUSTOM)
    (project / "reportgen.toml").write_text('[report]\ntemplates = "mine"\n')
    assert run_cli("rerender", PERIOD, cwd=project).returncode == 0
    changed = Snapshot(folder)
    assert "Reviewed by the pricing team." in changed.text
    assert "Reviewed by the pricing team." not in before.text
    check_figures_match(changed)
    assert changed.profiles == before.profiles
    templates = changed.manifest["templates"]
    assert templates["sha256"] != before.manifest["templates"]["sha256"]
    assert "custom/report.html.j2" in templates["files"]
    assert run_cli("archive", "verify", cwd=project).returncode == 0


def test_rerender_refuses_what_it_cannot_rebuild_faithfully(project):
    folder = project / "output" / "customer-segments" / PERIOD
    missing = run_cli("rerender", "2026-01", cwd=project)
    assert_user_error(missing, f"periods archived for 'customer-segments': {PERIOD}")

    (folder / "notes.txt").write_text("kept by hand")  # rewriting would drop it
    added = run_cli("rerender", PERIOD, cwd=project)
    assert_user_error(added, "notes.txt changed, missing or added")
    assert (folder / "notes.txt").read_text() == "kept by hand"
    (folder / "notes.txt").unlink()

    record = json.loads((folder / "brief.json").read_text())
    record["findings"]["profiles"]["customers"] = 1  # tampered: verification catches it
    (folder / "brief.json").write_text(json.dumps(record))
    tampered = run_cli("rerender", PERIOD, cwd=project)
    assert_user_error(tampered, "brief.json changed")
