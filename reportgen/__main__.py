"""Entry point of `reportgen` and `python -m reportgen`.

Importing the CLI loads pandas, scikit-learn, matplotlib and WeasyPrint, which
takes a couple of seconds; Ctrl-C during that time must still end with one
clear line and nothing written, so the interrupt handler is installed first.

The cyclic garbage collector is off for the life of the command. A run is a
short batch job that builds millions of small, long-lived objects (layout boxes,
chart artists, imported modules) which the collector would walk again and again:
on the 350-customer data set that was 1.6 s of a 5.3 s run. Reference counting
still frees everything outside a cycle; what cycles a run leaves (closed figures,
the PDF layout tree) adds tens of MB at most, measured in the README's
Performance section. A library caller of `reportgen.pipeline` keeps Python's
defaults: this is a policy of the command, not of the stages.
"""

import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from reportgen import interrupt


def main(argv: Sequence[str] | None = None) -> int:
    interrupt.install()
    gc.disable()
    try:
        from reportgen.cli import main as run_cli
    except BaseException as exc:
        # A C extension interrupted while it initialises reports an ImportError
        # ("initialization failed") instead of the KeyboardInterrupt: the record says why.
        if isinstance(exc, KeyboardInterrupt) or interrupt.requested():
            print("reportgen: interrupted; nothing was written", file=sys.stderr)
            _exit_interrupted()
        raise
    try:
        code = run_cli(argv)
    finally:
        gc.freeze()  # interpreter shutdown collects too: let it skip the whole heap
    if interrupt.requested() and code == interrupt.exit_code():
        _exit_interrupted()
    return code


def _exit_interrupted() -> NoReturn:
    """Exit with 130 (143 after SIGTERM) now, skipping interpreter shutdown.

    When Ctrl-C lands while an extension runs Python code through the C API (as cffi
    does during WeasyPrint's import), CPython marks the interrupt "unhandled" even
    though it was caught, and at shutdown kills itself with SIGINT: the exit status
    became -2 instead of 130 in about one run in fifteen under load. Nothing is left
    to clean up at this point (no snapshot is written on this path), so the streams
    are flushed and the process ends here.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(interrupt.exit_code())


if __name__ == "__main__":
    raise SystemExit(main())
