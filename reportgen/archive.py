"""Snapshot folders: `<out>/<report-slug>/<period>/`, written all at once or not at all.

The files are written into a hidden temporary sibling folder, flushed, and the
folder is renamed into place in one step, so a crash or an error never leaves
half a snapshot and never touches an earlier one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.errors import SnapshotError
from reportgen.fsutil import fsync_dir

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Snapshot:
    path: Path
    files: Mapping[str, Mapping[str, Any]]
    """File name -> sha256 and size in bytes, as recorded in the manifest."""


def check_period(period: str) -> str:
    if not PERIOD.match(period):
        raise SnapshotError(
            f"period {period!r} is not a month in the form YYYY-MM (for example 2026-11)"
        )
    return period


def snapshot_path(out: Path, slug: str, period: str) -> Path:
    return out / slug / check_period(period)


def check_target(out: Path, slug: str, period: str, force: bool) -> Path:
    """Refuse early, before any work, to overwrite an existing snapshot without --force."""
    target = snapshot_path(out, slug, period)
    if target.exists() and not force:
        raise SnapshotError(
            f"{target} already exists; pass --force to replace it, or choose another --period"
        )
    if out.exists() and not out.is_dir():
        raise SnapshotError(f"output folder {out} is a file, not a folder")
    return target


def to_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def write_snapshot(
    target: Path, files: Mapping[str, bytes], manifest: Mapping[str, Any], force: bool
) -> Snapshot:
    """Write `files` plus a manifest listing their hashes into `target`, atomically."""
    parent = target.parent
    missing = [p for p in (parent, *parent.parents) if not p.exists()]
    created = missing[-1] if missing else None  # the outermost folder this write creates
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".tmp-{target.name}-{secrets.token_hex(6)}"
    tmp.mkdir()  # unlike mkdtemp, honours the umask: the snapshot gets normal permissions
    try:
        listing = {}
        for name, data in files.items():
            path = tmp / name
            with path.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            listing[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        (tmp / MANIFEST).write_bytes(to_json({**manifest, "files": listing}))
        fsync_dir(tmp)
        if target.exists():
            if not force:
                raise SnapshotError(f"{target} already exists; pass --force to replace it")
            old = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=parent))
            target.replace(old / target.name)
            tmp.replace(target)
            shutil.rmtree(old)
        else:
            tmp.replace(target)
        fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    return Snapshot(path=target, files=listing)
