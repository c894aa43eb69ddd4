"""Stage results to JSON and back, by their type hints.

The archive keeps what the brief reports (brief.json) so that `rerender` can rebuild
the report without the data. Writing each dataclass by hand would repeat its fields
in two more places; instead the dataclasses' own annotations drive both directions.
JSON has no NaN: a float that is not finite is written as null and read back as NaN.
"""

from __future__ import annotations

import math
import types
from collections.abc import Mapping
from dataclasses import MISSING, Field, fields, is_dataclass
from datetime import date
from pathlib import Path, PurePath
from typing import Any, Union, get_args, get_origin, get_type_hints

import numpy as np


def to_plain(value: Any) -> Any:
    """A JSON-ready copy: dataclasses (nested too) as objects, mappings as objects with
    text keys, tuples and arrays as lists, dates in ISO form, paths as text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    return value


def _has_default(spec: Field[Any]) -> bool:
    return spec.default is not MISSING or spec.default_factory is not MISSING


def from_plain(kind: Any, value: Any) -> Any:
    """Rebuild a value of type `kind` from `to_plain`'s output."""
    origin = get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        return _from_union(get_args(kind), value)
    if isinstance(kind, type) and is_dataclass(kind):
        return _from_dataclass(kind, value)
    if origin is tuple:
        return _from_tuple(get_args(kind), value)
    if origin in (dict, Mapping):
        key_kind, item_kind = get_args(kind)
        return {
            from_plain(key_kind, key): from_plain(item_kind, item) for key, item in value.items()
        }
    return _from_scalar(kind, value)


def _from_union(args: tuple[Any, ...], value: Any) -> Any:
    """An optional value: None, or the one other type of the union."""
    if value is None and type(None) in args:
        return None
    (real,) = [a for a in args if a is not type(None)]
    return from_plain(real, value)


def _from_dataclass(kind: type[Any], value: Any) -> Any:
    """A dataclass from its fields; a field added since the file was written is left to
    its default."""
    hints = get_type_hints(kind)
    return kind(
        **{
            f.name: from_plain(hints[f.name], value[f.name])
            for f in fields(kind)
            if f.init and (f.name in value or not _has_default(f))
        }
    )


def _from_tuple(args: tuple[Any, ...], value: Any) -> tuple[Any, ...]:
    """tuple[X, ...] of any length, or a tuple of fixed length and types."""
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(from_plain(args[0], item) for item in value)
    return tuple(from_plain(a, item) for a, item in zip(args, value, strict=True))


def _from_scalar(kind: Any, value: Any) -> Any:
    if kind is float:
        return math.nan if value is None else float(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind in (int, str, bool, Path):
        return kind(value)
    raise TypeError(f"cannot rebuild a {kind!r} from JSON")
