"""Snapshot folders: `<out>/<report-slug>/<period>/`, written all at once or not at all.

The files are written into a hidden temporary sibling folder, flushed, and the
folder is renamed into place in one step, so a crash or an error never leaves
half a snapshot and never touches an earlier one. A lock per report keeps two
runs apart, and the archive can be listed, verified against its manifests and
pruned.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from reportgen import names, periods
from reportgen.errors import SnapshotError
from reportgen.fsutil import fsync_dir, read_small, write_bytes
from reportgen.history import PreviousPeriod
from reportgen.model_file import MODEL_FILE, read_model
from reportgen.records import to_plain
from reportgen.spreadsheet import restore
from reportgen.trend import WINDOW, PeriodPoint, archived_point

MANIFEST = "manifest.json"
DELIVERIES = "deliveries"
"""Folder in a snapshot for the delivery record and dry-run messages (see deliver.py)."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    files: Mapping[str, Mapping[str, Any]]
    """File name -> sha256 and size in bytes, as recorded in the manifest."""


def check_period(period: str) -> str:
    if not names.is_period(period):
        raise SnapshotError(names.period_problem(period))
    return period


def check_slug(slug: str) -> str:
    """Every archive entry point checks the report's name, whoever passes it in."""
    if not names.is_slug(slug):
        raise SnapshotError(f"report {names.slug_problem(slug)}")
    return slug


def snapshot_path(out: Path, slug: str, period: str) -> Path:
    return out / check_slug(slug) / check_period(period)


def check_target(out: Path, slug: str, period: str, force: bool) -> Path:
    """Refuse early, before any work, to overwrite an existing snapshot without --force."""
    target = snapshot_path(out, slug, period)
    if target.exists() and not force:
        raise SnapshotError(
            f"{target} already exists; pass --force to replace it, or choose another --period"
        )
    return target


def to_json(value: Any) -> bytes:
    """Indented JSON; a number that is not finite (an unmeasurable score) becomes null."""
    return (
        json.dumps(to_plain(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    ).encode()


def write_snapshot(
    target: Path,
    files: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    force: bool,
    carry: Path | None = None,
) -> Snapshot:
    """Write `files` plus a manifest listing their hashes into `target`, atomically.

    `carry` is a folder copied in unlisted, such as the delivery record of a snapshot
    being re-rendered. Call it while holding `report_lock` for the report, so that no
    other run renames the same folder at the same moment.
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f"{_TMP}{target.name}-{secrets.token_hex(6)}"
    tmp.mkdir()  # unlike mkdtemp, honours the umask: the snapshot gets normal permissions
    old: Path | None = None
    try:
        listing = {}
        for name, data in files.items():
            with (tmp / name).open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            listing[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        (tmp / MANIFEST).write_bytes(to_json({**manifest, "files": listing}))
        if carry is not None and carry.is_dir():
            shutil.copytree(carry, tmp / carry.name)
        fsync_dir(tmp)
        if target.exists():
            if not force:
                raise SnapshotError(f"{target} already exists; pass --force to replace it")
            old = parent / f"{_OLD}{target.name}-{secrets.token_hex(6)}"
            target.replace(old)  # if we crash now, the next run puts it back (see _recover)
        tmp.replace(target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not target.exists():
            old.replace(target)  # the earlier snapshot goes back at once
        if isinstance(exc, OSError):  # a full disk, a vanished folder: say so plainly
            raise SnapshotError(
                f"{target}: the snapshot could not be written ({exc.strerror or exc}); "
                "nothing was changed"
            ) from exc
        raise
    if old is not None:  # the new snapshot is in place: only tidying is left
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(parent)
    return Snapshot(path=target, files=listing)


# --- one run at a time per report -------------------------------------------------------

_TMP = ".tmp-"
_OLD = ".old-"
LOCK = ".lock"
_LOCK_NOTE = (
    "pid {pid}\n"
    "The lock of reportgen runs on this report: the kernel holds it for the process above\n"
    "while it runs and releases it when it ends, however it ends. Between runs this file\n"
    "is harmless, and deleting it is safe when no reportgen run is going.\n"
)


def _recover(folder: Path) -> list[str]:
    """Clean what crashed runs left: half-written folders, and a snapshot moved aside
    by an interrupted --force (put back when its replacement never arrived)."""
    repaired = []
    for leftover in sorted(folder.glob(f"{_OLD}*")):
        period = leftover.name.removeprefix(_OLD).rsplit("-", 1)[0]
        if leftover.is_dir() and not (folder / period).exists():
            leftover.replace(folder / period)
            repaired.append(f"restored {folder / period} after an interrupted --force")
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in sorted(folder.glob(f"{_TMP}*")):
        shutil.rmtree(leftover, ignore_errors=True)
        repaired.append(f"removed {leftover.name}, left by an interrupted run")
    return repaired


def _open_lock(folder: Path) -> TextIO:
    """The report's lock file, open to read and write, never through a link, a hard link or a
    pipe: the lock file is written, and what it stands for would be overwritten (or block
    the run)."""
    refused = (
        f"{folder / LOCK} cannot be the report's lock (%s): it must be a plain file that "
        "reportgen creates; remove it and run again"
    )
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        raise SnapshotError(refused % exc.strerror) from None
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode) or found.st_nlink != 1:
        os.close(fd)
        kind = "a hard link" if stat.S_ISREG(found.st_mode) else "not a regular file"
        raise SnapshotError(refused % kind)
    return os.fdopen(fd, "r+")


@contextmanager
def report_lock(out: Path, slug: str) -> Iterator[list[str]]:
    """Hold the report's lock for a whole run; a second run fails at once, clearly.

    The lock is an flock on `<out>/<slug>/.lock`: the kernel releases it when its
    process ends, however it ends, so a killed run never leaves a stale lock. Yields
    what was repaired from crashed runs. If the run fails and created the report's
    folder, the folder is removed again, so a failed first run leaves nothing.
    """
    if out.exists() and not out.is_dir():
        raise SnapshotError(f"output folder {out} is a file, not a folder")
    folder = out / check_slug(slug)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    created = missing[-1] if missing else None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way (--out under a file), no permission
        raise SnapshotError(
            f"output folder {folder} cannot be created ({exc.strerror}); choose another --out"
        ) from None
    handle = _open_lock(folder)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.readline().strip() or "another process"
            raise SnapshotError(
                f"report {slug!r} in {out} is locked by a run in progress ({holder}); "
                "wait for it to finish and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(_LOCK_NOTE.format(pid=os.getpid()))
        handle.flush()
        try:
            yield _recover(folder)
        except BaseException:
            if created is not None and {p.name for p in folder.iterdir()} <= {LOCK}:
                shutil.rmtree(created, ignore_errors=True)
            raise
    finally:
        handle.close()


# --- reading the archive ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    report: str
    period: str
    path: Path
    manifest: Mapping[str, Any]
    damage: str | None = None
    """Why the manifest cannot be used (unreadable, or not the shape reportgen writes);
    such an entry is listed and fails verification, but nothing is built on it."""

    @property
    def size(self) -> int:
        return sum(int(f["bytes"]) for f in self.manifest.get("files", {}).values())


_SHAPE: Mapping[str, type] = {
    "created": str,
    "reportgen_version": str,
    "k": int,
    "seed": int,
    "input": dict,
    "files": dict,
}
_INPUT_SHAPE: Mapping[str, type] = {"path": str, "sha256": str, "rows_in": int, "rows_out": int}
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _manifest_problem(manifest: object) -> str | None:
    """What makes `manifest` unlike the ones reportgen writes, or None.

    Every command reads these fields without further checks, and `files` names what
    is hashed and copied: a name with a slash or `..` would reach outside the folder.
    """
    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    for fields, shape in ((manifest, _SHAPE), (manifest.get("input"), _INPUT_SHAPE)):
        for key, kind in shape.items():
            value = fields.get(key) if isinstance(fields, dict) else None
            if not isinstance(value, kind) or isinstance(value, bool):
                return f"{key!r} is missing or not {kind.__name__}"
    for name, info in manifest["files"].items():
        if not names.is_file_name(name):
            return f"the file name {name!r} is not a plain name"
        if not (
            isinstance(info, dict)
            and isinstance(info.get("sha256"), str)
            and _DIGEST.fullmatch(info["sha256"])
            and type(info.get("bytes")) is int
            and info["bytes"] >= 0
        ):
            return f"the record of {name!r} is not a sha256 and a size"
    return None


RECORD_MB = 256
"""The largest JSON record of a snapshot read back: profiles.json and brief.json of a
million customers are well under 5 MB."""


def read_json(path: Path) -> Any:
    """A JSON record of a snapshot, read only if it is a regular file of sane size and
    depth: the archive is a folder anyone may have edited, and a record that is a pipe,
    a link to /dev/zero or 100,000 nested brackets must be an error, not a hang."""
    try:
        return json.loads(read_small(path, "the record", RECORD_MB, SnapshotError))
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise SnapshotError(f"the record {path} cannot be read: {why}") from None


def read_manifest(folder: Path) -> dict[str, Any]:
    if not ((folder / MANIFEST).exists() or (folder / MANIFEST).is_symlink()):
        raise SnapshotError(f"{folder} has no {MANIFEST}: it is not a reportgen snapshot")
    try:
        manifest = read_json(folder / MANIFEST)
    except SnapshotError as exc:
        raise SnapshotError(
            f"{exc}; restore the snapshot from a backup, or move it out of the output folder"
        ) from None
    problem = _manifest_problem(manifest)
    if problem is not None:
        raise SnapshotError(
            f"{folder / MANIFEST} is damaged ({problem}); restore the snapshot from a "
            "backup, or move it out of the output folder"
        )
    assert isinstance(manifest, dict)  # _manifest_problem refuses anything else
    return manifest


def _entry(report: str, period: str, folder: Path) -> Entry:
    try:
        return Entry(report, period, folder, read_manifest(folder))
    except SnapshotError as exc:
        return Entry(report, period, folder, {}, damage=str(exc))


def entries(out: Path, slug: str | None = None) -> list[Entry]:
    """Every snapshot under `out` (or of one report), oldest period first; one whose
    manifest is damaged is included, with `damage` saying why."""
    if slug is not None:
        check_slug(slug)
    found: list[Entry] = []
    if not out.is_dir():
        return found
    reports = [out / slug] if slug is not None else sorted(p for p in out.iterdir() if p.is_dir())
    for report in reports:
        if not report.is_dir() or not names.is_slug(report.name):
            continue
        for folder in sorted(report.iterdir()):
            if (
                folder.is_dir()
                and names.is_period(folder.name)
                and ((folder / MANIFEST).exists() or (folder / MANIFEST).is_symlink())
            ):
                found.append(_entry(report.name, folder.name, folder))
    return found


def find(out: Path, slug: str, period: str) -> Entry:
    folder = snapshot_path(out, slug, period)
    if not folder.is_dir():
        periods = ", ".join(e.period for e in entries(out, slug)) or "none"
        raise SnapshotError(f"no snapshot {folder}; periods archived for {slug!r}: {periods}")
    return Entry(slug, period, folder, read_manifest(folder))


@dataclass(frozen=True)
class Verification:
    entry: Entry
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    added: tuple[str, ...]
    damage: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.added or self.damage)


def verify(entry: Entry) -> Verification:
    """Re-hash every file against the manifest; name what changed, vanished or appeared.
    A link, pipe or device in place of a file is changed, and never opened.

    The DELIVERIES folder is not part of the snapshot: it records what happened to it
    afterwards (who was sent it, when), so it is added to without re-hashing.
    """
    if entry.damage is not None:
        return Verification(entry, changed=(), missing=(), added=(), damage=entry.damage)
    listed = entry.manifest["files"]
    present = {p.name for p in entry.path.iterdir() if p.name not in (MANIFEST, DELIVERIES)}
    changed = []
    for name, recorded in listed.items():
        path = entry.path / name
        if name in present and not stat.S_ISREG(path.lstat().st_mode):
            changed.append(name)  # a link, pipe or device where reportgen wrote a file
        elif name in present:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            if digest != recorded["sha256"]:
                changed.append(name)
    return Verification(
        entry=entry,
        changed=tuple(changed),
        missing=tuple(sorted(set(listed) - present)),
        added=tuple(sorted(present - set(listed))),
    )


def check_intact(entry: Entry, what: str, strict: bool = False) -> None:
    """Refuse to build on a snapshot whose files no longer match its manifest.

    `strict` also refuses files that were added, for callers that rewrite the folder
    and would otherwise drop them.
    """
    checked = verify(entry)
    if checked.damage is not None:
        raise SnapshotError(f"{what}: {checked.damage}")
    damaged = [*checked.changed, *checked.missing, *(checked.added if strict else ())]
    if damaged:
        raise SnapshotError(
            f"{what} {entry.path} fails verification ({', '.join(damaged)} changed, missing or "
            "added); restore it from a backup, or move it out of the output folder"
        )


def prunable(out: Path, slug: str, keep: int) -> list[Entry]:
    """The snapshots beyond the newest `keep` periods of a report (keep = 0 keeps all).

    Every one is checked before any is removed, so a prune either removes them all or
    stops with nothing removed: a period that is a link (to a folder elsewhere, which
    removing would reach into) is for a person to look at.
    """
    found = entries(out, slug)
    doomed = found[:-keep] if keep and len(found) > keep else []
    if doomed and (out / slug).is_symlink():
        raise SnapshotError(
            f"{out / slug} is a link to {(out / slug).readlink()}; reportgen does not "
            "remove through links: prune where it points, or by hand (nothing was removed)"
        )
    for entry in doomed:
        if entry.path.is_symlink():
            raise SnapshotError(
                f"{entry.path} is a link to {entry.path.readlink()}, not a snapshot folder; "
                "reportgen does not remove through links: remove it by hand (nothing was removed)"
            )
    return doomed


def remove(entry: Entry) -> None:
    """Delete a snapshot: renamed aside first, so a reader never sees half of one.
    A folder that cannot be deleted goes back under its name, so nothing is left half."""
    aside = entry.path.parent / f"{_TMP}pruned-{entry.period}-{secrets.token_hex(6)}"
    entry.path.replace(aside)
    try:
        shutil.rmtree(aside)
    except OSError as exc:
        if aside.exists():
            aside.replace(entry.path)
        raise SnapshotError(
            f"{entry.path} could not be removed ({exc.strerror or exc}); what remains of it "
            "is back under its name"
        ) from None


def _assignments_csv(path: Path) -> pd.DataFrame:
    found = pd.read_csv(path, dtype={"customer_id": "string"}, keep_default_na=False)
    found["customer_id"] = restore(found["customer_id"])
    return found[["customer_id", "segment"]]


def load_previous(out: Path, slug: str, period: str) -> PreviousPeriod | None:
    """The latest snapshot of the report before `period`, as history needs it; None if none.

    Only a snapshot that verifies is used: comparing against altered files would
    report changes that never happened.
    """
    earlier = [e for e in entries(out, slug) if e.period < period]
    if not earlier:
        return None
    entry = earlier[-1]
    check_intact(entry, "the previous snapshot")
    written = entry.manifest.get("assignments") or {}
    if "assignments.csv" in entry.manifest["files"]:
        assignments: pd.DataFrame | str = _assignments_csv(entry.path / "assignments.csv")
    elif "path" in written:  # only Spark's Parquet (above local_assignments_max_rows)
        assignments = str(written["path"])
    else:
        raise SnapshotError(
            f"{entry.path}: holds no assignments.csv and names no Parquet of them, so "
            "its customers cannot be compared with this period's"
        )
    segments = json.loads((entry.path / "profiles.json").read_text(encoding="utf-8"))["segments"]
    stored = read_model(
        json.loads((entry.path / MODEL_FILE).read_text(encoding="utf-8")), entry.period
    )
    return PreviousPeriod(
        period=entry.period,
        assignments=assignments,
        written_rows=int(written.get("rows", 0)),
        names={int(s["id"]): str(s.get("persona") or f"Segment {s['id']}") for s in segments},
        features=stored.model.scaling.names,
        centroids=stored.units,
        max_id=stored.max_id,
        persona_keys={int(s["id"]): s.get("persona_key") for s in segments},
        profiles={int(s["id"]): s for s in segments},
        model=stored.model,
    )


def trend_points(out: Path, slug: str, period: str) -> tuple[PeriodPoint, ...]:
    """The archived periods of the trend window before `period`, oldest first, from their
    profiles.json: only snapshots that verify (a figure of an altered file is not shown),
    and none after `period`, so a re-rendered past brief ends its trend at its own month."""
    start = periods.shift(period, 1 - WINDOW)
    found = []
    for entry in entries(out, slug):
        if not start <= entry.period < period or not verify(entry).ok:
            continue
        try:
            found.append(archived_point(entry.period, read_json(entry.path / "profiles.json")))
        except (SnapshotError, KeyError, TypeError, ValueError):
            continue  # verified, but not a record this reportgen can read: left out
    return tuple(found)


INDEX_FILE = "index.html"


def write_index(out: Path, slug: str, html: str) -> Path:
    """Put the archive's index page (archive_index.render_index) at `<out>/<slug>/`,
    atomically: a reader sees the old page or the new one."""
    path = out / check_slug(slug) / INDEX_FILE
    write_bytes(path, html.encode("utf-8"))
    return path
