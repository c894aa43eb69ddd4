"""Allows `python -m reportgen`, which behaves exactly like the `reportgen` command."""

from reportgen.cli import main

raise SystemExit(main())
