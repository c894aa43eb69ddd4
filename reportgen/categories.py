"""Which values of a category are named, and the one "Other" bucket for the rest.

A category column (membership, city, ...) can hold thousands of distinct values, and a
value held by a single customer points at that customer for anyone who knows them (a
quasi-identifier). So every stage that turns category values into something people
read or the model is fitted on names only the values `top_values` picks: each held by
at least a minimum of customers (`[report] min_segment_size`, the size below which a
segment is not described either), and at most `MAX_VALUES` of them, most common first.
The rest are counted together under `other_label`, a label that is part of the data
(profiles.json, brief.json, the charts and every template see the same key), like
"(missing)".

Membership levels are read in their order, not by count: `tier_order` lists them lowest
first, from `[validation] tier_levels` or a common ladder of tier_ladders.toml beside this
module (Bronze < Silver < Gold, Basic < Standard < Premium, ...). Only the order shown
changes; which values are named, and the model's features, do not.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pandas as pd

from reportgen.column_names import fold

LADDERS_PATH = Path(__file__).with_name("tier_ladders.toml")

MAX_VALUES = 10
"""The most values of one category named anywhere: in profiles.json, the tables, the
charts and their alt text, and among a category driver's one-hot features. Ten fit one
table row and one chart legend; a chart of thousands of values is unreadable (and took
minutes to draw), and a thousand one-hot columns carry no more than their top few."""

_OTHER = re.compile(r"Other \(\d+ values?\)")

MISSING = "(missing)"
"""The value a category shows for customers without one: no level of any ladder, so it
never decides whether a ladder orders the others, and it reads last."""


def other_label(values: int) -> str:
    """The bucket of `values` grouped values: "Other (50 values)"."""
    return f"Other ({values} value{'' if values == 1 else 's'})"


def top_values(counts: pd.Series, min_count: int, limit: int = MAX_VALUES) -> list[str]:
    """The values to name, most common first (ties in text order): each held by at least
    `min_count` customers, at most `limit` of them.

    `counts` is customers per value (a value_counts). A value that reads like a bucket
    label ("Other (3 values)") is never named, so the bucket can never be mistaken for it
    or merge with it.
    """
    held = counts[counts >= min_count]
    ranked = sorted(
        ((int(count), str(value)) for value, count in held.items()),
        key=lambda pair: (-pair[0], pair[1]),
    )
    return [value for _, value in ranked if not _OTHER.fullmatch(value)][:limit]


def _level_key(value: str) -> str:
    """A level as it is matched: case and accents folded, outer spaces dropped."""
    return fold(value.strip())


@cache
def ladders() -> tuple[tuple[str, ...], ...]:
    """The ladders of tier_ladders.toml, lowest first, as matched (_level_key)."""
    table = tomllib.loads(LADDERS_PATH.read_text(encoding="utf-8"))
    return tuple(tuple(_level_key(level) for level in ladder) for ladder in table["ladders"])


def tier_order(values: Sequence[str], given: Sequence[str] | None = None) -> list[str] | None:
    """The named values of the tier role (top_values, most common first) lowest level
    first; None when nothing orders them, so they stay most common first.

    `given` ([validation] tier_levels) decides when set: the values it lists in its order,
    then those it does not, still most common first (None when it lists none of them).
    Otherwise the first common ladder that holds every value orders them; one value no
    ladder holds is enough to keep the column most common first, as half a ladder would
    read as a whole one.
    """
    keys = [_level_key(value) for value in values if value != MISSING]
    if given:
        ladder: Sequence[str] = [_level_key(level) for level in given]
    else:
        ladder = next((found for found in ladders() if set(keys) <= set(found)), ())
    rank: dict[str, int] = {}
    for position, level in enumerate(ladder):
        rank.setdefault(level, position)
    if not any(key in rank for key in keys):
        return None
    # sorted() is stable: values the setting does not list keep their order, after it,
    # and the customers without a level come last of all.
    return sorted(
        values,
        key=lambda value: (
            len(rank) + 1 if value == MISSING else rank.get(_level_key(value), len(rank))
        ),
    )
