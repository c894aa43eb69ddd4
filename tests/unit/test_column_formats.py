"""One number format per role: every figure of a role reads with the same decimals, in
the key figures, the comparison table and persona texts (issue #15)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.formatting import Formatter
from reportgen.roles import ROLES, Kind
from tests.helpers import REAL_DATA, run_cli

EN = Formatter()
DE = Formatter("EUR", locale="de_DE")
NB = "\u00a0"


@pytest.mark.parametrize(
    ("role", "values", "expected"),
    [
        # A median of 4.0 beside a mean of 4.1 read "4" and "4.1".
        ("rating", [4.0, 4.1, 4.04, 3.96], ["4.0", "4.1", "4.0", "4.0"]),
        # Counts: a whole median beside a mean of 12.5 read "12" and "12.5".
        ("frequency", [12.0, 12.5, 0.04, 1234.56], ["12.0", "12.5", "0.0", "1,234.6"]),
        ("items_per_order", [2.0, 2.25], ["2.0", "2.2"]),
        ("age", [29.0, 29.1, 36.5], ["29.0", "29.1", "36.5"]),
        # Money: whole currency units, whatever the figure.
        ("spend", [1450.0, 1459.77, 12.4], ["$1,450", "$1,460", "$12"]),
        ("aov", [99.5, 100.0], ["$100", "$100"]),
        # Days: whole days.
        ("recency", [11.4, 11.0, 0.2], ["11 days", "11 days", "0 days"]),
        ("tenure", [364.6], ["365 days"]),
        # Shares: one decimal, 0 and 1 included (they read "0%" and "100%" beside "50.0%").
        ("discount", [0.0, 1.0, 0.5, 0.179], ["0.0%", "100.0%", "50.0%", "17.9%"]),
        ("return_rate", [0.0, 0.25], ["0.0%", "25.0%"]),
    ],
)
def test_every_figure_of_a_role_reads_with_the_roles_decimals(role, values, expected):
    assert [EN.role_value(value, role) for value in values] == expected


def test_the_roles_decimals_follow_the_locale():
    assert [DE.role_value(v, "rating") for v in (4.0, 4.1)] == ["4,0", "4,1"]
    assert DE.role_value(1.0, "discount") == f"100,0{NB}%"
    assert DE.role_value(12.0, "frequency") == "12,0"


def test_a_bound_shows_one_decimal_more_than_the_figures_of_its_role():
    assert EN.role_value(7.954, "rating", precise=True) == "7.95"
    assert EN.role_value(8.0, "frequency", precise=True) == "8.00"
    # Money and days keep their own format: a bound of $1,234 is whole units as well.
    assert EN.role_value(1234.4, "spend", precise=True) == "$1,234"
    assert EN.role_value(90.0, "recency", precise=True) == "90 days"


def _decimals(text: str) -> int:
    """The decimals of the one number in `text` ("$1,470" 0, "4.8" 1, "17.9%" 1)."""
    found = re.search(r"\d[\d,]*(?:\.(\d+))?", text)
    assert found, text
    return len(found.group(1) or "")


@pytest.mark.parametrize(
    "role", [r.name for r in ROLES if r.kind not in (Kind.ID, Kind.CATEGORICAL)]
)
def test_whole_and_fractional_figures_of_any_role_have_one_decimal_count(role):
    values = [0.0, 1.0, 4.0, 4.1, 12.5, 0.999, 250.0]
    if role in ("discount", "return_rate"):
        values = [0.0, 1.0, 0.5, 0.1234]
    assert len({_decimals(EN.role_value(value, role)) for value in values}) == 1


def test_a_share_reads_one_decimal_unless_a_chart_asks_for_another_count():
    assert [EN.percent(v) for v in (0.0, 1.0, 0.2861)] == ["0.0%", "100.0%", "28.6%"]
    assert EN.percent(0.286, 0) == "29%"


def test_a_signed_figure_that_rounds_to_zero_reads_zero_without_a_sign():
    assert [EN.signed(v) for v in (-0.04, 0.04, -0.0, 0.0)] == ["0.0"] * 4
    assert [EN.signed(v) for v in (0.43, -1.25, -0.06)] == ["+0.4", "−1.2", "−0.1"]
    assert [DE.signed(v) for v in (-0.04, 0.43)] == ["0,0", "+0,4"]


class _Tables(HTMLParser):
    """The cell texts of the brief's key-figures and comparison tables, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            kind = {"figures", "compare"} & set((dict(attrs).get("class") or "").split())
            self.tables.append((kind.pop() if kind else "other", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def decimals_by_figure(html: str) -> dict[str, set[int]]:
    """Each figure (row of a key-figures table, column of the comparison table) -> the
    decimal counts its numbers are written with, over every table of the brief."""
    parser = _Tables()
    parser.feed(html)
    found: dict[str, set[int]] = {}
    for kind, rows in parser.tables:
        if kind == "figures":
            for label, *cells in rows[1:]:
                if len(cells) == 4:  # median, mean, all customers, level; a mix has one cell
                    figures = [c for c in cells[:3] if re.search(r"\d", c)]
                    found.setdefault(label, set()).update(map(_decimals, figures))
        elif kind == "compare":
            head, *body = rows
            for column, label in enumerate(head[1:], start=1):
                cells = [row[column] for row in body if re.search(r"\d", row[column])]
                found.setdefault(label, set()).update(map(_decimals, cells))
    return found


def test_the_checker_sees_a_mixed_column():
    html = (
        '<table class="compare"><tr><th>Segment</th><th>Average rating</th></tr>'
        "<tr><td>A</td><td>4</td></tr><tr><td>B</td><td>4.1</td></tr></table>"
        '<table class="figures"><tr><th></th><th>Median</th><th>Mean</th><th>All</th>'
        "<th>Level</th></tr><tr><th>Spend</th><td>$1</td><td>$2</td><td>$3</td><td>high</td>"
        '</tr><tr><th>City</th><td colspan="4">Paris 100.0%</td></tr></table>'
    )
    assert decimals_by_figure(html) == {"Average rating": {0, 1}, "Spend": {0}}


@pytest.fixture(scope="module", params=["sample", "real"])
def brief(request, tmp_path_factory) -> str:
    """The HTML of a brief run by the CLI on the bundled sample and on the real data."""
    args: list[str | Path] = []
    if request.param == "real":
        if not REAL_DATA.is_file():
            pytest.skip(f"the real data set {REAL_DATA} is not here")
        args = ["--data", REAL_DATA]
    folder = tmp_path_factory.mktemp(request.param)
    result = run_cli("run", "--period", "2026-11", "--quiet", *args, cwd=folder)
    assert result.returncode == 0, result.stderr
    return (folder / result.stdout.strip() / "report.html").read_text(encoding="utf-8")


def test_every_figure_of_the_brief_has_one_decimal_count_in_every_table(brief):
    found = decimals_by_figure(brief)
    assert {"Spend", "Average rating", "Items purchased", "Uses discounts"} <= set(found)
    assert {label: counts for label, counts in found.items() if len(counts) != 1} == {}
    assert found["Average rating"] == {1} and found["Spend"] == {0}
