"""The one place that orders the stages of a run.

Each stage is a pure function of the previous result; this module calls them
in turn, times them, tells a progress reporter what it is doing, and hands the
results to `archive` to be written. It prints nothing itself.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pandas as pd

from reportgen import __version__
from reportgen.archive import (
    Snapshot,
    check_period,
    check_target,
    load_previous,
    report_lock,
    to_json,
    write_snapshot,
)
from reportgen.charts import Charts, build_charts
from reportgen.config import Config
from reportgen.errors import ConfigError
from reportgen.features import Features, apply_scaling, build_features
from reportgen.formatting import Formatter
from reportgen.history import (
    Identity,
    Migration,
    PreviousPeriod,
    SegmentChange,
    compare,
    frozen_identities,
    keep_identities,
    migrate,
)
from reportgen.ingest import Dataset, read_table
from reportgen.personas import Personas, assign_personas, load_library
from reportgen.profile import Profiles, build_profiles
from reportgen.render import Report, ReportInputs, render_report
from reportgen.resources import find_template
from reportgen.segment import ArchivedModel, Segmentation, model_record, score, segment
from reportgen.spreadsheet import csv_bytes
from reportgen.validate import CleanData, validate

_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "jinja2",
    "openpyxl",
    "matplotlib",
    "weasyprint",
    "pyyaml",
)
T = TypeVar("T")


class Reporter(Protocol):
    """Told when each stage starts and ends (the CLI shows progress with it)."""

    def stage(self, name: str) -> AbstractContextManager[None]: ...


class _Silent:
    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class Analysis:
    dataset: Dataset
    clean: CleanData
    features: Features
    segmentation: Segmentation
    identity: Identity | None
    """Which segments kept their id from the previous period; None when there is none."""
    migration: Migration | None
    """Where customers went since the previous period; None when there is none."""
    profiles: Profiles
    changes: Mapping[int, SegmentChange]
    """Kept segment id -> its change since the previous period."""
    timings: dict[str, float]


@dataclass(frozen=True)
class Brief:
    """What people read: personas, charts and the rendered report."""

    personas: Personas
    charts: Charts
    report: Report
    timings: dict[str, float]


@dataclass(frozen=True)
class RunResult:
    analysis: Analysis
    brief: Brief
    snapshot: Snapshot
    repaired: tuple[str, ...] = ()
    """Leftovers of crashed runs that this run cleaned up."""


class _Timer:
    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, work: Callable[[], T]) -> T:
        with self.reporter.stage(name):
            start = time.perf_counter()
            result = work()
            self.timings[name] = round(time.perf_counter() - start, 4)
        return result


def data_path(config: Config, given: Path | None, default: Path) -> Path:
    """--data wins over [data] path, which wins over the bundled sample."""
    return given or config.data.path or default


def check(path: Path, config: Config, reporter: Reporter | None = None) -> CleanData:
    """Read and validate only (the `validate` command)."""
    timer = _Timer(reporter or _Silent())
    dataset = timer("ingest", lambda: read_table(path))
    return timer("validate", lambda: validate(dataset, config))


def analyse(
    path: Path,
    config: Config,
    k: int | None = None,
    reporter: Reporter | None = None,
    previous: PreviousPeriod | None = None,
) -> Analysis:
    """Every stage from reading the file to the segment profiles; nothing is written."""
    timer = _Timer(reporter or _Silent())
    dataset = timer("ingest", lambda: read_table(path))
    clean = timer("validate", lambda: validate(dataset, config))
    model = _frozen_model(config, k, previous)
    features = timer(
        "features",
        lambda: (
            build_features(clean, config.features)
            if model is None
            else apply_scaling(clean, config.features, model.scaling)
        ),
    )
    spend = clean.frame["spend"].to_numpy(dtype="float64") if "spend" in clean.frame else None
    segmentation = timer(
        "segment",
        lambda: (
            segment(features, config.segmentation, k, spend)
            if model is None
            else score(features, model, config.segmentation)
        ),
    )

    def history() -> tuple[Segmentation, Identity | None, Migration | None]:
        if previous is None:
            return segmentation, None, None
        if model is not None:
            kept, identity = segmentation, frozen_identities(previous, segmentation)
        else:
            kept, identity = keep_identities(previous, features, segmentation)
        return kept, identity, migrate(previous, clean.frame["customer_id"], kept.labels, spend)

    segmentation, identity, migration = timer("history", history)
    profiles = timer("profile", lambda: build_profiles(clean, segmentation))
    changes = compare(previous, identity, profiles) if previous and identity else {}
    return Analysis(
        dataset,
        clean,
        features,
        segmentation,
        identity,
        migration,
        profiles,
        changes,
        timer.timings,
    )


def _frozen_model(
    config: Config, k: int | None, previous: PreviousPeriod | None
) -> ArchivedModel | None:
    """The archived model to score with in frozen mode; None when refitting."""
    if config.segmentation.mode != "frozen":
        return None
    if k is not None:
        raise ConfigError(
            '--k cannot be combined with [segmentation] mode = "frozen": the archived model '
            'fixes k; drop --k, or set mode = "refit"'
        )
    if previous is None or previous.model is None:
        raise ConfigError(
            '[segmentation] mode = "frozen" needs an earlier period of this report in the '
            'archive to take the model from; run the first period with mode = "refit"'
        )
    return previous.model


def write_brief(
    analysis: Analysis,
    config: Config,
    period: str,
    generated: date,
    reporter: Reporter | None = None,
) -> Brief:
    """Personas, charts and the HTML and PDF report from an analysis."""
    timer = _Timer(reporter or _Silent())
    report = config.report
    formatter = Formatter(report.currency, report.decimal_mark, report.thousands_separator)
    library_path = report.personas or find_template("personas.yaml", report.templates)
    personas = timer(
        "personas",
        lambda: assign_personas(
            analysis.profiles,
            load_library(library_path, formatter),
            keep=analysis.identity.personas if analysis.identity else {},
        ),
    )
    charts = timer(
        "charts",
        lambda: build_charts(
            analysis.clean,
            analysis.features,
            analysis.segmentation,
            analysis.profiles,
            personas,
            find_template("charts.yaml", report.templates),
            formatter,
            analysis.migration,
        ),
    )
    inputs = ReportInputs(
        period=period,
        generated=generated,
        profiles=analysis.profiles,
        personas=personas,
        charts=charts,
        segmentation=analysis.segmentation,
        quality=analysis.clean.quality,
        columns=analysis.clean.roles.columns,
        drivers=analysis.clean.drivers,
        dropped=analysis.features.dropped_constant,
        unseen=analysis.features.unseen,
        migration=analysis.migration,
        identity=analysis.identity,
        changes=analysis.changes,
    )
    rendered = timer("render", lambda: render_report(config, inputs))
    return Brief(personas, charts, rendered, timer.timings)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "reportgen": __version__}
    for name in _PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _assignments_csv(analysis: Analysis) -> bytes:
    return csv_bytes(
        pd.DataFrame(
            {
                "customer_id": analysis.clean.frame["customer_id"],
                "segment": analysis.segmentation.labels,
            }
        )
    )


def _manifest(
    analysis: Analysis, brief: Brief, config: Config, slug: str, period: str
) -> dict[str, Any]:
    dataset, clean = analysis.dataset, analysis.clean
    return {
        "reportgen_version": __version__,
        "report": slug,
        "period": period,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {
            "path": str(dataset.path.resolve()),
            "sha256": dataset.sha256,
            "format": dataset.format,
            "encoding": dataset.encoding,
            "delimiter": dataset.delimiter,
            "rows_in": clean.quality.rows_read,
            "rows_out": clean.quality.rows_kept,
        },
        "columns": dict(clean.roles.columns),
        "inferred_roles": list(clean.roles.inferred),
        "data_quality": {
            "rows_read": clean.quality.rows_read,
            "rows_kept": clean.quality.rows_kept,
            "unused_columns": list(clean.quality.unused_columns),
            "fixes": [asdict(fix) for fix in clean.quality.fixes],
        },
        "config": config.as_dict(),
        "seed": analysis.segmentation.seed,
        "k": analysis.segmentation.k,
        "versions": _versions(),
        "timings": {**analysis.timings, **brief.timings},
        "persona_library": str(brief.personas.library),
        "render_warnings": list(brief.report.warnings),
    }


def run(
    path: Path,
    config: Config,
    out: Path,
    period: str,
    k: int | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
    generated: date | None = None,
) -> RunResult:
    """Analyse `path` and write the snapshot `<out>/<slug>/<period>/`.

    The whole run holds the report's lock, so a second run of the same report fails
    at once instead of racing this one; leftovers of crashed runs are cleaned first.
    """
    reporter = reporter or _Silent()
    slug = config.report.slug
    check_period(period)
    with report_lock(out, slug) as repaired:
        target = check_target(out, slug, period, force)
        previous = load_previous(out, slug, period)
        analysis = analyse(path, config, k, reporter, previous)
        brief = write_brief(analysis, config, period, generated or date.today(), reporter)
        files = {
            "report.html": brief.report.html.encode("utf-8"),
            "report.pdf": brief.report.pdf,
            "assignments.csv": _assignments_csv(analysis),
            "profiles.json": to_json(
                {
                    "report": slug,
                    "period": period,
                    "k": analysis.segmentation.k,
                    **_with_personas(analysis.profiles.to_dict(), brief.personas),
                }
            ),
            "model.json": to_json(
                model_record(
                    analysis.features,
                    analysis.segmentation,
                    analysis.identity.max_id if analysis.identity else None,
                )
            ),
        }
        if analysis.migration is not None:
            files["migration.json"] = to_json(analysis.migration.to_dict())
        with reporter.stage("archive"):
            manifest = _manifest(analysis, brief, config, slug, period)
            snapshot = write_snapshot(target, files, manifest, force)
    return RunResult(analysis=analysis, brief=brief, snapshot=snapshot, repaired=tuple(repaired))


def _with_personas(profiles: dict[str, Any], personas: Personas) -> dict[str, Any]:
    for entry, persona in zip(profiles["segments"], personas.segments, strict=True):
        entry.update(
            persona=persona.name,
            persona_key=persona.key,
            description=persona.description,
            recommendations=list(persona.recommendations),
        )
    return profiles
