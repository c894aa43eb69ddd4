"""Periods by name: what `previous` and `current` stand for on any day, and the as-of day
an order log is counted to for each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reportgen import periods
from reportgen.errors import ConfigError
from tests.helpers import config


def test_on_2026_11_30_previous_is_october_and_its_as_of_is_november_the_first():
    chosen = periods.choose("previous", None, date(2026, 11, 30))
    assert (chosen.period, chosen.past, chosen.by) == ("2026-10", True, "--period")
    assert periods.as_of(chosen, None, None) == (
        date(2026, 11, 1),
        "the first day after 2026-10",
    )


def _days() -> list[date]:
    """Every day of four years, leap day and year ends included."""
    start = date(2023, 1, 1)
    return [start + timedelta(days=n) for n in range(4 * 366)]


def test_previous_is_the_month_before_today_and_ends_the_day_before_its_as_of_day():
    for day in _days():
        chosen = periods.choose("previous", None, day)
        as_of, _ = periods.as_of(chosen, None, None)
        assert as_of == day.replace(day=1), day  # the previous month ends where this begins
        last = as_of - timedelta(days=1)
        assert chosen.period == f"{last.year:04d}-{last.month:02d}", day
        assert chosen.past


def test_current_keeps_the_day_after_the_last_order_and_a_set_day_always_wins():
    for day in _days()[::17]:
        current = periods.choose("current", None, day)
        assert current.period == day.strftime("%Y-%m") and not current.past
        assert periods.as_of(current, None, None) == (None, "the day after the last order")
        given, configured = date(2020, 5, 5), date(2021, 6, 6)
        assert periods.as_of(current, given, configured) == (given, "--as-of")
        past = periods.choose("2001-01", None, day)
        assert periods.as_of(past, None, configured) == (configured, "[orders] as_of")


def test_the_command_line_wins_over_the_config_which_wins_over_the_default():
    on = date(2027, 1, 15)
    assert periods.choose("2026-03", "previous", on).period == "2026-03"
    assert periods.choose(None, "previous", on).record() == {
        "asked": "previous",
        "by": "[report] period",
        "today": "2027-01-15",
    }
    assert periods.choose(None, "previous", on).period == "2026-12"
    assert periods.choose(None, None, on).by == "default"
    assert periods.choose(None, None, on).period == "2027-01"


def test_months_are_counted_and_shifted_across_years():
    assert periods.shift("2026-01", -1) == "2025-12"
    assert periods.shift("2026-12", 1) == "2027-01"
    assert periods.shift("2026-11", -11) == "2025-12"
    assert periods.span("2025-12", "2026-11") == 12
    assert periods.span("2026-11", "2026-11") == 1


@pytest.mark.parametrize("text", ["last", "Previous", "2026-13", "2026-1", "previous\n", ""])
def test_a_period_that_is_neither_a_month_nor_a_name_is_refused_in_the_config(text):
    with pytest.raises(ConfigError, match="neither a month"):
        config(report={"period": text})
    assert config(report={"period": "previous"}).report.period == "previous"
