"""Entry point of `reportgen` and `python -m reportgen`.

Importing the CLI loads pandas, scikit-learn, matplotlib and WeasyPrint, which
takes a couple of seconds; Ctrl-C during that time must still end with one
clear line, not a traceback, so the import happens here under the same rule.
"""

import sys
from collections.abc import Sequence

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from reportgen.cli import main as run_cli
    except KeyboardInterrupt:
        print("reportgen: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run_cli(argv)


if __name__ == "__main__":
    raise SystemExit(main())
