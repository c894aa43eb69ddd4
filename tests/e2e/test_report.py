"""The brief as a stakeholder gets it: the PDF and HTML read back and checked against
the numbers in profiles.json."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pypdf import PdfReader

from reportgen.findings import load_findings
from reportgen.formatting import Formatter
from reportgen.resources import sample_data_path
from reportgen.rules_sql import rule_sql
from tests.helpers import REAL_DATA, assert_user_error, needs_real_data, rule_text, run_cli

PERIOD = "2026-11"
FMT = Formatter()


class Snapshot:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.profiles = json.loads((folder / "profiles.json").read_text())
        self.manifest = json.loads((folder / "manifest.json").read_text())
        self.html = (folder / "report.html").read_text()
        self.pdf = PdfReader(folder / "report.pdf")
        self.pages = [" ".join((page.extract_text() or "").split()) for page in self.pdf.pages]
        self.text = " ".join(self.pages)


def produce(tmp_path: Path, *args: str | Path, config: str | None = None) -> Snapshot:
    if config is not None:
        (tmp_path / "reportgen.toml").write_text(config)
    result = run_cli("run", "--period", PERIOD, "--quiet", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    snapshot = Snapshot(Path(tmp_path / result.stdout.strip()))
    assert snapshot.manifest["render_warnings"] == []  # WeasyPrint layout warnings fail
    return snapshot


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Snapshot:
    return produce(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Snapshot:
    if not REAL_DATA.is_file():
        pytest.skip(f"the real data set {REAL_DATA} is not here")
    return produce(tmp_path_factory.mktemp("real"), "--data", REAL_DATA)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def check_figures_match(snapshot: Snapshot) -> None:
    html_text = " ".join(" ".join(parse(snapshot.html).text).split())
    for segment in snapshot.profiles["segments"]:
        expected = (
            f"{FMT.number(segment['size'])} customers · {FMT.percent(segment['share'])} of the base"
        )
        assert segment["persona"] in snapshot.text
        assert expected in snapshot.text, expected
        assert segment["persona"] in html_text
        assert expected in html_text
        assert segment["description"] in html_text
        for recommendation in segment["recommendations"]:
            assert recommendation in html_text


def test_sample_report_figures_are_the_computed_ones(sample):
    check_figures_match(sample)
    customers = FMT.number(sample.profiles["customers"])
    assert (
        f"We analysed {customers} customers and found {len(sample.profiles['segments'])} "
        "segments" in sample.text
    )


@needs_real_data
def test_real_report_figures_are_the_computed_ones(real):
    check_figures_match(real)
    assert "We analysed 350 customers" in real.text


@needs_real_data
def test_real_personas_agree_with_the_numbers(real):
    segments = real.profiles["segments"]
    names = [s["persona"] for s in segments]
    assert len(set(names)) == len(names)
    stats = lambda s, role: s["stats"][role]["mean"]  # noqa: E731
    best = max(segments, key=lambda s: stats(s, "spend"))
    assert best is min(segments, key=lambda s: stats(s, "recency"))  # true of this data set
    assert best["persona_key"] not in {"valuable_at_risk", "hibernating"}
    assert best["persona"] == "Champions"
    longest = max(segments, key=lambda s: stats(s, "recency"))
    assert longest["persona_key"] not in {"champions", "loyal_regulars"}


def test_pdf_structure_header_footer_contents_and_metadata(sample):
    count = len(sample.pages)
    assert "Page" not in sample.pages[0]  # the cover has no running header or footer
    for number, page in enumerate(sample.pages[1:], start=2):
        assert f"Page {number} of {count}" in page
        assert "Customer segments — November 2026" in page
    contents = sample.pages[1]
    entries = re.findall(
        r"(Executive summary|All segments compared|Definitions)"
        r"[ .]*?(\d+)(?= |$)",
        contents,
    )
    assert [title for title, _ in entries] == [
        "Executive summary",
        "All segments compared",
        "Definitions",
    ]
    for title, start in entries:
        heading_page = next(
            i for i, page in enumerate(sample.pages[2:], start=3) if page.startswith(title)
        )
        assert int(start) == heading_page, title
    meta = sample.pdf.metadata
    assert meta.title == "Customer segments — 2026-11"
    assert meta.creation_date is not None
    assert meta.subject == (
        "Customer segmentation brief for November 2026: 2,000 customers in 5 segments"
    )
    fonts = set()
    for page in sample.pdf.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            descriptor = font.get_object().get("/FontDescriptor")
            if descriptor is None:
                descriptor = font.get_object()["/DescendantFonts"][0].get_object()[
                    "/FontDescriptor"
                ]
            descriptor = descriptor.get_object()
            fonts.add(str(descriptor["/FontName"]))
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), descriptor
    assert fonts
    assert "/EmbeddedFiles" not in sample.pdf.trailer["/Root"].get("/Names", {})


def test_every_figure_is_traced_to_its_source_column(sample):
    shown = list(sample.profiles["segments"][0]["stats"]) + list(sample.profiles["base_mix"])
    expected = {sample.manifest["columns"][role] for role in shown}
    assert len(expected) >= 8
    sources = sample.html.split('<table class="sources">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td>(?:<bdi>)?(.*?)(?:</bdi>)?</td>", sources)
    rows = dict(zip(cells[::2], cells[1::2], strict=True))
    assert sorted(rows.values()) == sorted(expected)
    assert rows["Spend"] == "Total Spend" and rows["Membership"] == "Membership Type"
    appendix = sample.text[sample.text.rindex("Definitions") :]
    assert "Days since last purchase Days Since Last Purchase" in appendix
    assert "for satisfaction, membership, gender and city, a segment shows" in appendix


def test_html_is_self_contained_and_every_image_has_alt_text(sample):
    tags = parse(sample.html).tags
    images = [attrs for tag, attrs in tags if tag == "img"]
    assert len(images) >= 10
    for attrs in images:
        assert attrs["src"].startswith("data:image/svg+xml;base64,")
        assert attrs.get("alt") and len(attrs["alt"]) > 20
        base64.b64decode(attrs["src"].split(",", 1)[1], validate=True)
    for tag, attrs in tags:
        assert tag not in {"script", "link", "iframe", "object", "embed"}
        for name, value in attrs.items():
            if name in {"src", "href", "srcset", "poster", "action", "data"} and value:
                assert value.startswith(("data:", "#")), (tag, name, value)
    assert "url(" not in sample.html.split("</style>")[-1]


def test_no_customer_row_reaches_the_report(sample):
    ids = pd.read_csv(sample_data_path(), dtype=str)["Customer ID"].head(200)
    for customer_id in ids:
        assert customer_id not in sample.html
        assert customer_id not in sample.text


def test_files_are_small_enough_to_email(sample):
    for name in ("report.html", "report.pdf"):
        assert (sample.folder / name).stat().st_size < 5 * 1024 * 1024


def test_hostile_text_in_data_stays_inert(tmp_path):
    table = pd.read_csv(sample_data_path(), dtype=str)
    hostile = ["<script>alert(1)</script>", "{{ 7*7 }}", '" onmouseover="x']
    table["City"] = [hostile[i % 3] for i in range(len(table))]
    table.to_csv(tmp_path / "hostile.csv", index=False)
    snapshot = produce(tmp_path, "--data", "hostile.csv")
    assert "<script>alert(1)</script>" not in snapshot.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snapshot.html
    assert "{{ 7*7 }}" in snapshot.html and "49" not in " ".join(parse(snapshot.html).text)
    assert '" onmouseover="x' not in snapshot.html
    assert not any("onmouseover" in attrs for _, attrs in parse(snapshot.html).tags)
    assert "<script>alert(1)</script>" in snapshot.text  # shown as text in the PDF
    assert "{{ 7*7 }}" in snapshot.text


def test_branding_and_paper_come_from_the_config(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    )
    snapshot = produce(
        tmp_path,
        config=(
            '[report]\ntitle = "Monthly brief"\ncompany = "Acme GmbH"\ncurrency = "EUR"\n'
            'decimal_mark = ","\nthousands_separator = "."\nprimary_color = "#7a1f5c"\n'
            'logo = "logo.png"\npaper = "Letter"\n'
        ),
    )
    box = snapshot.pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert snapshot.pdf.metadata.title == "Monthly brief — 2026-11"
    assert snapshot.pdf.metadata.author == "Acme GmbH"
    assert "--primary: #7a1f5c" in snapshot.html
    assert 'class="logo" src="data:image/png;base64,' in snapshot.html
    spend = snapshot.profiles["segments"][0]["stats"]["spend"]["mean"]
    euros = Formatter("EUR", ",", ".").money(spend)
    assert euros.startswith("€") and euros in snapshot.text


def test_a_segment_too_small_to_describe_appears_in_no_figure_chart_or_persona(tmp_path):
    # Clusters under 1,100 customers are dissolved until two segments remain; the smaller
    # of those two is then too small to describe.
    snapshot = produce(tmp_path, config="[report]\nmin_segment_size = 1100\n")
    segments = snapshot.profiles["segments"]
    small = [s for s in segments if s["size"] < 1100]
    large = [s for s in segments if s["size"] >= 1100]
    assert len(small) == 1 and len(large) == 1
    hidden = small[0]
    assert hidden["suppressed"] and hidden["stats"] == {} and hidden["revenue"] is None
    assert hidden["persona"] == "Too small to describe" and hidden["persona_key"] is None
    assert hidden["description"] == "" and hidden["recommendations"] == []
    brief = json.loads((snapshot.folder / "brief.json").read_text())["findings"]
    kept = {s["id"]: s for s in brief["profiles"]["segments"]}[hidden["id"]]
    assert kept["stats"] == {} and kept["mix"] == {} and kept["revenue_share"] is None
    assert str(hidden["id"]) not in brief["plots"]["centres"]
    assert hidden["id"] not in brief["plots"]["scatter_segment"]
    assert hidden["id"] not in brief["plots"]["sample_segment"]
    alts = [attrs["alt"] for tag, attrs in parse(snapshot.html).tags if tag == "img"]
    assert alts and not any("Too small to describe" in alt for alt in alts)
    assert f"profile-{hidden['id']}" not in snapshot.html
    assert f"{FMT.number(hidden['size'])} customers · " in snapshot.text
    assert "fewer than 1,100 customers, so its figures are not shown" in snapshot.text
    assert large[0]["description"] in " ".join(" ".join(parse(snapshot.html).text).split())


def test_extreme_customers_are_reported_instead_of_forming_a_segment(tmp_path):
    table = pd.read_csv(sample_data_path(), dtype=str)
    spend = table["Total Spend"].astype(float)
    table.loc[:4, "Total Spend"] = (spend[:5] * 300).round(2).astype(str)
    table.loc[:4, "Items Purchased"] = "400"
    table.to_csv(tmp_path / "whales.csv", index=False)
    snapshot = produce(tmp_path, "--data", "whales.csv", config="[features]\nlog_skewed = false\n")
    outliers = snapshot.profiles["outliers"]
    assert outliers["customers"] >= 5
    assert all(s["size"] >= 20 for s in snapshot.profiles["segments"])  # 1% of 2,000
    model = json.loads((snapshot.folder / "model.json").read_text())
    assert model["outliers"] == outliers["customers"]
    assert outliers["role"] == "spend" and outliers["times"] >= 100
    assert (
        f"The {FMT.number(outliers['customers'])} customers set aside "
        f"({FMT.percent(outliers['share'])} of all) each have spend of at least "
        f"{FMT.number(outliers['times'])}× that of the median customer" in snapshot.text
    )
    assert "were too few and too far from the rest to form a segment" in snapshot.text
    assert "stood apart from every segment and joined the nearest one" in snapshot.text


def test_user_templates_override_and_extend_the_default(tmp_path):
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "default/report.html.j2" %}'
        '{% block definitions %}<section id="definitions"><h2>Definitions</h2>'
        "<p>Our own glossary.</p>"
        # the macros as templates written for an earlier default call them
        '{{ figure(charts.sizes, wide=false) }}<p>{{ stat(1234.0, "money") }} and '
        '{{ stat(4, "rating") }}</p></section>{% endblock %}'
    )
    snapshot = produce(tmp_path, config='[report]\ntemplates = "mytemplates"\n')
    assert "Our own glossary." in snapshot.text
    assert "$1,234 and 4.0" in snapshot.text
    assert "Executive summary" in snapshot.text  # the rest is the default report
    assert "Calinski–Harabasz, Davies–Bouldin, inertia" not in snapshot.html


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("file:///etc/passwd", "refused to read file:///etc/passwd: outside the template folders"),
        ("http://169.254.169.254/latest", "refused to fetch http://169.254.169.254/latest"),
        ("missing.png", "does not exist"),
    ],
)
def test_the_pdf_renderer_fetches_nothing_it_should_not(tmp_path, source, message):
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "default/report.html.j2" %}'
        f'{{% block definitions %}}<img src="{source}" alt="x">{{% endblock %}}'
    )
    (tmp_path / "reportgen.toml").write_text(f'[report]\ntemplates = "{folder}"\n')
    result = run_cli("run", "--period", PERIOD, cwd=tmp_path)
    assert_user_error(result, message)
    assert not (tmp_path / "output").exists()


def test_a_constant_driver_is_named_in_the_method_section(tmp_path):
    table = pd.read_csv(sample_data_path(), dtype=str)
    table["Average Rating"] = "4.0"
    table.to_csv(tmp_path / "flat.csv", index=False)
    snapshot = produce(tmp_path, "--data", "flat.csv")
    assert (
        "Average rating had the same value for every customer and could not separate segments."
    ) in snapshot.text


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        # Twelve customers: both segments are under min_segment_size (10).
        ({"Total Spend": "{s}", "Items Purchased": "{i}", "Days Since Last Purchase": "{d}"}, 12),
        # One driver only: the scatter has one real axis.
        ({"Total Spend": "{s}"}, 60),
    ],
)
def test_a_brief_is_written_for_tiny_and_narrow_tables(tmp_path, columns, rows):
    lines = ["Customer ID," + ",".join(columns)]
    for i in range(rows):
        values = {"s": 10 + (i % 6) * 40 + i, "i": 1 + i % 5, "d": 3 + (i * 7) % 50}
        lines.append(f"C{i:03d}," + ",".join(v.format(**values) for v in columns.values()))
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    snapshot = produce(tmp_path, "--data", "table.csv")
    segments = snapshot.profiles["segments"]
    assert sum(s["size"] for s in segments) == rows
    for segment in segments:
        if segment["suppressed"]:
            assert segment["stats"] == {}
            assert segment["persona"].startswith("Too small to describe")
        else:
            assert segment["description"] in " ".join(" ".join(parse(snapshot.html).text).split())
    if all(s["suppressed"] for s in segments):
        assert "The most valuable" not in snapshot.text
        assert "fewer than 10 customers, so its figures are not shown" in snapshot.text


# --- segment rules and `assign` ------------------------------------------------------


def _labels_in_duckdb(snapshot: Snapshot, data: Path) -> pd.DataFrame:
    sql = (snapshot.folder / "segments.sql").read_text()
    db = duckdb.connect()
    db.execute(f"CREATE TABLE customers AS SELECT * FROM read_csv('{data}', all_varchar=true)")
    found = db.execute(f'SELECT "Customer ID" AS customer_id, {sql} AS sql FROM customers').df()
    kept = pd.read_csv(snapshot.folder / "assignments.csv", dtype={"customer_id": str})
    return kept.merge(found, on="customer_id", how="left")


@pytest.mark.parametrize("which", ["sample", "real"])
def test_brief_rules_json_and_segments_sql_agree(which, request):
    snapshot: Snapshot = request.getfixturevalue(which)
    data = sample_data_path() if which == "sample" else REAL_DATA
    rules = json.loads((snapshot.folder / "rules.json").read_text())
    assert {"rules.json", "segments.sql"} <= set(snapshot.manifest["files"])
    labelled = _labels_in_duckdb(snapshot, data)
    findings = load_findings(snapshot.folder)
    assert findings.rules is not None
    for entry in rules["segments"]:
        segment = entry["segment"]
        inside = labelled["segment"] == segment
        assert entry["size"] == inside.sum()
        if entry["status"] != "rule":
            assert "No rule" in snapshot.text
            continue
        assert rule_text(entry["conditions"]) in snapshot.text
        shown = f"This rule finds {FMT.number(entry['support'])} customers: "
        assert shown + f"{FMT.percent(entry['recall'])} of the segment; " in snapshot.text
        assert f"{FMT.percent(entry['precision'])} of those it finds" in snapshot.text
        # segments.sql, run on the input, labels customers at the figures rules.json reports
        mine = labelled["sql"] == segment
        assert entry["in_sql"]["support"] == mine.sum()
        assert entry["in_sql"]["precision"] == pytest.approx((mine & inside).sum() / mine.sum())
        assert entry["in_sql"]["recall"] == pytest.approx((mine & inside).sum() / inside.sum())
        rule = findings.rules.rule(segment)
        db = duckdb.connect()
        db.execute(f"CREATE TABLE c AS SELECT * FROM read_csv('{data}', all_varchar=true)")
        where = rule_sql(rule.conditions, findings.rules.fills)
        assert db.execute(f"SELECT count(*) FROM c WHERE {where}").fetchone() == (entry["support"],)
    assert "customer_id" not in json.dumps(rules) and "Customer ID" not in json.dumps(rules)


@pytest.mark.parametrize("which", ["sample", "real"])
def test_assign_reproduces_the_period_assignments(which, request, tmp_path):
    snapshot: Snapshot = request.getfixturevalue(which)
    data = sample_data_path() if which == "sample" else REAL_DATA
    out = snapshot.folder.parent.parent
    before = {p: p.read_bytes() for p in snapshot.folder.rglob("*") if p.is_file()}
    result = run_cli(
        "assign", "--out", out, "--period", PERIOD, "--data", data,
        "--out-file", tmp_path / "labels.csv", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    labels = pd.read_csv(tmp_path / "labels.csv", dtype={"customer_id": str})
    kept = pd.read_csv(snapshot.folder / "assignments.csv", dtype={"customer_id": str})
    assert labels["customer_id"].tolist() == kept["customer_id"].tolist()
    assert labels["segment"].tolist() == kept["segment"].tolist()
    names = {s["id"]: s["persona"] for s in snapshot.profiles["segments"]}
    assert labels["persona"].tolist() == [names[i] for i in labels["segment"]]
    # the period's 99th percentile: about 1 in 100 of its own customers is beyond it
    assert 0 < labels["unusual"].sum() <= 0.02 * len(labels) + 1
    assert before == {p: p.read_bytes() for p in snapshot.folder.rglob("*") if p.is_file()}


def test_assign_labels_a_changed_table_as_frozen_mode_does(sample, tmp_path):
    out = sample.folder.parent.parent
    changed = pd.read_csv(sample_data_path(), dtype=str)
    changed["Total Spend"] = (changed["Total Spend"].astype(float) * 1.7).round(2).astype(str)
    changed["Days Since Last Purchase"] = (
        changed["Days Since Last Purchase"].astype(int) + 30
    ).astype(str)
    changed.to_csv(tmp_path / "changed.csv", index=False)
    result = run_cli(
        "assign", "--out", out, "--period", PERIOD, "--data", tmp_path / "changed.csv",
        "--out-file", tmp_path / "labels.parquet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (tmp_path / "reportgen.toml").write_text('[segmentation]\nmode = "frozen"\n')
    archived = tmp_path / "out" / "customer-segments"
    shutil.copytree(sample.folder, archived / PERIOD)  # frozen mode scores with its model
    frozen = run_cli(
        "run", "--data", tmp_path / "changed.csv", "--period", "2026-12", "--quiet",
        "--out", tmp_path / "out", cwd=tmp_path,
    )  # fmt: skip
    assert frozen.returncode == 0, frozen.stderr
    later = pd.read_csv(Path(frozen.stdout.strip()) / "assignments.csv", dtype={"customer_id": str})
    labels = pd.read_parquet(tmp_path / "labels.parquet")
    assert labels["segment"].tolist() == later["segment"].tolist()
    kept = pd.read_csv(sample.folder / "assignments.csv", dtype={"customer_id": str})
    assert (labels["segment"] != kept["segment"]).sum() > 100  # the change moved customers


def test_assign_never_writes_into_the_archive(sample, tmp_path):
    out = sample.folder.parent.parent
    result = run_cli(
        "assign", "--out", out, "--period", PERIOD, "--data", sample_data_path(),
        "--out-file", sample.folder / "labels.csv", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "inside the archive" in result.stderr
    assert not (sample.folder / "labels.csv").exists()
