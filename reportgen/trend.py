"""The trend across the archive: how the segments moved over the last twelve months.

Each brief compares with the previous period; the archive holds every month, and a
stakeholder asks what happened over the year. The earlier periods are read from their
archived profiles.json (never the old input), and this period is added from its own
profiles, so the trend of a re-rendered past period ends at that period.

Segments are followed by their id, which history keeps across periods for a segment
matched to its predecessor (and the colour with it). A segment shown in no period of
the window's start has appeared; one missing from this period has disappeared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportgen import periods
from reportgen.personas import Personas
from reportgen.profile import Profiles

if TYPE_CHECKING:
    from reportgen.findings import Findings

WINDOW = 12
"""Months the trend covers, this period included."""
MIN_PERIODS = 3
"""Snapshots (this one included) before a trend is shown: with two, the month-over-month
section says all there is, and no change can be sustained."""
MIN_STEPS = 2
"""Consecutive snapshots a share must move in the same direction to be a sustained change."""
MIN_CHANGE = 0.01
"""The least change of a share (1 percentage point) worth naming as the biggest."""


@dataclass(frozen=True)
class SegmentPoint:
    """One segment in one period, as the brief of that period showed it."""

    id: int
    name: str
    share: float
    revenue_share: float | None


@dataclass(frozen=True)
class PeriodPoint:
    """One period of the trend: its top-line figures and its segments large enough to
    describe (a suppressed segment is in the customer count, never in a series)."""

    period: str
    customers: int
    revenue: float | None
    k: int
    segments: tuple[SegmentPoint, ...]
    suppressed: tuple[int, ...] = ()
    """Segments of the period too small to describe: there, but not drawn."""


def archived_point(period: str, profiles: Mapping[str, Any]) -> PeriodPoint:
    """A period as its archived profiles.json records it (KeyError/TypeError/ValueError
    when the record is not one reportgen writes). The period is the folder's: a snapshot
    copied under another month is shown where it lies, as the archive lists it."""
    return PeriodPoint(
        period=period,
        customers=int(profiles["customers"]),
        revenue=None if profiles.get("revenue") is None else float(profiles["revenue"]),
        k=int(profiles["k"]),
        segments=tuple(
            SegmentPoint(
                id=int(s["id"]),
                name=str(s.get("persona") or f"Segment {s['id']}"),
                share=float(s["share"]),
                revenue_share=None if s.get("revenue_share") is None else float(s["revenue_share"]),
            )
            for s in profiles["segments"]
            if not s.get("suppressed")
        ),
        suppressed=tuple(int(s["id"]) for s in profiles["segments"] if s.get("suppressed")),
    )


def current_point(period: str, k: int, profiles: Profiles, personas: Personas) -> PeriodPoint:
    """This period, from its profiles and the names its personas gave the segments."""
    return PeriodPoint(
        period=period,
        customers=profiles.customers,
        revenue=profiles.revenue,
        k=k,
        segments=tuple(
            SegmentPoint(s.id, p.name, s.share, s.revenue_share)
            for s, p in zip(profiles.segments, personas.segments, strict=True)
            if not s.suppressed
        ),
        suppressed=tuple(profiles.suppressed_ids),
    )


@dataclass(frozen=True)
class Series:
    """One segment across the trend's periods: None where it was not shown."""

    id: int
    name: str
    """Its name in the latest period it was shown."""
    shares: tuple[float | None, ...]
    revenue_shares: tuple[float | None, ...]
    appeared: str | None
    """The period it was first shown in, when that is after the trend's first period."""
    disappeared: str | None
    """The last period it was shown in, when that is before this period."""


@dataclass(frozen=True)
class Change:
    """The biggest sustained change: a share that moved the same way snapshot after
    snapshot, and by how much in all."""

    id: int
    name: str
    measure: str
    """"customers" or "revenue": which share moved."""
    start: str
    end: str
    before: float
    after: float
    steps: int
    """Snapshots in a row it moved, each the same way."""

    @property
    def rose(self) -> bool:
        return self.after > self.before


@dataclass(frozen=True)
class Trend:
    points: tuple[PeriodPoint, ...]
    """Oldest first; the last is the period of the brief."""
    series: tuple[Series, ...]
    """In id order."""
    biggest: Change | None
    revenue_known: bool

    @property
    def months(self) -> int:
        return periods.span(self.points[0].period, self.points[-1].period)

    @property
    def missing(self) -> tuple[str, ...]:
        """Months of the trend without a snapshot (gaps of the archive)."""
        held = {p.period for p in self.points}
        first = self.points[0].period
        return tuple(
            month for n in range(self.months) if (month := periods.shift(first, n)) not in held
        )


def build(earlier: Sequence[PeriodPoint], current: PeriodPoint) -> Trend | None:
    """The trend of `current` after `earlier` (each period once, any order), over the
    WINDOW months ending at the current period; None with fewer than MIN_PERIODS."""
    start = periods.shift(current.period, 1 - WINDOW)
    points = (
        *sorted((p for p in earlier if start <= p.period < current.period), key=lambda p: p.period),
        current,
    )
    if len(points) < MIN_PERIODS:
        return None
    series = tuple(_series(points, i) for i in sorted({s.id for p in points for s in p.segments}))
    revenue_known = all(p.revenue is not None for p in points)
    return Trend(points, series, _biggest(points, series, revenue_known), revenue_known)


def of(findings: Findings, personas: Personas) -> Trend | None:
    """The trend a brief shows: its archived periods (findings.earlier) and itself."""
    return build(
        findings.earlier,
        current_point(findings.period, findings.segmentation.k, findings.profiles, personas),
    )


def _series(points: Sequence[PeriodPoint], segment_id: int) -> Series:
    """One segment across the periods. It appeared or disappeared only by its presence:
    a period where it was too small to describe counts as present (it is not drawn)."""
    found = [next((s for s in p.segments if s.id == segment_id), None) for p in points]
    shown = [n for n, s in enumerate(found) if s is not None]
    present = [n for n, p in enumerate(points) if found[n] or segment_id in p.suppressed]
    latest = found[shown[-1]]
    assert latest is not None
    return Series(
        id=segment_id,
        name=latest.name,
        shares=tuple(s.share if s else None for s in found),
        revenue_shares=tuple(s.revenue_share if s else None for s in found),
        appeared=points[present[0]].period if present[0] > 0 else None,
        disappeared=points[present[-1]].period if present[-1] < len(points) - 1 else None,
    )


def _biggest(
    points: Sequence[PeriodPoint], series: Sequence[Series], revenue_known: bool
) -> Change | None:
    """The largest change of a share over at least MIN_STEPS snapshots in a row, each
    step the same way (a step of zero, or a period without the segment, ends a run);
    None when no such change reaches MIN_CHANGE. Ties go to the lower id, then to the
    share of customers."""
    best: Change | None = None
    for line in series:
        measures = [("customers", line.shares)]
        if revenue_known:
            measures.append(("revenue", line.revenue_shares))
        for measure, values in measures:
            for start, end in _runs(values):
                before, after = values[start], values[end]
                assert before is not None and after is not None
                size = abs(after - before)
                if size >= MIN_CHANGE and (best is None or size > abs(best.after - best.before)):
                    best = Change(
                        line.id,
                        line.name,
                        measure,
                        points[start].period,
                        points[end].period,
                        before,
                        after,
                        end - start,
                    )
    return best


def _runs(values: Sequence[float | None]) -> list[tuple[int, int]]:
    """The longest runs (start, end) of at least MIN_STEPS steps in one direction."""
    found = []
    start, direction = 0, 0
    for n in range(1, len(values) + 1):
        previous = values[n - 1]
        value = values[n] if n < len(values) else None
        step = 0 if value is None or previous is None else (value > previous) - (value < previous)
        if step != 0 and step == direction:
            continue
        if n - 1 - start >= MIN_STEPS and direction != 0:
            found.append((start, n - 1))
        start, direction = n - 1, step
    return found
