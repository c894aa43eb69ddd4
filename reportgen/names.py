"""Names that become part of a path: report slugs and periods.

One definition, used by the config, by every command-line argument and by the archive
itself, so that no name can climb out of the output folder (`../elsewhere`), hide a
line break in a folder name (a `$` pattern matches before a trailing newline, so the
patterns here are matched whole), or differ between commands.
"""

from __future__ import annotations

import re

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")


def is_slug(text: object) -> bool:
    return isinstance(text, str) and SLUG.fullmatch(text) is not None


def is_period(text: object) -> bool:
    return isinstance(text, str) and PERIOD.fullmatch(text) is not None


def is_file_name(text: object) -> bool:
    """A plain file name inside a snapshot folder: no separator, not `.` or `..`, no
    control characters (a manifest read back names only such files)."""
    return (
        isinstance(text, str)
        and text not in ("", ".", "..")
        and "/" not in text
        and "\\" not in text
        and text.isprintable()
    )


def slug_problem(text: object) -> str:
    """Why `text` is not a slug, in words a user can act on."""
    return (
        f"{text!r} is not a valid slug; use lowercase letters, digits and '-' "
        "(it names a folder, so no spaces, dots, slashes or line breaks)"
    )


def period_problem(text: object) -> str:
    return f"period {text!r} is not a month in the form YYYY-MM (for example 2026-11)"
