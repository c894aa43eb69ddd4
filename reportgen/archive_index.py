"""The archive's index page: every period of a report on one self-contained page.

`<out>/<slug>/index.html` lists each period with its top-line figures, whether its
brief was delivered, and links to its HTML and PDF; above the list, the trend chart of
the last twelve months. It is rebuilt from the snapshots alone (their manifests,
profiles.json and delivery records) after every command that changes them, so it is
never the only copy of anything and can be deleted at any time. This module draws the
page; archive.write_index puts it in place, as archive.py writes everything else.

Like the brief, it is autoescaped and fetches nothing: its style is inline and its
chart is a data: URI, so it opens the same from a file share, a zip or a mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.archive import Entry, entries, read_json, verify
from reportgen.charts import Chart, trend_chart
from reportgen.config import Config
from reportgen.errors import ReportgenError
from reportgen.formatting import Formatter
from reportgen.plain import plain
from reportgen.render import title_for, wording_for
from reportgen.resources import find_template
from reportgen.templating import environment, render_user
from reportgen.trend import PeriodPoint, SegmentPoint, Trend, archived_point, build

if TYPE_CHECKING:
    from reportgen.deliver import Delivery

INDEX_TEMPLATE = "index.html.j2"


@dataclass(frozen=True)
class Sent:
    """What a period's delivery record says: who has the brief, and who does not."""

    recipients: int
    """Addresses a server accepted the brief for, each counted once."""
    last: str | None
    """When it was last handed to a server (ISO time), None if never."""
    refused: int
    """Addresses refused and never accepted since."""
    unknown: int
    """Addresses whose delivery is unknown (the connection dropped)."""


@dataclass(frozen=True)
class Listed:
    """One period of the index."""

    period: str
    created: str | None
    point: PeriodPoint | None
    """None when the snapshot cannot be read."""
    largest: SegmentPoint | None
    problem: str | None
    """Why the snapshot is not to be trusted (it fails verification), else None."""
    sent: Sent | None
    """None when the delivery record cannot be read."""
    files: tuple[str, ...]
    """Which of report.html and report.pdf it holds, to link."""


def _sent(log: list[Delivery]) -> Sent:
    """A delivery record summed up: the last day is that of a message someone received."""
    accepted = {a for d in log if d.status == "sent" for a in d.accepted}
    unknown = {a for d in log if d.status != "sent" for a in d.accepted} - accepted
    refused = {a for d in log for a in d.refused} - accepted - unknown
    last = max((d.at for d in log if d.status == "sent" and d.accepted), default=None)
    return Sent(len(accepted), last, len(refused), len(unknown))


def _listed(entry: Entry) -> Listed:
    """One period as the index lists it, whatever state its snapshot is in."""
    from reportgen import deliver

    checked = verify(entry)
    problem = None if checked.ok else "fails verification"
    point = None
    try:
        point = archived_point(entry.period, read_json(entry.path / "profiles.json"))
    except (ReportgenError, KeyError, TypeError, ValueError):
        problem = problem or "cannot be read"
    try:
        sent: Sent | None = _sent(deliver.read_log(entry.path))
    except ReportgenError:
        sent = None
    largest = max(point.segments, key=lambda s: s.share, default=None) if point else None
    return Listed(
        period=entry.period,
        created=str(entry.manifest.get("created")) if entry.manifest else None,
        point=point,
        largest=largest,
        problem=problem,
        sent=sent,
        files=tuple(
            name for name in ("report.html", "report.pdf") if (entry.path / name).is_file()
        ),
    )


def _trend(listed: list[Listed]) -> Trend | None:
    """The trend of the last twelve months up to the newest period that verifies."""
    good = [item.point for item in listed if item.point is not None and item.problem is None]
    return build(good[:-1], good[-1]) if good else None


def render_index(out: Path, slug: str, config: Config) -> str:
    """The index page of `slug` under `out`, newest period first."""
    words = wording_for(config)
    formatter = Formatter.for_report(config.report, words)
    listed = [_listed(entry) for entry in entries(out, slug)]
    trend = _trend(listed)
    chart: Chart | None = None
    if trend is not None and trend.series:
        wording = find_template("charts.yaml", config.report.templates)
        chart = trend_chart(trend, wording, formatter, words)
    context = {
        "report": config.report,
        "title": title_for(config, words),
        "lang": words.language,
        "slug": slug,
        "periods": listed[::-1],
        "chart": chart,
        "revenue_known": any(i.point and i.point.revenue is not None for i in listed),
        "generated": date.today(),
    }
    env = environment(config, formatter, words)
    return render_user(
        lambda: env.get_template(INDEX_TEMPLATE),
        plain(context),
        f"archive index template {INDEX_TEMPLATE}",
    )
