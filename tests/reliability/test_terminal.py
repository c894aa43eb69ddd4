"""What the command prints is shown, never obeyed: one line per error, no raw control
or direction characters from data, file names or library messages."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportgen import cli, terminal
from tests.helpers import assert_user_error, run_cli

PERIOD = date.today().strftime("%Y-%m")
HOSTILE = [
    "\x1b[2J\x1b[31mcleared",  # ESC: clear the screen, recolour
    "right\u202eto left 31.4%",  # an unclosed right-to-left override
    "isolate\u2067x",
    "two\nlines",
    "carriage\rreturn",
    "bell\x07 and delete\x7f and C1\x9b",
    "line\u2028separator",
]


def _obeyed(text: str) -> list[str]:
    """Characters a terminal would act on rather than show."""
    return [
        ch
        for ch in text
        if (unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch not in "\t\n")
        or unicodedata.bidirectional(ch)
        in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
    ]


@given(st.text())
def test_safe_text_keeps_what_is_shown_and_escapes_what_would_be_obeyed(text):
    shown = terminal.safe(text)
    assert _obeyed(shown) == []
    assert shown == "".join(map(terminal.safe, text))  # character by character
    for ch in set(text):
        code = ord(ch)
        escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        assert terminal.safe(ch) == (escape if _obeyed(ch) else ch)
    line = terminal.one_line(text)
    assert _obeyed(line) == [] and "\n" not in line


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_name_in_an_error_is_escaped_on_one_line(tmp_path, name):
    result = run_cli("run", "--data", f"{name}.csv", "--quiet", cwd=tmp_path)
    line = assert_user_error(result, "file not found")
    assert _obeyed(result.stderr.removesuffix("\n")) == []
    assert terminal.one_line(name) in line


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--k", "1"], "argument --k: a segmentation needs at least 2 segments"),
        (["rnu"], "invalid choice: 'rnu'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["archive"], "the following arguments are required: ACTION"),
        (["run", "--as-of", "yesterday"], "expected a day such as 2026-11-30"),
        (["sample", "--rows", "99999999999999"], "expected at most 10,000,000"),
        (["sample", "--seed", "-1"], "expected a number from 0 to 4294967295, got -1"),
    ],
)
def test_a_usage_error_is_one_line_pointing_at_help(tmp_path, args, fragment):
    line = assert_user_error(run_cli(*args, cwd=tmp_path), fragment)
    assert line.endswith("--help)")


def test_a_refusal_of_the_machine_is_one_line_not_a_traceback(tmp_path):
    (tmp_path / "data.csv").write_text("id,spend\n1,2\n2,3\n")
    (tmp_path / "afile").write_text("x")
    result = run_cli("init", "--data", "data.csv", "--out", "afile/reportgen.toml", cwd=tmp_path)
    assert_user_error(result, "reportgen: error: afile: File exists")
    assert (tmp_path / "afile").read_text() == "x"


def test_progress_and_notes_show_data_escaped():
    console = cli._Console(stderr=True)
    with console.capture() as captured:
        console.print("Columns not used: a\x1b[2Jb, right\u202eleft, :smile: [bold]x[/bold]")
    assert captured.get() == (
        "Columns not used: a\\x1b[2Jb, right\\u202eleft, :smile: [bold]x[/bold]\n"
    )


def test_a_result_path_on_stdout_is_escaped(tmp_path):
    result = run_cli("run", "--out", "out\x1b[2J", "--k", "3", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"out\\x1b[2J/customer-segments/{PERIOD}\n"
