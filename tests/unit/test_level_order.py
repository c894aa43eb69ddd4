"""Membership levels in their order, other categories most common first (issue #15)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reportgen import categories
from reportgen.config import parse
from reportgen.errors import ConfigError
from reportgen.features import build_features
from reportgen.ingest import read_table
from reportgen.profile import build_profiles
from reportgen.resources import sample_data_path
from reportgen.segment import segment
from reportgen.validate import validate
from tests.helpers import clean, dataset
from tests.unit.test_profile import customers, labelled


def tiers_of(counts: dict[str, int], **validation) -> list[str]:
    """The membership values as the brief lists them, for a base of `counts` customers
    in two segments; each segment's mix must list them in the same order."""
    values = [value for value, count in counts.items() for _ in range(count)]
    frame = customers(Spend=list(range(len(values))), Membership=values)
    config = parse({"validation": validation})
    half = len(values) // 2
    result = build_profiles(
        validate(dataset(frame), config),
        labelled([1] * half + [2] * (len(values) - half)),
        validation=config.validation,
    )
    order = list(result.base_mix["tier"])
    for shown in result.segments:
        assert list(shown.mix["tier"]) == [value for value in order if value in shown.mix["tier"]]
    return order


@pytest.mark.parametrize("counts", list(itertools.permutations([3, 5, 7])))
def test_a_known_ladder_is_listed_lowest_first_whatever_the_counts(counts):
    given = dict(zip(["Gold", "Platinum", "Silver"], counts, strict=True))
    assert tiers_of(given) == ["Silver", "Gold", "Platinum"]


def test_ladders_match_ignoring_case_and_accents_in_every_listed_language():
    assert tiers_of({"oro": 5, "BRONCE": 4, "Plata": 3}) == ["BRONCE", "Plata", "oro"]
    assert tiers_of({"Premium": 5, "Basico": 4, "Estándar": 3}) == [
        "Basico",
        "Estándar",
        "Premium",
    ]
    assert tiers_of({"Hoch": 5, "niedrig": 4, "Mittel": 3}) == ["niedrig", "Mittel", "Hoch"]
    assert tiers_of({"Enterprise": 5, "Pro": 4, "Free": 3, "Basic": 2}) == [
        "Free",
        "Basic",
        "Pro",
        "Enterprise",
    ]


def test_one_value_no_ladder_holds_keeps_the_column_most_common_first():
    assert tiers_of({"Silver": 3, "VIP": 4, "Gold": 5}) == ["Gold", "VIP", "Silver"]
    # Words of two ladders that no single ladder holds together: no order either.
    assert tiers_of({"Premium": 5, "Pro": 4, "Basic": 3}) == ["Premium", "Pro", "Basic"]


def test_customers_without_a_level_neither_stop_a_ladder_nor_break_into_it():
    """Blank cells a profile shows as "(missing)" belong to no ladder: the others keep
    their order and the blanks read last."""
    missing = categories.MISSING
    assert categories.tier_order(["Gold", missing, "Silver", "Bronze"]) == [
        "Bronze",
        "Silver",
        "Gold",
        missing,
    ]
    assert categories.tier_order([missing, "Gold", "VIP"]) is None
    assert categories.tier_order([missing]) is None


def test_the_setting_orders_the_levels_and_beats_a_ladder():
    unknown = {"Max": 5, "Starter": 4, "Plus": 3}
    assert tiers_of(unknown) == ["Max", "Starter", "Plus"]
    levels = ["starter", "PLUS", "Max"]
    assert tiers_of(unknown, tier_levels=levels) == ["Starter", "Plus", "Max"]
    # It wins over a ladder it disagrees with, and a value it leaves out follows the
    # values it lists, most common first (Bronze held by 4 before Tin held by 3).
    metals = {"Tin": 3, "Gold": 6, "Silver": 5, "Bronze": 4}
    assert tiers_of(metals, tier_levels=["Gold", "Silver"]) == ["Gold", "Silver", "Bronze", "Tin"]


def test_the_rare_values_bucket_stays_last_after_the_ladder():
    values = {"Gold": 12, "Silver": 11, **{f"Rare {i}": 1 for i in range(5)}}
    frame = customers(
        Spend=list(range(28)), Membership=[v for v, n in values.items() for _ in range(n)]
    )
    result = build_profiles(clean(frame), labelled([1] * 28), min_size=10)
    assert list(result.base_mix["tier"]) == ["Silver", "Gold", "Other (5 values)"]


def test_the_sample_lists_bronze_silver_gold_and_says_which_order_each_category_takes():
    config = parse({"segmentation": {"k": 3, "stability_runs": 0}})
    data = validate(read_table(sample_data_path()), config)
    features = build_features(data, config.features)
    result = build_profiles(data, segment(features, config.segmentation), None, config.validation)
    assert list(result.base_mix["tier"]) == ["Bronze", "Silver", "Gold"]
    for shown in result.shown:
        assert list(shown.mix["tier"]) == [
            t for t in ("Bronze", "Silver", "Gold") if t in shown.mix["tier"]
        ]
    assert result.level_order == ("satisfaction", "tier")
    assert result.share_order == ("gender", "city")
    assert result.to_dict()["share_order"] == ["gender", "city"]


def test_an_unordered_tier_is_said_to_be_most_common_first():
    frame = customers(Spend=[1] * 9, Membership=["VIP"] * 5 + ["Gold"] * 4)
    result = build_profiles(clean(frame), labelled([1] * 9))
    assert (result.level_order, result.share_order) == ((), ("tier",))
    # A setting that names none of the values orders nothing either.
    config = parse({"validation": {"tier_levels": ["Basic", "Plus"]}})
    result = build_profiles(clean(frame), labelled([1] * 9), validation=config.validation)
    assert (result.level_order, list(result.base_mix["tier"])) == ((), ["VIP", "Gold"])


def test_the_order_shown_never_changes_the_segments():
    """tier drives the clustering here: its one-hot features and the labels are the same
    with any [validation] tier_levels."""
    rng = np.random.default_rng(0)
    tiers = rng.choice(["Gold", "Silver", "Bronze", "Platinum"], 60).tolist()
    frame = customers(Spend=rng.integers(1, 500, 60).tolist(), Membership=tiers)
    runs = []
    for validation in ({}, {"tier_levels": ["Platinum", "Bronze", "Gold", "Silver"]}):
        config = parse(
            {
                "validation": validation,
                "features": {"drivers": ["spend", "tier"]},
                "segmentation": {"k": 3, "stability_runs": 0},
            }
        )
        features = build_features(validate(dataset(frame), config), config.features)
        labels = segment(features, config.segmentation).labels
        runs.append((features.scaling.names, labels.tolist()))
    assert runs[0] == runs[1]
    assert "tier=Gold" in runs[0][0]


def test_the_setting_is_a_list_of_distinct_labels():
    assert parse({"validation": {"tier_levels": ["Basic", "Plus"]}}).validation.tier_levels == (
        "Basic",
        "Plus",
    )
    assert parse({}).validation.tier_levels is None
    for wrong in (["Gold"], ["Gold", "gold"], "Gold", [1, 2]):
        with pytest.raises(ConfigError, match=r"\[validation\] tier_levels"):
            parse({"validation": {"tier_levels": wrong}})


def test_no_two_ladders_order_the_same_two_levels_differently():
    ladders = categories.ladders()
    assert all(len(set(ladder)) == len(ladder) for ladder in ladders)
    pairs = {pair for ladder in ladders for pair in itertools.combinations(ladder, 2)}
    assert {(high, low) for low, high in pairs} & pairs == set()
