"""The column names reportgen recognises, read from column_names.toml beside this file.

The names of the common exports (Shopify, WooCommerce, Magento, Stripe, HubSpot,
Klaviyo, Salesforce) and of six languages besides English live in that table, not in
code; its header says how an entry matches. This module only reads names as words and
scores a column against one role's entries.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("column_names.toml")

_CAMEL = re.compile(r"(?<=[a-z0-9ß-öø-ÿ])(?=[A-ZÀ-ÖØ-Þ])")
_WORD = re.compile(r"[^\W_]+")
MIN_STEM = 5
"""A stem is at least this long (a stem that keeps a column out, one letter less)."""

# Match strength, best first; within one strength an earlier entry wins.
EXACT, PARTIAL, STEM, FALLBACK = 4, 3, 2, 1


def fold(text: str) -> str:
    """Lowercase, accents dropped, "ß" as "ss", camelCase split: "avgOrderValue" reads as
    "avg order value", "Días" as "dias", "Größe" as "grosse"."""
    spaced = _CAMEL.sub(" ", text)
    decomposed = unicodedata.normalize("NFKD", spaced)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold()


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(name: str) -> tuple[str, ...]:
    """A column name as words: folded, split on anything but letters and digits, with a
    plural "s" dropped where that is safe ("Orders" and "order" meet, "Status" stays)."""
    return tuple(_singular(w) for w in _WORD.findall(fold(name)))


def _parts(name: str) -> tuple[str, ...]:
    """Folded words, plural kept: what a stem is looked for in."""
    return tuple(_WORD.findall(fold(name)))


@dataclass(frozen=True, kw_only=True)
class Names:
    """One role's entries in the table (see its header for what each kind means)."""

    phrases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    stems: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    unless_stems: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Every name and stem, as written in the table, strongest first."""
        return (*self.phrases, *self.exact, *self.stems, *self.fallback)

    def excludes(self, column: str) -> bool:
        column_words = set(words(column))
        if any(set(words(w)) <= column_words for w in self.unless):
            return True
        stems = [fold(s) for s in self.unless_stems]
        return any(stem in part for part in _parts(column) for stem in stems)

    def score(self, column: str) -> tuple[int, int]:
        """How well the column fits: (strength, -position of the entry), (0, 0) if not at
        all. Compare two scores as tuples: the larger one is the better match."""
        if self.excludes(column):
            return (0, 0)
        column_words = words(column)
        best = (0, 0)
        for position, phrase in enumerate((*self.phrases, *self.exact)):
            phrase_words = words(phrase)
            if phrase_words == column_words:
                best = max(best, (EXACT, -position))
            elif position < len(self.phrases) and all(w in column_words for w in phrase_words):
                best = max(best, (PARTIAL, -position))
        if best[0]:
            return best
        parts = _parts(column)
        for position, stem in enumerate(self.stems):
            if any(fold(stem) in part for part in parts):
                return (STEM, -position)
        for position, name in enumerate(self.fallback):
            if words(name) == column_words:
                return (FALLBACK, -position)
        return (0, 0)


def _names(where: str, raw: object) -> Names:
    if not isinstance(raw, dict):
        raise ValueError(f"{TABLE_PATH.name} [{where}]: expected a table")
    fields = Names.__dataclass_fields__
    for key, value in raw.items():
        if key not in fields:
            raise ValueError(f"{TABLE_PATH.name} [{where}] {key}: unknown key")
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError(f"{TABLE_PATH.name} [{where}] {key}: expected a list of names")
        wordless = [v for v in value if not words(v)]
        if wordless:  # "€" has no word: as an exclusion it would match every column
            raise ValueError(
                f"{TABLE_PATH.name} [{where}] {key}: {wordless[0]!r} has no letter or digit"
            )
    for key, shortest in (("stems", MIN_STEM), ("unless_stems", MIN_STEM - 1)):
        for stem in raw.get(key, ()):
            if len(_parts(stem)) != 1 or len(fold(stem)) < shortest:
                raise ValueError(
                    f"{TABLE_PATH.name} [{where}] {key}: {stem!r} must be one word of at "
                    f"least {shortest} letters"
                )
    return Names(**{key: tuple(value) for key, value in raw.items()})


@dataclass(frozen=True)
class Table:
    roles: Mapping[str, Names]
    """Customer-table role -> its names."""
    orders: Mapping[str, Names]
    """Order-log role -> its names."""
    ignore: Names
    """Names of columns that hold dates or times."""
    items: Names = Names()
    """Words of a frequency column's name that say it counts items, not orders."""

    def counts_items(self, column: str) -> bool:
        """A frequency column so named counts items bought rather than orders."""
        return self.items.excludes(column)

    def ignored(self, column: str) -> bool:
        """The column holds dates or times (by its name), so it plays no role."""
        if self.ignore.excludes(column):
            return True
        column_words = words(column)
        return any(words(name) == column_words for name in self.ignore.exact)


def read(text: str) -> Table:
    raw = tomllib.loads(text)
    unknown = set(raw) - {"roles", "orders", "ignore", "items"}
    if unknown:
        raise ValueError(f"{TABLE_PATH.name}: unknown table [{sorted(unknown)[0]}]")
    ignore, items = raw.get("ignore", {}), raw.get("items", {})
    return Table(
        roles={role: _names(f"roles.{role}", v) for role, v in raw.get("roles", {}).items()},
        orders={role: _names(f"orders.{role}", v) for role, v in raw.get("orders", {}).items()},
        ignore=Names(
            unless=tuple(ignore.get("words", ())),
            unless_stems=tuple(ignore.get("stems", ())),
            exact=tuple(ignore.get("exact", ())),
        ),
        items=Names(
            unless=tuple(items.get("words", ())), unless_stems=tuple(items.get("stems", ()))
        ),
    )


@cache
def table() -> Table:
    """The bundled table, read once."""
    return read(TABLE_PATH.read_text(encoding="utf-8"))


def role_names(role: str) -> Names:
    return table().roles.get(role, Names())


def order_names(role: str) -> Names:
    return table().orders.get(role, Names())


def best_column(names: Names, columns: Iterable[str]) -> str | None:
    """The column that fits `names` best; the first one on a tie; None if none fits."""
    best, best_score = None, (0, 0)
    for column in columns:
        score = names.score(column)
        if score[0] and score > best_score:
            best, best_score = column, score
    return best
