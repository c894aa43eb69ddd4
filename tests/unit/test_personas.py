from pathlib import Path

import pytest

from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.personas import assign_personas, holds, load_library
from reportgen.profile import Profiles, RoleStats, SegmentProfile
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


def stats(role: str, level: str = "typical", strength: float = 0.0, factor: float = 1.0):
    """A role's figures: the base value times `factor`, at the given level and strength."""
    value = BASE[role] * factor
    statistic = "share" if role == "discount" else "median"
    return RoleStats(
        mean=value,
        median=value,
        vs_median=factor if role != "discount" else None,
        vs_mean=factor if role != "discount" else None,
        z=strength,
        level=level,
        statistic=statistic,
        value=value,
        base=BASE[role],
        thresholds={"recent": 30.0, "lapsed": 90.0, "lost": 365.0}
        if role == "recency"
        else {"high": BASE[role] * 1.25, "low": BASE[role] / 1.25},
        strength=strength,
    )


def segment(segment_id: int, size: int = 100, roles=tuple(BASE), **levels: tuple):
    """A segment: `levels` maps a role to (level, strength, factor); other roles typical."""
    return SegmentProfile(
        id=segment_id,
        size=size,
        share=size / 1000,
        revenue=1.0,
        revenue_share=0.2,
        stats={role: stats(role, *levels.get(role, ())) for role in roles},
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
        frequency_counts="orders",
    )


def names(result):
    return [p.name for p in result.segments]


CHAMPION = {
    "spend": ("high", 2.0, 1.5),
    "frequency": ("high", 2.0, 1.5),
    "recency": ("recent", 1.0, 0.4),
}


def test_the_library_has_the_classic_types_with_two_to_four_recommendations():
    keys = {entry.key for entry in LIBRARY.entries}
    assert {
        "champions",
        "promising_newcomers",
        "new_customers",
        "deal_seekers",
        "valuable_at_risk",
        "hibernating",
        "lost_customers",
        "occasional_buyers",
        "dissatisfied",
        "loyal_regulars",
    } <= keys
    assert all(2 <= len(entry.recommendations) <= 4 for entry in LIBRARY.entries)


def test_segments_get_the_persona_whose_assertions_hold():
    result = assign_personas(
        profiles(
            segment(1, **CHAMPION),
            segment(2, spend=("high", 1.5, 1.4), recency=("lapsed", 1.5, 4.0)),
            segment(3, spend=("low", 1.0, 0.5), recency=("lost", 3.0, 20.0)),
            segment(4, discount=("high", 1.5, 1.8)),
            segment(5, spend=("low", 1.2, 0.5), recency=("recent", 1.0, 0.3)),
        ),
        LIBRARY,
    )
    assert names(result) == [
        "Champions",
        "Valuable customers at risk",
        "Lost customers",
        "Deal seekers",
        "Recent light buyers",
    ]
    assert result.segments[0].description == (
        "High-value, recently active customers who buy more than most: the median customer "
        "in this segment spends $1,200, 1.5× the median customer, with 15 orders, and last "
        "bought 10 days ago. Together they bring 20.0% of revenue."
    )


def test_a_persona_is_never_given_when_one_assertion_fails():
    # Everything a champion has, except that the median customer last bought 60 days ago.
    almost = segment(1, **{**CHAMPION, "recency": ("typical", 0.5, 2.4)})
    champions = next(e for e in LIBRARY.entries if e.key == "champions")
    assert not holds(champions, almost, "orders")
    assert names(assign_personas(profiles(almost), LIBRARY)) != ["Champions"]


def test_no_two_segments_share_a_persona_and_the_strongest_match_keeps_it():
    stronger = {role: (level, 3.0, factor) for role, (level, _, factor) in CHAMPION.items()}
    result = assign_personas(profiles(segment(1, **CHAMPION), segment(2, **stronger)), LIBRARY)
    assert names(result)[1] == "Champions"
    assert names(result)[0] != "Champions"


def test_the_persona_explaining_the_strongest_trait_wins_over_a_better_total():
    # Both segments stand out most by their discount use, segment 1 far more. Giving Deal
    # seekers to segment 2 and Recent light buyers to segment 1 would add up to more, but
    # the persona goes to the segment it describes best.
    result = assign_personas(
        profiles(
            segment(
                1,
                discount=("high", 3.5, 1.9),
                spend=("low", 1.0, 0.6),
                recency=("recent", 1.0, 0.3),
            ),
            segment(2, roles=("spend", "recency", "discount"), discount=("high", 1.0, 1.3)),
        ),
        LIBRARY,
    )
    assert names(result) == ["Deal seekers", "Discount users"]


def test_a_distinctive_trait_the_persona_does_not_assert_is_still_mentioned():
    result = assign_personas(
        profiles(segment(1, **CHAMPION, rating=("low", 4.0, 0.8))), LIBRARY
    ).segments[0]
    assert result.name == "Champions"
    assert result.description.endswith(
        "What sets them apart most: low ratings (median 3.2 against 4.0 for all customers)."
    )


def test_a_segment_that_fits_nothing_is_named_from_its_two_strongest_true_traits():
    result = assign_personas(
        profiles(
            segment(
                1,
                roles=("spend", "frequency", "rating", "satisfaction", "discount"),
                rating=("high", 2.0, 1.2),
                discount=("low", 1.5, 0.4),
                frequency=("low", 1.0, 0.5),
            ),
        ),
        LIBRARY,
    )
    persona = result.segments[0]
    assert persona.key is None and persona.score is None
    assert persona.name == "High ratings, full-price buyers"
    assert persona.description.startswith(
        "A segment that matches none of the library's personas. "
        "What sets it apart most: high ratings and full-price buyers. Its median customer"
    )
    assert persona.recommendations == LIBRARY.fallback_recommendations


def test_a_segment_with_no_standing_out_trait_is_called_typical():
    only = segment(1, roles=("spend", "recency"))
    persona = assign_personas(profiles(only), LIBRARY).segments[0]
    assert persona.key is None and persona.name == "Typical customers"
    assert persona.description == (
        "A segment that matches none of the library's personas. None of its figures stands "
        "out from the whole base: its median customer spends $800 (1.0× the median customer)."
    )


def test_a_suppressed_segment_takes_no_persona_and_no_words():
    small = SegmentProfile(2, 3, 0.003, None, None, {}, {}, suppressed=True)
    result = assign_personas(profiles(segment(1, **CHAMPION), small), LIBRARY)
    assert names(result) == ["Champions", "Too small to describe"]
    assert result.segments[1].description == "" and result.segments[1].recommendations == ()


def test_a_persona_needing_a_missing_role_is_not_used():
    no_recency = segment(1, roles=("spend", "frequency"), **CHAMPION)
    assert names(assign_personas(profiles(no_recency), LIBRARY)) != ["Champions"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "personas.yaml"
    path.write_text(text)
    return path


GOOD_TRAITS = """
traits:
  spend: {high: High spend}
  typical_name: Typical
  small_name: Small
  also: Also {{ trait }}.
  fallback_description: Other.
  fallback_recommendations: [Look closer.]
"""


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- {key: a, name: A, asserts: {spend: high}, description: x}",
            "persona 1 (a): field 'recommendations' is missing",
        ),
        (
            "- {key: a, name: A, match: {spend: high}, description: x, recommendations: [r, s]}",
            "persona 1 (a): 'match' was split in two: 'asserts'",
        ),
        (
            "- {key: a, name: A, asserts: {spend: huge}, description: x, recommendations: [r, s]}",
            "persona 1 (a).asserts.spend: 'huge' is not a level; use high, typical, low",
        ),
        (
            "- {key: a, name: A, asserts: {recency: high}, description: x, "
            "recommendations: [r, s]}",
            "persona 1 (a).asserts.recency: 'high' is not a level; use recent, typical, lapsed, "
            "lost",
        ),
        (
            "- {key: a, name: A, asserts: {city: high}, description: x, recommendations: [r, s]}",
            "persona 1 (a).asserts.city: not a role with levels",
        ),
        (
            "- {key: a, name: A, asserts: {spend: high}, description: x, recommendations: [r]}",
            "persona 1 (a).recommendations: expected a list of 2 to 4 texts",
        ),
        (
            "- {key: a, name: A, asserts: {spend: high}, description: '{{ spend.mean', "
            "recommendations: [r, s]}",
            "persona 1 (a).description: template error",
        ),
        (
            "- {key: a, name: A, asserts: {spend: high}, description: x, recommendations: [r, s], "
            "colour: red}",
            "persona 1 (a): unknown field 'colour'",
        ),
    ],
)
def test_a_malformed_library_names_the_entry_and_field(tmp_path, entry, message):
    path = write(tmp_path, "personas:\n" + entry + "\n" + GOOD_TRAITS)
    with pytest.raises(ConfigError) as caught:
        load_library(path, Formatter())
    assert str(caught.value).startswith(f"persona library {path}: {message}")


@pytest.mark.parametrize(
    ("name", "asserts", "description", "phrase"),
    [
        ("Loyal fans", "{spend: high}", "They spend a lot.", "loyal"),
        ("Big spenders", "{spend: high}", "They spend little.", "spend little"),
        (
            "Big spenders",
            "{spend: high, frequency: [typical, high]}",
            "Few purchases.",
            "few purchases",
        ),
        ("Newcomers", "{recency: recent}", "Recently active.", "newcomers"),
        ("Sleepers", "{spend: low}", "They used to buy.", "used to"),
        ("Sleepers", "{recency: [lapsed, lost]}", "Slipping away.", "slipping"),
    ],
)
def test_a_user_library_whose_wording_claims_a_level_it_does_not_assert_is_refused(
    tmp_path, name, asserts, description, phrase
):
    # A user's library without a claims list is checked with the bundled one.
    path = write(
        tmp_path,
        f"personas:\n- {{key: a, name: {name}, asserts: {asserts}, "
        f"description: {description}, recommendations: [r, s]}}\n" + GOOD_TRAITS,
    )
    with pytest.raises(ConfigError, match=f"persona 1 \\(a\\): its wording says '{phrase}'"):
        load_library(path, Formatter())


def test_wording_about_orders_needs_frequency_to_count_orders():
    # Loyal regulars "keep coming back": fifteen items may have been one order.
    regular = segment(
        1,
        frequency=("high", 2.0, 1.5),
        spend=("typical", 0.0, 1.0),
        recency=("recent", 0.5, 0.6),
    )
    on_orders = assign_personas(profiles(regular), LIBRARY)
    assert names(on_orders) == ["Loyal regulars"]
    items = Profiles(**{**vars(profiles(regular)), "frequency_counts": "items"})
    assert names(assign_personas(items, LIBRARY)) != ["Loyal regulars"]


def test_a_persona_saying_regularly_must_declare_it_counts_orders(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, asserts: {frequency: high}, "
        "description: They order regularly., recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    with pytest.raises(ConfigError, match=r"needs frequency to count orders; add counts: orders"):
        load_library(path, Formatter())
    path.write_text(path.read_text().replace("asserts:", "counts: orders, asserts:"))
    assert load_library(path, Formatter()).entries[0].counts == "orders"


def test_fairly_new_is_read_as_one_phrase_not_as_new(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, asserts: {tenure: [low, typical]}, "
        "description: Fairly new customers., recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    assert load_library(path, Formatter()).entries[0].key == "a"


def test_a_description_quoting_the_level_of_a_role_it_does_not_assert_is_refused(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, asserts: {spend: high}, "
        "description: 'Recency is {{ recency.level }}.', recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    with pytest.raises(ConfigError, match=r"quotes recency.level but does not assert recency"):
        load_library(path, Formatter())


def test_a_description_quoting_an_unknown_figure_fails_clearly(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, asserts: {spend: high}, "
        "description: '{{ spend.total }}', recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    library = load_library(path, Formatter())
    high = segment(1, spend=("high", 2.0, 1.5))
    with pytest.raises(ConfigError, match=r"a\.description: .*total"):
        assign_personas(profiles(high), library)


def test_library_templates_cannot_reach_python_internals(tmp_path):
    path = write(
        tmp_path,
        "personas:\n- {key: a, name: A, asserts: {spend: high}, "
        "description: '{{ spend.__class__.__mro__ }}', recommendations: [r, s]}\n" + GOOD_TRAITS,
    )
    with pytest.raises(ConfigError):
        assign_personas(
            profiles(segment(1, spend=("high", 2.0, 1.5))), load_library(path, Formatter())
        )


def test_a_segment_keeps_last_periods_persona_while_it_still_fits():
    stronger = {role: (level, 3.0, factor) for role, (level, _, factor) in CHAMPION.items()}
    both = profiles(segment(1, **stronger), segment(2, **CHAMPION))
    assert names(assign_personas(both, LIBRARY))[0] == "Champions"
    kept = assign_personas(both, LIBRARY, keep={2: "champions"})
    assert names(kept)[1] == "Champions" and names(kept)[0] != "Champions"
    lapsed = profiles(segment(1, spend=("high", 2.0, 1.5), recency=("lapsed", 1.0, 4.0)))
    assert names(assign_personas(lapsed, LIBRARY, keep={1: "champions"})) == [
        "Valuable customers at risk"
    ]
