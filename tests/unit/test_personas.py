from pathlib import Path

import pytest

from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.personas import assign_personas, load_library
from reportgen.profile import Profiles, RoleStats, SegmentProfile, level
from reportgen.resources import templates_dir

LIBRARY = load_library(templates_dir() / "personas.yaml", Formatter())
BASE = {
    "spend": 800.0,
    "frequency": 10.0,
    "recency": 25.0,
    "rating": 4.0,
    "satisfaction": 1.0,
    "discount": 0.5,
}


def segment(segment_id: int, size: int = 100, revenue_share: float = 0.2, **z: float):
    """A segment whose roles sit z standard deviations from BASE (sd = 20% of the mean)."""
    stats = {}
    for role, mean in BASE.items():
        score = z.get(role, 0.0)
        value = mean * (1 + 0.2 * score)
        stats[role] = RoleStats(
            mean=value,
            median=value,
            vs_base=value / mean if role != "discount" else None,
            z=score,
            level=level(role, score),
        )
    return SegmentProfile(
        id=segment_id,
        size=size,
        share=size / 1000,
        revenue=1.0,
        revenue_share=revenue_share,
        stats=stats,
        mix={},
    )


def profiles(*segments):
    base = {role: {"mean": mean, "median": mean, "std": mean * 0.2} for role, mean in BASE.items()}
    return Profiles(
        customers=sum(s.size for s in segments),
        revenue=1.0,
        segments=segments,
        base=base,
        base_mix={},
    )


def names(result):
    return [p.name for p in result.segments]


def test_the_library_has_the_classic_types_with_two_to_four_recommendations():
    keys = {entry.key for entry in LIBRARY.entries}
    assert len(keys) >= 8
    assert {
        "champions",
        "promising_newcomers",
        "deal_seekers",
        "valuable_at_risk",
        "hibernating",
        "occasional_buyers",
        "dissatisfied",
        "loyal_regulars",
    } <= keys
    assert all(2 <= len(entry.recommendations) <= 4 for entry in LIBRARY.entries)


def test_segments_get_the_persona_their_levels_describe():
    result = assign_personas(
        profiles(
            segment(1, spend=2.0, frequency=1.5, recency=-1.2),
            segment(2, spend=1.5, recency=1.5),
            segment(3, spend=-1.0, frequency=-1.0, recency=1.4),
            segment(4, discount=1.5, spend=-0.2),
            segment(5, spend=-1.2, frequency=-1.2, recency=-1.0),
        ),
        LIBRARY,
    )
    assert names(result) == [
        "Champions",
        "Valuable customers at risk",
        "Hibernating",
        "Deal seekers",
        "Promising newcomers",
    ]
    assert result.segments[0].description == (
        "The best customers you have: they spend $1,120 on average, 1.4× the typical customer, "
        "make 13 purchases and last bought 19 days ago. Together they bring 20.0% of revenue."
    )


def test_no_two_segments_share_a_persona():
    result = assign_personas(
        profiles(
            segment(1, spend=2.0, frequency=2.0, recency=-2.0),
            segment(2, spend=1.6, frequency=1.6, recency=-1.6),
        ),
        LIBRARY,
    )
    assert names(result)[0] == "Champions"  # the stronger match keeps it
    assert names(result)[1] != "Champions"
    assert len(set(names(result))) == 2


def test_a_segment_that_fits_nothing_is_named_from_its_two_strongest_traits():
    result = assign_personas(
        profiles(
            segment(1, rating=2.0, discount=-1.5, satisfaction=-1.0, spend=-1.0, frequency=1.0),
        ),
        LIBRARY,
    )
    persona = result.segments[0]
    assert persona.key is None and persona.score is None
    assert persona.name == "High ratings, full-price buyers"
    assert persona.description.startswith(
        "A segment that matches none of the library's personas. "
        "Its most distinctive traits are high ratings and "
        "full-price buyers"
    )
    assert persona.recommendations == LIBRARY.fallback_recommendations


def test_a_segment_with_no_standing_out_trait_is_called_typical():
    # Only spend, frequency and recency, all typical: "steady" needs a rating column.
    typical = segment(1, spend=0.1, frequency=-0.1)
    stats = {r: st for r, st in typical.stats.items() if r in ("spend", "frequency", "recency")}
    only = SegmentProfile(1, 100, 0.1, 1.0, 0.2, stats, {})
    persona = assign_personas(profiles(only), LIBRARY).segments[0]
    assert persona.key is None and persona.name == "Typical customers"
    assert persona.description == (
        "A segment that matches none of the library's personas. None of its figures stands "
        "out from the whole base: it spends $816 on average (1.0× the typical customer)."
    )


def test_a_persona_needing_a_missing_role_is_not_used():
    no_recency = segment(1, spend=2.0, frequency=2.0, recency=-2.0)
    stats = {role: st for role, st in no_recency.stats.items() if role != "recency"}
    only = SegmentProfile(1, 100, 0.1, 1.0, 0.2, stats, {})
    result = assign_personas(profiles(only), LIBRARY)
    assert names(result) != ["Champions"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "personas.yaml"
    path.write_text(text)
    return path


GOOD_TRAITS = """
traits:
  spend: {high: High spend}
  fallback_description: Other.
  fallback_recommendations: [Look closer.]
"""


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- {key: a, name: A, match: {spend: high}, description: x}",
            "persona 1 (a): field 'recommendations' is missing",
        ),
        (
            "- {key: a, name: A, match: {spend: huge}, description: x, recommendations: [r, s]}",
            "persona 1 (a).match.spend: 'huge' is not a level; use high, typical, low",
        ),
        (
            "- {key: a, name: A, match: {recency: high}, description: x, recommendations: [r, s]}",
            "persona 1 (a).match.recency: 'high' is not a level; use recent, typical, lapsed",
        ),
        (
            "- {key: a, name: A, match: {city: high}, description: x, recommendations: [r, s]}",
            "persona 1 (a).match.city: not a role with levels",
        ),
        (
            "- {key: a, name: A, match: {spend: high}, description: x, recommendations: [r]}",
            "persona 1 (a).recommendations: expected a list of 2 to 4 texts",
        ),
        (
            "- {key: a, name: A, match: {spend: high}, description: '{{ spend.mean', "
            "recommendations: [r, s]}",
            "persona 1 (a).description: template error",
        ),
        (
            "- {key: a, name: A, match: {spend: high}, description: x, recommendations: [r, s], "
            "colour: red}",
            "persona 1 (a): unknown field 'colour'",
        ),
    ],
)
def test_a_malformed_library_names_the_entry_and_field(tmp_path, entry, message):
    path = write(tmp_path, "personas:\n" + entry + "\n" + GOOD_TRAITS)
    with pytest.raises(ConfigError) as caught:
        load_library(path, Formatter())
    assert str(caught.value) == f"persona library {path}: {message}" or message in str(caught.value)
    assert str(caught.value).startswith(f"persona library {path}: ")


def test_a_description_quoting_an_unknown_figure_fails_clearly(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, match: {spend: high}, "
        "description: '{{ spend.total }}', recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    library = load_library(path, Formatter())
    with pytest.raises(ConfigError, match=r"a\.description: .*total"):
        assign_personas(profiles(segment(1, spend=2.0)), library)


def test_library_templates_cannot_reach_python_internals(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, match: {spend: high}, "
        "description: '{{ spend.__class__.__mro__ }}', recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    with pytest.raises(ConfigError):
        assign_personas(profiles(segment(1, spend=2.0)), load_library(path, Formatter()))


def test_a_segment_keeps_last_periods_persona_while_it_still_fits():
    both = profiles(
        segment(1, spend=2.0, frequency=2.0, recency=-2.0),
        segment(2, spend=1.6, frequency=1.6, recency=-1.6),
    )
    assert names(assign_personas(both, LIBRARY))[0] == "Champions"
    kept = assign_personas(both, LIBRARY, keep={2: "champions"})
    assert names(kept)[1] == "Champions" and names(kept)[0] != "Champions"
    lapsed = profiles(segment(1, spend=2.0, recency=2.0))  # no longer fits Champions
    assert names(assign_personas(lapsed, LIBRARY, keep={1: "champions"})) == [
        "Valuable customers at risk"
    ]
