"""The command as a user meets it when something is off (issue #15): checks in the order
the user reads the command, a "did you mean" for a slip of the keyboard, one error
prefix, Ctrl-C at any moment of start-up, and every message once."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from reportgen import interrupt
from reportgen.resources import sample_data_path
from tests.helpers import REAL_DATA, assert_user_error, needs_real_data, run_cli

PERIOD = "2026-11"
CONSOLE_SCRIPT = Path(sys.executable).parent / "reportgen"

# --- every input is checked before the output folder ------------------------------------

INPUT_PROBLEMS = {  # name: (config, --data, the error's words)
    "missing data": ("", "nosuch.csv", "reportgen: error: nosuch.csv: file not found"),
    "unknown type": ("", "notes.md", "unknown file type '.md'"),
    "data is a folder": ("", "folder.csv", "folder.csv: is a folder, not a file"),
    "data is a device": ("", "zero.csv", "zero.csv: not a regular file"),
    "data over the limit": ("[data]\nmax_file_mb = 0.001\n", None, "is over the limit"),
    "no order log": ('[data]\nkind = "transactions"\n', "logs/*.csv", "no .csv or .parquet"),
    "missing logo": ('[report]\nlogo = "logo.png"\n', None, "logo.png does not exist"),
    "missing personas": ('[report]\npersonas = "p.yaml"\n', None, "p.yaml does not exist"),
    "missing templates": ('[report]\ntemplates = "tpl"\n', None, "tpl is not a folder"),
    "config with a bad key": ("[report]\nnope = 1\n", None, "[report] nope"),
}
OUTPUT_PROBLEMS = {  # name: (--out, how to make it, the error's words)
    "snapshot exists": ("output", "snapshot", f"customer-segments/{PERIOD} already exists"),
    "out is a file": ("taken", "file", "output folder taken is a file, not a folder"),
}


def _make_output_problem(folder: Path, out: str, kind: str) -> None:
    if kind == "snapshot":
        (folder / out / "customer-segments" / PERIOD).mkdir(parents=True)
    else:
        (folder / out).write_text("a file where the output folder should be")


def _state(folder: Path) -> list[tuple[str, bytes]]:
    return sorted(
        (p.relative_to(folder).as_posix(), p.read_bytes() if p.is_file() else b"")
        for p in folder.rglob("*")
        if not p.is_symlink()
    )


@pytest.mark.parametrize("output", OUTPUT_PROBLEMS)
@pytest.mark.parametrize("problem", INPUT_PROBLEMS)
def test_an_input_problem_is_reported_before_an_output_conflict(tmp_path, problem, output):
    config, data, words = INPUT_PROBLEMS[problem]
    out, kind, _ = OUTPUT_PROBLEMS[output]
    (tmp_path / "notes.md").write_text("not a table")
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    (tmp_path / "reportgen.toml").write_text(config)
    _make_output_problem(tmp_path, out, kind)
    before = _state(tmp_path)
    data_args = ("--data", data) if data else ()
    result = run_cli("run", *data_args, "--period", PERIOD, "--out", out, cwd=tmp_path)
    assert_user_error(result, words)
    assert _state(tmp_path) == before


@pytest.mark.parametrize("output", OUTPUT_PROBLEMS)
def test_with_every_input_fine_the_output_conflict_is_reported(tmp_path, output):
    out, kind, words = OUTPUT_PROBLEMS[output]
    _make_output_problem(tmp_path, out, kind)
    result = run_cli("run", "--period", PERIOD, "--out", out, cwd=tmp_path)
    assert_user_error(result, words)


def test_init_reports_missing_data_before_an_existing_config(tmp_path):
    (tmp_path / "reportgen.toml").write_text("# mine\n")
    missing = run_cli("init", "--data", "nosuch.csv", cwd=tmp_path)
    assert_user_error(missing, "reportgen: error: nosuch.csv: file not found")
    present = run_cli("init", "--data", sample_data_path(), cwd=tmp_path)
    assert_user_error(present, "reportgen.toml already exists; pass --force to overwrite it")
    assert (tmp_path / "reportgen.toml").read_text() == "# mine\n"


# --- did you mean ---------------------------------------------------------------------------


MISTYPED = [  # the arguments, and the one line on stderr after "reportgen: error: "
    (
        ["rnu"],
        "argument COMMAND: invalid choice: 'rnu' (choose from 'run', 'init', 'validate', "
        "'archive', 'rerender', 'send', 'assign', 'sample'); did you mean 'run'? "
        "(see: reportgen --help)",
    ),
    (
        ["archive", "lst"],
        "argument ACTION: invalid choice: 'lst' (choose from 'list', 'show', 'verify', "
        "'prune', 'index'); did you mean 'list'? (see: reportgen archive --help)",
    ),
    (
        ["run", "--perod", PERIOD],
        f"unrecognized arguments: --perod {PERIOD}; did you mean '--period'? "
        "(see: reportgen run --help)",
    ),
    (
        ["run", f"--perod={PERIOD}", "--forse"],
        f"unrecognized arguments: --perod={PERIOD} --forse; did you mean '--period' for "
        "'--perod', '--force' for '--forse'? (see: reportgen run --help)",
    ),
    (
        ["send", "--dryrun"],
        "unrecognized arguments: --dryrun; did you mean '--dry-run'? (see: reportgen send --help)",
    ),
    (
        ["archive", "prune", "--yse"],
        "unrecognized arguments: --yse; did you mean '--yes'? "
        "(see: reportgen archive prune --help)",
    ),
    (["run", "--zzzz"], "unrecognized arguments: --zzzz (see: reportgen run --help)"),
    (
        ["xyzzy"],
        "argument COMMAND: invalid choice: 'xyzzy' (choose from 'run', 'init', 'validate', "
        "'archive', 'rerender', 'send', 'assign', 'sample') (see: reportgen --help)",
    ),
]


def _ids(cases: list[tuple[list[str], object]]) -> list[str]:
    return [" ".join(args) or "(nothing)" for args, _ in cases]


@pytest.mark.parametrize(("args", "line"), MISTYPED, ids=_ids(MISTYPED))
def test_a_mistyped_command_or_option_gets_the_closest_one(tmp_path, args, line):
    result = run_cli(*args, cwd=tmp_path)
    assert assert_user_error(result) == f"reportgen: error: {line}"


# --- one error prefix -----------------------------------------------------------------------

BAD_ARGUMENTS = [  # the arguments, and whose --help a usage error points at (None: ours)
    ([], "reportgen"),
    (["--bogus", "run"], "reportgen"),
    (["run", "--k", "1"], "reportgen run"),
    (["run", "--k"], "reportgen run"),
    (["run", "--as-of", "yesterday"], "reportgen run"),
    (["run", "--quiet", "--verbose"], "reportgen run"),
    (["run", "extra"], "reportgen run"),
    (["run", "--period", "2026-13"], None),
    (["run", "--config", "nosuch.toml"], None),
    (["init"], "reportgen init"),
    (["init", "--data", "x.csv", "--bogus"], "reportgen init"),
    (["validate", "--config"], "reportgen validate"),
    (["validate", "--date", "x.csv"], "reportgen validate"),
    (["validate", "--data", "nosuch.csv"], None),
    (["archive"], "reportgen archive"),
    (["archive", "list", "--bogus"], "reportgen archive list"),
    (["archive", "show"], "reportgen archive show"),
    (["archive", "verify", PERIOD, "extra"], "reportgen archive verify"),
    (["archive", "prune", "--report", "../x"], None),
    (["rerender"], "reportgen rerender"),
    (["rerender", PERIOD, "--bogus"], "reportgen rerender"),
    (["rerender", "2026-13"], None),
    (["send", "--bogus"], "reportgen send"),
    (["send", PERIOD, "extra"], "reportgen send"),
    (["sample", "--rows", "0"], "reportgen sample"),
    (["sample", "--seed", "x"], "reportgen sample"),
    (["sample", "extra"], "reportgen sample"),
]


@pytest.mark.parametrize(("args", "help_of"), BAD_ARGUMENTS, ids=_ids(BAD_ARGUMENTS))
def test_every_error_has_the_one_prefix_and_exit_2(tmp_path, args, help_of):
    """argparse's errors (unknown, missing or malformed arguments, of every subcommand)
    and reportgen's own: one line, one prefix, exit 2, nothing written; a usage error
    points at the --help of the (sub)command whose options were mistyped."""
    line = assert_user_error(run_cli(*args, cwd=tmp_path))  # "reportgen: error: ", exit 2
    if help_of is None:  # our own check: what is wrong, without the usage hint
        assert "--help)" not in line
    else:
        assert line.endswith(f" (see: {help_of} --help)")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- Ctrl-C at any moment of start-up -------------------------------------------------------

DELAYS_MS = (0, 5, 10, 20, 40, 80, 160, 320, 640, 1280)
"""Counted from the moment reportgen's handler is in place: the rest of its own start-up,
then the CLI's imports (pandas, scikit-learn, WeasyPrint: 1.5 s and more), all well
before a run of the bundled sample ends (4 s and more). Ctrl-C during the stages is
tests/e2e/test_archive_cli.py's."""


def _catches_sigterm(pid: int) -> bool:
    """The process has reportgen's handler: Python alone leaves SIGTERM at its default,
    and reportgen installs one handler for SIGINT and SIGTERM together."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(CONSOLE_SCRIPT)], id="console script"),
        pytest.param([sys.executable, "-m", "reportgen"], id="python -m"),
    ],
)
def test_ctrl_c_at_any_moment_of_start_up_is_one_line_and_130(tmp_path, command):
    # Before the handler is installed the interpreter itself is starting (and the console
    # script imports `re`): no code of reportgen's runs yet, so the clock starts there.
    if not Path(command[0]).is_file():
        pytest.skip(f"{command[0]} is not installed")
    outcomes = {}
    for delay in DELAYS_MS:
        folder = tmp_path / str(delay)
        folder.mkdir()
        process = subprocess.Popen(
            [*command, "run", "--period", PERIOD],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not _catches_sigterm(process.pid):
            assert time.monotonic() < deadline, "the handler was never installed"
            time.sleep(0.0005)
        time.sleep(delay / 1000)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        outcomes[delay] = (process.returncode, stdout, stderr, sorted(folder.iterdir()))
    interrupted = (130, "", interrupt.MESSAGE + "\n", [])
    assert {d: o for d, o in outcomes.items() if o != interrupted} == {}


def test_nothing_is_imported_before_the_handler():
    """What Ctrl-C could interrupt without reportgen's handler, as the console script runs."""
    probe = (
        "import re, signal, sys\n"  # what the console script imports before reportgen
        "early = []\n"
        "def hook(event, args):\n"
        "    if event == 'import' and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:\n"
        "        early.append(args[0])\n"
        "sys.addaudithook(hook)\n"
        "from reportgen.__main__ import main\n"
        "print(' '.join(early))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [
        "reportgen.__main__",
        "reportgen",
        "reportgen.interrupt",
        "__future__",
    ]


# --- every message once ---------------------------------------------------------------------


def _order_log(folder: Path) -> list[str]:
    made = run_cli("sample", "--orders", "--rows", "300", "--out", "orders.parquet", cwd=folder)
    assert made.returncode == 0, made.stderr
    (folder / "reportgen.toml").write_text('[data]\nkind = "transactions"\n')
    return ["--data", "orders.parquet", "--as-of", "2026-11-01"]


def _repeated_layout_problem(folder: Path) -> list[str]:
    """A custom report template with an unknown CSS property on two elements: WeasyPrint
    warns once for each."""
    (folder / "mine").mkdir()
    (folder / "mine" / "report.html.j2").write_text(
        '<html lang="en"><head><title>t</title></head><body>'
        '<p style="colour: red">a</p><p style="colour: red">b</p></body></html>\n'
    )
    (folder / "reportgen.toml").write_text('[report]\ntemplates = "mine"\n')
    return []


@pytest.mark.parametrize(
    "prepare",
    [
        pytest.param(lambda folder: [], id="bundled sample"),
        pytest.param(_order_log, id="order log"),
        pytest.param(
            lambda folder: ["--data", str(REAL_DATA)], id="real data", marks=needs_real_data
        ),
        pytest.param(_repeated_layout_problem, id="a layout problem met twice"),
    ],
)
def test_no_line_of_a_run_is_printed_twice(tmp_path, prepare):
    result = run_cli("run", "--period", PERIOD, *prepare(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert {line: n for line, n in Counter(lines).items() if n > 1} == {}
    assert len(lines) >= 4  # roles or order lines, fixes, segments, the snapshot's path


def test_each_unused_column_is_named_once(tmp_path):
    (tmp_path / "shop.csv").write_text(
        "Client Ref,Revenue,Orders,Comment,Signup Date\n"
        + "".join(
            f"c{i},{100 + 50 * (i % 4)},{1 + i % 4},x,2024-01-0{1 + i % 9}\n" for i in range(40)
        )
    )
    expected = [
        "Columns matched by name: customer_id ← 'Client Ref', spend ← 'Revenue', "
        "frequency ← 'Orders'",
        "Columns not used: 'Comment'",
        "Columns holding dates, not used: 'Signup Date' (recency and tenure need a number of days)",
    ]
    initialised = run_cli("init", "--data", "shop.csv", "--out", "shop.toml", cwd=tmp_path)
    assert initialised.returncode == 0, initialised.stderr
    assert initialised.stderr.splitlines() == [
        *expected,
        "Wrote shop.toml: review the [columns] table, then run `reportgen run`.",
    ]
    checked = run_cli("validate", "--data", "shop.csv", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.splitlines() == expected
