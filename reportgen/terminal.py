"""Text for the terminal: what the command prints is shown, never obeyed.

Column names, category values, file names and library messages reach the terminal
in progress lines, errors and listings. Raw, an ESC byte in a header cell could move
the cursor, recolour or hide the rest of the output, a right-to-left override could
reverse the figures after it, and a line break inside an error would turn the
promised one-line error into several. Everything the CLI prints goes through `safe`
(errors through `one_line`), which shows such characters as escapes instead.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Unicode's Bidi_Control characters, as a regular-expression class body: embeddings,
overrides, isolates and the implicit marks. Invisible, they reorder the text after
them; the one definition for the terminal, validation and the generated config."""
_HIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}\u2028\u2029]")
_SPACES = re.compile(r"\s*[\r\n\t\v\f\u2028\u2029]+\s*")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """`text` with every control, bidirectional-formatting and line-separator
    character but the line feed (and tab) shown as an escape such as `\\x1b`."""
    return _HIDDEN.sub(_escape, text)


def one_line(text: str) -> str:
    """`text` as one line: line breaks (and the spaces around them) become one space,
    and what `safe` escapes is escaped. Library messages spread over several lines
    (YAML, DuckDB, workbook XML) keep all their words."""
    return safe(_SPACES.sub(" ", text.strip()))
