"""Names, descriptions and recommendations for segments, from the persona library.

A persona is matched, not hard-coded. Each library entry separates the levels its
name and description **assert** (hard requirements: an entry is never given to a
segment that fails one) from the levels it merely **prefers** (a better fit).
Segments are assigned to entries one-to-one, strongest match first, among the
entries whose assertions hold, preferring the entry that explains a segment's most
distinctive trait. A segment that fits none is named from its most distinctive
true traits; a segment too small to describe takes no persona at all.

The library's wording is checked when it is loaded: a phrase listed under
`claims` ("regularly", "new", "used to", ...) may only appear in the name or
description of an entry that asserts the levels it claims, and a description may
only quote `role.level` for a role the entry asserts. All wording comes from the
library (YAML), which a user can replace; descriptions are Jinja templates
rendered in a sandbox, because a library is user input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from reportgen import yamlfile
from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.plain import plain
from reportgen.profile import Profiles, SegmentProfile, distinctive
from reportgen.resources import templates_dir
from reportgen.roles import ROLE_BY_NAME, Kind
from reportgen.templating import LimitedSandbox, render_user, sandbox
from reportgen.wording import ENGLISH, Nn_, Wording

_LEVELS = {"recency": ("recent", "typical", "lapsed", "lost")}
_DEFAULT_LEVELS = ("high", "typical", "low")
_OPPOSITE = {
    "high": ("low",),
    "low": ("high",),
    "recent": ("lapsed", "lost"),
    "lapsed": ("recent",),
    "lost": ("recent",),
}
_ENTRY_FIELDS = {"key", "name", "asserts", "prefers", "counts", "description", "recommendations"}
_REQUIRED_FIELDS = _ENTRY_FIELDS - {"prefers", "counts"}
_COUNTS = ("orders", "items")
_UNITS = {"orders": Nn_("order", "orders"), "items": Nn_("item", "items")}
"""How a description's {{ frequency.unit }} reads: singular for a median of exactly one."""
_TRAIT_TEXTS = ("typical_name", "small_name")
_TRAIT_TEMPLATES = ("fallback_description", "also")
_TRAIT_FIELDS = {*_TRAIT_TEXTS, *_TRAIT_TEMPLATES, "fallback_recommendations"}
TOP_TRAIT_BONUS = 2.0
"""Added when an entry asserts the segment's most distinctive trait: a persona that
explains what stands out beats one with a better fit on minor figures."""
STRENGTH_CAP = 4.0
"""A figure this many spreads from the base counts fully toward a persona's score."""
KEEP_BONUS = 1.5
"""Added to the score of the persona a segment had last period, while it still fits, so a
segment keeps its name from month to month unless its profile has really changed."""


@dataclass(frozen=True, kw_only=True)
class LibraryEntry:
    key: str
    name: str
    asserts: Mapping[str, tuple[str, ...]]
    """Role -> the levels the name and description state; every one must hold."""
    prefers: Mapping[str, tuple[str, ...]]
    """Role -> levels that make the entry a better fit, without being stated."""
    counts: str | None
    """"orders" when the wording speaks of orders or coming back: the entry is then only
    given where frequency counts orders, not items (a customer's 15 items may be one
    order). None: either."""
    description: jinja2.Template
    recommendations: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    """What a phrase of the wording states: levels, and perhaps that frequency counts orders."""

    levels: Mapping[str, tuple[str, ...]]
    counts: str | None = None


@dataclass(frozen=True, kw_only=True)
class Library:
    path: Path
    entries: tuple[LibraryEntry, ...]
    traits: Mapping[str, Mapping[str, str]]
    """Role -> level -> the words for it ("frequent returners")."""
    fallback_description: jinja2.Template
    fallback_recommendations: tuple[str, ...]
    also: jinja2.Template
    """The sentence that adds a segment's most distinctive trait when its persona does
    not assert it."""
    typical_name: str
    """Name of a segment that fits no persona and has no trait that stands out."""
    small_name: str
    """Name of a segment too small to describe."""
    words: Wording = ENGLISH
    """The language the texts above were translated into (units are translated on use)."""


@dataclass(frozen=True, kw_only=True)
class Persona:
    segment: int
    key: str | None
    """The library entry, or None for a name built from traits (or a suppressed segment)."""
    name: str
    description: str
    recommendations: tuple[str, ...]
    score: float | None


@dataclass(frozen=True)
class Personas:
    segments: tuple[Persona, ...]
    """One per segment, in the order of Profiles.segments (each names its segment's id)."""
    library: Path


def levels_for(role: str) -> tuple[str, ...]:
    return _LEVELS.get(role, _DEFAULT_LEVELS)


def _phrase(text: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(text.lower()) + r"(?![\w-])")


class _LibraryReader:
    """Validates the YAML document, naming the entry and field of any problem."""

    def __init__(self, path: Path, environment: LimitedSandbox, words: Wording = ENGLISH) -> None:
        self.path = path
        self.environment = environment
        self.words = words

    def translated(self, where: str, value: Any) -> str:
        """A checked text in the reader's language (unchanged when it has no translation)."""
        return self.words.text(self.text(where, value))

    def translated_template(self, where: str, value: Any) -> jinja2.Template:
        """A template checked in English, then compiled from its translated source."""
        english = self.template(where, value)
        source = self.text(where, value)
        translated = self.words.text(source)
        if translated == source:
            return english
        try:
            return self.environment.from_string(translated)
        except jinja2.TemplateSyntaxError as exc:
            raise self.fail(
                where, f"its {self.words.language} translation: template error: {exc.message}"
            ) from None

    def fail(self, where: str, message: str) -> ConfigError:
        return ConfigError(f"persona library {self.path}: {where}: {message}")

    def text(self, where: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected non-empty text, got {value!r}")
        return " ".join(value.split())

    def template(self, where: str, value: Any) -> jinja2.Template:
        source = self.text(where, value)
        try:
            return self.environment.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise self.fail(where, f"template error: {exc.message}") from None

    def texts(self, where: str, value: Any, low: int, high: int) -> tuple[str, ...]:
        if not isinstance(value, list) or not low <= len(value) <= high:
            raise self.fail(where, f"expected a list of {low} to {high} texts, got {value!r}")
        return tuple(self.text(f"{where}[{i + 1}]", v) for i, v in enumerate(value))

    def levels(self, where: str, value: Any, empty: bool) -> dict[str, tuple[str, ...]]:
        """A mapping of role: level or [levels], checked against each role's levels."""
        if not isinstance(value, dict) or (not value and not empty):
            raise self.fail(where, "expected a mapping of role: level, such as {spend: high}")
        found = {}
        for role, wanted in value.items():
            if role not in ROLE_BY_NAME or ROLE_BY_NAME[role].kind in (Kind.ID, Kind.CATEGORICAL):
                raise self.fail(f"{where}.{role}", "not a role with levels")
            levels = tuple(wanted) if isinstance(wanted, list) else (wanted,)
            for level in levels:
                if level not in levels_for(role):
                    allowed = ", ".join(levels_for(role))
                    raise self.fail(f"{where}.{role}", f"{level!r} is not a level; use {allowed}")
            found[role] = levels
        return found

    def counts(self, where: str, value: Any) -> str:
        if value not in _COUNTS:
            raise self.fail(where, f"expected {' or '.join(_COUNTS)}, got {value!r}")
        return str(value)

    def entry(self, index: int, raw: Any, claims: Mapping[str, Claim]) -> LibraryEntry:
        where = f"persona {index}"
        if not isinstance(raw, dict):
            raise self.fail(
                where, "expected a mapping with key, name, asserts, description, recommendations"
            )
        where = f"persona {index} ({raw.get('key', '?')!s})"
        if "match" in raw:
            raise self.fail(
                where,
                "'match' was split in two: 'asserts' (the levels the name and description "
                "state, never violated) and 'prefers' (levels that only make a better fit); "
                "see the README's 'Personas' section",
            )
        for field in sorted(_REQUIRED_FIELDS - raw.keys()):
            raise self.fail(where, f"field {field!r} is missing")
        for field in sorted(raw.keys() - _ENTRY_FIELDS):
            raise self.fail(where, f"unknown field {field!r}")
        entry = LibraryEntry(
            key=self.text(f"{where}.key", raw["key"]),
            name=self.text(f"{where}.name", raw["name"]),
            asserts=self.levels(f"{where}.asserts", raw["asserts"], empty=True),
            prefers=self.levels(f"{where}.prefers", raw.get("prefers", {}), empty=True),
            counts=self.counts(f"{where}.counts", raw["counts"]) if "counts" in raw else None,
            description=self.template(f"{where}.description", raw["description"]),
            recommendations=self.texts(f"{where}.recommendations", raw["recommendations"], 2, 4),
        )
        self.check_wording(where, entry, self.text(f"{where}.description", raw["description"]))
        self.check_claims(where, entry, raw["description"], claims)
        # Checked in English (the source the claims vocabulary speaks), shown translated.
        return replace(
            entry,
            name=self.translated(f"{where}.name", raw["name"]),
            description=self.translated_template(f"{where}.description", raw["description"]),
            recommendations=tuple(self.words.text(text) for text in entry.recommendations),
        )

    def check_wording(self, where: str, entry: LibraryEntry, source: str) -> None:
        """A description may quote a role's level only when the entry asserts that role."""
        tree = self.environment.parse(source)
        for node in tree.find_all(nodes.Getattr):
            if (
                node.attr == "level"
                and isinstance(node.node, nodes.Name)
                and node.node.name not in entry.asserts
            ):
                raise self.fail(
                    f"{where}.description",
                    f"quotes {node.node.name}.level but does not assert {node.node.name}; "
                    f"add it to asserts or drop the level from the wording",
                )

    def check_claims(
        self,
        where: str,
        entry: LibraryEntry,
        description: Any,
        claims: Mapping[str, Claim],
    ) -> None:
        """Every claim phrase in the name or description must be backed by the asserts.

        Longer phrases are read first and blanked, so "fairly new" is not also "new".
        """
        plain = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", f"{entry.name} {description}").lower()
        for phrase in sorted(claims, key=len, reverse=True):
            pattern = _phrase(phrase)
            if not pattern.search(plain):
                continue
            plain = pattern.sub(" ", plain)
            claim = claims[phrase]
            if claim.counts is not None and entry.counts != claim.counts:
                raise self.fail(
                    where,
                    f"its wording says {phrase!r}, which needs frequency to count "
                    f"{claim.counts}; add counts: {claim.counts}, or reword",
                )
            for role, allowed in claim.levels.items():
                asserted = entry.asserts.get(role)
                if asserted is None or not set(asserted) <= set(allowed):
                    raise self.fail(
                        where,
                        f"its wording says {phrase!r}, which claims {role} is "
                        f"{' or '.join(allowed)}; add {role}: {list(allowed)} to asserts, "
                        "or reword",
                    )

    def claims(self, document: dict[str, Any]) -> dict[str, Claim]:
        raw = document.get("claims")
        if raw is None:  # a user's library without its own: the bundled vocabulary applies
            bundled = templates_dir() / "personas.yaml"
            if bundled.resolve() == self.path.resolve():
                raise self.fail("claims", "the bundled library must list its claims")
            raw = yamlfile.load(bundled, "persona library")["claims"]
        if not isinstance(raw, dict):
            raise self.fail("claims", "expected a mapping of phrase: {role: level}")
        found = {}
        for phrase, value in raw.items():
            where = f"claims.{phrase}"
            if not isinstance(value, dict):
                raise self.fail(where, "expected a mapping of role: level, such as {spend: high}")
            rest = {role: level for role, level in value.items() if role != "counts"}
            found[str(phrase).lower()] = Claim(
                self.levels(where, rest, empty="counts" in value),
                self.counts(f"{where}.counts", value["counts"]) if "counts" in value else None,
            )
        return found

    def trait_words(self, traits: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Role -> level -> its words, translated; frequency may have words per unit
        (frequency_orders, frequency_items)."""
        found = {}
        for role, names in traits.items():
            if role in _TRAIT_FIELDS:
                continue
            base_role = role.removesuffix("_items").removesuffix("_orders")
            if base_role != role and base_role != "frequency":
                base_role = role  # only frequency has words per unit
            if base_role not in ROLE_BY_NAME or not isinstance(names, dict):
                raise self.fail(f"traits.{role}", "expected a role with {level: words}")
            for level in names:
                if level not in levels_for(base_role):
                    raise self.fail(f"traits.{role}.{level}", "not a level of this role")
            found[role] = {
                level: self.translated(f"traits.{role}.{level}", text)
                for level, text in names.items()
            }
        return found

    def read(self) -> Library:
        document = yamlfile.load(self.path, "persona library")
        if not isinstance(document, dict) or not isinstance(document.get("personas"), list):
            raise self.fail("top level", "expected a 'personas' list and a 'traits' mapping")
        claims = self.claims(document)
        entries = tuple(
            self.entry(i + 1, raw, claims) for i, raw in enumerate(document["personas"])
        )
        for attribute in ("key", "name"):
            seen = [getattr(e, attribute) for e in entries]
            repeated = {v for v in seen if seen.count(v) > 1}
            if repeated:
                raise self.fail("personas", f"{attribute} {sorted(repeated)[0]!r} is used twice")
        traits = document.get("traits")
        if not isinstance(traits, dict) or not traits.keys() >= _TRAIT_FIELDS:
            raise self.fail(
                "traits",
                "expected a mapping of role: {level: words} plus "
                + ", ".join(sorted(_TRAIT_FIELDS)),
            )
        return Library(
            path=self.path,
            entries=entries,
            traits=self.trait_words(traits),
            fallback_description=self.translated_template(
                "traits.fallback_description", traits["fallback_description"]
            ),
            fallback_recommendations=tuple(
                self.words.text(text)
                for text in self.texts(
                    "traits.fallback_recommendations", traits["fallback_recommendations"], 1, 4
                )
            ),
            also=self.translated_template("traits.also", traits["also"]),
            typical_name=self.translated("traits.typical_name", traits["typical_name"]),
            small_name=self.translated("traits.small_name", traits["small_name"]),
            words=self.words,
        )


def load_library(path: Path, formatter: Formatter, words: Wording = ENGLISH) -> Library:
    """Read and check a persona library; errors name the entry and the field.

    The checks (claims, quoted levels) read the library's English source; names,
    descriptions and recommendations are then looked up in the catalogue of `words` by
    their English text (a description's template source is translated, then compiled).
    """
    return _LibraryReader(path, sandbox(formatter, words), words).read()


def holds(entry: LibraryEntry, segment: SegmentProfile, counts: str | None) -> bool:
    """Every level the entry asserts is the segment's level (and every role is there), and
    frequency counts what the entry's wording needs (`counts`: what it counts here)."""
    if entry.counts is not None and entry.counts != counts:
        return False
    return all(
        role in segment.stats and segment.stats[role].level in wanted
        for role, wanted in entry.asserts.items()
    )


def score(entry: LibraryEntry, segment: SegmentProfile, counts: str | None) -> float | None:
    """How well an entry describes a segment; None when one of its assertions fails.

    Each asserted role that stands out (not typical) adds up to two points: shared among
    the levels it allows (a precise assertion counts more than a range) and growing with
    how distinctive the figure is. A preferred level met adds half a point (its opposite
    takes half away), and asserting the segment's most distinctive trait adds
    TOP_TRAIT_BONUS.
    """
    if not holds(entry, segment, counts):
        return None
    stats = segment.stats
    total = sum(
        (1 + min(stats[role].strength, STRENGTH_CAP) / STRENGTH_CAP) / len(wanted)
        for role, wanted in entry.asserts.items()
        if stats[role].level != "typical"
    )
    for role, wanted in entry.prefers.items():
        if role not in stats:
            continue
        if stats[role].level in wanted:
            total += 0.5
        elif any(o in wanted for o in _OPPOSITE.get(stats[role].level, ())):
            total -= 0.5
    traits = distinctive(segment)
    if traits and traits[0] in entry.asserts:
        total += TOP_TRAIT_BONUS
    return total


def _context(
    segment: SegmentProfile, profiles: Profiles, words: Wording = ENGLISH
) -> dict[str, Any]:
    """Plain data only: each role's figures and its base, the mix of each labelled role in the
    segment and the base, the segment, what frequency counts."""
    context: dict[str, Any] = {
        role: {
            **vars(stats),
            "base_mean": profiles.base[role]["mean"],
            "base_median": profiles.base[role]["median"],
            "unit": (
                _unit(profiles.frequency_counts, stats.median, words)
                if role == "frequency"
                else None
            ),
        }
        for role, stats in segment.stats.items()
    }
    context["frequency_counts"] = profiles.frequency_counts
    context["mix"] = {role: dict(shares) for role, shares in segment.mix.items()}
    context["base_mix"] = {role: dict(shares) for role, shares in profiles.base_mix.items()}
    context["segment"] = {
        "id": segment.id,
        "size": segment.size,
        "share": segment.share,
        "revenue": segment.revenue,
        "revenue_share": segment.revenue_share,
    }
    return context


def _unit(counts: str | None, median: float, words: Wording = ENGLISH) -> str | None:
    """ "orders" or "items", singular for a median of exactly one, in the reader's language."""
    if counts is None:
        return None
    return words.ngettext(*_UNITS[counts], 1 if median == 1 else 2)


def _render(template: jinja2.Template, context: Mapping[str, Any], library: Path, what: str) -> str:
    """A description of the library, on one line: a failure names the library and field."""
    text = render_user(template, plain(context), f"persona library {library}: {what}")
    return " ".join(text.split())


def _trait_words(
    segment: SegmentProfile, library: Library, counts: str | None
) -> list[tuple[str, str]]:
    """(role, words) for the segment's true traits, most distinctive first. Frequency takes
    the words for what it counts where the library has them (frequency_items)."""
    found = []
    for role in distinctive(segment):
        by_level = library.traits.get(f"{role}_{counts}") if role == "frequency" else None
        by_level = by_level or library.traits.get(role, {})
        if segment.stats[role].level in by_level:
            found.append((role, by_level[segment.stats[role].level]))
    return found


def _also(
    segment: SegmentProfile, entry: LibraryEntry, library: Library, context: Mapping[str, Any]
) -> str:
    """The most distinctive trait, when the entry does not already assert it."""
    traits = _trait_words(segment, library, context["frequency_counts"])
    if not traits or traits[0][0] in entry.asserts:
        return ""
    role, words = traits[0]
    return _render(
        library.also,
        {**context, "trait": words, "role": role, "figure": context[role]},
        library.path,
        "traits.also",
    )


def _choose(
    profiles: Profiles, library: Library, keep: Mapping[int, str]
) -> dict[int, LibraryEntry]:
    """Segment index -> the library entry it is given, one-to-one. The strongest match is
    made first, so a segment that a persona describes best keeps it even when giving it
    elsewhere would add up to a higher total; the persona a segment had last period
    (`keep`) scores KEEP_BONUS more."""
    pairs = []
    for i, segment in enumerate(profiles.segments):
        if segment.suppressed:
            continue
        for j, entry in enumerate(library.entries):
            value = score(entry, segment, profiles.frequency_counts)
            if value is not None:
                kept = keep.get(segment.id) == entry.key
                pairs.append((value + (KEEP_BONUS if kept else 0.0), i, j))
    chosen: dict[int, int] = {}
    for _, i, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if i not in chosen and j not in chosen.values():
            chosen[i] = j
    return {i: library.entries[j] for i, j in chosen.items()}


def _from_entry(
    segment: SegmentProfile, entry: LibraryEntry, library: Library, profiles: Profiles
) -> Persona:
    """The persona of a library entry, its description filled with the segment's figures."""
    context = _context(segment, profiles, library.words)
    description = _render(entry.description, context, library.path, f"{entry.key}.description")
    also = _also(segment, entry, library, context)
    return Persona(
        segment=segment.id,
        key=entry.key,
        name=entry.name,
        description=f"{description} {also}".strip(),
        recommendations=entry.recommendations,
        score=round(float(score(entry, segment, profiles.frequency_counts) or 0), 4),
    )


def _from_traits(
    segment: SegmentProfile, library: Library, profiles: Profiles, used_names: set[str]
) -> Persona:
    """A segment no entry describes: named from its two most distinctive true traits."""
    traits = [
        _mid_sentence(text, library.words)
        for _, text in _trait_words(segment, library, profiles.frequency_counts)
    ][:2]
    name = _first_upper(", ".join(traits)) if traits else library.typical_name
    description = _render(
        library.fallback_description,
        {**_context(segment, profiles, library.words), "traits": traits},
        library.path,
        "traits.fallback_description",
    )
    return _unnamed(segment, name, description, library.fallback_recommendations, used_names)


def assign_personas(
    profiles: Profiles, library: Library, keep: Mapping[int, str] | None = None
) -> Personas:
    """Give every segment shown a distinct persona, or a name built from its traits.

    `keep` maps a segment id to the persona key it had last period.
    """
    chosen = _choose(profiles, library, keep or {})
    personas: list[Persona] = []
    used_names: set[str] = set()
    for i, segment in enumerate(profiles.segments):
        if segment.suppressed:
            personas.append(_unnamed(segment, library.small_name, "", (), used_names))
        elif i in chosen:
            used_names.add(chosen[i].name)
            personas.append(_from_entry(segment, chosen[i], library, profiles))
        else:
            personas.append(_from_traits(segment, library, profiles, used_names))
    return Personas(segments=tuple(personas), library=library.path)


def _mid_sentence(text: str, words: Wording) -> str:
    """Trait words as they read inside a sentence. The English library writes some with a
    capital ("High spend") and is lowercased; a translation is written as it reads inside
    a sentence (German nouns keep their capital) and is kept."""
    return text if words.language != "en" else text.lower()


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unnamed(
    segment: SegmentProfile,
    name: str,
    description: str,
    recommendations: tuple[str, ...],
    used: set[str],
) -> Persona:
    """A segment without a library entry; a name already taken gets the segment's id."""
    if name in used:
        name = f"{name} ({segment.id})"
    used.add(name)
    return Persona(
        segment=segment.id,
        key=None,
        name=name,
        description=description,
        recommendations=recommendations,
        score=None,
    )
