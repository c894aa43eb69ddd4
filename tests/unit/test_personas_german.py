"""The German persona library (templates/locale/de/personas.po) against the English one.

Every wording string of templates/personas.yaml is a msgid, exactly as the library loads
it; a German description is a Jinja template rendered in the same sandbox, with the same
variables. These tests read the catalogue with Babel directly, and render both languages
through the real persona code on the bundled sample, on a generated order log and on
made-up segments, so that each persona is shown wherever its assertions hold.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
import yaml
from babel.messages.pofile import read_po
from jinja2 import meta, nodes

from reportgen import yamlfile
from reportgen.config import parse
from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.personas import Library, assign_personas, holds, load_library
from reportgen.pipeline import analyse
from reportgen.profile import Profiles, RoleStats, SegmentProfile
from reportgen.resources import sample_data_path, templates_dir
from reportgen.sample import generate_orders
from reportgen.templating import sandbox

LIBRARY = templates_dir() / "personas.yaml"
CATALOGUE = templates_dir() / "locale" / "de" / "personas.po"
ENGLISH_LEFT = re.compile(
    r"\b(the|median customer|ago|orders?|items?|days?|month|spends?|customers|all)\b"
)
"""English that a German description must not contain (the unit words come from the data
as "orders" / "items": the German wording maps them)."""


def _text(value: str) -> str:
    """A library text as the library reads it: folded lines joined by single spaces."""
    return " ".join(value.split())


def _wording(document: dict) -> Iterator[tuple[str, str]]:
    """(where, English text) for every wording string: names, descriptions, recommendations,
    trait words and texts. Claims phrases are checked on the English and not translated."""
    for persona in document["personas"]:
        yield f"{persona['key']}.name", persona["name"]
        yield f"{persona['key']}.description", persona["description"]
        for i, text in enumerate(persona["recommendations"]):
            yield f"{persona['key']}.recommendations[{i + 1}]", text
    for field, value in document["traits"].items():
        if isinstance(value, dict):
            for level, text in value.items():
                yield f"traits.{field}.{level}", text
        elif isinstance(value, list):
            for i, text in enumerate(value):
                yield f"traits.{field}[{i + 1}]", text
        else:
            yield f"traits.{field}", value


ENGLISH = yamlfile.load(LIBRARY, "persona library")
with CATALOGUE.open("rb") as _file:
    PO = read_po(_file)
GERMAN = {message.id: message.string for message in PO if message.id}
TEMPLATES = [
    *(f"{p['key']}.description" for p in ENGLISH["personas"]),
    "traits.also",
    "traits.fallback_description",
]
WORDING = dict(_wording(ENGLISH))


def _german(value):
    """The German of a library value: a text, a list of texts or a mapping of them."""
    if isinstance(value, str):
        return GERMAN[_text(value)]
    if isinstance(value, list):
        return [_german(v) for v in value]
    return {k: _german(v) for k, v in value.items()}


@pytest.fixture(scope="module")
def german_library(tmp_path_factory) -> Path:
    """The library with the German wording put in, as a file the persona code loads."""
    document = {"claims": ENGLISH["claims"], "personas": [], "traits": {}}
    for persona in ENGLISH["personas"]:
        fields = ("name", "description", "recommendations")
        document["personas"].append(
            {k: (_german(v) if k in fields else v) for k, v in persona.items()}
        )
    document["traits"] = {k: _german(v) for k, v in ENGLISH["traits"].items()}
    path = tmp_path_factory.mktemp("de") / "personas.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


# --- The catalogue ---------------------------------------------------------------------


def test_the_catalogue_is_german_utf8_and_final():
    assert str(PO.locale) == "de"
    assert PO.charset.lower() == "utf-8"
    assert not PO.fuzzy
    assert not [m.id for m in PO if m.id and m.fuzzy]


def test_the_bundled_library_folds_to_single_spaces():
    """The msgid is the text as loaded; the library also collapses runs of spaces, so the
    two must be the same for a lookup to find it."""
    assert [where for where, text in WORDING.items() if text != _text(text)] == []


def test_every_wording_string_has_a_german_translation():
    missing = [where for where, text in WORDING.items() if not GERMAN.get(_text(text), "")]
    assert missing == [], "add these to templates/locale/de/personas.po"


def test_the_catalogue_has_no_stale_english():
    current = {_text(text) for text in WORDING.values()}
    assert sorted(set(GERMAN) - current) == []


def test_german_persona_names_are_distinct():
    names = [GERMAN[_text(p["name"])] for p in ENGLISH["personas"]]
    assert len(set(names)) == len(names)


def test_german_recommendations_keep_what_to_do_and_what_to_watch():
    """Each recommendation says what to do and which figure to watch, as in English."""
    for persona in ENGLISH["personas"]:
        for text in persona["recommendations"]:
            german = GERMAN[_text(text)]
            assert ";" in german, (persona["key"], german)
            assert re.search(r"\b(beobachten|verfolgen|vergleichen)\b", german), german


# --- Descriptions: templates in the same sandbox -----------------------------------------


def _paths(tree: nodes.Template) -> set[str]:
    """Every variable and attribute path a template reads ("spend.vs_median", "mix")."""
    found = set(meta.find_undeclared_variables(tree))
    for node in tree.find_all(nodes.Getattr):
        parts = [node.attr]
        inner = node.node
        while isinstance(inner, nodes.Getattr):
            parts.append(inner.attr)
            inner = inner.node
        if isinstance(inner, nodes.Name):
            found.add(".".join([inner.name, *reversed(parts)]))
    return found


@pytest.mark.parametrize("where", TEMPLATES)
def test_a_german_template_parses_and_reads_only_what_the_english_reads(where):
    environment = sandbox(Formatter())
    english = _text(WORDING[where])
    german = GERMAN[english]
    environment.from_string(german)  # compiles in the library's sandbox
    extra = _paths(environment.parse(german)) - _paths(environment.parse(english))
    assert extra == set(), f"{where}: the German reads what the English does not"


def test_german_descriptions_use_the_filters_of_the_english():
    """`days` already says "Tage": a German description never adds the word after it."""
    for where in TEMPLATES:
        german = GERMAN[_text(WORDING[where])]
        assert not re.search(r"\|\s*days\s*\}\}\s*Tag", german), where


# --- Rendering: the same figures, in German ----------------------------------------------

BASE = {
    "spend": 800.0,
    "frequency": 6.0,
    "recency": 40.0,
    "tenure": 400.0,
    "rating": 4.0,
    "satisfaction": 1.2,
    "discount": 0.45,
    "return_rate": 0.05,
    "aov": 120.0,
    "items_per_order": 2.0,
    "age": 38.0,
}
FACTOR = {"high": 2.2, "low": 0.4, "typical": 1.0, "recent": 0.2, "lapsed": 3.5, "lost": 12.0}
SHARE = ("discount", "return_rate")


def _stats(role: str, level: str, *, ratios: bool = True) -> RoleStats:
    value = BASE[role] * FACTOR[level]
    statistic = (
        "share" if role in SHARE else "mean position" if role == "satisfaction" else "median"
    )
    numeric = statistic == "median" and ratios
    return RoleStats(
        mean=value,
        median=value,
        vs_median=FACTOR[level] if numeric else None,
        vs_mean=FACTOR[level] if numeric else None,
        z=0.0 if level == "typical" else 3.0,
        level=level,
        statistic=statistic,
        value=value,
        base=BASE[role],
        thresholds={"recent": 30.0, "lapsed": 90.0, "lost": 365.0}
        if role == "recency"
        else {"high": BASE[role] * 1.25, "low": BASE[role] / 1.25},
        strength=0.0 if level == "typical" else 3.0,
        per_month=(value / (BASE["tenure"] / 30.4)) if role == "frequency" and ratios else None,
    )


def _made_up(entry_asserts: dict, roles: tuple[str, ...], ratios: bool) -> SegmentProfile:
    """A segment at the first level of each asserted role, typical elsewhere."""
    stats = {
        role: _stats(role, entry_asserts.get(role, ("typical",))[0], ratios=ratios)
        for role in roles
    }
    return SegmentProfile(
        id=1,
        size=200,
        share=0.2,
        revenue=1.0,
        revenue_share=0.31,
        stats=stats,
        mix={"satisfaction": {"Unsatisfied": 0.7, "Neutral": 0.2, "Satisfied": 0.1}},
    )


def _made_up_profiles() -> list[Profiles]:
    """For every persona: a segment with every role, one with only the roles it asserts
    (optional roles missing), and one without the ratios (the base median is zero)."""
    base = {r: {"mean": v, "median": v, "std": v / 2} for r, v in BASE.items()}
    base_mix = {"satisfaction": {"Unsatisfied": 0.2, "Neutral": 0.3, "Satisfied": 0.5}}
    found = []
    for persona in ENGLISH["personas"]:
        asserts = {
            role: tuple(v) if isinstance(v, list) else (v,)
            for role, v in persona["asserts"].items()
        }
        for roles, ratios in (
            (tuple(BASE), True),
            (tuple(r for r in BASE if r in asserts or r == "spend"), True),
            (tuple(BASE), False),
        ):
            segment = _made_up(asserts, roles, ratios)
            for counts in ("orders", "items"):
                found.append(
                    Profiles(
                        customers=1000,
                        revenue=1.0,
                        segments=(segment,),
                        base=base,
                        base_mix=base_mix,
                        frequency_counts=counts if "frequency" in roles else None,
                    )
                )
    return found


@pytest.fixture(scope="module")
def profiles(tmp_path_factory) -> list[Profiles]:
    """The bundled sample (a customer table), a generated order log, made-up segments."""
    quick = {"segmentation": {"stability_runs": 0}}
    found = [analyse(sample_data_path(), parse(quick)).profiles]
    log = tmp_path_factory.mktemp("orders") / "orders.csv"
    pacsv.write_csv(generate_orders(2000), log)
    found.append(analyse(log, parse({**quick, "data": {"kind": "transactions"}})).profiles)
    return found + _made_up_profiles()


def _figures(text: str) -> list[str]:
    """The digits of every figure, whatever the locale's separators ("1,407.5" and
    "1.407,5" are both 14075)."""
    return sorted(re.sub(r"\D", "", f) for f in re.findall(r"\d(?:[,.\u00a0\u202f]?\d)*", text))


def _renders(library: Library, profiles: Profiles, segment: SegmentProfile, index: int | None):
    """The persona of `segment` when the library holds only entry `index` (None: no entry,
    so the segment is named from its traits)."""
    entries = () if index is None else (library.entries[index],)
    one = dataclasses.replace(profiles, segments=(segment,))
    return assign_personas(one, dataclasses.replace(library, entries=entries)).segments[0]


def test_german_descriptions_say_what_the_english_say(profiles, german_library):
    english = load_library(LIBRARY, Formatter())
    german = load_library(german_library, Formatter(locale="de_DE"))
    assert [e.key for e in german.entries] == [e.key for e in english.entries]
    shown = set()
    for found in profiles:
        for segment in found.shown:
            holding = [
                i
                for i, entry in enumerate(english.entries)
                if holds(entry, segment, found.frequency_counts)
            ]
            for index in [*holding, None]:
                try:
                    en = _renders(english, found, segment, index)
                except ConfigError:  # the English cannot render here either (a role missing)
                    continue
                de = _renders(german, found, segment, index)
                where = f"{en.key or 'fallback'} on segment {segment.id}"
                assert de.key == en.key, where
                assert _figures(de.description) == _figures(en.description), (
                    where,
                    en.description,
                    de.description,
                )
                left = ENGLISH_LEFT.findall(de.description.lower())
                assert not left, (where, left, de.description)
                assert len(de.recommendations) == len(en.recommendations)
                if re.search(r"\d (orders?)\b", en.description):
                    assert re.search(r"\d Bestellung", de.description), (where, de.description)
                if re.search(r"\d (items?)\b", en.description):
                    assert re.search(r"\d Artikel", de.description), (where, de.description)
                shown.add(en.key)
    assert shown >= {e.key for e in english.entries}, "a persona was never shown"
    assert None in shown


def test_a_persona_without_german_fails_the_check(tmp_path):
    """The check above is not vacuous: a library with one more persona has a missing
    translation."""
    document = yamlfile.load(LIBRARY, "persona library")
    document["personas"].append({**document["personas"][0], "key": "x", "name": "Brand new"})
    missing = [w for w, t in _wording(document) if not GERMAN.get(_text(t), "")]
    assert missing == ["x.name"]
