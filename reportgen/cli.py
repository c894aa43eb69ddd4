"""The `reportgen` command: the only module that parses arguments or prints.

Errors the user can fix (`ReportgenError`) become one line on stderr and exit
code 2; anything else is a bug and keeps its traceback. Progress goes to stderr
and only when stderr is a terminal, so pipes and cron logs stay clean; stdout
carries the result (the snapshot folder) for scripts. An interrupt is reported by
__main__, the one place that sees every moment of the command.

Checks come in the order a user reads the command: the command line, the config,
everything the command reads (the data, the logo, ...), and only then the output
folder, so a mistyped --data is "file not found" even where this month's snapshot
already exists.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from rich.console import Console

from reportgen import (
    __version__,
    column_names,
    config,
    config_checks,
    config_text,
    inputs,
    interrupt,
    names,
    numbers,
    periods,
    sample,
    templating,
    terminal,
)
from reportgen.errors import ConfigError, DeliveryError, ReportgenError, SnapshotError
from reportgen.fsutil import write_bytes
from reportgen.ingest import read_table
from reportgen.resources import sample_data_path
from reportgen.roles import ROLES, RoleMap, drivers_for, infer_roles
from reportgen.sample import generate_orders, order_log_bytes
from reportgen.validate import CleanData

if TYPE_CHECKING:
    from reportgen import archive, deliver, pipeline, render

# The analysis, the archive and the email (scikit-learn, matplotlib, WeasyPrint: most of a
# run's start-up) are imported by the commands that use them, so `init`, `validate`,
# `sample`, --help and an error in the config answer at once.

EXIT_USER_ERROR = 2


class _Console(Console):
    """A rich Console that shows data as text: control and bidi characters escaped
    (see reportgen/terminal.py), and no markup, emoji codes or highlighting applied."""

    def __init__(self, stderr: bool) -> None:
        super().__init__(stderr=stderr, highlight=False, soft_wrap=True, markup=False, emoji=False)
        self.errors: list[str] = []
        """What each `error` line said after `reportgen: error: `: a failure notice quotes it."""

    def print(self, *objects: object, **options: Any) -> None:
        super().print(*(terminal.safe(o) if isinstance(o, str) else o for o in objects), **options)

    def error(self, message: object) -> None:
        """The one line every failure prints: `reportgen: error: ...`; kept for a failure
        notice without the cells of the data it quotes (ReportgenError.without_values)."""
        line = terminal.one_line(str(message))
        public = message.without_values() if isinstance(message, ReportgenError) else str(message)
        self.errors.append(terminal.one_line(public))
        self.print(f"reportgen: error: {line}")


def _out(text: str) -> None:
    """A result line on stdout (a path, a listing), for scripts: plain, no wrapping."""
    print(terminal.safe(text))


def _did_you_mean(typed: Iterable[str], known: Iterable[object]) -> str:
    """The end of a usage error for mistyped words: "; did you mean 'run'?", naming the
    closest known word for each (difflib's ratio of 0.6 or more, as Python 3.14's
    suggest_on_error), or "" when nothing known is close."""
    names = [str(name) for name in known]
    pairs = [
        (word, close[0]) for word in typed if (close := difflib.get_close_matches(word, names, 1))
    ]
    if len(pairs) == 1:
        return f"; did you mean {pairs[0][1]!r}?"
    if pairs:
        return f"; did you mean {', '.join(f'{new!r} for {old!r}' for old, new in pairs)}?"
    return ""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one `reportgen: error:` line like every other
    error, pointing at --help instead of printing the usage block, and a mistyped
    command or option is answered with the closest real one. Python has that only
    from 3.14 (suggest_on_error), and only for commands."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_USER_ERROR,
            f"reportgen: error: {terminal.one_line(message)} (see: {self.prog} --help)\n",
        )

    def parse_known_args(  # type: ignore[override]  # typeshed's overloads, one behaviour
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Every argument, or a usage error from the (sub)command that met the unknown
        ones: argparse leaves a subcommand's to the top parser, whose message could only
        offer its own options and point at `reportgen --help`."""
        parsed, unknown = super().parse_known_args(args, namespace)
        if unknown:
            options = [w.split("=", 1)[0] for w in unknown if w.startswith("-") and w != "--"]
            guess = _did_you_mean(options, self._option_string_actions)
            self.error(f"unrecognized arguments: {' '.join(unknown)}{guess}")
        return parsed, []

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """argparse's check of `choices` (the commands), with the closest one offered."""
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(repr, action.choices))
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r} (choose from {choices})"
                + _did_you_mean([str(value)], action.choices),
            )


class _Progress:
    """Shows each stage as it runs (a spinner, then a tick and its time) on a terminal,
    and stops the run at the start of a stage once Ctrl-C was pressed (see interrupt)."""

    def __init__(self, console: Console, show: bool) -> None:
        self.console = console
        self.show = show

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        interrupt.check()
        if not self.show:
            yield
            return
        start = time.perf_counter()
        with self.console.status(f"{name}…"):
            yield
        self.console.print(
            f"[green]✓[/green] {name} [dim]{time.perf_counter() - start:.2f} s[/dim]", markup=True
        )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


MAX_SAMPLE_ROWS = 10_000_000
"""The largest sample `reportgen sample` makes: a 10-million-customer table (about 1 GB
of CSV), or an order log of that many customers; beyond it the machine runs out of
memory before the file is written."""


def _rows(text: str) -> int:
    value = _positive(text)
    if value > MAX_SAMPLE_ROWS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_SAMPLE_ROWS:,}, got {value:,}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to {2**32 - 1}, got {value}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a day such as 2026-11-30, got {text!r}"
        ) from None


def _source(text: str) -> Path | str:
    """--data: a local path, or a URI for Spark (kept as text, as [data] path is)."""
    return config_checks.location("--data", text)


def _with_engine(cfg: config.Config, engine: str | None) -> config.Config:
    """The config with --engine, when given, in place of [engine] name."""
    if engine is None:
        return cfg
    return replace(cfg, engine=replace(cfg.engine, name=engine))


def _segments(text: str) -> int:
    value = _positive(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"a segmentation needs at least 2 segments, got {value}")
    return value


def _check_names(args: argparse.Namespace) -> None:
    """--report and the period of every command, checked once, before any command runs:
    each names a folder under --out (see reportgen/names.py)."""
    report = getattr(args, "report", None)
    if report is not None and not names.is_slug(report):
        raise ConfigError(f"--report {names.slug_problem(report)}")
    period = getattr(args, "period", None)
    if period is not None and not periods.is_period_text(period):
        raise ConfigError(periods.problem(period))
    if period is not None:  # a name stands for a month from here on, in every command
        args.chosen = periods.choose(period, None, periods.today())
        args.period = args.chosen.period


_Handler = Callable[[argparse.Namespace, _Console], int]
"""What runs a command: its parsed arguments and the console in, the exit status out."""
_Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"
"""The subcommands of `reportgen`, to which each `_add_*` below adds one."""


def _parser() -> argparse.ArgumentParser:
    """The command line. Each command's parser names the function that runs it (the
    `handler` default), and the options of the commands that work on archived snapshots
    are declared once, in the parent parser `_snapshot_options`."""
    parser = _Parser(
        prog="reportgen",
        description="Segment customers and write a segmentation brief.",
    )
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    snapshot = _snapshot_options()
    _add_run(commands)
    _add_init(commands)
    _add_validate(commands)
    _add_archive(commands, snapshot)
    _add_rerender(commands, snapshot)
    _add_send(commands, snapshot)
    _add_assign(commands, snapshot)
    _add_sample(commands)
    return parser


def _add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("output"), help="output folder (default: ./output)"
    )


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config file (default: ./reportgen.toml if present)"
    )


def _snapshot_options() -> _Parser:
    """--out, --config and --report, as a parent parser. A parent's options come before
    a parser's own in its help, so `run`, which lists --config and --out among its other
    options, adds the same two with `_add_config` and `_add_out` instead."""
    parent = _Parser(add_help=False)
    _add_out(parent)
    _add_config(parent)
    parent.add_argument("--report", help="report slug (default: [report] slug)")
    return parent


def _add_run(commands: _Commands) -> None:
    command = commands.add_parser("run", help="segment the data and write a snapshot")
    command.set_defaults(handler=_run)
    command.add_argument(
        "--data",
        type=_source,
        help="customer table (CSV, Parquet, .xlsx); default: [data] path, else the bundled sample",
    )
    _add_config(command)
    _add_engine(command)
    command.add_argument("--k", type=_segments, help="number of segments, instead of choosing it")
    command.add_argument(
        "--as-of",
        type=_day,
        help="order logs: the day recency is counted to (default: the day after the last order)",
    )
    command.add_argument(
        "--period",
        help="period of the snapshot: YYYY-MM, previous (the month before today) or current "
        "(default: [report] period, else current)",
    )
    _add_out(command)
    existing = command.add_mutually_exclusive_group()
    existing.add_argument("--force", action="store_true", help="replace an existing snapshot")
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="keep the period's snapshot when it exists and verifies, and exit 0 (for retries)",
    )
    command.add_argument(
        "--send", action="store_true", help="then email the brief to the [email] recipients"
    )
    loudness = command.add_mutually_exclusive_group()
    loudness.add_argument("--quiet", action="store_true", help="print nothing but errors")
    loudness.add_argument("--verbose", action="store_true", help="also print stage timings")


def _add_init(commands: _Commands) -> None:
    command = commands.add_parser("init", help="write a commented reportgen.toml for a data file")
    command.set_defaults(handler=_init)
    command.add_argument("--data", type=Path, required=True, help="the customer table to describe")
    command.add_argument(
        "--out",
        type=Path,
        default=Path(config.DEFAULT_CONFIG_NAME),
        help="where to write the config (default: ./reportgen.toml)",
    )
    command.add_argument("--force", action="store_true", help="overwrite an existing file")


def _add_validate(commands: _Commands) -> None:
    command = commands.add_parser("validate", help="check the data and print the quality summary")
    command.set_defaults(handler=_validate)
    command.add_argument("--data", type=_source, help="customer table (default: as for run)")
    command.add_argument("--config", type=Path, help="config file (default: ./reportgen.toml)")
    _add_engine(command)


def _add_engine(command: _Parser) -> None:
    command.add_argument(
        "--engine",
        choices=("local", "spark"),
        help="where an order log is aggregated (default: [engine] name, else local)",
    )


def _add_archive(commands: _Commands, snapshot: _Parser) -> None:
    command = commands.add_parser("archive", help="list, show, verify or prune snapshots")
    actions = command.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every snapshot, oldest first", parents=[snapshot])
    listing.set_defaults(handler=_archive_list)
    show = actions.add_parser("show", help="what one snapshot holds", parents=[snapshot])
    show.set_defaults(handler=_archive_show)
    show.add_argument("period", help="YYYY-MM")
    verify = actions.add_parser(
        "verify", help="re-hash snapshots against their manifests", parents=[snapshot]
    )
    verify.set_defaults(handler=_archive_verify)
    verify.add_argument("period", nargs="?", help="YYYY-MM (default: every period)")
    confirm = _Parser(add_help=False)  # a parent, so that --yes is listed first
    confirm.add_argument("--yes", action="store_true", help="really remove (default: dry run)")
    prune = actions.add_parser(
        "prune", help="remove periods beyond [archive] keep", parents=[confirm, snapshot]
    )
    prune.set_defaults(handler=_archive_prune)
    index = actions.add_parser(
        "index", help="write <out>/<report>/index.html: every period, linked", parents=[snapshot]
    )
    index.set_defaults(handler=_archive_index)


def _add_rerender(commands: _Commands, snapshot: _Parser) -> None:
    command = commands.add_parser(
        "rerender",
        help="rebuild an archived period's report with the current templates",
        parents=[snapshot],
    )
    command.set_defaults(handler=_rerender)
    command.add_argument("period", help="YYYY-MM")


def _add_send(commands: _Commands, snapshot: _Parser) -> None:
    command = commands.add_parser(
        "send", help="email an archived brief to its stakeholders", parents=[snapshot]
    )
    command.set_defaults(handler=_send)
    command.add_argument("period", nargs="?", help="YYYY-MM (default: the latest archived period)")
    command.add_argument(
        "--resend", action="store_true", help="send again to recipients who already have it"
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="write each message as .eml into the snapshot's deliveries/ instead of sending",
    )


def _add_assign(commands: _Commands, snapshot: _Parser) -> None:
    command = commands.add_parser(
        "assign",
        help="label customers with an archived period's model",
        parents=[snapshot],
    )
    command.set_defaults(handler=_assign)
    command.add_argument("--period", required=True, help="the archived period whose model to use")
    command.add_argument(
        "--data",
        type=_source,
        required=True,
        help="customer table or order log to label, read as `run` reads it",
    )
    command.add_argument(
        "--as-of",
        type=_day,
        help="order logs: the day recency is counted to (default: the day after the last order)",
    )
    command.add_argument(
        "--out-file",
        type=Path,
        default=Path("assigned.csv"),
        help="where to write customer_id, segment, persona, distance, unusual: .csv or "
        ".parquet (default: ./assigned.csv)",
    )
    command.add_argument("--force", action="store_true", help="replace an existing --out-file")


def _add_sample(commands: _Commands) -> None:
    command = commands.add_parser("sample", help="generate a realistic sample customer table")
    command.set_defaults(handler=_sample)
    command.add_argument(
        "--rows",
        type=_rows,
        default=sample.DEFAULT_ROWS,
        help=f"number of customers (default: {sample.DEFAULT_ROWS})",
    )
    command.add_argument(
        "--seed",
        type=_seed,
        default=sample.DEFAULT_SEED,
        help=f"random seed (default: {sample.DEFAULT_SEED})",
    )
    command.add_argument(
        "--out",
        type=Path,
        help="where to write it, .csv or (order logs) .parquet (default: "
        "./sample_customers.csv, or ./sample_orders.parquet with --orders)",
    )
    command.add_argument(
        "--orders",
        action="store_true",
        help="an order log of --rows customers (about 10 lines each) instead of a customer table",
    )
    command.add_argument("--force", action="store_true", help="overwrite an existing file")


def _describe_roles(roles: RoleMap, console: _Console) -> None:
    """Which columns were matched by name, and which play no role, each named once: a
    column whose name says it holds dates is listed apart, with the reason."""
    if roles.inferred:
        pairs = ", ".join(f"{role} ← {roles.column(role)!r}" for role in roles.inferred)
        console.print(f"Columns matched by name: {pairs}")
    dates = [c for c in roles.unused if column_names.table().ignored(c)]
    others = [c for c in roles.unused if c not in dates]
    if others:
        console.print(f"Columns not used: {', '.join(map(repr, others))}")
    if dates:
        console.print(
            f"Columns holding dates, not used: {', '.join(map(repr, dates))} (recency and "
            "tenure need a number of days)"
        )


def _describe_report(report: render.Report, console: _Console) -> None:
    """The PDF layout's warnings and the wording's notes, each once: WeasyPrint warns
    once for every element a problem touches (an unknown CSS property on each row)."""
    for warning in dict.fromkeys(report.warnings):
        console.print(f"warning: the PDF layout: {warning}")
    for note in report.notes:  # wording: translation, unmatched segments
        console.print(note)


def _quality_lines(clean: CleanData, currency: str) -> list[str]:
    """The data-quality summary, and a warning when the data's amounts are written in
    another currency than the brief will show (`currency`, [report] currency)."""
    quality = clean.quality
    if quality.order_lines is not None:
        lines = [
            f"Order lines read: {quality.order_lines:,}; customers built: {quality.rows_read:,}"
            f" (counted to {quality.as_of}); customers kept: {quality.rows_kept:,}"
        ]
    else:
        lines = [f"Rows read: {quality.rows_read:,}; customers kept: {quality.rows_kept:,}"]
    lines += [f"- {fix.describe()}" for fix in quality.fixes] or ["- no fixes were needed"]
    lines += [f"- numbers: {found.describe()}" for found in quality.number_formats]
    seen = numbers.one_currency(quality.number_formats)
    if seen is not None and seen != currency:
        lines.append(
            f"warning: the data's amounts are in {seen}, but the brief shows [report] currency "
            f'= "{currency}"; set [report] currency = "{seen}" if the amounts are {seen}'
        )
    return lines


def _describe_run(result: pipeline.RunResult, currency: str, err: _Console) -> None:
    """What a run found, in the order it was found: repairs of the archive, the columns,
    the data's quality, the segments and their warnings, then the report's notes."""
    from reportgen.segment import WARNINGS  # loaded by the run already
    from reportgen.wording import ENGLISH

    for repair in result.repaired:
        err.print(f"note: {repair}")
    clean = result.analysis.clean
    _describe_roles(clean.roles, err)
    for line in _quality_lines(clean, currency):
        err.print(line)
    found = result.analysis.segmentation
    if found.frozen_from:
        err.print(
            f"{len(found.ids)} segments: scored with the archived model of {found.frozen_from}"
        )
    else:
        err.print(f"{found.k} segments: {found.reason}")
    for warning in found.warnings:
        sentence, limit = WARNINGS[warning]
        err.print(f"warning: {ENGLISH.gettext(sentence) % {'limit': f'{limit:.2f}'}}")
    _describe_report(result.brief.report, err)


def _run(args: argparse.Namespace, err: _Console) -> int:
    cfg = _with_engine(config.load(args.config), args.engine)
    chosen = getattr(args, "chosen", None) or periods.choose(
        None, cfg.report.period, periods.today()
    )
    args.chosen = chosen  # a failure notice names this month, even past midnight
    if args.skip_existing and (kept := _kept(args.out, cfg.report.slug, chosen.period)):
        if not args.quiet:
            err.print(f"Kept {kept}: it exists and verifies; no data was read (--skip-existing)")
        _out(str(kept))
        code = _send_kept(args, cfg, chosen.period, err) if args.send else 0
        _refresh_index(args.out, cfg.report.slug, cfg, err)
        return code
    as_of, as_of_by = periods.as_of(chosen, args.as_of, cfg.orders.as_of)
    if cfg.data.kind == "transactions":  # a customer table's recency is as exported
        cfg = replace(cfg, orders=replace(cfg.orders, as_of=as_of))
    path = inputs.data_path(cfg, args.data, sample_data_path())
    inputs.check_sources(path, cfg)  # before pipeline.run looks at the output folder
    from reportgen import pipeline

    progress = _Progress(err, show=err.is_terminal and not args.quiet)
    chosen_how = {"period": chosen.record()}
    if cfg.data.kind == "transactions":
        chosen_how["as_of"] = {"by": as_of_by}
    result = pipeline.run(
        path,
        cfg,
        pipeline.Destination(args.out, chosen.period, force=args.force, chosen=chosen_how),
        k=args.k,
        reporter=progress,
    )
    if not args.quiet:
        _describe_run(result, cfg.report.currency, err)
    if args.verbose:
        for stage, seconds in result.timings.items():
            err.print(f"  {stage:<9} {seconds:8.3f} s")
    _out(str(result.snapshot.path))
    code = _send_written(args.out, cfg, chosen.period, err) if args.send else 0
    _refresh_index(args.out, cfg.report.slug, cfg, err)
    return code


def _send_written(out: Path, cfg: config.Config, period: str, err: _Console) -> int:
    """run --send: the brief just written, sent; a failure says the snapshot is safe."""
    from reportgen import deliver

    try:
        outcome = deliver.send(out, cfg.report.slug, period, cfg)
    except ReportgenError as exc:
        err.error(
            f"the snapshot was written, but sending failed: {exc}; "
            f"once fixed, run: reportgen send {period}"
        )
        return exc.exit_code
    return _report_outcome(outcome, err)


def _kept(out: Path, slug: str, period: str) -> Path | None:
    """--skip-existing: whether the period's snapshot is there to keep. One that fails
    verification is an error, not a reason to skip: a retry must not hide damage, nor
    silently replace what may be the only copy (--force does that, when meant)."""
    from reportgen import archive

    if not archive.snapshot_path(out, slug, period).exists():
        return None
    entry = archive.find(out, slug, period)
    archive.check_intact(entry, "the existing snapshot", strict=True)  # as archive verify
    return entry.path


def _send_kept(args: argparse.Namespace, cfg: config.Config, period: str, err: _Console) -> int:
    """The kept snapshot (see `_kept`), delivered to whoever has not received it yet: a
    retry after a failed send finishes the job, and one after a full send sends nothing."""
    from reportgen import deliver

    try:
        outcome = deliver.send(args.out, cfg.report.slug, period, cfg)
    except deliver.AlreadySent as exc:  # done before: say so, doubts about it included
        err.print(f"Nothing was sent: {terminal.one_line(str(exc))}")
        return 0
    return _report_outcome(outcome, err)


def _send(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    from reportgen import archive, deliver

    slug = args.report or cfg.report.slug
    period = args.period
    if period is None:
        found = archive.entries(args.out, slug)
        if not found:
            raise SnapshotError(f"no snapshots of {slug!r} under {args.out} to send")
        period = found[-1].period
    outcome = deliver.send(args.out, slug, period, cfg, resend=args.resend, dry_run=args.dry_run)
    code = _report_outcome(outcome, err)
    if not args.dry_run:  # the delivery record changed: the index shows it
        _refresh_index(args.out, slug, cfg, err)
    return code


def _report_outcome(outcome: deliver.Outcome, err: _Console) -> int:
    for name in outcome.skipped:
        err.print(f"{name}: every recipient already has it; skipped (--resend to repeat)")
    for path in outcome.drafts:
        _out(str(path))
    for delivery in outcome.deliveries:
        err.print(
            f"{delivery.audience}: sent to {len(delivery.accepted)} recipient(s), "
            f"{delivery.message_id}, server: {delivery.reply or 'no reply'}"
        )
    for failure in outcome.failures:
        err.error(failure)
    return DeliveryError.exit_code if outcome.failures else 0


def _init(args: argparse.Namespace, err: _Console) -> int:
    settings = config.DataSettings()  # the limits read_table applies by default
    inputs.check_data(args.data, settings)
    if args.out.exists() and not args.force:
        raise ConfigError(f"{args.out} already exists; pass --force to overwrite it")
    dataset = read_table(args.data, settings.max_file_mb, settings.max_columns)
    columns = [str(c) for c in dataset.frame.columns]
    roles = infer_roles(columns)
    # How the text columns write numbers (numbers.py): column by column as a comment, and
    # the file's own convention under [data] when its columns agree on one.
    found = numbers.survey(dataset.frame, dataset.delimiter, roles.columns.values())
    number_formats = {f.column: (f.decimal_mark, f.thousands_separator) for f in found.formats}
    convention = found.convention
    number_format = (
        (convention.decimal_mark, convention.thousands_separator or "none") if convention else None
    )
    given: dict[str, dict[str, Any]] = {"data": {"path": str(args.data)}}
    if found.currency:
        given["report"] = {"currency": found.currency}
    if number_format:
        given["data"].update(decimal_mark=number_format[0], thousands_separator=number_format[1])
    text = templating.config_file().render(
        data_path=str(args.data),
        tables=config_text.init_tables(given, {"features": {"drivers": drivers_for(None, roles)}}),
        roles=ROLES,
        columns=roles.columns,
        unused=roles.unused,
        number_formats=number_formats,
    )
    write_bytes(args.out, text.encode("utf-8"))
    _describe_roles(roles, err)
    for problem in found.problems.values():
        err.print(f"Numbers: {problem}")
    missing = [role.name for role in ROLES if role.required and not roles.has(role.name)]
    if not missing and found.problems:
        err.print(
            f"Wrote {args.out}: set [data] decimal_mark and thousands_separator in it as "
            f"above, then run `reportgen validate --config {args.out}` to check it."
        )
        return 0
    if not missing:
        err.print(f"Wrote {args.out}: review the [columns] table, then run `reportgen run`.")
        return 0
    err.print(f"Wrote {args.out}, but no column was recognised for a required role:")
    for role in missing:
        err.print(f'- {role}: set [columns] {role} = "<column name>" in {args.out}')
    err.print(f"Columns found: {', '.join(map(repr, columns))}")
    err.print(f"Next: edit {args.out} as above, then run `reportgen validate` to check it.")
    return 0


def _validate(args: argparse.Namespace, err: _Console) -> int:
    cfg = _with_engine(config.load(args.config), args.engine)
    path = inputs.data_path(cfg, args.data, sample_data_path())
    clean = inputs.check(path, cfg)
    _describe_roles(clean.roles, err)
    _out("\n".join(_quality_lines(clean, cfg.report.currency)))
    return 0


def _assign(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    if args.as_of:
        cfg = replace(cfg, orders=replace(cfg.orders, as_of=args.as_of))
    from reportgen import archive, assign

    archive.check_period(args.period)
    assign.check_destination(args.out_file, args.out, args.force)
    inputs.check_sources(args.data, cfg)
    progress = _Progress(err, show=err.is_terminal)
    slug = args.report or cfg.report.slug
    found = assign.assign(args.data, cfg, args.out, slug, args.period, progress)
    write_bytes(args.out_file, assign.file_bytes(found.table, args.out_file))
    unusual = int(found.table["unusual"].sum())
    err.print(
        f"Labelled {len(found.table):,} customers with the model of {args.period}"
        + (
            f"; {unusual:,} unusual (farther from every centre than {found.unusual_distance:.3g}, "
            f"the period's {assign.UNUSUAL_PERCENTILE:g}th percentile)"
            if found.unusual_distance is not None
            else "; none flagged unusual: that period's model.json predates the distance"
        )
    )
    _out(str(args.out_file))
    return 0


def _sample(args: argparse.Namespace, err: _Console) -> int:
    out = args.out or Path("sample_orders.parquet" if args.orders else "sample_customers.csv")
    if out.exists() and not args.force:
        raise ConfigError(f"{out} already exists; pass --force to overwrite it")
    if not args.orders:
        write_bytes(out, sample.to_csv_bytes(sample.generate(args.rows, args.seed)))
        err.print(f"Wrote {args.rows:,} customers to {out}")
        return 0
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out {out}: an order log is written as .csv or .parquet")
    log = generate_orders(args.rows, args.seed)
    write_bytes(out, order_log_bytes(log, out.suffix.lower()))
    err.print(f"Wrote {log.num_rows:,} order lines of {args.rows:,} customers to {out}")
    return 0


def _size(count: int) -> str:
    """A number of bytes as people read it: "812 B", "4.2 KB", ..., "1.5 GB"."""
    size = float(count)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _segments_of(entry: archive.Entry) -> list[tuple[str, str, int, float]]:
    """Id, persona, size and share of each segment in a snapshot's profiles.json."""
    from reportgen import archive

    path = entry.path / "profiles.json"
    try:
        return [
            (str(s["id"]), str(s.get("persona", "")), int(s["size"]), float(s["share"]))
            for s in archive.read_json(path)["segments"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); check the snapshot with: "
            f"reportgen archive verify {entry.period}"
        ) from None


# Every archive action loads the config first, even `list`, which needs none of it: a
# broken config is reported by every command, before anything else is read.


def _archive_list(args: argparse.Namespace, err: _Console) -> int:
    config.load(args.config)
    from reportgen import archive

    found = archive.entries(args.out, args.report)
    if not found:
        err.print(f"No snapshots under {args.out}")
        return 0
    _out(f"{'report':<24} {'period':<8} {'customers':>10} {'k':>3} {'created':<26} size")
    for entry in found:
        _out(_listing_line(entry))
    return 0


def _listing_line(entry: archive.Entry) -> str:
    """One snapshot in `archive list`: its customers, k, creation time and size."""
    if entry.damage is not None:
        return f"{entry.report:<24} {entry.period:<8} damaged: {entry.damage}"
    manifest = entry.manifest
    return (
        f"{entry.report:<24} {entry.period:<8} {manifest['input']['rows_out']:>10,} "
        f"{manifest['k']:>3} {manifest['created']:<26} {_size(entry.size)}"
    )


def _archive_show(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    from reportgen import archive

    entry = archive.find(args.out, args.report or cfg.report.slug, args.period)
    manifest = entry.manifest
    segments = _segments_of(entry)
    source = manifest["input"]
    _out(
        f"{entry.path}\ncreated {manifest['created']} by reportgen {manifest['reportgen_version']}"
    )
    _out(
        f"input {source['path']} (sha256 {source['sha256'][:16]}…), "
        f"{source['rows_in']:,} rows read, {source['rows_out']:,} customers"
    )
    _out(f"{manifest['k']} segments, seed {manifest['seed']}:")
    for ident, persona, size, share in segments:
        _out(f"  {ident}  {persona:<30} {size:>10,} customers  {share:6.1%}")
    _out("files:")
    for name, info in manifest["files"].items():
        _out(f"  {name:<18} {_size(int(info['bytes'])):>10}  sha256 {info['sha256'][:16]}…")
    return 0


def _archive_verify(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    from reportgen import archive

    slug = args.report or cfg.report.slug
    found = (
        [archive.find(args.out, slug, args.period)]
        if args.period
        else archive.entries(args.out, slug)
    )
    if not found:
        raise SnapshotError(f"no snapshots of {slug!r} under {args.out}")
    failed = 0
    for result in map(archive.verify, found):
        if result.ok:
            _out(f"ok      {result.entry.path}")
        else:
            failed += 1
            _out(f"FAILED  {result.entry.path}: {'; '.join(_problems(result))}")
    if failed:
        err.error(f"{failed} of {len(found)} snapshot(s) failed verification (listed above)")
        return EXIT_USER_ERROR
    return 0


def _problems(result: archive.Verification) -> list[str]:
    """What verification found wrong with a snapshot: an unusable manifest, then the
    files changed, missing and added."""
    problems = [result.damage] if result.damage else []
    problems += [
        f"{what}: {', '.join(files)}"
        for what, files in (
            ("changed", result.changed),
            ("missing", result.missing),
            ("added", result.added),
        )
        if files
    ]
    return problems


def _archive_prune(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    from reportgen import archive

    slug = args.report or cfg.report.slug
    keep = cfg.archive.keep
    if keep == 0:
        err.print("Nothing to prune: [archive] keep is 0, which keeps every period.")
        return 0
    with archive.report_lock(args.out, slug):
        doomed = archive.prunable(args.out, slug, keep)
        for entry in doomed:
            if args.yes:
                archive.remove(entry)
            _out(f"{'removed' if args.yes else 'would remove'} {entry.path}")
    if doomed and not args.yes:
        err.print(f"Dry run: pass --yes to remove these {len(doomed)} snapshot(s).")
    if doomed and args.yes:
        _refresh_index(args.out, slug, cfg, err)
    if not doomed:
        err.print(f"Nothing to prune: {slug!r} has at most {keep} period(s).")
    return 0


def _archive_index(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    from reportgen import archive, archive_index

    slug = args.report or cfg.report.slug
    if not archive.entries(args.out, slug):
        raise SnapshotError(f"no snapshots of {slug!r} under {args.out} to index")
    page = archive_index.render_index(args.out, slug, cfg)
    _out(str(archive.write_index(args.out, slug, page)))
    return 0


def _refresh_index(out: Path, slug: str, cfg: config.Config, err: _Console) -> None:
    """Rebuild the archive's index page after a command changed the archive. The page is
    a convenience built from the snapshots: failing to write it is a note, never the
    command's failure (the snapshot or delivery it follows did happen)."""
    from reportgen import archive, archive_index

    try:
        archive.write_index(out, slug, archive_index.render_index(out, slug, cfg))
    except Exception as exc:  # a bug of the page included: the command's work is done
        why = (
            _os_problem(exc)
            if isinstance(exc, OSError)
            else str(exc)
            if isinstance(exc, ReportgenError)
            else f"{type(exc).__name__}, a bug: please report it"
        )
        err.print(
            f"note: the archive index could not be updated ({terminal.one_line(why)}); "
            "rebuild it with: reportgen archive index"
        )


def _rerender(args: argparse.Namespace, err: _Console) -> int:
    cfg = config.load(args.config)
    from reportgen import pipeline

    progress = _Progress(err, show=err.is_terminal)  # its stages also stop on Ctrl-C/SIGTERM
    result = pipeline.rerender(
        args.out, args.report or cfg.report.slug, args.period, cfg, reporter=progress
    )
    _describe_report(result.brief.report, err)
    _out(str(result.snapshot.path))
    _refresh_index(args.out, args.report or cfg.report.slug, cfg, err)
    return 0


def _os_problem(exc: OSError) -> str:
    """An operating-system refusal in the user's words: where, and what the system said."""
    where = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name)
    reason = exc.strerror or str(exc)
    return f"{where}: {reason}" if where else reason


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status. An interrupt propagates, to __main__. A failed
    `run`, a bug included, is told to [email] notify_on_failure first (_notify_failure)."""
    if not sys.warnoptions:
        # A library's warning (scikit-learn's ConvergenceWarning on a handful of customers,
        # a deprecation) is addressed to a developer, and would break the promise that the
        # command prints only its own lines; `python -W` or PYTHONWARNINGS bring them back.
        warnings.simplefilter("ignore")
    args = _parser().parse_args(argv)
    handler: _Handler = args.handler
    err = _Console(stderr=True)
    try:
        _check_names(args)
        code = handler(args, err)
    except ReportgenError as exc:
        interrupt.check()  # the error is the interrupt's doing (a half import)
        err.error(exc)
        code = exc.exit_code
    except OSError as exc:  # the machine said no: a missing, unwritable or full place
        err.error(_os_problem(exc))
        code = EXIT_USER_ERROR
    except Exception as exc:  # a bug: told, then its traceback as ever (from __main__)
        _notify_failure(args, err, 1, exc)
        raise
    if code:
        _notify_failure(args, err, code)
    return code


def _notify_failure(
    args: argparse.Namespace, err: _Console, code: int, bug: Exception | None = None
) -> None:
    """Tell [email] notify_on_failure that `run` failed with `code`, so that a scheduled
    run's failure is heard without reading cron's mail. Only `run` tells, and not after an
    interrupt (whoever stopped it knows). The config is read again here, leaving `_run` as
    it is: one that cannot be read names no server and no addresses, so nothing is sent and
    nothing more is said (its own error line is already printed). A notice that cannot be
    sent is one more error line, and never changes the exit status."""
    if args.handler is not _run or interrupt.requested():
        return
    try:
        cfg = config.load(args.config)
    except Exception:  # the run's own error line says what is wrong with it
        return
    watchers = cfg.email.notify_on_failure
    if not watchers:
        return
    try:
        from reportgen import deliver

        failure = deliver.Failure(
            slug=cfg.report.slug,
            # As _run chose it; when it failed before choosing, as it would have.
            period=(getattr(args, "chosen", None) and args.chosen.period)
            or periods.choose(args.period, cfg.report.period, periods.today()).period,
            code=code,
            errors=() if bug else tuple(err.errors),
            bug=deliver.Bug.of(bug) if bug else None,
        )
        deliver.notify(cfg, failure)
    except Exception as exc:  # whatever goes wrong, the run's own outcome stands
        why = _os_problem(exc) if isinstance(exc, OSError) else str(exc)
        if not isinstance(exc, OSError | ReportgenError):  # a bug of the notice's own
            why = type(exc).__name__
        err.error(f"the failure notice could not be sent to {', '.join(watchers)}: {why}")
