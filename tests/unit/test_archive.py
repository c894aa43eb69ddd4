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
    with pytest.raises(OSError, match="No space left"):
        write_snapshot(out / "brief" / "2026-11", {"a": b"1"}, {}, force=False)
    assert calls and not out.exists()


def test_a_failure_keeps_an_earlier_snapshot_intact(tmp_path, monkeypatch):
    target = tmp_path / "brief" / "2026-11"
    write_snapshot(target, {"a": b"old"}, {}, force=False)
    monkeypatch.setattr(archive, "fsync_dir", lambda path: (_ for _ in ()).throw(OSError("io")))
    with pytest.raises(OSError):
        write_snapshot(target, {"a": b"new"}, {}, force=True)
    assert (target / "a").read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["2026-11"]


@pytest.mark.parametrize("period", ["2026-13", "26-11", "2026-1", "../x", "2026-11/.."])
def test_period_must_be_a_month(period):
    with pytest.raises(SnapshotError, match="is not a month in the form YYYY-MM"):
        archive.check_period(period)
