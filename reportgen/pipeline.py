"""The one place that orders the stages of a run.

Each stage is a pure function of the previous result; this module calls them
in turn, times them, tells a progress reporter what it is doing, and hands the
results to `archive` to be written. It prints nothing itself.
"""

from __future__ import annotations

import math
import os
import platform
import re
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from reportgen import __version__
from reportgen.archive import (
    DELIVERIES,
    Snapshot,
    check_intact,
    check_period,
    check_target,
    find,
    load_previous,
    report_lock,
    to_json,
    trend_points,
    write_snapshot,
)
from reportgen.assign import unusual_distance
from reportgen.charts import Charts, build_charts
from reportgen.config import Config
from reportgen.errors import ConfigError, DataError
from reportgen.features import Features, apply_scaling, build_features
from reportgen.findings import (
    BRIEF_FILE,
    Findings,
    Picker,
    chart_data,
    findings_bytes,
    in_memory,
    load_findings,
)
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
from reportgen.ingest import Dataset
from reportgen.inputs import Source, read_input
from reportgen.model_file import MODEL_FILE, model_record
from reportgen.personas import Personas, assign_personas, load_library
from reportgen.profile import Profiles, build_profiles
from reportgen.records import to_plain
from reportgen.render import Report, render_report, wording_for
from reportgen.resources import find_template, fingerprint
from reportgen.rules import RULES_FILE, SegmentRules, learn, rule_input
from reportgen.rules import record as rules_record
from reportgen.rules_sql import SQL_FILE, segments_sql
from reportgen.segment import ArchivedModel, ArrayPoints, Segmentation, apply_model, segment
from reportgen.spreadsheet import csv_bytes
from reportgen.trend import PeriodPoint
from reportgen.validate import CleanData

if TYPE_CHECKING:
    from reportgen.spark_customers import HeldRun

T = TypeVar("T")


class Reporter(Protocol):
    """Told when each stage starts and ends (the CLI shows progress with it)."""

    def stage(self, name: str) -> AbstractContextManager[None]: ...


class _Silent:
    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield


@dataclass(frozen=True, kw_only=True)
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
    customers: int
    pick: Picker
    """The customers at some positions, for the charts' samples."""
    rules: SegmentRules
    """Each segment described in the data's own columns, with how faithful that is."""
    held: HeldRun | None = None
    """The run's customers when Spark holds them (their assignments are Spark's)."""


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
    timings: Mapping[str, float]
    """Seconds per stage, as recorded in the manifest."""
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


class CustomerBase(Protocol):
    """Where the stages read every customer: in memory (InMemory), or kept by the engine
    (spark_customers.HeldBase). Both take the same decisions; only where each figure is
    computed differs."""

    @property
    def customers(self) -> int: ...

    def features(self, model: ArchivedModel | None) -> Features: ...

    def segment(
        self, features: Features, model: ArchivedModel | None, k: int | None, minimum: int
    ) -> Segmentation: ...

    def migrate(self, previous: PreviousPeriod, segmentation: Segmentation) -> Migration: ...

    def profiles(self, segmentation: Segmentation) -> Profiles: ...

    def rules(
        self, features: Features, segmentation: Segmentation, profiles: Profiles
    ) -> SegmentRules: ...

    def picker(self, features: Features, segmentation: Segmentation) -> Picker: ...

    def held_run(self, segmentation: Segmentation) -> HeldRun | None: ...


@dataclass(frozen=True)
class InMemory:
    """The customers as a pandas frame: scikit-learn fits them, pandas profiles them."""

    clean: CleanData
    config: Config

    @property
    def customers(self) -> int:
        return len(self.clean.frame)

    def _spend(self) -> np.ndarray | None:
        frame = self.clean.frame
        return frame["spend"].to_numpy(dtype="float64") if "spend" in frame else None

    def features(self, model: ArchivedModel | None) -> Features:
        config, min_size = self.config, self.config.report.min_segment_size
        if model is None:
            return build_features(self.clean, config.features, min_size)
        return apply_scaling(self.clean, config.features, model.scaling, min_size)

    def segment(
        self, features: Features, model: ArchivedModel | None, k: int | None, minimum: int
    ) -> Segmentation:
        settings = self.config.segmentation
        if model is None:
            return segment(features, settings, k, self._spend(), minimum)
        return apply_model(features, model, settings)

    def migrate(self, previous: PreviousPeriod, segmentation: Segmentation) -> Migration:
        labels = segmentation.labels
        assert isinstance(labels, np.ndarray)
        frozen = segmentation.frozen_from is not None
        scored = labels if frozen else self._scored(previous.model)
        ids = self.clean.frame["customer_id"]
        return migrate(previous, ids, labels, self._spend(), scored, frozen)

    def _scored(self, model: ArchivedModel | None) -> np.ndarray | None:
        """Every customer's segment by last period's model (as frozen mode would score
        them); None when this period's data lacks a column that model needs."""
        if model is None:
            return None
        config = self.config
        try:
            found = apply_scaling(
                self.clean, config.features, model.scaling, config.report.min_segment_size
            )
        except DataError:
            return None
        return ArrayPoints.of(found.matrix).label(model.centroids, np.asarray(model.ids))

    def profiles(self, segmentation: Segmentation) -> Profiles:
        config = self.config
        return build_profiles(
            self.clean,
            segmentation,
            config.levels,
            config.validation,
            config.report.min_segment_size,
        )

    def rules(
        self, features: Features, segmentation: Segmentation, profiles: Profiles
    ) -> SegmentRules:
        labels = segmentation.labels
        assert isinstance(labels, np.ndarray)
        config = self.config
        data = rule_input(
            self.clean, features.scaling.roles, labels, config.data.kind == "transactions"
        )
        return learn(
            data,
            [s.id for s in profiles.segments],
            profiles.suppressed_ids,
            (config.report.min_segment_size, segmentation.seed),
        )

    def picker(self, features: Features, segmentation: Segmentation) -> Picker:
        return in_memory(self.clean, features, segmentation)

    def held_run(self, segmentation: Segmentation) -> HeldRun | None:
        return None


def analyse(
    path: Source,
    config: Config,
    k: int | None = None,
    reporter: Reporter | None = None,
    previous: PreviousPeriod | None = None,
) -> Analysis:
    """Every stage from reading the file to the segment profiles; nothing is written."""
    timer = _Timer(reporter or _Silent())
    dataset, clean = read_input(path, config, timer)
    _check_assignments(config, clean.quality.rows_kept)
    base: CustomerBase = InMemory(clean, config)
    if dataset.held is not None:
        from reportgen.spark_customers import HeldBase

        base = HeldBase(dataset.held, clean, config)
    model = frozen_model(config, k, previous)
    features = timer("features", lambda: base.features(model))
    minimum = min_segment(config, base.customers)
    segmentation = timer("segment", lambda: base.segment(features, model, k, minimum))

    def history() -> tuple[Segmentation, Identity | None, Migration | None]:
        kept, identity = identities(previous, model, features, segmentation)
        if previous is None:
            return kept, identity, None
        migration = base.migrate(previous, kept)
        return kept, identity, replace(migration, min_part=config.report.min_segment_size)

    segmentation, identity, migration = timer("history", history)
    profiles = timer("profile", lambda: base.profiles(segmentation))
    changes = (
        compare(previous, identity, profiles, migration)
        if previous and identity and migration
        else {}
    )
    rules = timer("rules", lambda: base.rules(features, segmentation, profiles))
    return Analysis(
        dataset=dataset,
        clean=clean,
        features=features,
        segmentation=segmentation,
        identity=identity,
        migration=migration,
        profiles=profiles,
        changes=changes,
        rules=rules,
        timings=timer.timings,
        customers=base.customers,
        pick=base.picker(features, segmentation),
        held=base.held_run(segmentation),
    )


def identities(
    previous: PreviousPeriod | None,
    model: ArchivedModel | None,
    features: Features,
    segmentation: Segmentation,
) -> tuple[Segmentation, Identity | None]:
    """The segmentation with the ids kept from the previous period, and which were kept."""
    if previous is None:
        return segmentation, None
    if model is not None:
        return segmentation, frozen_identities(previous, segmentation)
    return keep_identities(previous, features, segmentation)


def min_segment(config: Config, customers: int) -> int:
    """The fewest customers a fitted segment may have: [segmentation] min_share of the base,
    and never fewer than [report] min_segment_size (a smaller one could not be shown)."""
    return max(math.ceil(config.segmentation.min_share * customers), config.report.min_segment_size)


def frozen_model(
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


def gather(
    analysis: Analysis, period: str, generated: date, earlier: tuple[PeriodPoint, ...] = ()
) -> Findings:
    """What the brief will report: the analysis without its per-customer tables, and the
    archived periods before it (`earlier`) for the trend."""
    return Findings(
        period=period,
        generated=generated,
        profiles=analysis.profiles,
        segmentation=analysis.segmentation.summary,
        quality=analysis.clean.quality,
        columns=analysis.clean.roles.columns,
        # A frozen model scores with the drivers it was fitted on, whatever the config says.
        drivers=(
            analysis.features.scaling.drivers
            if analysis.segmentation.frozen_from is not None
            else analysis.clean.drivers
        ),
        dropped=analysis.features.dropped_constant,
        transformed=analysis.features.scaling.log1p,
        unseen=analysis.features.unseen,
        migration=analysis.migration,
        identity=analysis.identity,
        changes=analysis.changes,
        rules=analysis.rules,
        plots=chart_data(
            analysis.customers,
            analysis.pick,
            analysis.segmentation,
            frozenset(analysis.profiles.suppressed_ids),
        ),
        earlier=earlier,
    )


def write_brief(findings: Findings, config: Config, reporter: Reporter | None = None) -> Brief:
    """Personas, charts and the HTML and PDF report from what the analysis found."""
    timer = _Timer(reporter or _Silent())
    report = config.report
    words = wording_for(config)  # the language of every piece of wording below
    formatter = Formatter.for_report(report, words)  # its words (days, months) in it too
    library_path = report.personas or find_template("personas.yaml", report.templates)
    personas = timer(
        "personas",
        lambda: assign_personas(
            findings.profiles,
            load_library(library_path, formatter, words),
            keep=findings.identity.personas if findings.identity else {},
        ),
    )
    charts = timer(
        "charts",
        lambda: build_charts(
            findings, personas, find_template("charts.yaml", report.templates), formatter, words
        ),
    )
    rendered = timer(
        "render",
        lambda: render_report(config, findings, personas, charts, words, formatter=formatter),
    )
    return Brief(personas, charts, rendered, timer.timings)


def _versions() -> dict[str, str]:
    """Python's version and that of every package reportgen needs, as installed."""
    found = {"python": platform.python_version(), "reportgen": __version__}
    for name in _requirements():
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _requirements() -> list[str]:
    """The names of the packages reportgen needs to run (its requirements outside any
    extra), so a dependency added to pyproject.toml is recorded with the others: from the
    pyproject.toml of the source tree this code runs from (a checkout, installed or not),
    else from the installed package's metadata (a wheel)."""
    project = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if project.is_file():
        declared = tomllib.loads(project.read_text(encoding="utf-8")).get("project", {})
        found = declared.get("dependencies", []) if declared.get("name") == "reportgen" else []
    else:
        try:
            found = requires("reportgen") or []
        except PackageNotFoundError:
            found = []
    return [
        re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0]
        for requirement, _, marker in (text.partition(";") for text in found)
        if "extra" not in marker
    ]


def _threads() -> dict[str, Any]:
    """The CPUs and the native thread pools (BLAS, OpenMP) the numbers were computed with."""
    from threadpoolctl import threadpool_info

    pools = [
        {"api": pool.get("internal_api"), "threads": pool.get("num_threads")}
        for pool in threadpool_info()
    ]
    return {"cpus": os.cpu_count(), "pools": pools}


def _in_memory(analysis: Analysis) -> pd.DataFrame:
    """Every customer's id and segment, in customer order."""
    if analysis.held is not None:
        return analysis.held.assignments()
    return pd.DataFrame(
        {
            "customer_id": analysis.clean.frame["customer_id"],
            "segment": analysis.segmentation.labels,
        }
    )


def _csv_limited(config: Config) -> bool:
    """Whether assignments.csv is bounded by [spark] local_assignments_max_rows: for an
    order log Spark aggregates (a customer table is in memory in any case)."""
    return config.engine.name == "spark" and config.data.kind == "transactions"


def _check_assignments(config: Config, customers: int) -> None:
    """Refuse, before any fitting, a Spark run whose assignments would go nowhere: too many
    customers for assignments.csv and no [spark] assignments_path."""
    settings = config.spark
    most = settings.local_assignments_max_rows
    if _csv_limited(config) and customers > most and settings.assignments_path is None:
        raise ConfigError(
            f"{customers:,} customers are more than [spark] local_assignments_max_rows "
            f"({most:,}) for assignments.csv in the snapshot; set [spark] assignments_path "
            "to a folder or URI where Spark writes them as Parquet (or raise the limit)"
        )


def _assignments(
    analysis: Analysis, config: Config, slug: str, period: str
) -> tuple[bytes | None, dict[str, Any] | None]:
    """assignments.csv for the snapshot (with Spark, only up to [spark]
    local_assignments_max_rows), and the record of what Spark wrote to [spark]
    assignments_path, if set."""
    settings = config.spark
    csv = None
    if not _csv_limited(config) or analysis.customers <= settings.local_assignments_max_rows:
        csv = csv_bytes(_in_memory(analysis))
    if config.engine.name != "spark" or settings.assignments_path is None:
        return csv, None
    from reportgen import spark, spark_assignments

    where = spark_assignments.location(settings.assignments_path, slug, period)
    frame = (
        analysis.held.frame()
        if analysis.held is not None
        else spark_assignments.from_memory(spark.session(settings), _in_memory(analysis))
    )
    return csv, spark_assignments.write(frame, where, analysis.customers)


def _manifest(
    analysis: Analysis,
    brief: Brief,
    config: Config,
    slug: str,
    period: str,
    timings: Mapping[str, float],
) -> dict[str, Any]:
    dataset, clean = analysis.dataset, analysis.clean
    return {
        "reportgen_version": __version__,
        "report": slug,
        "period": period,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {
            "path": str(dataset.path.resolve() if isinstance(dataset.path, Path) else dataset.path),
            "sha256": dataset.sha256,
            "format": dataset.format,
            "encoding": dataset.encoding,
            "delimiter": dataset.delimiter,
            "rows_in": clean.quality.rows_read,
            "rows_out": clean.quality.rows_kept,
            "kind": config.data.kind,
            "order_columns": dict(dataset.order_columns),
            "order_lines": clean.quality.order_lines,
            "as_of": clean.quality.as_of.isoformat() if clean.quality.as_of else None,
        },
        "engine": dict(dataset.engine),
        "columns": dict(clean.roles.columns),
        "inferred_roles": list(clean.roles.inferred),
        "data_quality": {
            "rows_read": clean.quality.rows_read,
            "rows_kept": clean.quality.rows_kept,
            "unused_columns": list(clean.quality.unused_columns),
            "fixes": [{**asdict(fix), "text": fix.text} for fix in clean.quality.fixes],
            "number_formats": [asdict(found) for found in clean.quality.number_formats],
        },
        "config": to_plain(config),
        "seed": analysis.segmentation.seed,
        "n_init": analysis.segmentation.n_init,
        "k": analysis.segmentation.k,
        "versions": _versions(),
        "threads": _threads(),
        "timings": dict(timings),
        **_rendering(brief, config),
    }


def _rendering(brief: Brief, config: Config) -> dict[str, Any]:
    """How the report was drawn: the manifest's record of wording, templates and warnings."""
    return {
        "persona_library": str(brief.personas.library),
        "templates": fingerprint(config.report.templates, config.report.personas),
        "render_warnings": list(brief.report.warnings),
    }


def _brief_files(findings: Findings, brief: Brief, slug: str) -> dict[str, bytes]:
    """The snapshot files that depend on templates: what `rerender` replaces."""
    return {
        "report.html": brief.report.html.encode("utf-8"),
        "report.pdf": brief.report.pdf,
        "profiles.json": to_json(
            {
                "report": slug,
                "period": findings.period,
                "k": findings.segmentation.k,
                **_with_personas(findings.profiles.to_dict(), brief.personas),
            }
        ),
    }


def _files(
    analysis: Analysis,
    findings: Findings,
    brief: Brief,
    previous: PreviousPeriod | None,
    slug: str,
) -> dict[str, bytes]:
    """Every file of the snapshot but the assignments and the manifest."""
    period = findings.period
    files = {
        **_brief_files(findings, brief, slug),
        BRIEF_FILE: findings_bytes(findings),
        MODEL_FILE: to_json(
            {
                **model_record(
                    analysis.features,
                    analysis.segmentation,
                    analysis.identity.max_id if analysis.identity else None,
                    frozen=previous.model
                    if previous and analysis.segmentation.frozen_from
                    else None,
                ),
                "unusual_distance": unusual_distance(
                    analysis.customers,
                    analysis.pick,
                    analysis.segmentation.centroids,
                    analysis.segmentation.seed,
                ),
            }
        ),
    }
    if analysis.migration is not None:
        files["migration.json"] = to_json(analysis.migration.to_dict())
    files[RULES_FILE] = to_json({"report": slug, "period": period, **rules_record(analysis.rules)})
    files[SQL_FILE] = segments_sql(analysis.rules, slug, period).encode("utf-8")
    return files


@dataclass(frozen=True)
class Destination:
    """Where `run` writes its snapshot: `<out>/<slug>/<period>/`, replacing one already
    there only with `force`."""

    out: Path
    period: str
    force: bool = False
    chosen: Mapping[str, Any] | None = None
    """How the period and an order log's as-of day were chosen, for the manifest."""


def run(
    path: Source,
    config: Config,
    destination: Destination,
    k: int | None = None,
    reporter: Reporter | None = None,
    generated: date | None = None,
) -> RunResult:
    """Analyse `path` and write its snapshot to `destination`.

    The whole run holds the report's lock, so a second run of the same report fails
    at once instead of racing this one; leftovers of crashed runs are cleaned first.
    """
    reporter = reporter or _Silent()
    slug = config.report.slug
    out, period = destination.out, destination.period
    check_period(period)
    with report_lock(out, slug) as repaired, _spark_run(config):
        target = check_target(out, slug, period, destination.force)
        previous = load_previous(out, slug, period)
        analysis = analyse(path, config, k, reporter, previous)
        timer = _Timer(reporter)
        findings = timer(
            "findings",
            lambda: gather(
                analysis, period, generated or date.today(), trend_points(out, slug, period)
            ),
        )
        brief = write_brief(findings, config, reporter)
        files = _files(analysis, findings, brief, previous, slug)
        after = _Timer(reporter)  # after the brief: timings are listed in the order run
        csv, written = after("assignments", lambda: _assignments(analysis, config, slug, period))
        if csv is not None:
            files["assignments.csv"] = csv
        with reporter.stage("archive"):
            timings = {**analysis.timings, **timer.timings, **brief.timings, **after.timings}
            manifest = _manifest(analysis, brief, config, slug, period, timings)
            if written is not None:
                manifest["assignments"] = written
            if destination.chosen is not None:
                manifest["chosen"] = dict(destination.chosen)
            # The delivery record survives --force: who has had this period's brief does
            # not change because the brief was rebuilt, and a forced run with --send must
            # not send it to them again.
            snapshot = write_snapshot(
                target, files, manifest, destination.force, carry=target / DELIVERIES
            )
    return RunResult(analysis, brief, snapshot, timings, tuple(repaired))


@contextmanager
def _spark_run(config: Config) -> Iterator[None]:
    """With Spark: its failures during the run are exit 3 with its own message, and what
    the run cached in the cluster is freed when the run ends, however it ends."""
    if config.engine.name != "spark":
        yield
        return
    from reportgen.spark import failures, release

    try:
        with failures(config.spark):
            yield
    finally:
        release()


@dataclass(frozen=True)
class RerenderResult:
    brief: Brief
    snapshot: Snapshot


def rerender(
    out: Path, slug: str, period: str, config: Config, reporter: Reporter | None = None
) -> RerenderResult:
    """Rebuild an archived period's HTML, PDF and persona wording from its brief.json.

    Nothing but the snapshot is read (the input data may be long gone); the current
    templates, persona library and [report] settings are used, which is the point:
    a template fix reaches past periods. The snapshot must verify first, and it is
    replaced atomically, with the manifest recording the new template fingerprint.
    """
    check_period(period)
    with report_lock(out, slug):
        entry = find(out, slug, period)
        check_intact(entry, "the snapshot", strict=True)
        findings = replace(load_findings(entry.path), earlier=trend_points(out, slug, period))
        brief = write_brief(findings, config, reporter)
        files = {name: (entry.path / name).read_bytes() for name in entry.manifest["files"]}
        files.update(_brief_files(findings, brief, slug))
        with (reporter or _Silent()).stage("archive"):
            manifest = {key: value for key, value in entry.manifest.items() if key != "files"}
            manifest.update(
                _rendering(brief, config),
                rerendered={
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "reportgen_version": __version__,
                    "report_config": to_plain(config.report),
                    "timings": brief.timings,
                },
            )
            snapshot = write_snapshot(
                entry.path, files, manifest, force=True, carry=entry.path / DELIVERIES
            )
    return RerenderResult(brief, snapshot)


def _with_personas(profiles: dict[str, Any], personas: Personas) -> dict[str, Any]:
    for entry, persona in zip(profiles["segments"], personas.segments, strict=True):
        entry.update(
            persona=persona.name,
            persona_key=persona.key,
            description=persona.description,
            recommendations=list(persona.recommendations),
        )
    return profiles
