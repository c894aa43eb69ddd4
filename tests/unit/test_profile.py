import numpy as np
import pytest

from reportgen.config import FeatureSettings, SegmentationSettings
from reportgen.features import build_features
from reportgen.profile import build_profiles, level
from reportgen.segment import segment
from tests.conftest import clean


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
    assert high.stats["spend"].vs_base == pytest.approx(1100 / 650)
    assert high.stats["spend"].level == "high" and low.stats["spend"].level == "low"
    assert high.stats["recency"].level == "recent" and low.stats["recency"].level == "lapsed"
    assert low.stats["discount"].mean == pytest.approx(2 / 3)
    assert low.stats["discount"].vs_base is None  # a ratio of yes-shares would mislead
    assert low.mix["gender"] == pytest.approx({"F": 2 / 3, "M": 1 / 3})
    assert high.mix["gender"] == pytest.approx({"M": 2 / 3, "F": 1 / 3})
    assert result.base["spend"] == {"mean": 650, "median": 650, "std": pytest.approx(spend_std)}
    assert result.base_mix["gender"] == {"F": 0.5, "M": 0.5}
    assert sum(s.size for s in result.segments) == result.customers


@pytest.mark.parametrize(
    ("role", "z", "expected"),
    [
        ("spend", 0.5, "high"),
        ("spend", 0.49, "typical"),
        ("spend", -0.5, "low"),
        ("recency", -0.6, "recent"),
        ("recency", 0.6, "lapsed"),
        ("recency", 0.1, "typical"),
    ],
)
def test_levels(role, z, expected):
    assert level(role, z) == expected


def test_profiles_serialise_to_plain_json(tiny_table):
    import json

    as_dict = profiles_for(tiny_table, [2, 2, 2, 1, 1, 1]).to_dict()
    again = json.loads(json.dumps(as_dict, allow_nan=False))
    assert again["segments"][0]["stats"]["spend"]["mean"] == 1100
    assert [s["size"] for s in again["segments"]] == [3, 3]


def _segment(segment_id, revenue_share, **levels):
    from reportgen.profile import RoleStats, SegmentProfile

    stats = {
        role: RoleStats(1.0, 1.0, 1.0, 0.0, levels.get(role, "typical"))
        for role in ("spend", "recency", "satisfaction")
    }
    return SegmentProfile(segment_id, 100, 0.25, 1.0, revenue_share, stats, {})


def test_highlights_name_lapsed_customers_before_unhappy_ones_and_skip_small_segments():
    from reportgen.profile import Profiles, highlights

    segments = (
        _segment(1, 0.40),
        _segment(2, 0.30, satisfaction="low"),
        _segment(3, 0.20, recency="lapsed"),
        _segment(4, 0.10, recency="lapsed"),
    )
    profiles = Profiles(400, 1.0, segments, {}, {})
    marks = highlights(profiles, min_size=10)
    assert (marks.largest, marks.most_valuable, marks.at_risk) == (1, 1, 3)
    unhappy_only = Profiles(400, 1.0, segments[:2], {}, {})
    assert highlights(unhappy_only, min_size=10).at_risk == 2
    assert highlights(profiles, min_size=101) == highlights(Profiles(0, 1.0, (), {}, {}), 1)
