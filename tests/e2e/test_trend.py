"""The trend across the archive and its index page, on four constructed months in which
high spenders lapse month after month: the brief's trend section and the index page are
read back and compared with the archived profiles."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.formatting import Formatter
from tests.e2e.test_history import month
from tests.helpers import run_cli

SLUG = "customer-segments"
PERIODS = ("2026-08", "2026-09", "2026-10", "2026-11")
FORMAT = Formatter()


@pytest.fixture(scope="module")
def archived(tmp_path_factory) -> Path:
    """Four months of 300 customers; each month 20 more high spenders lapse to low."""
    folder = tmp_path_factory.mktemp("trend")
    ids = [f"c{i:03d}" for i in range(300)]
    behaviour = {c: ("high", "mid", "low")[i % 3] for i, c in enumerate(ids)}
    high = [c for c in ids if behaviour[c] == "high"]
    for n, period in enumerate(PERIODS):
        behaviour.update(dict.fromkeys(high[20 * n : 20 * (n + 1)], "low"))
        month(ids, behaviour, n).to_csv(folder / f"{period}.csv", index=False)
        result = run_cli(
            "run", "--data", f"{period}.csv", "--period", period, "--k", "3", "--quiet", cwd=folder
        )
        assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def project(tmp_path, archived) -> Path:
    shutil.copytree(archived / "output", tmp_path / "output")
    return tmp_path


def profiles(project: Path, period: str) -> dict:
    return json.loads((project / "output" / SLUG / period / "profiles.json").read_text())


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, by the table's class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs).get("class") or "", [])
        elif tag == "tr" and self.current is not None:
            self.current.append([])
        elif tag in ("td", "th") and self.current is not None:
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.current is not None:
            self.current[-1].append(" ".join("".join(self.cell).split(" ")).strip())
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def test_the_trend_section_shows_the_archived_figures_and_the_sustained_lapse(project):
    folder = project / "output" / SLUG / "2026-11"
    html = (folder / "report.html").read_text()
    assert "Over the last 4 months" in html
    found = tables(html)
    periods = found["cards trend-periods"][1:]
    archived = [profiles(project, p) for p in PERIODS]
    assert periods == [
        [FORMAT.month(p["period"]), f"{p['customers']:,}", FORMAT.money(p["revenue"]), str(p["k"])]
        for p in archived
    ]
    rows = {r[0].split(" · ")[0]: r[1:] for r in found["cards trend-segments"][1:]}
    for n, record in enumerate(archived):
        for segment in record["segments"]:
            expected = (
                f"{FORMAT.percent(segment['share'])}\n{FORMAT.percent(segment['revenue_share'])}"
            )
            assert rows[str(segment["id"])][n] == expected, (record["period"], segment["id"])

    # The sentence names the largest change of a share over >= 2 steps the same way,
    # found here by trying every stretch of the archived shares.
    measure, seg, start, end = biggest(archived)
    key = "share" if measure == "customers" else "revenue_share"
    before, after = seg[start][key], seg[end][key]
    name = seg[end]["persona"]
    verb, adjective = ("grew", "higher") if after > before else ("shrank", "lower")
    sentence = (
        f"The biggest sustained change: {name} {verb} from {FORMAT.percent(before)} of "
        f"{measure} in {FORMAT.month(PERIODS[start])} to {FORMAT.percent(after)} in "
        f"{FORMAT.month(PERIODS[end])}, {adjective} in each of the {end - start} snapshots "
        f"after {FORMAT.month(PERIODS[start])}."
    )
    reader = PdfReader(folder / "report.pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert sentence in text
    revenue = f"{FORMAT.money(archived[0]['revenue'])} to {FORMAT.money(archived[-1]['revenue'])}"
    assert (
        "From August 2026 to November 2026 (4 snapshots), the number of customers was 300 at "
        f"both ends, revenue from {revenue}, with 3 segments each time."
    ) in text
    assert "Share of customers and of revenue by segment over the last 4 months" in text


def biggest(archived: list[dict]) -> tuple[str, dict[int, dict], int, int]:
    """The measure, the segment (period index -> its record), and the first and last
    period of the largest monotone change over two steps or more."""
    best = (0.0, "", {}, 0, 0)
    ids = {s["id"] for record in archived for s in record["segments"]}
    for ident in sorted(ids):
        seg = {
            n: s
            for n, record in enumerate(archived)
            for s in record["segments"]
            if s["id"] == ident
        }
        for measure, key in (("customers", "share"), ("revenue", "revenue_share")):
            for i in seg:
                for j in range(i + 2, len(archived)):
                    if not all(n in seg for n in range(i, j + 1)):
                        continue
                    values = [seg[n][key] for n in range(i, j + 1)]
                    steps = [b - a for a, b in itertools.pairwise(values)]
                    if all(x > 0 for x in steps) or all(x < 0 for x in steps):
                        size = abs(values[-1] - values[0])
                        if size > best[0]:
                            best = (size, measure, seg, i, j)
    assert best[0] >= 0.01
    return best[1], best[2], best[3], best[4]


def test_a_rerendered_past_period_ends_its_trend_there_and_skips_a_damaged_month(project):
    out = project / "output" / SLUG
    assert run_cli("rerender", "2026-10", cwd=project).returncode == 0
    html = (out / "2026-10" / "report.html").read_text()
    assert "Over the last 3 months" in html
    periods = [row[0] for row in tables(html)["cards trend-periods"][1:]]
    assert periods == ["August 2026", "September 2026", "October 2026"]

    september = out / "2026-09" / "profiles.json"
    september.write_text(september.read_text().replace('"k": 3', '"k": 4'))
    assert run_cli("rerender", "2026-11", cwd=project).returncode == 0
    html = (out / "2026-11" / "report.html").read_text()
    assert "Over the last 4 months" in html and "No verified snapshot for: September 2026." in html
    periods = [row[0] for row in tables(html)["cards trend-periods"][1:]]
    assert periods == ["August 2026", "October 2026", "November 2026"]
    index = (out / "index.html").read_text()  # rerender rebuilt it: September is flagged
    assert 'September 2026 <span class="problem">fails verification</span>' in index


def test_the_index_lists_every_period_with_its_figures_and_working_links(project):
    out = project / "output" / SLUG
    page = (out / "index.html").read_text()
    rows = tables(page)[""][1:]
    assert [row[0] for row in rows] == [FORMAT.month(p) for p in reversed(PERIODS)]
    for row, period in zip(rows, reversed(PERIODS), strict=True):
        record = profiles(project, period)
        largest = max(record["segments"], key=lambda s: s["share"])
        assert row[1:6] == [
            f"{record['customers']:,}",
            FORMAT.money(record["revenue"]),
            str(record["k"]),
            f"{largest['id']} · {largest['persona']} ({FORMAT.percent(largest['share'])})",
            "not sent",
        ]
    links = re.findall(r'(?:href|src)="([^"]*)"', page)
    pages = [link for link in links if not link.startswith("data:")]
    assert sorted(pages) == sorted(
        f"{p}/report.{kind}" for p in PERIODS for kind in ("html", "pdf")
    )
    assert all((out / link).is_file() for link in pages)
    assert 'src="data:image/svg+xml;base64,' in page and "http" not in " ".join(links)


def test_the_index_escapes_what_the_archive_holds_and_says_what_is_damaged(project):
    out = project / "output" / SLUG
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    record = out / "2026-10" / "profiles.json"
    data = json.loads(record.read_text())
    data["segments"][0]["persona"] = hostile
    data["segments"][0]["share"] = 0.99  # the largest now, so the index names it
    record.write_text(json.dumps(data))
    result = run_cli("archive", "index", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"output/{SLUG}/index.html"
    page = (out / "index.html").read_text()
    assert "<script" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    row = next(r for r in tables(page)[""] if r[0].startswith("October 2026"))
    assert row[0] == "October 2026 fails verification"
    # The trend leaves the altered month out: its brief, rebuilt, never shows it.
    assert run_cli("rerender", "2026-11", cwd=project).returncode == 0
    brief = (out / "2026-11" / "report.html").read_text()
    assert "No verified snapshot for: October 2026." in brief and "alert" not in brief
