"""Files reportgen writes so that a reader never sees half of one, and the small files
it reads beside the data.

Everything reportgen writes goes to a temporary name in the same folder, is
flushed to disk, and is then renamed over the final name in one step.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

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


Parsed = TypeVar("Parsed")


def parse_small(
    path: Path,
    what: str,
    language: str,
    parse: Callable[[str], Parsed],
    describe: Callable[[Exception], str] = str,
) -> Parsed:
    """A small UTF-8 file read with `read_small` and parsed, every failure one ConfigError
    naming the file: `describe` words the parser's own syntax errors (ValueError or
    `Exception` subclasses it raises), and what no parser words well is worded here —
    nesting thousands deep (RecursionError) and numbers of thousands of digits."""
    try:
        text = read_small(path, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} cannot be read: not UTF-8 text ({exc.reason})") from None
    try:
        return parse(text)
    except RecursionError:
        raise ConfigError(f"{what} {path} is not valid {language}: nested too deeply") from None
    except ConfigError:
        raise
    except Exception as exc:  # the parser's syntax errors, and int()'s digit limit
        raise ConfigError(f"{what} {path} is not valid {language}: {describe(exc)}") from None
