"""Ctrl-C (or a scheduler's SIGTERM) that always stops a run cleanly, even when Python
swallows the KeyboardInterrupt.

Python ignores a KeyboardInterrupt raised inside a garbage-collector callback,
and some imports swallow it too, so an interrupt could be lost and the run
carry on. The handler installed here also records the interrupt; the CLI checks
the record at the start of every stage and before any work, so a lost interrupt
still stops the run before it writes anything. SIGTERM (a scheduler's timeout,
`kill`, a container stopping) goes the same way instead of killing the process
outright, so the temporary folder is removed and the report lock closed; the exit
status is 128 + the signal's number, as a shell reports it.

The command installs the handler before anything else it imports (see __main__), so
this module imports nothing but `signal` and `sys`: every module loaded before the
handler is time in which Ctrl-C would end in a traceback.
"""

from __future__ import annotations

import signal
import sys

MESSAGE = "reportgen: interrupted; nothing was written"
"""The one line an interrupted command ends with (__main__), whatever it was doing."""
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []
_raising = False


def _on_interrupt(signum: int, frame: object) -> None:
    _received.append(signum)
    if _raising:
        raise KeyboardInterrupt


def _quiet_unraisable(event: sys.UnraisableHookArgs) -> None:
    """Python's report of a KeyboardInterrupt it ignored is noise: the record handles it."""
    if not isinstance(event.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(event)


def install() -> None:
    """Route Ctrl-C and SIGTERM through the recording handler (main thread only, as
    signals are).

    At first the handler only records: the command installs it before its own imports,
    while a KeyboardInterrupt could not be caught and would escape as a traceback.
    `check()` raises what was recorded once the caller can catch it, and
    `start_raising()` makes the handler raise from then on.
    """
    try:
        for signum in _SIGNALS:
            signal.signal(signum, _on_interrupt)
    except ValueError:  # not the main thread: signals are only delivered to that one
        return
    sys.unraisablehook = _quiet_unraisable


def start_raising() -> None:
    """Make the handler raise KeyboardInterrupt as well as record it: for a caller that
    catches it (inside __main__'s `try`), so a stage is stopped at once, not at the
    start of the next one."""
    global _raising
    _raising = True


def requested() -> bool:
    """Ctrl-C was pressed, whatever became of its KeyboardInterrupt."""
    return bool(_received)


def exit_code() -> int:
    """The exit status of an interrupted run: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (_received[0] if _received else signal.SIGINT)


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed at any time, even if it was lost."""
    if requested():
        raise KeyboardInterrupt
