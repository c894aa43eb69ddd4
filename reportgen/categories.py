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
"""

from __future__ import annotations

import re

import pandas as pd

MAX_VALUES = 10
"""The most values of one category named anywhere: in profiles.json, the tables, the
charts and their alt text, and among a category driver's one-hot features. Ten fit one
table row and one chart legend; a chart of thousands of values is unreadable (and took
minutes to draw), and a thousand one-hot columns carry no more than their top few."""

_OTHER = re.compile(r"Other \(\d+ values?\)")


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
