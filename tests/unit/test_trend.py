"""The trend across the archive: which periods it spans, how segments are followed, and
the biggest sustained change, on hand-made periods and on generated share paths."""

from __future__ import annotations

import itertools
import random

import pytest
import yaml

from reportgen import trend
from reportgen.charts import trend_chart
from reportgen.formatting import Formatter
from reportgen.resources import templates_dir
from reportgen.trend import PeriodPoint, SegmentPoint, build
from reportgen.wording import ENGLISH


def point(period: str, shares: dict[int, float], revenue: dict[int, float] | None = None):
    revenue = revenue or {}
    return PeriodPoint(
        period=period,
        customers=1000,
        revenue=5000.0,
        k=len(shares),
        segments=tuple(
            SegmentPoint(i, f"Segment {i} in {period}", share, revenue.get(i, share))
            for i, share in shares.items()
        ),
    )


def test_fewer_than_three_snapshots_make_no_trend():
    assert build([point("2026-09", {1: 0.5})], point("2026-10", {1: 0.5})) is None
    assert build([], point("2026-10", {1: 0.5})) is None


def test_the_window_is_twelve_months_ending_at_the_period_and_later_ones_are_ignored():
    earlier = [point(f"{y}-{m:02d}", {1: 0.5}) for y in (2025, 2026) for m in range(1, 13)]
    found = build(earlier, point("2026-06", {1: 0.5}))
    assert found is not None
    assert (found.points[0].period, found.points[-1].period) == ("2025-07", "2026-06")
    assert len(found.points) == 12 and found.months == 12 and found.missing == ()


def test_a_gap_is_named_and_segments_that_came_and_went_are_marked():
    found = build(
        [point("2026-07", {1: 0.6, 2: 0.4}), point("2026-09", {1: 0.5, 2: 0.3, 3: 0.2})],
        point("2026-10", {1: 0.7, 3: 0.3}),
    )
    assert found is not None
    assert found.months == 4 and found.missing == ("2026-08",)
    by_id = {s.id: s for s in found.series}
    assert by_id[1].shares == (0.6, 0.5, 0.7) and (by_id[1].appeared, by_id[1].disappeared) == (
        None,
        None,
    )
    assert by_id[2].shares == (0.4, 0.3, None) and by_id[2].disappeared == "2026-09"
    assert by_id[3].shares == (None, 0.2, 0.3) and by_id[3].appeared == "2026-09"
    assert by_id[3].name == "Segment 3 in 2026-10"  # the latest name
    assert by_id[2].name == "Segment 2 in 2026-09"


def test_the_biggest_sustained_change_needs_two_steps_the_same_way():
    # Segment 1 jumps by 30 points once (not sustained); segment 2 falls 3 times by 4.
    found = build(
        [
            point("2026-06", {1: 0.10, 2: 0.50}),
            point("2026-07", {1: 0.40, 2: 0.46}),
            point("2026-08", {1: 0.40, 2: 0.42}),
        ],
        point("2026-09", {1: 0.40, 2: 0.38}),
    )
    assert found is not None and found.biggest is not None
    big = found.biggest
    assert (big.id, big.measure, big.start, big.end, big.steps) == (
        2,
        "customers",
        "2026-06",
        "2026-09",
        3,
    )
    assert big.before == 0.50 and big.after == 0.38 and not big.rose


def test_revenue_shares_count_and_small_changes_do_not():
    found = build(
        [point("2026-06", {1: 0.5}, {1: 0.2}), point("2026-07", {1: 0.505}, {1: 0.3})],
        point("2026-08", {1: 0.509}, {1: 0.45}),
    )
    assert found is not None and found.biggest is not None
    assert (found.biggest.measure, found.biggest.before, found.biggest.after) == (
        "revenue",
        0.2,
        0.45,
    )
    flat = build(
        [point("2026-06", {1: 0.5}), point("2026-07", {1: 0.504})], point("2026-08", {1: 0.509})
    )
    assert flat is not None and flat.biggest is None  # 0.9 points: below MIN_CHANGE


def _brute_force(values: list[float | None]) -> float:
    """The largest |change| over any stretch of >= MIN_STEPS steps all the same way."""
    best = 0.0
    for i in range(len(values)):
        for j in range(i + trend.MIN_STEPS, len(values)):
            stretch = values[i : j + 1]
            if any(v is None for v in stretch):
                continue
            steps = [b - a for a, b in itertools.pairwise(stretch)]  # type: ignore[operator]
            if all(s > 0 for s in steps) or all(s < 0 for s in steps):
                best = max(best, abs(stretch[-1] - stretch[0]))  # type: ignore[operator]
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_biggest_change_equals_a_brute_force_search_on_generated_paths(seed):
    rng = random.Random(seed)
    months = rng.randint(3, 12)
    ids = range(1, rng.randint(2, 5))
    paths = {
        i: [
            None if rng.random() < 0.15 else round(rng.choice([0.1, 0.3]) + rng.random() / 5, 2)
            for _ in range(months)
        ]
        for i in ids
    }
    points = [
        PeriodPoint(
            period=f"2026-{n + 1:02d}",
            customers=100,
            revenue=None,
            k=3,
            segments=tuple(
                SegmentPoint(i, f"S{i}", path[n], None)
                for i, path in paths.items()
                if path[n] is not None
            ),
        )
        for n in range(months)
    ]
    found = build(points[:-1], points[-1])
    assert found is not None
    expected = max(_brute_force(path) for path in paths.values())
    if expected < trend.MIN_CHANGE:
        assert found.biggest is None
    else:
        assert found.biggest is not None
        assert abs(found.biggest.after - found.biggest.before) == pytest.approx(expected)


def test_a_segment_too_small_to_show_for_a_month_neither_came_nor_went():
    middle = PeriodPoint("2026-07", 1000, 5000.0, 2, (SegmentPoint(1, "One", 0.99, 0.99),), (2,))
    found = build([point("2026-06", {1: 0.9, 2: 0.1}), middle], point("2026-08", {1: 0.9, 2: 0.1}))
    assert found is not None
    two = found.series[1]
    assert two.shares == (0.1, None, 0.1) and (two.appeared, two.disappeared) == (None, None)
    gone = build([point("2026-06", {1: 0.9, 2: 0.1}), middle], point("2026-08", {1: 1.0}))
    assert gone is not None and gone.series[1].disappeared == "2026-07"


def test_without_revenue_the_chart_speaks_of_customers_only_and_dates_every_figure(tmp_path):
    found = build(
        [
            PeriodPoint("2026-06", 10, None, 1, (SegmentPoint(1, "A", 1.0, None),)),
            PeriodPoint("2026-07", 10, None, 2, (SegmentPoint(1, "A", 0.5, None),)),
        ],
        PeriodPoint(
            "2026-08",
            10,
            None,
            2,
            (SegmentPoint(1, "A", 0.4, None), SegmentPoint(2, "B", 0.6, None)),
        ),
    )
    assert found is not None and not found.revenue_known
    wording = templates_dir() / "charts.yaml"
    chart = trend_chart(found, wording, Formatter(), ENGLISH)
    assert chart.title == "Share of customers by segment over the last 3 months"
    assert "revenue" not in chart.alt
    assert "2 · B: Aug 2026 60.0%." in chart.alt  # B's one figure, at its own month
    assert "1 · A: Jun 2026 100.0%, Jul 2026 50.0%, Aug 2026 40.0%;" in chart.alt

    # A charts.yaml of one's own, written before the trend, still draws it.
    own = tmp_path / "charts.yaml"
    text = yaml.safe_load(wording.read_text())
    del text["trend"]
    own.write_text(yaml.safe_dump(text))
    assert trend_chart(found, own, Formatter(), ENGLISH).title == chart.title
