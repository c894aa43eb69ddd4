"""Promise 2, the limits: input that would take gigabytes or minutes is refused in a
moment, in one line, before a parser allocates anything for it; and an error found late,
deep in an order log, is one line too.

Reads that could exhaust the machine run in a child process under a 1.5 GB address-space
limit, which also reports its peak memory, so a broken protection fails the test (slow,
large, or a MemoryError) instead of taking the machine down.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reportgen import config, fsutil, render, resources, templating, yamlfile
from reportgen.charts import _Wording
from reportgen.errors import ConfigError, InputError
from reportgen.formatting import Formatter
from reportgen.ingest import read_table
from reportgen.personas import load_library
from tests.helpers import REPO, assert_user_error, run_cli, unreadable

_MEASURE = """
import json, resource, sys, time
limit = int(1.5 * 1024**3)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from pathlib import Path
from reportgen.config import DataSettings, OrderSettings
from reportgen.errors import ReportgenError
from reportgen.ingest import read_table
from reportgen.orders import read_orders
kind, path = sys.argv[1], Path(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    if kind == "table":
        read_table(path)
    else:
        read_orders(path, OrderSettings(), DataSettings())
    error = None
except (ReportgenError, MemoryError) as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({
    "error": error,
    "seconds": time.perf_counter() - start,
    "grew_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
}))
"""


def measured(kind: str, path: Path) -> dict:
    """Read `path` as a customer table or an order log in a fresh, memory-capped process:
    the error it gave, the seconds the read took, and how far its peak memory grew."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_refused_at_once(result: dict, *fragments: str) -> None:
    assert result["error"] is not None and result["error"].startswith("InputError: "), result
    assert "\n" not in result["error"]
    for fragment in fragments:
        assert fragment in result["error"], (fragment, result["error"])
    assert result["seconds"] < 3, result
    assert result["grew_mb"] < 150, result


def wide_csv(columns: int, width: int = 0, rows: int = 1) -> bytes:
    """A table of `columns` names (padded to `width` characters) and `rows` rows."""
    names = [f"c{i}".ljust(width, "_") for i in range(columns)]
    return (",".join(names) + "\n" + (",".join(["1"] * columns) + "\n") * rows).encode()


@pytest.mark.parametrize(
    ("columns", "width", "rows"),
    [
        (100_000, 0, 1),
        # 994 KB of header whose first 64 KB hold 936 names: only those were counted, and
        # pandas parsed the rest.
        (14_000, 70, 300),
    ],
    ids=["100000-columns", "header-past-the-64-KB-sample"],
)
def test_a_csv_header_of_thousands_of_columns_is_refused_at_once(tmp_path, columns, width, rows):
    path = tmp_path / "wide.csv"
    path.write_bytes(wide_csv(columns, width, rows))
    assert_refused_at_once(
        measured("table", path),
        f"wide.csv: {columns:,} columns is over the limit of [data] max_columns = 1000",
    )


def far_cell(tmp_path: Path, cell: str) -> Path:
    """A tiny workbook: a two-column table, and one value far away at `cell`."""
    path = tmp_path / "far.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["A2"], sheet["B2"] = "id", "spend", "1", 10
    sheet[cell] = 1
    book.save(path)
    assert path.stat().st_size < 20_000
    return path


_HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>spend</t></is></c></row>'
)


def workbook(tmp_path: Path, rows: str) -> Path:
    """A workbook whose first sheet is written by hand: a header row, then `rows`, under
    a <dimension> that claims A1:B2 whatever the rows say."""
    book = io.BytesIO()
    pd.DataFrame({"id": ["a"], "spend": [1]}).to_excel(book, index=False)
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:B2"/><sheetData>{_HEADER}{rows}</sheetData></worksheet>'
    )
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            out.writestr(item, sheet if item.filename == "xl/worksheets/sheet1.xml" else data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (  # pandas pads a million rows to 16,384 columns for it: over 5 GB
            lambda folder: far_cell(folder, "XFD1048576"),
            "far.xlsx: 16,384 columns is over the limit of [data] max_columns = 1000",
        ),
        (  # within max_columns, but a million rows padded to 1,000 columns: 8 GB
            lambda folder: far_cell(folder, "ALL1048576"),
            "far.xlsx: the first sheet reaches row 1,048,576 and column 1,000, 1,048,576,000 "
            "cells with the empty ones, over the 67,108,864 that [data] max_file_mb = 2048 "
            "allows (32 bytes a cell)",
        ),
        (  # openpyxl yields every row up to it, and pandas keeps each
            lambda folder: workbook(
                folder, '<row r="2"><c r="A2"><v>1</v></c></row><row r="9e9"/>'
            ),
            "hand.xlsx: the first sheet has a row numbered 9,000,000,000, past Excel's last row "
            "(1,048,576); is the workbook damaged?",
        ),
    ],
    ids=["XFD1048576", "ALL1048576", "row-9e9"],
)
def test_a_tiny_workbook_that_would_take_gigabytes_is_refused_at_once(tmp_path, make, message):
    assert_refused_at_once(measured("table", make(tmp_path)), message)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (  # cells without a reference follow the one before: 1,001 valued columns
            '<row r="2"><c r="A2"><v>1</v></c>' + "<c><v>1</v></c>" * 1000 + "</row>",
            "1,001 columns is over the limit of [data] max_columns = 1000",
        ),
        (  # rows without a number follow the one before
            '<row r="1048576"><c r="A1048576"><v>1</v></c></row><row><c><v>1</v></c></row>',
            "the first sheet has a row numbered 1,048,577, past Excel's last row (1,048,576)",
        ),
        (  # openpyxl holds a row whole: 16,385 cells, all in A2
            '<row r="2">' + '<c r="A2"/>' * 16_385 + "</row>",
            "row 2 of the first sheet holds more than 16,384 cells, more than Excel allows",
        ),
    ],
    ids=["unnumbered-cells", "unnumbered-rows", "crowded-row"],
)
def test_a_workbook_is_measured_where_openpyxl_puts_its_cells(tmp_path, rows, message):
    path = workbook(tmp_path, rows)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_empty_formatted_cells_far_away_are_not_counted(tmp_path):
    # Formatting a range leaves styled cells without values: pandas trims them, so they
    # are no reason to refuse a workbook.
    path = workbook(
        tmp_path,
        '<row r="2"><c r="A2"><v>7</v></c><c r="B2"><v>1</v></c><c r="XFD2" s="0"/></row>'
        '<row r="3"><c r="ALL3" s="0"/></row>',
    )
    table = read_table(path)
    assert table.frame.shape == (1, 2) and table.frame["spend"].tolist() == [1]


def test_a_workbook_is_measured_unpacked(tmp_path):
    path = workbook(tmp_path, "<row><c><v>1</v></c></row>" * 50_000)  # 1.3 MB of XML
    assert path.stat().st_size < 0.1 * 1024 * 1024  # within the limit as a file
    with pytest.raises(InputError) as caught:
        read_table(path, max_mb=0.1)
    assert str(caught.value).startswith(
        f"{path}: the workbook unpacks to 1 MB, over the limit of [data] max_file_mb = 0.1"
    )


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_an_order_log_of_thousands_of_columns_is_refused_before_duckdb_reads_it(tmp_path, kind):
    # Order logs had no column limit: DuckDB took 1.4 GB for 5,000 columns.
    path = tmp_path / f"orders.{kind}"
    if kind == "csv":
        path.write_bytes(wide_csv(5_000))
    else:
        pd.DataFrame({f"c{i}": [1.0] for i in range(5_000)}).to_parquet(path)
    assert_refused_at_once(
        measured("orders", path),
        f"orders.{kind}: 5,000 columns is over the limit of [data] max_columns = 1000",
    )


LAUGHS = """lol: &lol [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
lol2: &lol2 [*lol, *lol, *lol, *lol, *lol, *lol, *lol, *lol, *lol, *lol]
lol3: &lol3 [*lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2]
lol4: &lol4 [*lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3]
lol5: &lol5 [*lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4]
lol6: &lol6 [*lol5, *lol5, *lol5, *lol5, *lol5, *lol5, *lol5, *lol5, *lol5, *lol5]
personas:
- key: a
  name: A
  asserts: {spend: high}
  description: They spend a lot.
  recommendations: [*lol6, *lol6, *lol6, *lol6, *lol6, *lol6, *lol6, *lol6, *lol6, *lol6]
traits: {}
"""
"""Ten million laughs in 900 bytes (the reported file had a billion: 56 s, 3.25 GB, and a
traceback that spelled them out)."""


@pytest.mark.parametrize("what", ["persona library", "chart wording"])
def test_a_yaml_alias_bomb_is_refused_at_once_in_one_short_line(tmp_path, what):
    path = tmp_path / "wording.yaml"
    path.write_text(LAUGHS)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        if what == "persona library":
            load_library(path, Formatter())
        else:
            _Wording(path, Formatter())
    assert time.perf_counter() - start < 1
    message = str(caught.value)
    assert message == (
        f"{what} {path} is not valid YAML: anchors and aliases (&lol, *lol) are not allowed; "
        "write the value out where it is used (line 1, column 6)"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("personas:\n  - key: a\n    name: [unclosed\n", "(line 4, column 1)"),
        ("personas:\n- key: a\n\tname: b\n", "(line 3, column 1)"),
        ("personas: [a\nb: c", "(line 2, column 2)"),
    ],
)
def test_a_yaml_syntax_error_is_one_line_with_its_place(tmp_path, text, where):
    path = tmp_path / "personas.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_library(path, Formatter())
    message = str(caught.value)
    assert message.startswith(f"persona library {path} is not valid YAML: ")
    assert message.endswith(where) and "\n" not in message


def _late_utf8_error(folder: Path) -> tuple[str, str]:
    # DuckDB sniffs the first 20,480 lines; the bad byte comes after them.
    lines = [f"O{i},C{i % 50},2026-10-{1 + i % 28:02d},1,{10 + i % 7}" for i in range(30_000)]
    data = "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n" + "\n".join(lines) + "\n"
    (folder / "orders.csv").write_bytes(data.encode() + b"O9,C\xff1,2026-10-02,1,5\n")
    return "orders.csv", "orders.csv: cannot be read as an order log: "


def _epoch_out_of_range(folder: Path) -> tuple[str, str]:
    days = [1_790_000_000 + i * 86_400 for i in range(49)] + [9 * 10**18]
    pd.DataFrame(
        {"CustomerID": [f"C{i % 7}" for i in range(50)], "InvoiceDate": days, "Amount": 10.0}
    ).to_parquet(folder / "orders.parquet")
    return "orders.parquet", "orders.parquet: cannot be read as an order log: "


def _unknown_date_directive(folder: Path) -> tuple[str, str]:
    lines = [f"O{i},C{i % 7},2026-10-{1 + i % 28:02d},{10 + i}" for i in range(50)]
    (folder / "orders.csv").write_text(
        "InvoiceNo,CustomerID,InvoiceDate,Amount\n" + "\n".join(lines)
    )
    (folder / "reportgen.toml").write_text(
        '[data]\nkind = "transactions"\ndate_format = "%Y-%m-%Q"\n'
    )
    return "orders.csv", "config [data] date_format: '%Y-%m-%Q' has '%Q', which is not a date"


@pytest.mark.parametrize(
    "make",
    [_late_utf8_error, _epoch_out_of_range, _unknown_date_directive],
    ids=["invalid-utf8-after-the-sniffed-lines", "epoch-out-of-range", "unknown-directive"],
)
def test_an_order_log_error_found_late_is_one_line_and_writes_nothing(tmp_path, make):
    (tmp_path / "reportgen.toml").write_text('[data]\nkind = "transactions"\n')
    name, message = make(tmp_path)
    result = run_cli("run", "--data", name, "--period", "2026-11", cwd=tmp_path)
    assert_user_error(result, message)
    assert not (tmp_path / "output").exists()


# --- the small files read beside the data: config, wording, logo ---------------------------


READERS = {
    "config": lambda path: config.load(path),
    "persona library": lambda path: load_library(path, Formatter()),
    "chart wording": lambda path: _Wording(path, Formatter()),
    "logo": lambda path: render._logo(path),
}


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_config_wording_or_logo_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path, reader, kind
):
    path = tmp_path / {"logo": "logo.png", "config": "r.toml"}.get(reader, "w.yaml")
    unreadable(path, kind)
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"is not a regular file \(a folder, pipe or device\)"):
        READERS[reader](path)
    assert time.perf_counter() - start < 1


def test_a_config_or_wording_far_larger_than_any_real_one_is_refused(tmp_path):
    path = tmp_path / "r.toml"
    path.write_bytes(b"# " + b"x" * (fsutil.SMALL_FILE_MB * 1024 * 1024) + b"\n")
    with pytest.raises(ConfigError, match=r"r.toml is over 16 MB; is it the right file\?"):
        config.load(path)


def test_a_wording_file_in_the_templates_folder_is_never_passed_over_silently(tmp_path):
    (tmp_path / "charts.yaml").symlink_to("/dev/zero")
    assert resources.find_template("charts.yaml", tmp_path) == tmp_path / "charts.yaml"


def test_the_config_given_as_a_pipe_is_one_line_from_the_command(tmp_path):
    os.mkfifo(tmp_path / "r.toml")
    result = run_cli("validate", "--config", "r.toml", cwd=tmp_path, timeout=30)
    assert_user_error(result, "config file r.toml is not a regular file")


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("r.toml", "drivers = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("r.toml", "[segmentation]\nk = " + "9" * 5_000 + "\n", "digits"),
        ("w.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("w.yaml", "a: " + "9" * 100_000 + "\n", "digits"),
    ],
    ids=["toml-deep", "toml-digits", "yaml-deep", "yaml-digits"],
)
def test_nesting_and_numbers_past_the_parser_are_one_line(tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        config.load(path) if name.endswith(".toml") else yamlfile.load(path, "chart wording")
    message = str(caught.value)
    assert problem in message and "\n" not in message and len(message) < 400


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_template_that_is_not_a_regular_file_is_refused_not_passed_over(tmp_path, kind):
    folder = tmp_path / "mine"
    folder.mkdir()
    unreadable(folder / "report.html.j2", kind)
    settings = config.parse({"report": {"templates": str(folder)}})
    with pytest.raises(ConfigError, match=r"report\.html\.j2 is not a regular file"):
        templating.environment(settings, Formatter())
