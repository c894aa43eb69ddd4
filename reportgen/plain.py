"""Plain data for templates: the only values a template ever receives.

Templates are text a user or the data can influence (the email subject, persona
descriptions, chart wording, a custom report template), so they get strings,
numbers, booleans, None, and lists and mappings of those: nothing with methods that
reach the file system or the interpreter. A live object in a sandboxed template is
still a live object (`{{ report.logo.parent.joinpath('x').write_text('y') }}` writes a
file), so every context passes through `plain` on its way to a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date
from pathlib import PurePath
from typing import Any

import numpy as np

SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """A copy of `value` made of plain data only.

    Dataclasses become mappings of their fields and read-only properties (a migration's
    `moved`), paths and dates become text, tuples and arrays lists, numpy numbers Python
    numbers. Mapping keys keep their type when it is text or a whole number (segment
    ids). Anything else is refused, so a new kind of value cannot slip through unseen.
    """
    if isinstance(value, bool | str | type(None)):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, PurePath | date):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        found = {f.name: plain(getattr(value, f.name)) for f in fields(value)}
        for name in dir(type(value)):
            if isinstance(getattr(type(value), name), property):
                found[name] = plain(getattr(value, name))
        return found
    if isinstance(value, Mapping):
        return {_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not plain data and cannot reach a template")


def _key(key: Any) -> str | int:
    if isinstance(key, bool) or not isinstance(key, str | int | np.integer):
        raise TypeError(f"a mapping key {key!r} is not text or a whole number")
    return key if isinstance(key, str) else int(key)


def is_plain(value: Any) -> bool:
    """True when `value` holds nothing but plain data (what `plain` returns)."""
    if isinstance(value, SCALARS):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str | int) and is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_plain(item) for item in value)
    return False
