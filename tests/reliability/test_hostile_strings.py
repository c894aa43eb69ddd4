"""Promises 1 and 2 for strings and numbers that act instead of showing (issue #13).

A data string must be shown as the characters it holds: a right-to-left override
must not reverse the figures after it, an ESC must not reach a document or a
terminal, and `$x^$` must not be parsed as mathematics by the chart library. A
number must not be so large that the arithmetic of later stages overflows.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path

from pypdf import PdfReader

from reportgen.config import parse
from reportgen.formatting import Formatter
from reportgen.resources import templates_dir
from tests.helpers import clean
from tests.reliability.helpers import run_in_process, sample_table

# Every C0 and C1 control but the line feed, every bidirectional formatting character
# and mark, and the Unicode line and paragraph separators.
_ACTING = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
# Each city and membership value of the sample with such characters in it; the report
# must show the value on the right.
CITIES = {
    "Miami": ("Mia\u202emi", "Miami"),  # an unclosed right-to-left override
    "Houston": ("\u2067Houston", "Houston"),  # an unclosed right-to-left isolate
    "New York": ("New\tYork\r\n", "New York"),
    "San Francisco": ("San \x1b[31mFrancisco\x1b[0m", "San [31mFrancisco[0m"),
    "Chicago": ("Chi\x85cago\u2028", "Chi cago"),
    "Los Angeles": ("\u202bLos\u200f Angeles\u202c\x07", "Los Angeles"),  # NUL: see unit tests
}
TIERS = {
    "Gold": ("Gold\u202e", "Gold"),
    "Silver": ("\u202dSil\u061cver", "Silver"),
    "Bronze": ("Bron\u2066ze\x9b", "Bronze"),
}
COLUMNS = {  # header cells with the same characters: still matched to their roles
    "Total Spend": "Total\u202e Spend",
    "Items Purchased": "Items\x1b[2J Purchased",
    "Gender": "Gen\u2068der\u2069",
}


def _pdf_text(path: Path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def _words(text: str) -> str:
    """Text with every run of white space as one space, as a reader sees a wrapped line."""
    return " ".join(text.split())


def _svgs(html: str) -> list[str]:
    found = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    return [base64.b64decode(data).decode() for data in found]


def _mix_lines(profiles: dict, role: str, shown: dict[str, str]) -> list[str]:
    """Each described segment's mix line as a reader must see it: each value as `shown`
    spells it, then its own share ("Gold 8.1%", never "Gold%1.8")."""
    percent = Formatter().percent
    return [
        " · ".join(
            f"{shown.get(value, value)} {percent(share)}"
            for value, share in segment["mix"][role].items()
        )
        for segment in profiles["segments"]
        if not segment["suppressed"]
    ]


def test_control_and_direction_characters_are_cleaned_and_figures_stay_in_order(tmp_path):
    table = sample_table()
    table["City"] = table["City"].map(lambda city: CITIES[city][0])
    table["Membership Type"] = table["Membership Type"].map(lambda tier: TIERS[tier][0])
    table = table.rename(columns=COLUMNS)
    result = run_in_process(table, tmp_path)
    folder = result.snapshot.path
    html = (folder / "report.html").read_text()
    pdf = _pdf_text(folder / "report.pdf")

    assert _ACTING.findall(html) == []
    assert _ACTING.findall(pdf) == []
    profiles = json.loads((folder / "profiles.json").read_text())
    assert set(profiles["base_mix"]["city"]) == {shown for _, shown in CITIES.values()}
    assert set(profiles["base_mix"]["tier"]) == {shown for _, shown in TIERS.values()}
    lines = _mix_lines(profiles, "tier", dict(TIERS.values())) + _mix_lines(
        profiles, "city", dict(CITIES.values())
    )
    assert len(lines) == 2 * profiles["k"]
    shown = re.sub(r"</?bdi>", "", html)  # each value isolated from the figures beside it
    for line in lines:
        assert line in shown
        assert line in _words(pdf)
    assert "(column “<bdi>Total Spend</bdi>”)" in html
    fixes = {
        (f.code, f.role): f.count
        for f in result.analysis.clean.quality.fixes
        if f.code == "control_characters"
    }
    assert fixes == {
        ("control_characters", None): 3,  # the three column names
        ("control_characters", "tier"): 400,
        ("control_characters", "city"): 400,
    }


def test_right_to_left_values_are_kept_and_isolated_from_the_figures_after_them(tmp_path):
    table = sample_table()
    cities = {"Los Angeles": "القاهرة", "Chicago": "תל אביב"}
    table["City"] = table["City"].replace(cities)
    result = run_in_process(table, tmp_path)
    folder = result.snapshot.path
    profiles = json.loads((folder / "profiles.json").read_text())
    assert set(cities.values()) <= set(profiles["base_mix"]["city"])  # kept as they are
    # Without isolation the bidi algorithm draws "23.0% תל אביב" and "14.9 القاهرة%".
    glyphs = "".join(_pdf_text(folder / "report.pdf").split())
    for line in _mix_lines(profiles, "city", {}):
        for part in line.split(" · "):
            assert "".join(part.split()) in glyphs


EXTREMES = {
    # column: a few cells (under [validation] max_bad_share) far beyond any real value
    "Total Spend": ["1e308", "-1e308", "1.7976931348623157e308", "1e16"],
    "Age": ["1e308", "1e300", "-1e200"],
    "Days Since Last Purchase": ["1e300", "Infinity", "1e999"],
    "Items Purchased": ["inf", "-inf", "9e15"],
    "Average Rating": ["1e308"],
}


def test_numbers_too_large_for_any_customer_never_reach_the_arithmetic(tmp_path):
    table = sample_table()
    row = 0
    for column, values in EXTREMES.items():
        for value in values:
            table.loc[row, column] = value
            row += 7
    result = run_in_process(table, tmp_path)
    folder = result.snapshot.path
    fixes = Counter({(f.code, f.role): f.count for f in result.analysis.clean.quality.fixes})
    before = Counter({(f.code, f.role): f.count for f in clean(sample_table()).quality.fixes})
    assert fixes - before == {
        ("too_large", "spend"): 4,
        ("too_large", "age"): 3,
        ("too_large", "recency"): 1,
        ("unreadable", "recency"): 2,
        ("unreadable", "frequency"): 2,
        ("too_large", "frequency"): 1,
        ("too_large", "rating"): 1,
        ("imputed", "spend"): 4,
        ("imputed", "age"): 3,
        ("imputed", "recency"): 3,
        ("imputed", "frequency"): 3,
        ("imputed", "rating"): 1,
    }

    def refuse(token: str) -> float:
        raise AssertionError(f"{token} in the snapshot's JSON")

    for name in ("profiles.json", "brief.json"):
        json.loads((folder / name).read_text(), parse_constant=refuse)
    html = (folder / "report.html").read_text()
    texts = [
        re.sub(r'src="data:[^"]*"', "", html),
        _pdf_text(folder / "report.pdf"),
        *_svgs(html),
    ]  # (brief.json quotes the values fixed, "inf" among them, as examples)
    for text in texts:  # without the bound: "Age +nan" in the alt text, "nan" in a table
        assert re.findall(r"\b(?:nan|inf|infinity)\b", text, flags=re.IGNORECASE) == []


MARKUP = ["$\\foo$", "$x^$", "$\\frac{", "a_b", "x^2", "100%", "$5 to $9"]


def _library_with_markup_names(folder: Path) -> Path:
    """The bundled persona library with every persona name starting with chart markup."""
    lines = (templates_dir() / "personas.yaml").read_text().splitlines()
    count = 0
    for i, line in enumerate(lines):
        found = re.fullmatch(r"(    name|  typical_name|  small_name): (.+)", line)
        if found:
            markup = MARKUP[count % len(MARKUP)]
            lines[i] = f"{found[1]}: {json.dumps(f'{markup} {found[2]}')}"  # YAML-quoted
            count += 1
    assert count > len(MARKUP)
    path = folder / "personas.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_chart_text_is_drawn_as_written_never_parsed_as_markup(tmp_path):
    table = sample_table()
    tiers = {"Gold": "$\\foo$ Gold_1", "Silver": "$x^$ Silver^2", "Bronze": "$\\frac{ Bronze 100%"}
    table["Membership Type"] = table["Membership Type"].map(tiers)
    config = parse({"report": {"personas": str(_library_with_markup_names(tmp_path))}})
    result = run_in_process(table, tmp_path, config)
    html = (result.snapshot.path / "report.html").read_text()
    charts = _svgs(html)
    assert len(charts) >= 6
    texts = "\n".join(charts)
    for tier in tiers.values():  # the legend of the membership mix chart
        assert f">{tier}</text>" in texts
    shown = [
        f"{persona.segment} · {persona.name}"
        for segment, persona in zip(
            result.analysis.profiles.segments, result.brief.personas.segments, strict=True
        )
        if not segment.suppressed
    ]
    assert any(name.split(" · ")[1].startswith(tuple(MARKUP)) for name in shown)
    for name in shown:  # the y axis of the size, heat map and box plot charts
        assert f">{name}</text>" in texts
