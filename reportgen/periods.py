"""Which month a run reports on, named as a scheduler names it.

A monthly job runs on the 1st for the month just ended: `previous` names that month
without the job computing a date, and `current` the month of today. A period in the
past ends before today, so an order log's as-of day defaults to the first day after
it (see `as_of_default`): a job that runs late, or a log that already holds lines of
the new month, reports the same figures as a job on time.

Today's date is read in one place, `today()`, so that what `previous` means is
decided once per command (and can be set by a test).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportgen import names

NAMED = ("previous", "current")
"""Periods named relative to today, besides a month written YYYY-MM."""


def today() -> date:
    """The calendar day the command runs on, in the machine's time zone."""
    return date.today()


def month(day: date) -> str:
    """The period (YYYY-MM) a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def shift(period: str, months: int) -> str:
    """The month `months` after `period` (before it when negative)."""
    year, number = (int(part) for part in period.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def span(first: str, last: str) -> int:
    """Months from `first` to `last`, both counted: 2026-09 to 2026-11 is 3."""
    (y1, m1), (y2, m2) = ((int(p) for p in x.split("-")) for x in (first, last))
    return (y2 - y1) * 12 + m2 - m1 + 1


def first_day_after(period: str) -> date:
    """The day after the period's last: an order log of a past period is counted to it."""
    year, number = (int(part) for part in shift(period, 1).split("-"))
    return date(year, number, 1)


def is_period_text(text: object) -> bool:
    """A month (YYYY-MM) or one of the NAMED periods."""
    return text in NAMED or names.is_period(text)


def problem(text: object) -> str:
    """Why `text` is no period, in words a user can act on."""
    return (
        f"period {text!r} is neither a month in the form YYYY-MM (for example 2026-11) "
        "nor 'previous' (the month before today) or 'current' (this month)"
    )


@dataclass(frozen=True)
class Choice:
    """The period a run reports on, and how it was chosen (recorded in the manifest)."""

    period: str
    """YYYY-MM."""
    asked: str
    """As written: "previous", "current" or a month."""
    by: str
    """Where it was written: "--period", "[report] period" or "default"."""
    today: date

    @property
    def past(self) -> bool:
        """Whether the period ended before today: its figures are counted to its end."""
        return self.period < month(self.today)

    def record(self) -> dict[str, str]:
        """The manifest's `chosen.period`."""
        return {"asked": self.asked, "by": self.by, "today": self.today.isoformat()}


def choose(given: str | None, configured: str | None, on: date) -> Choice:
    """The period of `given` (--period), else of `configured` ([report] period), else
    this month; a name is turned into the month it stands for on the day `on`."""
    asked, by = (
        (given, "--period")
        if given is not None
        else (configured, "[report] period")
        if configured is not None
        else ("current", "default")
    )
    if asked == "previous":
        period = shift(month(on), -1)
    elif asked == "current":
        period = month(on)
    else:
        period = asked
    return Choice(period=period, asked=asked, by=by, today=on)


def as_of(choice: Choice, given: date | None, configured: date | None) -> tuple[date | None, str]:
    """An order log's as-of day and how it was chosen: --as-of (`given`), else [orders]
    as_of, else the first day after a past period, else None: the day after the log's
    last order, as for the current month."""
    if given is not None:
        return given, "--as-of"
    if configured is not None:
        return configured, "[orders] as_of"
    if choice.past:
        return first_day_after(choice.period), f"the first day after {choice.period}"
    return None, "the day after the last order"
