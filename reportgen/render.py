"""The brief as HTML (Jinja2) and PDF (WeasyPrint).

Templates are looked up through a chain: the user's folder (`[report]
templates`) first, then the default set, which is also reachable as
`default/<name>` so a user template can extend the default one and override a
single block. Every value is autoescaped. The HTML is self-contained (CSS and
images inline), and the PDF renderer gets a URL fetcher that serves only
`data:` URLs and files inside the template folders: it never touches the
network, and a missing asset is an error rather than a silent gap.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
import markupsafe
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from reportgen import tagged_pdf
from reportgen.charts import Charts
from reportgen.config import Config
from reportgen.errors import ConfigError
from reportgen.findings import Findings
from reportgen.formatting import Formatter, role_format
from reportgen.fsutil import read_small
from reportgen.personas import LimitedSandbox, Personas
from reportgen.plain import plain
from reportgen.profile import Profiles, highlights
from reportgen.resources import check_user_templates, templates_dir
from reportgen.roles import ROLE_BY_NAME, Kind
from reportgen.wording import DEFAULT_TITLE, ENGLISH, LEVELS, Wording
from reportgen.wording import load as load_wording

REPORT_TEMPLATE = "report.html.j2"
_FIGURE = re.compile(r"-?\d+(\.\d+)?")
"""A parameter of a data-quality fix that is a figure ("4.1"), written in the reader's way."""


@dataclass(frozen=True)
class Report:
    html: str
    pdf: bytes
    warnings: tuple[str, ...]
    """What WeasyPrint complained about while laying out the PDF (empty when all is well)."""
    notes: tuple[str, ...] = ()
    """What the person running reportgen should know, for the terminal, never the brief: a
    locale without a translation, segments no persona of the library describes."""


class _ConfinedFetcher(URLFetcher):
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


def environment(
    config: Config, formatter: Formatter, words: Wording = ENGLISH
) -> jinja2.Environment:
    """The report's and email's Jinja environment: user folder, then defaults; autoescaped;
    `{% trans %}` and `_()` translated into the language of `words`."""
    default = jinja2.FileSystemLoader(templates_dir())
    chain: list[jinja2.BaseLoader] = []
    if config.report.templates is not None:
        check_user_templates(config.report.templates)
        chain.append(jinja2.FileSystemLoader(config.report.templates))
    chain += [default, jinja2.PrefixLoader({"default": default})]
    # Sandboxed as well as fed plain data: a custom template is text a user edits; `*`
    # and `**` are bounded, so `{{ 'x' * 10**8 }}` is an error, not a 100 MB brief.
    env = LimitedSandbox(
        loader=jinja2.ChoiceLoader(chain),
        # Everything is HTML and escaped, except plain-text templates (the email's text part).
        autoescape=jinja2.select_autoescape(
            enabled_extensions=(), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters.update(formatter.filters())
    env.filters["data_uri"] = _svg_uri
    env.filters["label"] = _label
    translate(env, words)
    return env


def translate(env: jinja2.Environment, words: Wording) -> None:
    """Install the wording's translations in a Jinja environment with the i18n extension:
    `_()`, `{% trans %}` (trimmed, as extracted), a `level` filter for profile levels, a
    `phrases` filter for sentences stored as message ids (a segmentation's reason), and
    a `clip` that shows the "Other (N values)" bucket in the reader's language."""
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True
    clip = env.filters["clip"]
    number = env.filters["number"]
    env.filters["clip"] = lambda value, *args: clip(words.data(value), *args)
    env.filters["level"] = lambda level: words.gettext(LEVELS.get(str(level), str(level)))
    env.filters["phrases"] = lambda parts: words.phrases(parts, number)
    env.filters["figures"] = lambda params: {
        key: number(float(value)) if _FIGURE.fullmatch(str(value)) else value
        for key, value in params.items()
    }
    env.filters["wording"] = words.text
    # A label inside a sentence: lowercased in English ("spend"), kept in languages whose
    # nouns keep their capital ("Umsatz").
    env.filters["inline"] = lambda label: str(label).lower() if words.language == "en" else label


def _svg_uri(chart: Mapping[str, Any]) -> str:
    """A chart (as plain data) as an inline image."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart["svg"].encode()).decode()


def _label(heading: str) -> str:
    """A column heading as one line of plain text: what a phone shows beside each figure
    when a table is laid out as cards (the `data-label` attribute), where "<br>" is a
    space and no markup can be."""
    markup = markupsafe.escape(heading)  # text that is not yet markup is escaped first
    return markupsafe.Markup(" ").join(markup.split(markupsafe.Markup("<br>"))).striptags()


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


def _context(
    config: Config, findings: Findings, personas: Personas, charts: Charts, words: Wording
) -> dict[str, Any]:
    profiles = findings.profiles
    minimum = config.report.min_segment_size
    segments = [
        {
            "profile": s,
            "persona": p,
            "color": charts.colors[s.id],
            "chart": charts.per_segment.get(s.id),
            "suppressed": s.suppressed,
        }
        for s, p in zip(profiles.segments, personas.segments, strict=True)
    ]
    marks = highlights(profiles)
    by_id = {s["profile"].id: s for s in segments}
    return {
        "report": config.report,
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
        "migration": findings.migration,
        "identity": findings.identity,
        "changes": findings.changes,
        "current_names": {s["profile"].id: s["persona"].name for s in segments},
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
) -> Report:
    """Fill the report template and lay it out as a PDF."""
    words = words or wording_for(config)
    formatter = Formatter.for_report(config.report, words)
    env = environment(config, formatter, words)
    context = plain(_context(config, findings, personas, charts, words))
    try:
        html = env.get_template(REPORT_TEMPLATE).render(context)
    except Exception as exc:  # whatever a user's template raises: range(10**9), 1/0, ...
        where = getattr(exc, "filename", None) or REPORT_TEMPLATE
        raise ConfigError(f"report template {where}: {type(exc).__name__}: {exc}") from None
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
