"""Entry point of `reportgen` and `python -m reportgen`.

Importing the CLI loads pandas, scikit-learn, matplotlib and WeasyPrint, which
takes a couple of seconds; Ctrl-C during that time must still end with one
clear line and nothing written, so the interrupt handler is installed first.
"""

import sys
from collections.abc import Sequence

from reportgen import interrupt


def main(argv: Sequence[str] | None = None) -> int:
    interrupt.install()
    try:
        from reportgen.cli import main as run_cli
    except KeyboardInterrupt:
        print("reportgen: interrupted; nothing was written", file=sys.stderr)
        return interrupt.EXIT_INTERRUPTED
    return run_cli(argv)


if __name__ == "__main__":
    raise SystemExit(main())
