import hashlib
import json
import os
import re
import signal

import pytest

from reportgen import archive
from reportgen.archive import check_target, write_snapshot
from reportgen.errors import SnapshotError
from tests.helpers import MANIFEST, unreadable


def test_files_and_manifest_with_hashes(tmp_path):
    target = tmp_path / "out" / "brief" / "2026-11"
    snapshot = write_snapshot(target, {"a.csv": b"x\n", "b.json": b"{}"}, MANIFEST, force=False)
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "b.json", "manifest.json"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["k"] == 2
    assert manifest["files"]["a.csv"] == {"sha256": hashlib.sha256(b"x\n").hexdigest(), "bytes": 2}
    assert snapshot.files == manifest["files"]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_existing_snapshot_is_refused_then_replaced_with_force(tmp_path):
    target = tmp_path / "brief" / "2026-11"
    write_snapshot(target, {"a": b"old"}, {}, force=False)
    with pytest.raises(SnapshotError, match="already exists; pass --force"):
        check_target(tmp_path, "brief", "2026-11", force=False)
    with pytest.raises(SnapshotError, match="already exists"):
        write_snapshot(target, {"a": b"new"}, {}, force=False)
    assert (target / "a").read_bytes() == b"old"
    write_snapshot(target, {"a": b"new"}, {}, force=True)
    assert (target / "a").read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["2026-11"]


def test_a_failure_mid_write_leaves_nothing_behind(tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []

    def failing(value):
        calls.append(value)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive, "to_json", failing)
    with (
        pytest.raises(SnapshotError, match="could not be written \\(No space left on device\\)"),
        archive.report_lock(out, "brief"),
    ):
        write_snapshot(out / "brief" / "2026-11", {"a": b"1"}, {}, force=False)
    assert calls and not out.exists()


def test_a_failure_keeps_an_earlier_snapshot_intact(tmp_path, monkeypatch):
    target = tmp_path / "brief" / "2026-11"
    write_snapshot(target, {"a": b"old"}, {}, force=False)
    monkeypatch.setattr(archive, "fsync_dir", lambda path: (_ for _ in ()).throw(OSError("io")))
    with pytest.raises(SnapshotError, match="nothing was changed"):
        write_snapshot(target, {"a": b"new"}, {}, force=True)
    assert (target / "a").read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["2026-11"]


@pytest.mark.parametrize("period", ["2026-13", "26-11", "2026-1", "../x", "2026-11/.."])
def test_period_must_be_a_month(period):
    with pytest.raises(SnapshotError, match="is not a month in the form YYYY-MM"):
        archive.check_period(period)


def test_a_second_run_of_the_same_report_fails_at_once(tmp_path):
    with archive.report_lock(tmp_path, "brief"):
        with (
            pytest.raises(
                SnapshotError,
                match=r"report 'brief' in .* is locked by a run in "
                r"progress \(pid \d+\); wait for it",
            ),
            archive.report_lock(tmp_path, "brief"),
        ):
            pass
        with archive.report_lock(tmp_path, "other"):  # other reports are not held up
            pass
    # The lock left between runs says what it is, for whoever finds it.
    note = (tmp_path / "brief" / ".lock").read_text()
    assert note.splitlines()[0] == f"pid {os.getpid()}"
    assert "deleting it is safe when no reportgen run is going" in note
    with archive.report_lock(tmp_path, "brief"):  # released when the first run ends
        pass


def test_a_lock_held_by_a_killed_process_is_released(tmp_path):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from reportgen import archive\n"
                f"with archive.report_lock(Path({str(tmp_path)!r}), 'brief'):\n"
                "    print('held', flush=True); time.sleep(60)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(SnapshotError, match="locked"), archive.report_lock(tmp_path, "brief"):
        pass
    holder.kill()
    holder.wait()
    with archive.report_lock(tmp_path, "brief"):
        pass


def test_leftovers_of_crashed_runs_are_cleaned_and_a_moved_snapshot_restored(tmp_path):
    folder = tmp_path / "brief"
    (folder / ".tmp-2026-10-abc").mkdir(parents=True)
    (folder / ".tmp-2026-10-abc" / "report.pdf").write_bytes(b"half")
    (folder / ".old-2026-09-def").mkdir()  # a --force interrupted between its two renames
    (folder / ".old-2026-09-def" / "manifest.json").write_text("{}")
    (folder / "2026-08").mkdir()
    (folder / ".old-2026-08-123").mkdir()  # its replacement did arrive: just delete it
    with archive.report_lock(tmp_path, "brief") as repaired:
        pass
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "2026-08", "2026-09"]
    assert (folder / "2026-09" / "manifest.json").read_text() == "{}"
    assert len(repaired) == 2


def test_a_failed_first_run_leaves_no_folder(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), archive.report_lock(out, "brief"):
        raise RuntimeError("boom")
    assert not out.exists()


def snapshot_with(tmp_path, period, files):
    target = tmp_path / "brief" / period
    write_snapshot(target, files, MANIFEST, force=False)
    return archive.find(tmp_path, "brief", period)


WRITTEN = {**MANIFEST, "files": {"a.csv": {"sha256": hashlib.sha256(b"1").hexdigest(), "bytes": 1}}}
DAMAGED = [
    ("{}", "'created' is missing"),
    ("[]", "a JSON list, not an object"),
    ("null", "a JSON NoneType, not an object"),
    ('"text"', "a JSON str, not an object"),
    ("{not json", "cannot be read"),
    (json.dumps({**WRITTEN, "k": "3"}), "'k' is missing or not int"),
    (json.dumps({**WRITTEN, "k": True}), "'k' is missing or not int"),
    (json.dumps({**WRITTEN, "input": {}}), "'path' is missing"),
    (json.dumps({**WRITTEN, "files": []}), "'files' is missing or not dict"),
    (
        json.dumps({**WRITTEN, "files": {"../../etc/passwd": {"sha256": "0" * 64, "bytes": 1}}}),
        "the file name '../../etc/passwd' is not a plain name",
    ),
    (
        json.dumps({**WRITTEN, "files": {"a.csv": {"sha256": "x", "bytes": 1}}}),
        "the record of 'a.csv' is not a sha256 and a size",
    ),
    (
        json.dumps({**WRITTEN, "files": {"a.csv": {"sha256": "0" * 64, "bytes": "1"}}}),
        "the record of 'a.csv' is not a sha256 and a size",
    ),
]


@pytest.mark.parametrize(("text", "problem"), DAMAGED)
def test_a_damaged_manifest_is_listed_fails_verification_and_is_never_built_on(
    tmp_path, text, problem
):
    good = snapshot_with(tmp_path, "2026-10", {"a.csv": b"1"})
    bad = snapshot_with(tmp_path, "2026-11", {"a.csv": b"1"})
    (bad.path / "manifest.json").write_text(text)
    listed = archive.entries(tmp_path, "brief")
    assert [(e.period, e.damage is None) for e in listed] == [("2026-10", True), ("2026-11", False)]
    assert problem in listed[1].damage
    assert archive.verify(good).ok
    checked = archive.verify(listed[1])
    assert not checked.ok
    assert problem in checked.damage
    with pytest.raises(SnapshotError, match=r"restore the snapshot|cannot be read"):
        archive.find(tmp_path, "brief", "2026-11")
    with pytest.raises(SnapshotError, match=re.escape(problem)):
        archive.check_intact(listed[1], "the previous snapshot")


def test_prune_removes_nothing_when_a_period_is_a_link(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write_snapshot(elsewhere, {"a.csv": b"precious"}, MANIFEST, force=False)
    for period in ("2026-08", "2026-10", "2026-11"):
        snapshot_with(tmp_path, period, {"a.csv": b"1"})
    (tmp_path / "brief" / "2026-09").symlink_to(elsewhere, target_is_directory=True)
    before = sorted(p.name for p in (tmp_path / "brief").iterdir())
    with pytest.raises(SnapshotError, match=r"2026-09 is a link to .*nothing was removed"):
        archive.prunable(tmp_path, "brief", keep=2)
    assert sorted(p.name for p in (tmp_path / "brief").iterdir()) == before
    assert (elsewhere / "a.csv").read_bytes() == b"precious"


def test_verify_names_every_file_changed_missing_or_added(tmp_path):
    entry = snapshot_with(tmp_path, "2026-11", {"a.csv": b"1", "b.pdf": b"2", "c.json": b"3"})
    assert archive.verify(entry).ok
    (entry.path / "a.csv").write_bytes(b"tampered")
    (entry.path / "b.pdf").unlink()
    (entry.path / "extra.txt").write_text("x")
    result = archive.verify(entry)
    assert (result.changed, result.missing, result.added) == (
        ("a.csv",),
        ("b.pdf",),
        ("extra.txt",),
    )
    assert not result.ok


def test_entries_and_pruning_keep_the_newest_periods(tmp_path):
    for period in ("2026-09", "2026-10", "2026-11"):
        snapshot_with(tmp_path, period, {"a": period.encode()})
    (tmp_path / "brief" / "notes").mkdir()  # not a snapshot: ignored
    assert [e.period for e in archive.entries(tmp_path)] == ["2026-09", "2026-10", "2026-11"]
    assert archive.entries(tmp_path)[0].size == 7
    doomed = archive.prunable(tmp_path, "brief", keep=2)
    assert [e.period for e in doomed] == ["2026-09"]
    assert archive.prunable(tmp_path, "brief", keep=0) == []
    archive.remove(doomed[0])
    assert [e.period for e in archive.entries(tmp_path)] == ["2026-10", "2026-11"]
    with pytest.raises(SnapshotError, match="periods archived for 'brief': 2026-10, 2026-11"):
        archive.find(tmp_path, "brief", "2026-09")


@pytest.fixture
def within_five_seconds():
    """A test that would hang without its protection fails instead."""

    def timeout(signum, frame):
        raise TimeoutError("hung: the protection is missing")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("replacement", ["fifo", "device", "sibling-link"])
def test_a_file_replaced_by_a_link_pipe_or_device_is_changed_and_never_read(
    tmp_path, within_five_seconds, replacement
):
    entry = snapshot_with(tmp_path, "2026-11", {"a.csv": b"1", "b.pdf": b"2"})
    target = entry.path / "b.pdf"
    target.unlink()
    if replacement in ("fifo", "device"):
        unreadable(target, replacement)
    else:
        (tmp_path / "copy.pdf").write_bytes(b"2")  # the same bytes, through a link
        target.symlink_to(tmp_path / "copy.pdf")
    result = archive.verify(entry)
    assert (result.changed, result.missing, result.added) == (("b.pdf",), (), ())


@pytest.mark.parametrize("kind", ["hard link", "fifo"])
def test_a_lock_that_is_a_hard_link_or_a_pipe_is_refused_and_left_alone(
    tmp_path, within_five_seconds, kind
):
    folder = tmp_path / "brief"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    if kind == "hard link":
        os.link(victim, folder / ".lock")
    else:
        os.mkfifo(folder / ".lock")
    expected = "a hard link" if kind == "hard link" else "not a regular file"
    with (
        pytest.raises(
            SnapshotError, match=rf"brief/\.lock cannot be the report's lock \({expected}\)"
        ),
        archive.report_lock(tmp_path, "brief"),
    ):
        pass
    assert victim.read_text() == "precious"


def test_prune_removes_nothing_when_the_report_folder_is_a_link(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    for period in ("2026-09", "2026-10", "2026-11"):
        snapshot_with(tmp_path / "real", period, {"a.csv": b"1"})
    (tmp_path / "real" / "brief").rename(elsewhere)
    (tmp_path / "brief").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(SnapshotError, match=r"brief is a link to .*nothing was removed"):
        archive.prunable(tmp_path, "brief", keep=1)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["2026-09", "2026-10", "2026-11"]


@pytest.mark.parametrize("kind", ["deep", "fifo", "device"])
def test_a_manifest_that_would_hang_or_exhaust_the_reader_is_damaged(
    tmp_path, within_five_seconds, kind
):
    entry = snapshot_with(tmp_path, "2026-11", {"a.csv": b"1"})
    (entry.path / "manifest.json").unlink()
    unreadable(entry.path / "manifest.json", kind)
    (listed,) = archive.entries(tmp_path, "brief")
    assert listed.damage is not None and "manifest.json" in listed.damage
    assert not archive.verify(listed).ok
    with pytest.raises(SnapshotError, match="restore the snapshot from a backup"):
        archive.find(tmp_path, "brief", "2026-11")


@pytest.mark.parametrize("kind", ["deep", "fifo", "device"])
def test_a_delivery_record_that_would_hang_or_crash_stops_the_send(
    tmp_path, within_five_seconds, kind
):
    from reportgen.deliver import read_log
    from reportgen.errors import DeliveryError

    (tmp_path / "deliveries").mkdir()
    unreadable(tmp_path / "deliveries" / "log.json", kind)
    with pytest.raises(DeliveryError, match="nothing is sent until it is restored or removed"):
        read_log(tmp_path)
