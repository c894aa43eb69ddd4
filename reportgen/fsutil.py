"""Files reportgen writes so that a reader never sees half of one, and the small files
it reads beside the data.

Everything reportgen writes goes to a temporary name in the same folder, is
flushed to disk, and is then renamed over the final name in one step.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from reportgen.errors import ConfigError, ReportgenError

SMALL_FILE_MB = 16
"""The largest config, persona library, chart wording or logo reportgen reads: each is
a few kilobytes; a file far larger is a mistake or an attack on the memory."""


def read_small(
    path: Path,
    what: str,
    limit_mb: float = SMALL_FILE_MB,
    error: type[ReportgenError] = ConfigError,
) -> bytes:
    """The bytes of a file the user names beside the data, or of a snapshot's record
    (`what` says which, for the `error`), refused unless it is a regular file within
    `limit_mb`.

    The data has the same guard (ingest.check_size): a pipe never ends and a link to
    /dev/zero is endless zeros, so a config, a wording file or a logo that is one would
    hang a run or fill the memory before any parser could object.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise error(f"{what} {path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise error(f"{what} {path} is not a regular file (a folder, pipe or device)")
    limit = int(limit_mb * 1024 * 1024)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise error(f"{what} {path} is over {limit_mb:g} MB; is it the right file?")
    return data


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: the file is either the old one or complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
