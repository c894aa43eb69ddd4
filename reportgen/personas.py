"""Names, descriptions and recommendations for segments, from the persona library.

A persona is matched, not hard-coded: each library entry states the role levels
it wants, each segment has levels from `profile`, and segments are assigned to
entries one-to-one by match score (the Hungarian method), so no two segments
share a persona. A segment that fits no entry well enough is named from its two
most distinctive traits. All wording comes from the library (YAML), which a user
can replace; descriptions are Jinja templates rendered in a sandbox, because a
library is user input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from scipy.optimize import linear_sum_assignment

from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.profile import Profiles, SegmentProfile
from reportgen.roles import ROLE_BY_NAME, Kind

MIN_FIT = 0.6
"""Net share of a persona's wanted levels a segment must meet (misses count against)."""
_LEVELS = {"recency": ("recent", "typical", "lapsed")}
_DEFAULT_LEVELS = ("high", "typical", "low")
_OPPOSITE = {"high": "low", "low": "high", "recent": "lapsed", "lapsed": "recent"}
_ENTRY_FIELDS = {"key", "name", "match", "description", "recommendations"}
_TRAIT_FIELDS = {"fallback_description", "fallback_recommendations"}


@dataclass(frozen=True)
class LibraryEntry:
    key: str
    name: str
    match: Mapping[str, tuple[str, ...]]
    description: jinja2.Template
    recommendations: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    path: Path
    entries: tuple[LibraryEntry, ...]
    traits: Mapping[str, Mapping[str, str]]
    fallback_description: jinja2.Template
    fallback_recommendations: tuple[str, ...]
    typical_name: str | None = None
    """Name of a segment that fits no persona and has no trait that stands out."""


@dataclass(frozen=True)
class Persona:
    segment: int
    key: str | None
    """The library entry, or None for a name built from traits."""
    name: str
    description: str
    recommendations: tuple[str, ...]
    score: float | None


@dataclass(frozen=True)
class Personas:
    segments: tuple[Persona, ...]
    """In segment order: segments[i] describes segment i + 1."""
    library: Path


def sandbox(formatter: Formatter) -> ImmutableSandboxedEnvironment:
    """A Jinja environment for user-editable text templates (plain text, not HTML)."""
    environment = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True
    )
    environment.filters.update(formatter.filters())
    return environment


def _levels_for(role: str) -> tuple[str, ...]:
    return _LEVELS.get(role, _DEFAULT_LEVELS)


class _LibraryReader:
    """Validates the YAML document, naming the entry and field of any problem."""

    def __init__(self, path: Path, environment: ImmutableSandboxedEnvironment) -> None:
        self.path = path
        self.environment = environment

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

    def match(self, where: str, value: Any) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict) or not value:
            raise self.fail(where, "expected a mapping of role: level, such as {spend: high}")
        match = {}
        for role, wanted in value.items():
            if role not in ROLE_BY_NAME or ROLE_BY_NAME[role].kind in (Kind.ID, Kind.CATEGORICAL):
                raise self.fail(f"{where}.{role}", "not a role with levels")
            levels = tuple(wanted) if isinstance(wanted, list) else (wanted,)
            for level in levels:
                if level not in _levels_for(role):
                    allowed = ", ".join(_levels_for(role))
                    raise self.fail(f"{where}.{role}", f"{level!r} is not a level; use {allowed}")
            match[role] = levels
        return match

    def entry(self, index: int, raw: Any) -> LibraryEntry:
        where = f"persona {index}"
        if not isinstance(raw, dict):
            raise self.fail(
                where, "expected a mapping with key, name, match, description, recommendations"
            )
        where = f"persona {index} ({raw.get('key', '?')!s})"
        for field in _ENTRY_FIELDS - raw.keys():
            raise self.fail(where, f"field {field!r} is missing")
        for field in raw.keys() - _ENTRY_FIELDS:
            raise self.fail(where, f"unknown field {field!r}")
        return LibraryEntry(
            key=self.text(f"{where}.key", raw["key"]),
            name=self.text(f"{where}.name", raw["name"]),
            match=self.match(f"{where}.match", raw["match"]),
            description=self.template(f"{where}.description", raw["description"]),
            recommendations=self.texts(f"{where}.recommendations", raw["recommendations"], 2, 4),
        )

    def read(self) -> Library:
        try:
            document = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"persona library {self.path} does not exist") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"persona library {self.path} cannot be read: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("personas"), list):
            raise self.fail("top level", "expected a 'personas' list and a 'traits' mapping")
        entries = tuple(self.entry(i + 1, raw) for i, raw in enumerate(document["personas"]))
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
                "fallback_description and fallback_recommendations",
            )
        words = {}
        for role, names in traits.items():
            if role in _TRAIT_FIELDS or role == "typical_name":
                continue
            if role not in ROLE_BY_NAME or not isinstance(names, dict):
                raise self.fail(f"traits.{role}", "expected a role with {level: words}")
            words[role] = {
                level: self.text(f"traits.{role}.{level}", text) for level, text in names.items()
            }
        return Library(
            path=self.path,
            entries=entries,
            traits=words,
            fallback_description=self.template(
                "traits.fallback_description", traits["fallback_description"]
            ),
            fallback_recommendations=self.texts(
                "traits.fallback_recommendations", traits["fallback_recommendations"], 1, 4
            ),
            typical_name=self.text("traits.typical_name", traits["typical_name"])
            if "typical_name" in traits
            else None,
        )


def load_library(path: Path, formatter: Formatter) -> Library:
    """Read and check a persona library; errors name the entry and the field."""
    return _LibraryReader(path, sandbox(formatter)).read()


def score(entry: LibraryEntry, segment: SegmentProfile) -> float | None:
    """Net share of wanted levels met, plus a small pull toward the stronger match.

    None when the data lacks a role the entry needs: its description could not
    be written honestly.
    """
    if any(role not in segment.stats for role in entry.match):
        return None
    met, pull = 0.0, 0.0
    for role, wanted in entry.match.items():
        stats = segment.stats[role]
        if stats.level in wanted:
            met += 1
        elif _OPPOSITE.get(stats.level) in wanted:
            met -= 1  # the opposite of what the persona wants
        direction = sum({"high": 1, "lapsed": 1, "low": -1, "recent": -1}.get(w, 0) for w in wanted)
        pull += math.copysign(1, direction) * stats.z if direction else -abs(stats.z)
    # The pull only breaks ties between equal matches: at most ±0.05, below one level.
    return met / len(entry.match) + 0.01 * max(-5.0, min(5.0, pull / len(entry.match)))


def _context(segment: SegmentProfile, profiles: Profiles) -> dict[str, Any]:
    context: dict[str, Any] = {
        role: {**vars(stats), "base_mean": profiles.base[role]["mean"]}
        for role, stats in segment.stats.items()
    }
    context["segment"] = {
        "id": segment.id,
        "size": segment.size,
        "share": segment.share,
        "revenue": segment.revenue,
        "revenue_share": segment.revenue_share,
    }
    return context


def _render(template: jinja2.Template, context: Mapping[str, Any], library: Path, what: str) -> str:
    try:
        return " ".join(template.render(context).split())
    except jinja2.TemplateError as exc:
        raise ConfigError(f"persona library {library}: {what}: {exc}") from None


def _traits(segment: SegmentProfile, library: Library) -> list[str]:
    ranked = sorted(segment.stats.items(), key=lambda item: -abs(item[1].z))
    return [
        library.traits[role][stats.level]
        for role, stats in ranked
        if stats.level in library.traits.get(role, {})
    ][:2]


KEEP_BONUS = 0.5
"""Added to the score of the persona a segment had last period, while it still fits, so a
segment keeps its name from month to month unless its profile has really changed."""


def assign_personas(
    profiles: Profiles, library: Library, keep: Mapping[int, str] | None = None
) -> Personas:
    """Give every segment a distinct persona, or a name built from its traits.

    `keep` maps a segment id to the persona key it had last period.
    """
    segments, entries = profiles.segments, library.entries
    scores = np.full((len(segments), max(len(entries), 1)), -np.inf)
    for i, segment in enumerate(segments):
        for j, entry in enumerate(entries):
            value = score(entry, segment)
            if value is not None:
                kept = (keep or {}).get(segment.id) == entry.key and value >= MIN_FIT
                scores[i, j] = value + (KEEP_BONUS if kept else 0.0)
    cost = np.where(np.isfinite(scores), -scores, 1e6)
    rows, cols = linear_sum_assignment(cost)
    chosen = {
        int(r): int(c)
        for r, c in zip(rows, cols, strict=True)
        if entries and scores[r, c] >= MIN_FIT
    }
    personas, used_names = [], set()
    for i, segment in enumerate(segments):
        context = _context(segment, profiles)
        if i in chosen:
            entry = entries[chosen[i]]
            personas.append(
                Persona(
                    segment=segment.id,
                    key=entry.key,
                    name=entry.name,
                    description=_render(
                        entry.description, context, library.path, f"{entry.key}.description"
                    ),
                    recommendations=entry.recommendations,
                    score=round(float(score(entry, segment)), 4),
                )
            )
            continue
        traits = _traits(segment, library)
        name = (
            ", ".join(traits).capitalize()
            if traits
            else library.typical_name or f"Segment {segment.id}"
        )
        if name in used_names:
            name = f"{name} ({segment.id})"
        used_names.add(name)
        personas.append(
            Persona(
                segment=segment.id,
                key=None,
                name=name,
                description=_render(
                    library.fallback_description,
                    {**context, "traits": [t.lower() for t in traits]},
                    library.path,
                    "traits.fallback_description",
                ),
                recommendations=library.fallback_recommendations,
                score=None,
            )
        )
    return Personas(segments=tuple(personas), library=library.path)
