import hashlib
import json

import pytest

from reportgen import archive
from reportgen.archive import check_target, write_snapshot
from reportgen.errors import SnapshotError


def test_files_and_manifest_with_hashes(tmp_path):
    target = tmp_path / "out" / "brief" / "2026-11"
    snapshot = write_snapshot(target, {"a.csv": b"x\n", "b.json": b"{}"}, {"k": 3}, force=False)
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "b.json", "manifest.json"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["k"] == 3
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
    write_snapshot(target, files, {"k": 2}, force=False)
    return archive.find(tmp_path, "brief", period)


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
