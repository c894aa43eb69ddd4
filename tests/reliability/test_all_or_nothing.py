"""Promise 3: each snapshot is all-or-nothing and each run is safe to repeat.

Killed processes, Ctrl-C, a second concurrent run and stale locks are tested with
real processes in tests/e2e/test_archive_cli.py and tests/unit/test_archive.py; here
every single write step of a real snapshot fails in turn, as on a full disk.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from reportgen import archive
from reportgen.config import parse
from reportgen.errors import ConfigError, SnapshotError
from tests.helpers import MANIFEST
from tests.reliability.helpers import run_in_process, sample_table


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != archive.LOCK
    }


@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> dict[str, bytes]:
    """The files of a real run, to write again under faults."""
    folder = tmp_path_factory.mktemp("real")
    result = run_in_process(sample_table(), folder)
    return {name: (result.snapshot.path / name).read_bytes() for name in result.snapshot.files}


STEPS = ["fsync 0", "fsync 3", "fsync last", "manifest", "folder sync", "rename"]


def inject(step: str, count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make one write step fail with ENOSPC, as a full disk would."""
    full = OSError(errno.ENOSPC, "No space left on device")
    if step.startswith("fsync"):
        target = {"0": 0, "3": 3, "last": count - 1}[step.split()[1]]
        calls = {"n": 0}
        real = os.fsync

        def fsync(fd):
            calls["n"] += 1
            if calls["n"] - 1 == target:
                raise full
            return real(fd)

        monkeypatch.setattr(archive.os, "fsync", fsync)
    elif step == "manifest":
        monkeypatch.setattr(archive, "to_json", lambda value: (_ for _ in ()).throw(full))
    elif step == "folder sync":
        monkeypatch.setattr(archive, "fsync_dir", lambda path: (_ for _ in ()).throw(full))
    else:
        real_replace = Path.replace

        def replace(self, other):
            if self.name.startswith(".tmp-"):
                raise full
            return real_replace(self, other)

        monkeypatch.setattr(Path, "replace", replace)


@pytest.mark.parametrize("earlier", [False, True], ids=["first-run", "force-over-earlier"])
@pytest.mark.parametrize("step", STEPS)
def test_a_full_disk_at_any_write_step_changes_nothing(
    step, earlier, real_files, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    target = out / "brief" / "2026-11"
    if earlier:
        old = {name: b"earlier " + data for name, data in real_files.items()}
        archive.write_snapshot(target, old, {**MANIFEST, "period": "2026-11"}, force=False)
    before = tree(out) if out.exists() else {}
    inject(step, len(real_files), monkeypatch)
    full = r"No space left on device\); nothing was changed"
    with pytest.raises(SnapshotError, match=full), archive.report_lock(out, "brief"):
        archive.write_snapshot(target, real_files, {**MANIFEST, "period": "2026-11"}, force=True)
    monkeypatch.undo()
    after = tree(out) if out.exists() else {}
    assert after == before  # byte for byte; no temporary folder, no half file
    if earlier:
        assert archive.verify(archive.find(out, "brief", "2026-11")).ok


HOSTILE_SLUGS = [
    "../escape",
    "a/b",
    "..",
    "UPPER",
    "x" * 70,
    "brief\n",
    "brief\r",
    "\nbrief",
    "brief/",
    "",
    "br\x00ief",
    "bri\u0435f",  # a Cyrillic e
]
HOSTILE_PERIODS = [
    "../2026-11",
    "2026-11/..",
    "2026/11",
    "..",
    "",
    "2026-11\n",
    "2026-11\r\n",
    "\n2026-11",
    "２０２６-11",  # full-width digits, which \d accepts
    "2026-13",
]


@pytest.mark.parametrize("slug", HOSTILE_SLUGS)
def test_a_report_slug_that_could_leave_the_output_folder_is_refused(slug):
    with pytest.raises(ConfigError, match=r"\[report\] slug"):
        parse({"report": {"slug": slug}})


@pytest.mark.parametrize("slug", HOSTILE_SLUGS)
def test_the_archive_refuses_such_a_slug_whoever_passes_it(slug, tmp_path):
    out = tmp_path / "out"
    for call in (
        lambda: archive.snapshot_path(out, slug, "2026-11"),
        lambda: archive.entries(out, slug),
        lambda: archive.find(out, slug, "2026-11"),
        lambda: archive.report_lock(out, slug).__enter__(),
    ):
        with pytest.raises(SnapshotError, match="is not a valid slug"):
            call()
    assert not out.exists() and sorted(tmp_path.iterdir()) == []


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    folder = tmp_path / "out" / "brief"
    folder.mkdir(parents=True)
    (folder / archive.LOCK).symlink_to(victim)
    with pytest.raises(SnapshotError, match="cannot be the report's lock"):
        archive.report_lock(tmp_path / "out", "brief").__enter__()
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("period", HOSTILE_PERIODS)
def test_a_period_that_could_leave_the_output_folder_is_refused(period):
    with pytest.raises(SnapshotError, match="is not a month in the form YYYY-MM"):
        archive.snapshot_path(Path("out"), "brief", period)
