"""Reading the YAML files reportgen is given: persona libraries and chart wording.

They come from users and from wherever users copied them, so every one is read here,
by one loader: YAML's safe subset (plain data, no Python objects) without anchors and
aliases. An alias is a reference, and ten lines of nested references (the "billion
laughs") stand for billions of values once anything walks the document: minutes and
gigabytes, then an error message that spells them out. The wording files need no
references; a value is written where it is used. Any error is one ConfigError line that
names the file, with the line and column of a syntax error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reportgen.fsutil import parse_small


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing an anchor (&name) or alias (*name) where it appears,
    before any node is built from it."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
        if event.anchor is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"anchors and aliases (&{event.anchor}, *{event.anchor}) are not allowed; "
                "write the value out where it is used",
                event.start_mark,
            )
        # PyYAML passes a sequence item's position, a mapping value's key node, or None
        # for a key or the document; the stub's `index: int` covers only the first.
        return super().compose_node(parent, index)  # type: ignore[arg-type]


def _one_line(exc: Exception) -> str:
    """PyYAML's message without its quoted excerpt of the file and its line breaks."""
    if isinstance(exc, yaml.MarkedYAMLError):
        said = " ".join(part for part in (exc.context, exc.problem) if part)
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return " ".join(f"{said}{where}".split())
    return " ".join(str(exc).split())


def load(path: Path, what: str) -> Any:
    """The document in the YAML file at `path`, `what` naming it in errors ("persona
    library", "chart wording")."""
    return parse_small(
        path,
        what,
        "YAML",
        lambda text: yaml.load(text, Loader=_Loader),  # noqa: S506 (the safe loader, stricter)
        _one_line,
    )
