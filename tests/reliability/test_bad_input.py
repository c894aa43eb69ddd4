"""Promise 2: bad input fails loudly, naming the place and the fix, with nothing written;
messy but usable input is accepted with every fix counted.

The corpus is built here from the bundled sample: each case is a file's bytes, the
command that reads it and what must come out.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.config import parse
from reportgen.errors import ReportgenError
from reportgen.pipeline import analyse
from reportgen.resources import templates_dir
from tests.helpers import assert_user_error, run_cli
from tests.reliability.helpers import sample_table

BASE = sample_table(60)


def _csv(frame: pd.DataFrame, **options) -> bytes:
    return frame.to_csv(index=False, **options).encode(options.pop("encoding", "utf-8"))


def _with(column: str, values: list[str]) -> bytes:
    frame = BASE.copy()
    frame.loc[: len(values) - 1, column] = values
    return _csv(frame)


def _parquet() -> bytes:
    sink = io.BytesIO()
    BASE.to_parquet(sink)
    return sink.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    data: Callable[[], bytes]
    suffix: str = ".csv"
    command: tuple[str, ...] = ("validate",)
    config: str = ""
    error: str | None = None
    """The one error line's text; None when the input must be accepted."""
    shows: str = ""
    """Text the accepted run prints (a counted fix, for example)."""


CORPUS = [
    Case("utf8-bom", lambda: b"\xef\xbb\xbf" + _csv(BASE), shows="Rows read: 60"),
    Case(
        "cp1252",
        lambda: _with("City", ["Zürich", "São Paulo"]).decode().encode("cp1252"),
        shows="Rows read: 60",
    ),
    Case("utf16", lambda: _csv(BASE).decode().encode("utf-16"), shows="Rows read: 60"),
    Case("semicolon", lambda: BASE.to_csv(index=False, sep=";").encode(), shows="Rows read: 60"),
    Case("tab", lambda: BASE.to_csv(index=False, sep="\t").encode(), shows="Rows read: 60"),
    Case("pipe", lambda: BASE.to_csv(index=False, sep="|").encode(), shows="Rows read: 60"),
    Case(
        "nan-and-inf",
        lambda: _with("Total Spend", ["nan", "inf", "-inf"]),
        shows="3 missing values filled with the median",
    ),
    Case(
        "grouped-and-currency-numbers",
        lambda: _with("Total Spend", ["1,234", "$1,234.50"]),
        shows="no fixes were needed",
    ),
    Case(
        "text-in-a-number-column",
        lambda: _with("Age", ["abc", "n/a?"]),
        shows="'Age' (age): 2 values that are not numbers treated as missing",
    ),
    Case(
        "duplicate-ids",
        lambda: _with("Customer ID", ["101", "101"]),
        shows="1 rows with a repeated customer id dropped (kept the last)",
    ),
    Case("constant-column", lambda: _csv(BASE.assign(**{"Average Rating": "4.0"})), shows=""),
    Case(
        "single-column",
        lambda: _csv(BASE[["Customer ID"]]),
        error="only one column ('Customer ID') was found",
    ),
    Case(
        "header-only", lambda: _csv(BASE.head(0)), error="the table has a header but no data rows"
    ),
    Case(
        "one-row",
        lambda: _csv(BASE.head(1)),
        command=("run",),
        error="every driver column has the same value for all customers",
    ),
    Case(
        "fewer-rows-than-k",
        lambda: _csv(BASE.head(5)),
        command=("run", "--k", "8"),
        error="k = 8 is not smaller than the number of customers (5)",
    ),
    Case(
        "all-rows-identical",
        lambda: _csv(
            BASE.head(1).loc[[0] * 30].assign(**{"Customer ID": [str(i) for i in range(30)]})
        ),
        command=("run",),
        error="every driver column has the same value for all customers",
    ),
    Case(
        "too-large",
        lambda: _csv(BASE),
        config="[data]\nmax_file_mb = 0.001\n",
        error="is over the limit of [data] max_file_mb = 0.001",
    ),
    Case(
        "thousands-of-columns",
        lambda: _csv(pd.DataFrame(np.zeros((3, 3000)), columns=[f"c{i}" for i in range(3000)])),
        error="3,000 columns is over the limit of [data] max_columns = 1000",
    ),
    Case(
        "truncated-parquet",
        lambda: _parquet()[: len(_parquet()) // 2],
        suffix=".parquet",
        error="not a readable Parquet file",
    ),
    Case(
        "corrupt-xlsx",
        lambda: b"PK\x03\x04" + bytes(range(256)) * 4,
        suffix=".xlsx",
        error="not a readable Excel workbook",
    ),
    Case("binary-csv", lambda: bytes(range(256)) * 8, error="the file is binary, not a text table"),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_each_input_is_accepted_with_its_fixes_or_refused_in_one_clear_line(case, tmp_path):
    path = tmp_path / f"input{case.suffix}"
    path.write_bytes(case.data())
    if case.config:
        (tmp_path / "reportgen.toml").write_text(case.config)
    result = run_cli(*case.command, "--data", path.name, cwd=tmp_path)
    if case.error is None:
        assert result.returncode == 0, result.stderr
        assert case.shows in result.stdout + result.stderr
        return
    line = assert_user_error(result, case.error)
    assert path.name in line or "k = " in line or "driver" in line
    assert not (tmp_path / "output").exists()  # nothing written


def test_ids_with_leading_zeros_stay_text(tmp_path):
    frame = BASE.assign(**{"Customer ID": [f"{i:05d}" for i in range(len(BASE))]})
    (tmp_path / "zeros.csv").write_bytes(_csv(frame))
    result = run_cli("run", "--data", "zeros.csv", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assignments = (tmp_path / result.stdout.strip() / "assignments.csv").read_text()
    assert '\n"00000",' in assignments and '\n"00059",' in assignments


_CELL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", " ", "n/a", "=1+1", "1,234", "$5", "-0", "1e309", "Gold", "yes"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.integers(1, 40).flatmap(
        lambda rows: st.tuples(
            st.just(rows),
            st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=rows, max_size=rows),
            st.lists(st.sampled_from(["a", "b", "a", "007", "=x"]), min_size=rows, max_size=rows),
        )
    )
)
def test_any_table_gives_a_valid_segmentation_or_a_typed_error(generated):
    rows, cells, prefixes = generated
    frame = pd.DataFrame(
        {
            "Customer ID": [f"{p}{i}" for i, p in enumerate(prefixes)],
            "Total Spend": [c[0] for c in cells],
            "Items Purchased": [c[1] for c in cells],
            "Days Since Last Purchase": [c[2] for c in cells],
        },
        dtype=str,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        frame.to_csv(path, index=False)
        try:
            analysis = analyse(path, parse({"segmentation": {"stability_runs": 0}}))
        except ReportgenError:
            return  # a typed, explained refusal is a valid outcome
    labels = analysis.segmentation.labels
    assert len(labels) == len(analysis.clean.frame) <= rows
    assert set(np.unique(labels)) <= set(analysis.segmentation.ids)
    assert sum(s.size for s in analysis.profiles.segments) == len(labels)


HOSTILE_NAMES = [
    'Total Spend\n[email]\nbcc = ["x@evil.example"]\n[archive]\nkeep = 1\n#',
    'Notes " # ] [archive]',
    'Region\r\n[email]\r\nto = ["x@evil.example"]',
    "Tab\there\x7f and DEL",
    "Line\u2028separator [email]",
    "[columns]",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_column_names_written_into_a_generated_config_stay_data(tmp_path, name):
    """`reportgen init` writes the data's column names into TOML (a mapped role, or the
    comment listing unused columns): quoted and escaped, they never become tables, keys
    or comments that end early."""
    from reportgen import config

    for unused in (True, False):
        header = ["Customer ID", "Total Spend" if unused else "Amount", name]
        folder = tmp_path / ("unused" if unused else "mapped")
        folder.mkdir()
        table = pd.DataFrame({h: [str(i) for i in range(1, 4)] for h in header})
        if not unused:  # the hostile name is the only spend-like column
            table = table.drop(columns=["Amount"]).rename(columns={name: name + " spend"})
        table.to_csv(folder / "data.csv", index=False)
        result = run_cli("init", "--data", "data.csv", cwd=folder)
        assert result.returncode == 0, result.stderr
        loaded = config.load(folder / "reportgen.toml")  # valid TOML, every key known
        assert loaded.email.audiences == () and loaded.archive.keep == 0
        written = (folder / "reportgen.toml").read_text(encoding="utf-8")
        assert "\n[email]" not in written and "\n[archive]\nkeep = 1" not in written
        columns = set(table.columns)
        assert set(loaded.columns.values()) <= columns
        assert "\x1b" not in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
@pytest.mark.parametrize("table_kind", ["customers", "transactions"])
def test_a_pipe_or_device_as_data_is_refused_at_once(tmp_path, kind, table_kind):
    import os

    path = tmp_path / "data.csv"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    (tmp_path / "reportgen.toml").write_text(f'[data]\nkind = "{table_kind}"\n')
    result = run_cli("run", "--data", "data.csv", cwd=tmp_path, timeout=60)
    assert_user_error(result, "data.csv: not a regular file")
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize(
    ("where", "payload", "error"),
    [
        ("report", "{{ range(10**9) | list | length }}", "OverflowError"),
        ("report", "{{ 1 / 0 }}", "ZeroDivisionError"),
        ("report", "{{ 1 | dictsort }}", "AttributeError"),  # Jinja's filter, wrong value
        ("report", "{{ 1 | figures }}", "AttributeError"),  # reportgen's own filter
        ("persona", "{{ range(10**9) | list | length }}", "OverflowError"),
        ("persona", "{{ 1 | dictsort }}", "AttributeError"),
    ],
)
def test_whatever_a_users_template_raises_is_one_line(tmp_path, where, payload, error):
    folder = tmp_path / "mine"
    folder.mkdir()
    if where == "report":
        (folder / "report.html.j2").write_text(
            '{% extends "default/report.html.j2" %}'
            f"{{% block definitions %}}{payload}{{% endblock %}}"
        )
        setting = f'templates = "{folder}"'
    else:
        library = (templates_dir() / "personas.yaml").read_text()
        library = library.replace(
            "    description: >-\n", f"    description: >-\n      {payload}\n"
        )
        (folder / "personas.yaml").write_text(library)
        setting = f'personas = "{folder / "personas.yaml"}"'
    (tmp_path / "reportgen.toml").write_text(f"[report]\n{setting}\n")
    result = run_cli("run", "--k", "3", "--quiet", cwd=tmp_path)
    assert_user_error(result, error)
    assert not (tmp_path / "output").exists()
