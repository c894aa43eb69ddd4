"""Shared helpers of the test suite: the real data set (when present), CLI runners, tiny
in-memory tables, PDF word positions. Tests import them from here; tests/conftest.py holds
only fixtures, which pytest finds by itself."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest

from reportgen import cli
from reportgen.config import Config, parse
from reportgen.formatting import Formatter
from reportgen.ingest import Dataset
from reportgen.validate import CleanData, validate

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO.parent / "shared" / "data" / "ecommerce_customer_behavior.csv"
REAL_COLUMNS = [
    "Customer ID",
    "Gender",
    "Age",
    "City",
    "Membership Type",
    "Total Spend",
    "Items Purchased",
    "Average Rating",
    "Discount Applied",
    "Days Since Last Purchase",
    "Satisfaction Level",
]

needs_real_data = pytest.mark.skipif(
    not REAL_DATA.is_file(),
    reason=f"the real data set {REAL_DATA} is not here (it is not shipped with the project)",
)


def run_process(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m reportgen` as a real process, as a user would: for what only a new
    process shows (the exit status under a signal, a terminal, the interpreter's start, the
    environment libraries read as they are imported, a second process reproducing the
    first). It costs the 2 s of imports `run_cli` saves."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def run_cli(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the command as `run_process` would, but inside this process: the same
    `cli.main` that `python -m reportgen` calls once its interrupt handler is in place,
    with its stdout and stderr captured, run in `cwd` with `env` added to the environment,
    and its result turned into the exit status the interpreter would give (see
    `_exit_status`). Most end-to-end tests run this way; an xdist worker runs one test at
    a time, so changing the working folder for the call is safe."""
    argv = [str(arg) for arg in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with (
            _like_a_new_process(cwd, env),
            _time_limit(timeout),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            code = _exit_status(argv)
    except _Overran:
        raise subprocess.TimeoutExpired(["reportgen", *argv], timeout) from None
    return subprocess.CompletedProcess(
        ["reportgen", *argv], code, stdout.getvalue(), stderr.getvalue()
    )


def _exit_status(argv: list[str]) -> int:
    """`cli.main`'s status, or what the interpreter makes of what it raised: a SystemExit's
    code (argparse exits so), and for any other exception (a bug) the traceback on stderr
    and status 1. An interrupt is not mapped: the real handler (130/143) is tested with
    real processes, and here Ctrl-C is meant for pytest."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1


@contextlib.contextmanager
def _like_a_new_process(cwd: Path, env: dict[str, str] | None) -> Iterator[None]:
    """For the length of one command: the working folder `cwd`, `env` over the
    environment, the warning filters the command sets for itself undone afterwards, and
    the root logger without pytest's capturing handlers, so that a library's stray log
    line reaches stderr (through logging.lastResort) as it would in a process."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    before = Path.cwd()
    with mock.patch.dict(os.environ, env or {}), warnings.catch_warnings():
        os.chdir(cwd)
        root.handlers.clear()
        root.setLevel(logging.WARNING)
        try:
            yield
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            os.chdir(before)


class _Overran(BaseException):
    """The time limit's alarm. Not an Exception, which the command under test might catch."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise `_Overran` in the command after `seconds`, as `subprocess.run`'s timeout ends a
    process that hangs (on a pipe, a device): a test fails instead of hanging the worker.
    Signals reach the main thread only, where pytest runs tests; elsewhere, no limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise _Overran

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


MANIFEST = {  # the fields every archive command reads from a snapshot's manifest
    "created": "2026-11-28T09:00:00+00:00",
    "reportgen_version": "1.0",
    "k": 2,
    "seed": 42,
    "input": {"path": "data.csv", "sha256": "0" * 64, "rows_in": 10, "rows_out": 10},
}


def unreadable(path: Path, kind: str) -> None:
    """Put at `path` what a reader must refuse rather than hang or fill memory on: a
    FIFO, a link to /dev/zero, a folder, or JSON nested 100,000 deep."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        assert kind == "deep", kind
        path.write_text("[" * 100_000 + "]" * 100_000)


def assert_user_error(
    result: subprocess.CompletedProcess[str], *fragments: str, code: int = 2
) -> str:
    """The promise of every user error: exit `code`, and stderr exactly one line,
    `reportgen: error: ...`, holding each fragment. Returns that line."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    assert lines[0].startswith("reportgen: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def dataset(frame: pd.DataFrame, path: str = "table.csv") -> Dataset:
    """A Dataset as ingest would return it, for stage tests that need no file."""
    return Dataset(frame=frame, path=Path(path), sha256="0" * 64, format="csv")


def config(**tables: dict) -> Config:
    return parse(tables)


def clean(frame: pd.DataFrame, **tables: dict) -> CleanData:
    return validate(dataset(frame), config(**tables))


PAGE_MARGIN_PT = 16 / 25.4 * 72
"""The page margin of report.css.j2 (16 mm), in PDF points."""


def pdf_words(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, page width, xMin, xMax, word) for every word pdftotext places on a page."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', html, re.S)
    for number, (width, body) in enumerate(pages, 1):
        for x_min, x_max, word in re.findall(
            r'<word xMin="([\d.-]+)" yMin="[\d.-]+" xMax="([\d.-]+)" yMax="[\d.-]+">(.*?)</word>',
            body,
        ):
            words.append((number, float(width), float(x_min), float(x_max), word))
    return words


def words_off_the_page(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """Every word of the PDF that lies outside the printable width (a table pushed past
    the right margin); the empty list for a brief that fits its pages."""
    return [
        w
        for w in pdf_words(pdf)
        if w[2] < PAGE_MARGIN_PT - 0.5 or w[3] > w[1] - PAGE_MARGIN_PT + 0.5
    ]


def rule_text(conditions: list[dict]) -> str:
    """A rule as the brief words it (numbers, yes/no and labels as this test's data has)."""
    words = []
    for c in conditions:
        if c["kind"] == "number":
            sign = "≤" if c["operator"] == "<=" else "≥"
            decimals = len(f"{c['value']:.6g}".partition(".")[2])
            words.append(f"{c['column']} {sign} {Formatter().number(c['value'], decimals)}")
        elif c["kind"] == "yes_no":
            words.append(f"{c['column']}: {'yes' if c['value'] else 'no'}")
        else:
            verb = "is not" if c["operator"] == "!=" else "is"
            words.append(f"{c['column']} {verb} {' or '.join(c['values'])}")
    return " and ".join(words)
