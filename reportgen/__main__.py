"""Entry point of `reportgen` and `python -m reportgen`.

Ctrl-C at any moment must end with one clear line, exit status 130 and nothing
written. So the interrupt handler is installed before anything else is imported
(`reportgen/__init__.py` imports nothing either), in its recording mode: an
interrupt while this module's top level runs cannot be caught here and is only
recorded; `main` makes the handler raise from inside its `try` and raises what
was recorded. What comes before this module (the interpreter's own start, `site`,
the console script's `import re`: a few tens of milliseconds) runs no code of
reportgen's, and Ctrl-C there ends as Python ends it.
Importing the CLI then loads pandas, scikit-learn, matplotlib and WeasyPrint, which
takes a couple of seconds, all of it inside `main`'s `try`.

The cyclic garbage collector is off for the life of the command. A run is a
short batch job that builds millions of small, long-lived objects (layout boxes,
chart artists, imported modules) which the collector would walk again and again:
on the 350-customer data set that was 1.6 s of a 5.3 s run. Reference counting
still frees everything outside a cycle; what cycles a run leaves (closed figures,
the PDF layout tree) adds tens of MB at most, measured in the README's
Performance section. A library caller of `reportgen.pipeline` keeps Python's
defaults: this is a policy of the command, not of the stages.
"""

# ruff: noqa: E402 -- the handler is installed between the imports, on purpose (see above)
from reportgen import interrupt

interrupt.install()

import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; an interrupt, wherever it lands, ends in `_exit_interrupted`."""
    try:
        interrupt.start_raising()  # from here on Ctrl-C raises, inside this `try`
        interrupt.check()  # pressed while the command was starting
        gc.disable()
        from reportgen.cli import main as run_cli

        interrupt.check()  # pressed while the CLI loaded, and lost on the way
        return run_cli(argv)
    except BaseException as exc:
        # A C extension interrupted while it initialises reports an ImportError
        # ("initialization failed") instead of the KeyboardInterrupt, and an error a
        # stage raises may be the interrupt's doing: the record says why.
        if isinstance(exc, KeyboardInterrupt) or interrupt.requested():
            _exit_interrupted()
        raise
    finally:
        gc.freeze()  # interpreter shutdown collects too: let it skip the whole heap


def _exit_interrupted() -> NoReturn:
    """Say so in one line and exit with 130 (143 after SIGTERM) now, skipping interpreter
    shutdown.

    When Ctrl-C lands while an extension runs Python code through the C API (as cffi
    does during WeasyPrint's import), CPython marks the interrupt "unhandled" even
    though it was caught, and at shutdown kills itself with SIGINT: the exit status
    became -2 instead of 130 in about one run in fifteen under load. Nothing is left
    to clean up at this point (no snapshot is written on this path), so the streams
    are flushed and the process ends here.
    """
    print(interrupt.MESSAGE, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(interrupt.exit_code())


if __name__ == "__main__":
    raise SystemExit(main())
