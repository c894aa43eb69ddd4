"""Shared helpers: the real data set (when present), CLI runners, tiny in-memory tables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from reportgen.config import Config, parse
from reportgen.ingest import Dataset
from reportgen.validate import CleanData, validate

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO.parent / "shared" / "data" / "ecommerce_customer_behavior.csv"
REAL_COLUMNS = [
    "Customer ID",
    "Gender",
    "Age",
    "City",
    "Membership Type",
    "Total Spend",
    "Items Purchased",
    "Average Rating",
    "Discount Applied",
    "Days Since Last Purchase",
    "Satisfaction Level",
]

needs_real_data = pytest.mark.skipif(
    not REAL_DATA.is_file(),
    reason=f"the real data set {REAL_DATA} is not here (it is not shipped with the project)",
)


def run_cli(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m reportgen` as a real process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


MANIFEST = {  # the fields every archive command reads from a snapshot's manifest
    "created": "2026-11-28T09:00:00+00:00",
    "reportgen_version": "1.0",
    "k": 2,
    "seed": 42,
    "input": {"path": "data.csv", "sha256": "0" * 64, "rows_in": 10, "rows_out": 10},
}


def unreadable(path: Path, kind: str) -> None:
    """Put at `path` what a reader must refuse rather than hang or fill memory on: a
    FIFO, a link to /dev/zero, a folder, or JSON nested 100,000 deep."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        assert kind == "deep", kind
        path.write_text("[" * 100_000 + "]" * 100_000)


def assert_user_error(
    result: subprocess.CompletedProcess[str], *fragments: str, code: int = 2
) -> str:
    """The promise of every user error: exit `code`, and stderr exactly one line,
    `reportgen: error: ...`, holding each fragment. Returns that line."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    assert lines[0].startswith("reportgen: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def dataset(frame: pd.DataFrame, path: str = "table.csv") -> Dataset:
    """A Dataset as ingest would return it, for stage tests that need no file."""
    return Dataset(frame=frame, path=Path(path), sha256="0" * 64, format="csv")


def config(**tables: dict) -> Config:
    return parse(tables)


def clean(frame: pd.DataFrame, **tables: dict) -> CleanData:
    return validate(dataset(frame), config(**tables))


@pytest.fixture
def tiny_table() -> pd.DataFrame:
    """Six customers as text, the way ingest reads a CSV."""
    return pd.DataFrame(
        {
            "Customer ID": ["1", "2", "3", "4", "5", "6"],
            "Total Spend": ["100", "200", "300", "1000", "1100", "1200"],
            "Items Purchased": ["1", "2", "3", "10", "11", "12"],
            "Days Since Last Purchase": ["50", "40", "60", "5", "6", "4"],
        },
        dtype="string",
    )


PAGE_MARGIN_PT = 16 / 25.4 * 72
"""The page margin of report.css.j2 (16 mm), in PDF points."""


def pdf_words(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, page width, xMin, xMax, word) for every word pdftotext places on a page."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', html, re.S)
    for number, (width, body) in enumerate(pages, 1):
        for x_min, x_max, word in re.findall(
            r'<word xMin="([\d.-]+)" yMin="[\d.-]+" xMax="([\d.-]+)" yMax="[\d.-]+">(.*?)</word>',
            body,
        ):
            words.append((number, float(width), float(x_min), float(x_max), word))
    return words


def words_off_the_page(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """Every word of the PDF that lies outside the printable width (a table pushed past
    the right margin); the empty list for a brief that fits its pages."""
    return [
        w
        for w in pdf_words(pdf)
        if w[2] < PAGE_MARGIN_PT - 0.5 or w[3] > w[1] - PAGE_MARGIN_PT + 0.5
    ]
