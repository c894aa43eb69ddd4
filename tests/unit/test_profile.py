import json

import numpy as np
import pandas as pd
import pytest

from reportgen.config import FeatureSettings, LevelSettings, SegmentationSettings
from reportgen.features import build_features
from reportgen.profile import Profiles, build_profiles, day_thresholds, highlights, rhythm
from reportgen.segment import Segmentation, segment
from tests.helpers import clean


def profiles_for(frame, expected_labels):
    """Profiles of the real stages with k = 2, checking the split is the one the test means."""
    data = clean(frame)
    seg = segment(
        build_features(data, FeatureSettings()),
        SegmentationSettings(k=2, stability_runs=0),
        order_values=data.frame["spend"].to_numpy(),
    )
    assert seg.labels.tolist() == expected_labels
    return build_profiles(data, seg)


def labelled(labels, outliers=()) -> Segmentation:
    """A segmentation with the given labels (1-based), for profile tests."""
    labels = np.asarray(labels)
    k = int(labels.max())
    return Segmentation(
        labels=labels,
        k=k,
        fixed=True,
        votes={},
        reason="",
        scores=(),
        centroids=np.zeros((k, 1)),
        silhouette=0.5,
        stability=None,
        stability_runs=0,
        sample_size=len(labels),
        n_init=1,
        seed=0,
        warnings=(),
        outlier_rows=tuple(outliers),
    )


def customers(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(
        {
            "Customer ID": [f"{i:04d}" for i in range(n)],
            **{k: list(map(str, v)) for k, v in columns.items()},
        },
        dtype="string",
    )


def test_exact_statistics_per_segment(tiny_table):
    table = tiny_table.assign(
        Gender=["F", "F", "M", "M", "M", "F"],
        **{"Discount Applied": ["yes", "no", "yes", "no", "no", "no"]},
    )
    result = profiles_for(table, [2, 2, 2, 1, 1, 1])
    assert result.customers == 6 and result.revenue == 3900
    high, low = result.segments
    assert (high.id, high.size, high.share) == (1, 3, 0.5)
    assert high.revenue == 3300 and high.revenue_share == pytest.approx(3300 / 3900)
    assert high.stats["spend"].mean == 1100 and high.stats["spend"].median == 1100
    spend_std = np.std([100, 200, 300, 1000, 1100, 1200])
    assert high.stats["spend"].z == pytest.approx((1100 - 650) / spend_std)
    assert high.stats["spend"].vs_median == pytest.approx(1100 / 650)
    assert high.stats["spend"].vs_mean == pytest.approx(1100 / 650)
    # spend: the median customer against the base median 650, ratio 1.25
    assert high.stats["spend"].thresholds == {"high": 812.5, "low": 520.0}
    assert high.stats["spend"].level == "high" and low.stats["spend"].level == "low"
    # days since the last purchase: medians 5 and 50 days against 30 / 90 / 365
    assert high.stats["recency"].level == "recent" and low.stats["recency"].level == "typical"
    assert low.stats["discount"].mean == pytest.approx(2 / 3)
    assert low.stats["discount"].vs_median is None  # a ratio of yes-shares would mislead
    assert low.mix["gender"] == pytest.approx({"F": 2 / 3, "M": 1 / 3})
    assert high.mix["gender"] == pytest.approx({"M": 2 / 3, "F": 1 / 3})
    assert result.base["spend"] == {"mean": 650, "median": 650, "std": pytest.approx(spend_std)}
    assert result.base_mix["gender"] == {"F": 0.5, "M": 0.5}
    assert sum(s.size for s in result.segments) == result.customers


def test_money_and_counts_compare_the_median_customer_not_the_mean():
    # Segment 1's mean is pulled up by one customer; its median customer spends as the base.
    spend = [100, 100, 100, 5000, 100, 100, 100, 100]
    result = build_profiles(clean(customers(Spend=spend)), labelled([1, 1, 1, 1, 2, 2, 2, 2]))
    first = result.segments[0].stats["spend"]
    assert (first.median, first.mean) == (100, 1325)
    assert first.level == "typical" and first.vs_median == 1.0
    assert first.vs_mean == pytest.approx(1325 / 712.5)


@pytest.mark.parametrize(
    ("orders", "level"),
    [
        ([1, 1, 1, 2], "low"),  # the median customer bought once: not a repeat customer
        ([2, 2, 1, 2], "high"),  # median 2 = repeat, and 2x the base median of 1
        ([1, 2, 1, 2], "typical"),  # median 1.5
    ],
)
def test_frequency_of_orders_is_high_only_for_repeat_customers(orders, level):
    frame = customers(Spend=[10] * 12, Orders=orders + [1] * 8)
    result = build_profiles(clean(frame), labelled([1] * 4 + [2] * 8))
    assert result.frequency_counts == "orders"
    assert result.segments[0].stats["frequency"].level == level


def test_a_count_of_items_has_no_repeat_floor():
    frame = customers(Spend=[10] * 8, **{"Items Purchased": [8, 8, 8, 8, 3, 3, 4, 4]})
    result = build_profiles(clean(frame), labelled([1] * 4 + [2] * 4))
    assert result.frequency_counts == "items"
    assert result.segments[0].stats["frequency"].level == "high"  # 8 >= 1.25 x 6


@pytest.mark.parametrize(
    ("days", "level"),
    [(29, "recent"), (30, "recent"), (60, "typical"), (90, "lapsed"), (400, "lost")],
)
def test_days_since_the_last_purchase_are_absolute(days, level):
    # Everyone else bought long ago or just now: the level does not depend on them.
    for others in (1, 2000):
        frame = customers(Spend=[10] * 6, Recency=[days] * 3 + [others] * 3)
        frame = frame.rename(columns={"Recency": "Days Since Last Purchase"})
        result = build_profiles(clean(frame), labelled([1, 1, 1, 2, 2, 2]))
        assert result.segments[0].stats["recency"].level == level


def test_a_base_where_everyone_bought_this_month_has_no_lapsed_segment():
    rng = np.random.default_rng(3)
    days = rng.integers(0, 30, size=400)
    frame = customers(Spend=rng.integers(10, 500, size=400), **{"Days Since Last Purchase": days})
    labels = np.where(days > 20, 1, 2)
    result = build_profiles(clean(frame), labelled(labels))
    assert {s.stats["recency"].level for s in result.segments} == {"recent"}


def test_tenure_levels_are_days_new_up_to_90_and_long_standing_from_365():
    frame = customers(Spend=[10] * 6, **{"Days Since First Purchase": [60, 70, 80, 450, 460, 470]})
    result = build_profiles(clean(frame), labelled([1, 1, 1, 2, 2, 2]))
    assert [s.stats["tenure"].level for s in result.segments] == ["low", "high"]
    # A single cohort: everyone joined about 15 months ago; nobody is new.
    cohort = customers(Spend=[10] * 6, **{"Days Since First Purchase": [440, 450, 455] * 2})
    result = build_profiles(clean(cohort), labelled([1, 1, 1, 2, 2, 2]))
    assert {s.stats["tenure"].level for s in result.segments} == {"high"}


def test_the_rhythm_is_the_median_gap_between_a_repeat_customers_orders():
    # Orders every 50 days: first order 250 days ago, last 50 days ago, 5 orders.
    frame = pd.DataFrame(
        {
            "tenure": [250.0] * 30 + [100.0] * 10,
            "recency": [50.0] * 30 + [100.0] * 10,
            "frequency": [5.0] * 30 + [1.0] * 10,
        }
    )
    assert rhythm(frame, "orders") == 50.0
    assert rhythm(frame, "items") is None
    assert rhythm(frame.iloc[:15], "orders") is None  # too few repeat customers to tell
    days, sources = day_thresholds(LevelSettings(), 50.0)
    assert days["recency"] == {"recent": 50.0, "lapsed": 100.0, "lost": 365.0}
    assert sources == {"recent": "rhythm", "lapsed": "rhythm", "lost": "default"}
    days, sources = day_thresholds(LevelSettings(lapsed_days=120), None)
    assert days["recency"] == {"recent": 30.0, "lapsed": 120.0, "lost": 365.0}
    assert sources == {"recent": "default", "lapsed": "setting", "lost": "default"}


def test_shares_and_ratings_need_a_difference_in_points():
    frame = customers(
        Spend=[10] * 8,
        **{
            "Discount Applied": ["yes"] * 4 + ["no"] * 4,
            "Average Rating": [4.2, 4.2, 4.3, 4.3, 4.0, 4.0, 4.0, 4.0],
        },
    )
    result = build_profiles(clean(frame), labelled([1] * 4 + [2] * 4))
    first = result.segments[0].stats
    assert first["discount"].statistic == "share"
    assert first["discount"].thresholds == pytest.approx({"high": 0.625, "low": 0.4})
    assert first["discount"].level == "high"
    # ratings: base median 4.1; a tenth of the 1-5 scale is 0.4 points
    assert first["rating"].thresholds == pytest.approx({"high": 4.5, "low": 3.7})
    assert first["rating"].level == "typical"


def test_a_segment_under_the_minimum_size_keeps_only_its_size():
    frame = customers(Spend=[10, 20, 30, 40, 50, 9000])
    result = build_profiles(clean(frame), labelled([1, 1, 1, 1, 1, 2]), min_size=2)
    small = result.segments[1]
    assert small.suppressed and small.size == 1
    assert (small.stats, small.mix, small.revenue, small.revenue_share) == ({}, {}, None, None)
    assert [s.id for s in result.shown] == [1]
    assert "9000" not in json.dumps(result.to_dict()["segments"])


def test_outliers_are_described_by_the_driver_they_stand_out_on():
    spend = [10, 20, 30, 40, 50, 60, 6000, 7345]
    frame = customers(Spend=spend, Orders=[1, 2, 1, 2, 1, 3, 2, 2])
    result = build_profiles(clean(frame), labelled([1, 1, 1, 1, 2, 2, 2, 2], outliers=[6, 7]))
    outliers = result.outliers
    assert (outliers.customers, outliers.share, outliers.role) == (2, 0.25, "spend")
    # Each of the two spends at least 130x the median customer (6000 / 45 = 133.3): a
    # round bound, not the exact figure of a group this small.
    assert outliers.times == 130
    assert result.to_dict()["outliers"] == {
        "customers": 2,
        "share": 0.25,
        "role": "spend",
        "times": 130,
    }


def test_profiles_serialise_to_plain_json(tiny_table):
    as_dict = profiles_for(tiny_table, [2, 2, 2, 1, 1, 1]).to_dict()
    read_back = json.loads(json.dumps(as_dict, allow_nan=False))
    assert read_back["segments"][0]["stats"]["spend"]["mean"] == 1100
    assert read_back["segments"][0]["stats"]["spend"]["thresholds"] == {"high": 812.5, "low": 520}
    assert [s["size"] for s in read_back["segments"]] == [3, 3]


def _highlight_base():
    """Four segments of 100 customers; segment 1 is large and cheap, 2 small and rich,
    3 lapsed repeat customers, 4 long gone."""
    spend = [50] * 400 + [900] * 100 + [300] * 100 + [200] * 100
    orders = [1] * 400 + [6] * 100 + [5] * 100 + [1] * 100
    days = [10] * 400 + [5] * 100 + [120] * 100 + [700] * 100
    frame = customers(Spend=spend, Orders=orders, **{"Days Since Last Purchase": days})
    return build_profiles(clean(frame), labelled([1] * 400 + [2] * 100 + [3] * 100 + [4] * 100))


def test_highlights_weigh_value_per_customer_and_tell_risk_from_loss():
    profiles = _highlight_base()
    marks = highlights(profiles)
    assert marks.largest == 1
    # Segment 1 holds 20,000 of 140,000 in revenue; segment 2, 90,000 from 100 customers.
    assert marks.most_valuable == 2
    assert (marks.at_risk, marks.risk) == (3, "lapsed_repeat")
    assert marks.lost == (4,)


def test_highlights_skip_suppressed_segments():
    profiles = _highlight_base()
    hidden = Profiles(
        customers=profiles.customers,
        revenue=profiles.revenue,
        segments=tuple(
            s if s.id != 2 else type(s)(2, s.size, s.share, None, None, {}, {}, suppressed=True)
            for s in profiles.segments
        ),
        base=profiles.base,
        base_mix=profiles.base_mix,
    )
    assert highlights(hidden).most_valuable != 2
    empty = Profiles(customers=0, revenue=1.0, segments=(), base={}, base_mix={})
    assert highlights(empty).largest is None


def test_a_level_against_the_base_direction_is_not_a_distinctive_trait():
    from reportgen.profile import distinctive

    # Everyone bought within 12 days: both segments are 'recent' in days. Segment 2 is
    # less recent than the base, so 'recently active' does not set it apart.
    days = [1, 2, 2, 3, 3, 3, 10, 11, 12, 12]
    frame = customers(Spend=[50] * 10, **{"Days Since Last Purchase": days})
    result = build_profiles(clean(frame), labelled([1] * 6 + [2] * 4))
    first, second = result.segments
    assert first.stats["recency"].level == second.stats["recency"].level == "recent"
    assert first.stats["recency"].strength > 0 and "recency" in distinctive(first)
    assert second.stats["recency"].strength == 0 and "recency" not in distinctive(second)


def test_no_segment_is_most_valuable_when_none_spends_more_than_the_median_customer():
    # Two segments whose median customers spend the same: no pick, whatever the means.
    frame = customers(Spend=[10, 10, 10, 5000, 10, 10, 10, 10])
    result = build_profiles(clean(frame), labelled([1, 1, 1, 1, 2, 2, 2, 2]))
    assert highlights(result).most_valuable is None
    nobody = build_profiles(clean(customers(Spend=[0] * 8)), labelled([1] * 4 + [2] * 4))
    assert nobody.revenue == 0 and highlights(nobody).most_valuable is None


def test_rare_category_values_are_grouped_as_other_and_never_named():
    """3 values held by at least min_size customers stay; 50 held by one each are one entry."""
    tiers = (
        ["Gold"] * 12 + ["Silver"] * 11 + ["Bronze"] * 10 + [f"Rare-Ærø-{i:02d}" for i in range(50)]
    )
    frame = customers(Spend=list(range(len(tiers))), Membership=tiers)
    result = build_profiles(clean(frame), labelled([1] * 40 + [2] * 43), min_size=10)
    assert list(result.base_mix["tier"].items()) == [  # a known ladder: lowest first
        ("Bronze", 10 / 83),
        ("Silver", 11 / 83),
        ("Gold", 12 / 83),
        ("Other (50 values)", 50 / 83),
    ]
    first, second = result.segments
    # Segment 1: rows 0-39 (12 Gold, 11 Silver, 10 Bronze, 7 rare); segment 2: 43 rare.
    assert first.mix["tier"] == pytest.approx(
        {"Gold": 12 / 40, "Silver": 11 / 40, "Bronze": 10 / 40, "Other (50 values)": 7 / 40}
    )
    assert second.mix["tier"] == {"Other (50 values)": 1.0}
    assert "Rare-" not in json.dumps(result.to_dict(), ensure_ascii=False)


def test_a_category_names_at_most_ten_values_most_common_first():
    # 13 values, all common enough to name: held by 13 to 24 customers; H and Z tie at 20.
    counts = {f"City {chr(65 + i)}": 13 + i for i in range(12)} | {"City Z": 20}
    cities = [city for city, count in counts.items() for _ in range(count)]
    frame = customers(Spend=[1] * len(cities), City=cities)
    result = build_profiles(clean(frame), labelled([1] * len(cities)), min_size=10)
    named = ["City L", "City K", "City J", "City I", "City H", "City Z", "City G", "City F"]
    assert list(result.base_mix["city"]) == [*named, "City E", "City D", "Other (3 values)"]
    assert result.base_mix["city"]["Other (3 values)"] == (13 + 14 + 15) / len(cities)


def test_thousands_of_values_make_one_line_not_thousands():
    cities = [f"Town {i:05d}" for i in range(12_000)]
    frame = customers(Spend=[1] * 12_000, City=cities)
    result = build_profiles(clean(frame), labelled([1] * 6_000 + [2] * 6_000), min_size=1)
    # Every value is held once: the ten named are the first in text order.
    assert list(result.base_mix["city"]) == [*cities[:10], "Other (11990 values)"]
    assert list(result.segments[1].mix["city"]) == ["Other (11990 values)"]
    assert len(json.dumps(result.to_dict())) < 5_000


def test_a_value_that_reads_like_the_other_bucket_is_grouped_too():
    tiers = ["Gold"] * 20 + ["Other (1 value)"] * 20 + ["Tin"]
    frame = customers(Spend=[1] * 41, Membership=tiers)
    result = build_profiles(clean(frame), labelled([1] * 41), min_size=10)
    assert result.base_mix["tier"] == {"Gold": 20 / 41, "Other (2 values)": 21 / 41}


def test_ordered_labels_keep_every_level_of_their_configured_scale():
    """Satisfaction levels are the config's words, not the data's: none is grouped."""
    levels = ["Satisfied"] * 15 + ["Neutral"] * 14 + ["Unsatisfied"]
    frame = customers(Spend=[1] * 30, **{"Satisfaction Level": levels})
    result = build_profiles(clean(frame), labelled([1] * 30), min_size=10)
    assert list(result.base_mix["satisfaction"]) == ["Unsatisfied", "Neutral", "Satisfied"]
