"""Category values in the brief: many, rare or very long values stay bounded, private and
on the page.

- Many: a column of thousands of distinct values is one "Other (N values)" line in the
  tables, the charts and profiles.json, and the run takes seconds (it took minutes).
- Rare: a value held by fewer than `[report] min_segment_size` customers (one customer's
  city) is a quasi-identifier; it appears in no file the brief or the email is made of.
- Long: a data string (a value, a column name) is cut to formatting.TEXT_WIDTH columns
  with "…" by one function, the report's `clip` filter and the charts' labels alike, so
  a value of thousands of characters cannot push the key figures off the PDF page.
"""

from __future__ import annotations

import json
import shutil
import time
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from reportgen import deliver, sample
from reportgen.archive import find
from reportgen.config import parse
from reportgen.findings import load_findings
from reportgen.formatting import TEXT_WIDTH, clip
from tests.helpers import pdf_words, words_off_the_page
from tests.reliability.helpers import PERIOD, run_in_process, sample_table

LONG_VALUE = "Sankt-" + "Ö" * 1494 + "x" * 1500
"""3,000 characters and no space to break the line at: the worst case for a table."""
LONG_COLUMN = "Total Spend " + "ÿ" * 2988
RARE = [f"Zephyr-Ωmega-{i:02d}" for i in range(50)]
"""The PDF's left and right page margin (16 mm in report.css.j2), in points."""


def _columns(text: str) -> int:
    """Display width as TEXT_WIDTH counts it, from Unicode's own tables."""
    return sum(
        0
        if unicodedata.category(c) in ("Mn", "Me", "Cf")
        else 2
        if unicodedata.east_asian_width(c) in ("W", "F")
        else 1
        for c in text
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gold", "Gold"),
        ("x" * 40, "x" * 40),
        ("x" * 41, "x" * 39 + "…"),
        (LONG_VALUE, "Sankt-" + "Ö" * 33 + "…"),
        ("Rio de Janeiro " * 4, "Rio de Janeiro Rio de Janeiro Rio de Ja…"),
        ("x" * 38 + " and more", "x" * 38 + "…"),  # no space left before the "…"
        ("東京都" * 100, "東京都" * 6 + "東…"),  # two columns each: 19 of them and "…"
        ("e\u0301" * 50, "e\u0301" * 39 + "…"),  # é as e + combining acute: marks take none
        ("कि" * 30, "कि" * 19 + "…"),  # the spacing vowel sign stays with its consonant
        (
            "a" * 37 + "👩\u200d💻" + "z",
            "a" * 37 + "…",
        ),  # a joined emoji is kept whole or cut whole
    ],
)
def test_data_strings_are_cut_to_forty_columns_without_breaking_a_character(text, expected):
    assert TEXT_WIDTH == 40
    assert clip(text) == expected


@given(st.text(max_size=120), st.integers(min_value=1, max_value=60))
def test_a_cut_fits_its_width_keeps_a_prefix_and_ends_between_characters(text, width):
    cut = clip(text, width)
    if _columns(text) <= width:
        assert cut == text
        return
    kept = cut.removesuffix("…")
    assert cut.endswith("…") and text.startswith(kept) and _columns(cut) <= width
    after = text[len(kept)]
    assert unicodedata.category(after) not in ("Mn", "Mc", "Me") and after != "\u200d"
    assert not kept.endswith("\u200d")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_rare_values_are_other_and_long_ones_are_cut_in_every_file_of_the_brief(tmp_path):
    """Membership: Gold, Silver and a 3,000-character value are each held by more than
    min_segment_size (10) customers; 50 values by one customer each."""
    table = sample_table(400)
    common = ["Gold", LONG_VALUE, "Silver"]
    table["Membership Type"] = [common[i % 3] for i in range(350)] + RARE
    table = table.rename(columns={"Total Spend": LONG_COLUMN})
    unused = "Notes " + "é" * 2994
    table[unused] = "x"
    config = parse(
        {
            "columns": {"spend": LONG_COLUMN},
            "email": {"from": "reports@example.com", "to": ["ann@example.com"]},
        }
    )
    result = run_in_process(table, tmp_path, config)
    folder = result.snapshot.path

    # Every word of every page, the key figures' numbers among them, lies inside the
    # printable width: nothing was pushed past the right margin.
    words = pdf_words(folder / "report.pdf")
    assert words and words_off_the_page(folder / "report.pdf") == []
    assert any(w[4] == "Median" for w in words)

    profiles = json.loads((folder / "profiles.json").read_text(encoding="utf-8"))
    html = (folder / "report.html").read_text(encoding="utf-8")
    pages = PdfReader(folder / "report.pdf").pages
    pdf_text = " ".join(" ".join(page.extract_text() for page in pages).split())  # unwrapped
    entry = find(tmp_path / "output", config.report.slug, PERIOD)
    email = deliver.compose(
        entry,
        load_findings(entry.path),
        config,
        config.email.audiences[0],
        b"%PDF",
        datetime(2026, 11, 28, tzinfo=UTC),
    )
    bodies = [email.get_body((kind,)).get_content() for kind in ("plain", "html")]
    files = {
        "report.html": html,
        "report.pdf": pdf_text,
        "profiles.json": json.dumps(profiles, ensure_ascii=False),
        "brief.json": (folder / "brief.json").read_text(encoding="utf-8"),
        "email": " ".join(bodies),
    }
    leaks = [
        name for name, text in files.items() if "Ωmega" in text or any(v in text for v in RARE)
    ]
    assert leaks == []
    for text in (html, pdf_text):
        assert "Other (50 values)" in text and "Gold" in text and "Silver" in text
    # 117 Gold, 117 long, 116 Silver: most common first, ties in text order.
    assert list(profiles["base_mix"]["tier"]) == ["Gold", LONG_VALUE, "Silver", "Other (50 values)"]
    assert profiles["base_mix"]["tier"]["Other (50 values)"] == 50 / 400
    for segment in profiles["segments"]:
        assert set(segment["mix"]["tier"]) <= set(profiles["base_mix"]["tier"])

    # Long strings: cut in the HTML (tables, alt text), the PDF and the chart's legend.
    shown = clip(LONG_VALUE)
    assert shown == "Sankt-" + "Ö" * 33 + "…"
    mix_chart = next(c for c in result.brief.charts.overview if c.key == "mix-tier")
    assert shown in mix_chart.svg and shown in mix_chart.alt and "Ö" * 34 not in mix_chart.svg
    assert "Ö" * 34 not in html and "ÿ" * 40 not in html and "é" * 40 not in html
    for text in (html, pdf_text):
        assert shown in text and clip(LONG_COLUMN) in text and clip(unused) in text
        assert "Ö" * 34 not in text


def test_twelve_thousand_distinct_values_take_seconds_and_one_line(tmp_path):
    """The report of issue #13: every customer has a membership and a city of their own.
    Before: 119 s, 1.7 GB, 74 pages and a 1.1 MB profiles.json for membership alone."""
    table = sample.generate(12_000)
    table["Membership Type"] = [f"Member-{i:05d}" for i in range(12_000)]
    table["City"] = [f"Town-{i:05d}" for i in range(12_000)]
    start = time.perf_counter()
    result = run_in_process(table, tmp_path)
    took = time.perf_counter() - start
    assert took < 60, f"{took:.1f} s"
    folder = result.snapshot.path
    profiles = json.loads((folder / "profiles.json").read_text(encoding="utf-8"))
    for role in ("tier", "city"):
        assert profiles["base_mix"][role] == {"Other (12000 values)": 1.0}
        assert {tuple(s["mix"][role]) for s in profiles["segments"] if not s["suppressed"]} == {
            ("Other (12000 values)",)
        }
    assert (folder / "profiles.json").stat().st_size < 50_000
    assert len(PdfReader(folder / "report.pdf").pages) <= 20
