"""The brief as HTML (Jinja2) and PDF (WeasyPrint).

The HTML comes from the report template (templating.environment: the user's folder,
then the default set; every value autoescaped) and is self-contained (CSS and images
inline). The PDF renderer gets a URL fetcher that serves only `data:` URLs and files
inside the template folders (the bundled font among them): it never touches the
network, and a missing asset is an error rather than a silent gap.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from reportgen import tagged_pdf
from reportgen.charts import BRIEF_FONT, SYSTEM_FONT, Chart, Charts, color
from reportgen.config import Config
from reportgen.errors import ConfigError
from reportgen.findings import Findings
from reportgen.formatting import Formatter, role_format
from reportgen.fsutil import read_small
from reportgen.history import MATCH_DISTANCE
from reportgen.personas import Persona, Personas
from reportgen.plain import plain
from reportgen.profile import Profiles, SegmentProfile, highlights
from reportgen.resources import templates_dir
from reportgen.roles import ROLE_BY_NAME, Kind
from reportgen.rules import MAX_CONDITIONS, MIN_PRECISION, MIN_RECALL, WEAK
from reportgen.segment import WARNINGS, WEAK_SILHOUETTE
from reportgen.templating import environment, render_user
from reportgen.trend import MIN_CHANGE, MIN_STEPS
from reportgen.trend import of as trend_of
from reportgen.wording import DEFAULT_TITLE, Wording
from reportgen.wording import load as load_wording

REPORT_TEMPLATE = "report.html.j2"
LIMITS = {
    "weak_silhouette": WEAK_SILHOUETTE,
    "match_distance": MATCH_DISTANCE,
    "rule_conditions": MAX_CONDITIONS,
    "rule_precision": MIN_PRECISION,
    "rule_recall": MIN_RECALL,
    "rule_weak": WEAK,
    "trend_change": MIN_CHANGE,
    "trend_steps": MIN_STEPS,
}
"""The limits the brief quotes, from where the code applies them."""


@dataclass(frozen=True)
class Report:
    html: str
    pdf: bytes
    warnings: tuple[str, ...]
    """What WeasyPrint complained about while laying out the PDF (empty when all is well)."""
    notes: tuple[str, ...] = ()
    """What the person running reportgen should know, for the terminal, never the brief: a
    locale without a translation, segments no persona of the library describes."""


# WeasyPrint publishes no types, so its URLFetcher is Any to mypy: subclassing it is the
# documented way to confine what a document may fetch.
class _ConfinedFetcher(URLFetcher):  # type: ignore[misc]
    """Serves data: URLs and files inside the allowed folders; refuses everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols={"data", "file"})
        self.allowed = tuple(folder.resolve() for folder in allowed)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """A file URL is decoded exactly as urllib's file handler decodes it (`%2e%2e` is
        `..`), checked, and then fetched by the canonical URL of the checked path: the
        path that is checked is the path that is read, whatever the URL's spelling."""
        if url.lower().startswith("file:"):
            parts = urlsplit(url)
            path = Path(url2pathname(parts.path)).resolve()
            if parts.netloc not in ("", "localhost") or not any(
                path.is_relative_to(folder) for folder in self.allowed
            ):
                raise FatalURLFetchingError(f"refused to read {url}: outside the template folders")
            if not path.is_file():
                raise FatalURLFetchingError(f"asset {path} does not exist")
            return super().fetch(path.as_uri(), headers)
        if not url.startswith("data:"):
            raise FatalURLFetchingError(f"refused to fetch {url}: reports never use the network")
        return super().fetch(url, headers)


def _logo(path: Path | None) -> str | None:
    if path is None:
        return None
    data = read_small(path, "[report] logo:")
    kind = mimetypes.guess_type(path.name)[0]
    if kind not in ("image/png", "image/jpeg", "image/svg+xml", "image/gif"):
        raise ConfigError(f"[report] logo: {path} is not a PNG, JPEG, GIF or SVG image")
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _figures(profiles: Profiles) -> list[dict[str, str]]:
    """Which filter formats each summarised role, and whether it has a ratio to the base."""
    rows = []
    shown = profiles.shown
    for role in shown[0].stats if shown else ():
        kind = ROLE_BY_NAME[role].kind
        if kind in (Kind.BOOLEAN, Kind.NUMERIC) or role not in profiles.base_mix:
            rows.append({"role": role, "format": role_format(role)})
    return rows


def _feature_label(name: str, charts: Charts) -> str:
    """A feature as people read it: "Membership = Gold" for the one-hot column tier=Gold."""
    role, _, level = name.partition("=")
    return f"{charts.role_labels[role]} = {level}" if level else charts.role_labels[role]


def wording_for(config: Config) -> Wording:
    """The wording of `[report] locale`, with the user's template folder's catalogues."""
    return load_wording(getattr(config.report, "locale", "en_US"), config.report.templates)


def title_for(config: Config, words: Wording) -> str:
    """[report] title; the default one in the reader's language."""
    title = config.report.title
    return words.gettext(DEFAULT_TITLE) if title == DEFAULT_TITLE else title


def notes(words: Wording, personas: Personas) -> tuple[str, ...]:
    """The terminal's notes on the wording: a missing translation, and (with the file to
    edit) the segments that no persona of the library describes."""
    found = [f"warning: {words.notice}"] if words.notice else []
    unmatched = [p.segment for p in personas.segments if p.key is None and p.description]
    if unmatched:
        ids = ", ".join(map(str, unmatched))
        found.append(
            f"note: segment{'s' if len(unmatched) > 1 else ''} {ids} matched no persona of the "
            f"library; once understood, add a persona to {personas.library} (or to your own "
            "library: [report] personas) so the brief can name and advise on it"
        )
    return tuple(found)


@dataclass(frozen=True)
class _Segment:
    """What the template shows of one segment (as plain data: a mapping of these fields)."""

    profile: SegmentProfile
    persona: Persona
    color: str
    chart: Chart | None
    suppressed: bool


def _context(
    config: Config, findings: Findings, personas: Personas, charts: Charts, words: Wording
) -> dict[str, Any]:
    profiles = findings.profiles
    minimum = config.report.min_segment_size
    segments = [
        _Segment(
            profile=s,
            persona=p,
            color=charts.colors[s.id],
            chart=charts.per_segment.get(s.id),
            suppressed=s.suppressed,
        )
        for s, p in zip(profiles.segments, personas.segments, strict=True)
    ]
    marks = highlights(profiles)
    across = trend_of(findings, personas)
    # Keyed by int | None: a highlight that no segment earns (None) finds nothing.
    by_id: dict[int | None, _Segment] = {s.profile.id: s for s in segments}
    return {
        "report": config.report,
        "fonts": {"brief": BRIEF_FONT, "system": SYSTEM_FONT},
        "title": title_for(config, words),
        "lang": words.language,
        "period": findings.period,
        "generated": findings.generated,
        "logo": _logo(config.report.logo),
        "profiles": profiles,
        "segments": segments,
        "largest": by_id.get(marks.largest),
        "most_valuable": by_id.get(marks.most_valuable),
        "at_risk": by_id.get(marks.at_risk),
        "risk": marks.risk,
        "lost": [by_id[i] for i in marks.lost],
        "charts": charts,
        "segmentation": findings.segmentation,
        "quality": findings.quality,
        "figures": _figures(profiles),
        "mix_roles": list(profiles.base_mix),
        "labels": charts.role_labels,
        "columns": findings.columns,
        "drivers": [role for role in findings.drivers if role not in findings.dropped],
        "unseen": [_feature_label(name, charts) for name in findings.unseen],
        "dropped": [_feature_label(name, charts) for name in findings.dropped],
        "minimum": minimum,
        "log_roles": [charts.role_labels[role] for role in findings.transformed],
        "levels": dict(profiles.shown[0].stats) if profiles.shown else {},
        "warnings": WARNINGS,
        "limits": LIMITS,
        "rules": {r.segment: r for r in findings.rules.segments} if findings.rules else None,
        "migration": findings.migration,
        "identity": findings.identity,
        "changes": findings.changes,
        "current_names": {s.profile.id: s.persona.name for s in segments},
        "trend": across,
        "trend_colors": {s.id: color(s.id) for s in across.series} if across else {},
    }


@contextmanager
def _collect_warnings() -> Iterator[list[str]]:
    """WeasyPrint reports layout problems through logging; keep them for the caller."""
    seen: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = Handler(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


def render_report(
    config: Config,
    findings: Findings,
    personas: Personas,
    charts: Charts,
    words: Wording | None = None,
    formatter: Formatter | None = None,
) -> Report:
    """Fill the report template and lay it out as a PDF. `formatter`: the one the run's
    personas and charts were written with (pipeline), so that every figure of a brief is
    written by one; made from `[report]` when not given."""
    words = words or wording_for(config)
    formatter = formatter or Formatter.for_report(config.report, words)
    env = environment(config, formatter, words)
    context = plain(_context(config, findings, personas, charts, words))
    html = render_user(
        partial(env.get_template, REPORT_TEMPLATE), context, f"report template {REPORT_TEMPLATE}"
    )
    folders = (templates_dir(),) + ((config.report.templates,) if config.report.templates else ())
    fetcher = _ConfinedFetcher(folders)
    with _collect_warnings() as warnings:
        try:
            pdf = HTML(
                string=html, base_url=str(templates_dir()) + "/", url_fetcher=fetcher
            ).write_pdf(pdf_variant="pdf/ua-1", finisher=tagged_pdf.finish)
        except FatalURLFetchingError as exc:
            raise ConfigError(f"report template: {exc.__cause__ or exc}") from None
    return Report(html=html, pdf=pdf, warnings=tuple(warnings), notes=notes(words, personas))
