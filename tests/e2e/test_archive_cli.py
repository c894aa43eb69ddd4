"""The archive as a user manages it: list, show, verify, prune, and runs that are killed."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reportgen import interrupt
from reportgen.archive import write_snapshot
from tests.helpers import MANIFEST, assert_user_error, run_cli


def make(tmp_path, period, *extra):
    result = run_cli("run", "--period", period, "--quiet", "--k", "3", *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / result.stdout.strip()


def test_list_show_verify_and_prune(tmp_path):
    for period in ("2026-09", "2026-10", "2026-11"):
        make(tmp_path, period)
    listed = run_cli("archive", "list", cwd=tmp_path)
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()
    assert rows[0].split() == ["report", "period", "customers", "k", "created", "size"]
    assert [row.split()[:4] for row in rows[1:]] == [
        ["customer-segments", period, "2,000", "3"] for period in ("2026-09", "2026-10", "2026-11")
    ]

    shown = run_cli("archive", "show", "2026-10", cwd=tmp_path)
    assert shown.returncode == 0
    assert "3 segments, seed 42:" in shown.stdout and "report.pdf" in shown.stdout
    assert "Champions" in shown.stdout

    assert run_cli("archive", "verify", cwd=tmp_path).stdout.count("ok ") == 3
    folder = tmp_path / "output" / "customer-segments" / "2026-10"
    (folder / "report.pdf").write_bytes(b"not the report")
    (folder / "profiles.json").unlink()
    (folder / "notes.txt").write_text("added by hand")
    failed = run_cli("archive", "verify", cwd=tmp_path)
    assert_user_error(failed, "1 of 3 snapshot(s) failed verification")
    assert (
        "FAILED  output/customer-segments/2026-10: changed: report.pdf; missing: "
        "profiles.json; added: notes.txt"
    ) in failed.stdout
    assert failed.stdout.count("ok ") == 2
    assert run_cli("archive", "verify", "2026-11", cwd=tmp_path).returncode == 0

    (tmp_path / "reportgen.toml").write_text("[archive]\nkeep = 1\n")
    dry = run_cli("archive", "prune", cwd=tmp_path)
    assert dry.returncode == 0
    assert dry.stdout.splitlines() == [
        "would remove output/customer-segments/2026-09",
        "would remove output/customer-segments/2026-10",
    ]
    assert "Dry run: pass --yes" in dry.stderr
    assert len(list((tmp_path / "output" / "customer-segments").glob("2026-*"))) == 3
    done = run_cli("archive", "prune", "--yes", cwd=tmp_path)
    assert done.stdout.count("removed ") == 2
    assert [p.name for p in (tmp_path / "output" / "customer-segments").glob("2026-*")] == [
        "2026-11"
    ]


def test_show_of_a_missing_period_is_a_clear_error(tmp_path):
    _archived(tmp_path / "output", "2026-11")
    result = run_cli("archive", "show", "2026-01", cwd=tmp_path)
    assert_user_error(result, "periods archived for 'customer-segments': 2026-11")


def snapshot_state(root):
    return sorted(
        (p.relative_to(root).as_posix(), p.read_bytes() if p.is_file() else b"")
        for p in root.rglob("*")
        if p.name != ".lock"
    )


def start(folder: Path, *args: str | Path) -> subprocess.Popen[bytes]:
    """`reportgen run ARGS` as a real process, to be signalled."""
    return subprocess.Popen(
        [sys.executable, "-m", "reportgen", "run", *map(str, args)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> bool:
    """Poll `condition` every millisecond: True once it holds, False if `process` ended
    first."""
    deadline = time.monotonic() + 300
    while not condition():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.001)
    return True


def working(folder: Path, process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """The run has begun its stages: it holds the report's lock, whose file names its pid
    (the lock is taken once the command has started and checked its arguments)."""
    lock = folder / "output" / "customer-segments" / ".lock"
    return lambda: lock.is_file() and lock.read_text().startswith(f"pid {process.pid}\n")


def test_a_run_killed_at_any_moment_leaves_the_archive_as_it_was(tmp_path):
    # A first run, watched: how long its stages take once it holds the report's lock.
    first = start(tmp_path, "--period", "2026-10", "--quiet", "--k", "3")
    assert wait_for(working(tmp_path, first), first)
    began = time.monotonic()
    assert first.wait(timeout=300) == 0
    work = time.monotonic() - began
    earlier = tmp_path / "output" / "customer-segments" / "2026-10"
    before = snapshot_state(tmp_path / "output")
    mid_run = 0
    # Killed as its stages begin, a quarter and half way through them, and the moment its
    # temporary folder appears (writing the snapshot): the first three land mid-run unless
    # the machine got twice as fast since the first run, the last one just before or
    # just after the atomic rename.
    for moment in (0.0, 0.25, 0.5, "writing"):
        reports = tmp_path / "output" / "customer-segments"
        stale = set(reports.glob(".tmp-*"))  # left by an earlier kill, removed by this run
        process = start(tmp_path, "--period", "2026-10", "--force", "--quiet", "--k", "4")
        if moment == "writing":
            wait_for(lambda: bool(set(reports.glob(".tmp-*")) - stale), process)  # noqa: B023
        elif wait_for(working(tmp_path, process), process):
            time.sleep(moment * work)
        process.kill()
        process.wait()
        left = snapshot_state(tmp_path / "output")
        leftovers = [name for name, _ in left if "/.tmp-" in f"/{name}" or "/.old-" in f"/{name}"]
        complete = [
            entry for entry in left if not any(entry[0].startswith(prefix) for prefix in leftovers)
        ]
        if complete == before:  # the earlier snapshot, byte for byte
            mid_run += process.returncode == -signal.SIGKILL
        else:  # the kill came after the atomic rename (or never): the new one must be whole
            assert run_cli("archive", "verify", cwd=tmp_path).returncode == 0, moment
            assert {name.rsplit("/", 1)[-1] for name, _ in complete} >= {
                "manifest.json",
                "report.pdf",
                "assignments.csv",
            }
            before = complete
    assert mid_run >= 3  # the kills landed mid-run, or this test proved little
    assert run_cli("archive", "verify", cwd=tmp_path).returncode == 0
    # The next run cleans what the killed ones left behind.
    make(tmp_path, "2026-11")
    assert not list((tmp_path / "output" / "customer-segments").glob(".tmp-*"))
    assert not list((tmp_path / "output" / "customer-segments").glob(".old-*"))
    assert (earlier / "manifest.json").is_file()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """150,000 customers: they keep a run busy well past the moment of an interrupt."""
    folder = tmp_path_factory.mktemp("big")
    made = run_cli("sample", "--rows", "150000", "--out", "big.csv", cwd=folder)
    assert made.returncode == 0, made.stderr
    return folder / "big.csv"


@pytest.mark.parametrize(
    ("delay", "signum"),
    [  # starting, importing, working; a scheduler's SIGTERM while importing and working
        (0.1, signal.SIGINT),
        (0.3, signal.SIGINT),
        (1.0, signal.SIGINT),
        ("working", signal.SIGINT),
        (0.3, signal.SIGTERM),
        ("working", signal.SIGTERM),
    ],
)
def test_interrupt_with_ctrl_c_or_sigterm_writes_nothing(tmp_path, big, delay, signum):
    process = subprocess.Popen(
        [sys.executable, "-m", "reportgen", "run", "--period", "2026-10", "--data", big],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if delay == "working":  # its stages have begun: the run holds the report's lock
        assert wait_for(working(tmp_path, process), process)
    else:
        time.sleep(delay)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines() == [interrupt.MESSAGE]
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["archive", "prune", "--yes"],
        ["archive", "verify"],
        ["archive", "list"],
        ["archive", "show", "2026-11"],
        ["rerender", "2026-11"],
        ["send", "2026-11", "--dry-run"],
    ],
)
@pytest.mark.parametrize("report", ["../elsewhere", "ok\n"])
def test_every_command_refuses_a_report_name_that_leaves_the_output_folder(
    tmp_path, command, report
):
    # A snapshot beside the output folder that a '../elsewhere' name would reach.
    outside = tmp_path / "elsewhere" / "2026-11"
    outside.mkdir(parents=True)
    (outside / "manifest.json").write_text("{}")
    work = tmp_path / "work"
    work.mkdir()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run_cli(*command, "--report", report, cwd=work)
    line = assert_user_error(result, "is not a valid slug")
    assert line.startswith("reportgen: error: --report ")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("period", ["2026-11\n", "２０２６-11"])
def test_every_command_refuses_a_period_that_is_not_a_plain_month(tmp_path, period):
    for command in (["run", "--period", period], ["rerender", period], ["send", period]):
        result = run_cli(*command, cwd=tmp_path)
        line = assert_user_error(result, "is neither a month in the form YYYY-MM")
        assert line.startswith("reportgen: error: period ")
    assert sorted(tmp_path.iterdir()) == []


def _archived(out: Path, period: str) -> Path:
    """A snapshot as the archive commands read it, written without a run."""
    profiles = {"segments": [{"id": "S1", "persona": "Champions", "size": 10, "share": 1.0}]}
    folder = out / "customer-segments" / period
    write_snapshot(folder, {"profiles.json": json.dumps(profiles).encode()}, MANIFEST, False)
    return folder


@pytest.mark.parametrize("damage", ["[]", '{"files": {"../x": 1}}'])  # 12 shapes: unit tests
def test_a_damaged_manifest_gives_one_line_errors_never_a_traceback(tmp_path, damage):
    _archived(tmp_path / "output", "2026-10")
    (_archived(tmp_path / "output", "2026-11") / "manifest.json").write_text(damage)
    listed = run_cli("archive", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "2026-10" in listed.stdout
    assert "2026-11  damaged: " in listed.stdout
    assert_user_error(run_cli("archive", "show", "2026-11", cwd=tmp_path), "manifest.json")
    assert run_cli("archive", "show", "2026-10", cwd=tmp_path).returncode == 0
    checked = run_cli("archive", "verify", cwd=tmp_path)
    assert_user_error(checked, "1 of 2 snapshot(s) failed verification")
    assert "FAILED  output/customer-segments/2026-11: " in checked.stdout
    assert_user_error(run_cli("archive", "verify", "2026-11", cwd=tmp_path), "manifest.json")


def test_prune_meeting_a_linked_period_stops_before_removing_anything(tmp_path):
    out = tmp_path / "output"
    elsewhere = _archived(tmp_path / "elsewhere", "2026-01")
    for period in ("2026-08", "2026-10", "2026-11"):
        _archived(out, period)
    (out / "customer-segments" / "2026-09").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "reportgen.toml").write_text("[archive]\nkeep = 1\n")
    before = [p.relative_to(tmp_path) for p in tmp_path.rglob("*")]
    pruned = run_cli("archive", "prune", "--yes", cwd=tmp_path)
    assert_user_error(pruned, "2026-09 is a link to", "nothing was removed")
    lock = Path("output/customer-segments/.lock")  # taken for the prune, and harmless
    assert [p.relative_to(tmp_path) for p in sorted(tmp_path.rglob("*"))] == sorted([*before, lock])


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    made = run_cli("run", "--out", "afile/sub", "--quiet", cwd=tmp_path)
    assert_user_error(made, "output folder afile/sub/customer-segments cannot be created")
    assert (tmp_path / "afile").read_text() == "x"


def test_a_record_that_is_a_device_or_a_deliveries_link_is_one_line(tmp_path):
    folder = _archived(tmp_path / "output", "2026-11")
    (folder / "profiles.json").unlink()
    (folder / "profiles.json").symlink_to("/dev/zero")
    shown = run_cli("archive", "show", "2026-11", cwd=tmp_path, timeout=30)
    assert_user_error(shown, "profiles.json is not a regular file")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sent = _archived(tmp_path / "output", "2026-10")
    (sent / "deliveries").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "reportgen.toml").write_text('[email]\nto = "ann@example.com"\n')
    result = run_cli("send", "2026-10", "--dry-run", cwd=tmp_path, timeout=30)
    assert_user_error(result, "deliveries is a link")
    assert list(elsewhere.iterdir()) == []
