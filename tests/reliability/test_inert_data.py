"""Promise 1: data is never run as code, in the HTML, the PDF, spreadsheets or email."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pandas as pd
import pytest
from packaging.version import Version
from pypdf import PdfReader

from reportgen import render, templating
from reportgen.config import parse
from reportgen.formatting import Formatter
from reportgen.resources import templates_dir
from reportgen.spreadsheet import restore
from tests.reliability.helpers import run_in_process, sample_table
from tests.test_dependencies import lower_bounds

HOSTILE_TEXT = [
    '" onmouseover=x "',
    "</script><script>alert(1)</script>",
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    '<a rel="attachment" href="file:///etc/passwd">x</a>',
    '<img src="http://169.254.169.254/x">',
    "<link rel=stylesheet href=file:///etc/passwd>",
    "{{ 7*7 }}{% raw %}",
]
HOSTILE_IDS = ["=1+1", "+SUM(A1)", "@cmd", "x", "  =HYPERLINK(1)", "'=1", "-10", "-2+3"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_template_environment_escapes_html_and_only_text_templates_are_raw():
    env = templating.environment(parse({}), Formatter())
    assert env.autoescape("report.html.j2") and env.autoescape("email.html.j2")
    assert env.autoescape("my-own.j2") and env.autoescape(None)  # unknown: escaped
    assert not env.autoescape("email.txt.j2")
    assert env.from_string("{{ v }}").render(v="<b>") == "&lt;b&gt;"


def test_hostile_values_stay_text_in_html_and_pdf_and_fetch_nothing(tmp_path, monkeypatch):
    fetched: list[str] = []
    real_fetch = render._ConfinedFetcher.fetch

    def recording(self, url, headers=None):
        fetched.append(url)
        return real_fetch(self, url, headers)

    monkeypatch.setattr(render._ConfinedFetcher, "fetch", recording)
    table = sample_table()
    table["City"] = [HOSTILE_TEXT[i % len(HOSTILE_TEXT)] for i in range(len(table))]
    table["Membership Type"] = [
        HOSTILE_TEXT[(i + 3) % len(HOSTILE_TEXT)] for i in range(len(table))
    ]
    result = run_in_process(table, tmp_path)
    folder = result.snapshot.path
    html = (folder / "report.html").read_text()

    parser = _Tags()
    parser.feed(html)
    assert [tag for tag, _ in parser.tags if tag in ("script", "link", "iframe", "object")] == []
    assert not any(name.startswith("on") for _, attrs in parser.tags for name in attrs), (
        "an event handler attribute reached the HTML"
    )
    hrefs = [a.get("href", "") for t, a in parser.tags if t == "a"]
    assert all(h.startswith("#") for h in hrefs), hrefs  # only the contents' own links
    sources = [a.get("src", "") for t, a in parser.tags if t == "img"]
    assert all(s.startswith("data:image/") for s in sources)
    assert "&lt;/script&gt;" in html and "</script>" not in html
    # The whole value shows up, in the tables and in attribute values (alt text), escaped.
    assert "&#34; onmouseover=x &#34;" in html or "&quot; onmouseover=x &quot;" in html

    allowed = str(templates_dir())
    assert all(u.startswith("data:") or u.startswith(f"file://{allowed}") for u in fetched), [
        u for u in fetched if not u.startswith("data:")
    ]
    # Machine-readable files keep the values exactly as they were.
    profiles = json.loads((folder / "profiles.json").read_text())
    assert set(HOSTILE_TEXT) <= set(profiles["base_mix"]["city"])
    pdf_bytes = (folder / "report.pdf").read_bytes()
    reader = PdfReader(folder / "report.pdf")
    assert reader.attachments == {} and b"/EmbeddedFile" not in pdf_bytes
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "</script><script>alert(1)</script>" in text  # printed, not interpreted


def test_people_facing_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    table = sample_table(len(HOSTILE_IDS) * 30)
    table["Customer ID"] = [f"{HOSTILE_IDS[i % 8]}{'' if i < 8 else i}" for i in range(len(table))]
    result = run_in_process(table, tmp_path)
    lines = (result.snapshot.path / "assignments.csv").read_text().splitlines()
    cells = {line.rsplit(",", 1)[0].strip('"') for line in lines[1:]}
    # Ids are trimmed, so "  =HYPERLINK(1)" is stored as "=HYPERLINK(1)".
    for value in ("=1+1", "+SUM(A1)", "@cmd", "=HYPERLINK(1)", "'=1", "-2+3"):
        assert "'" + value in cells, value
    assert "-10" in cells  # a real number stays a number
    # Read back by reportgen (the previous period's assignments), the ids are the originals.
    back = pd.read_csv(result.snapshot.path / "assignments.csv", dtype=str, keep_default_na=False)
    originals = {value.strip() for value in HOSTILE_IDS}
    assert originals <= set(restore(back["customer_id"].astype("string")))


SAFE_MINIMUMS = {
    # CVE-2024-28184: before 61.2 a rel=attachment link could embed a local file.
    "weasyprint": "61.2",
    # CVE-2024-22195 and CVE-2024-34064: attribute injection through xmlattr.
    "jinja2": "3.1.4",
    # CVE-2023-47248: arbitrary code execution reading IPC/Parquet files.
    "pyarrow": "14.0.1",
    "defusedxml": "0.7",
}


@pytest.mark.parametrize(("package", "minimum"), SAFE_MINIMUMS.items())
def test_safe_minimum_versions_are_pinned(package, minimum):
    assert lower_bounds()[package] >= Version(minimum)


def test_a_file_url_is_checked_as_it_will_be_read_whatever_its_spelling(tmp_path):
    allowed = tmp_path / "templates"
    allowed.mkdir()
    (allowed / "logo one.png").write_bytes(b"logo")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    # A decoy file whose literal name is the encoded path: a check on the undecoded URL
    # finds it inside the folder, while urllib reads the decoded path outside.
    decoy = allowed / "%2e%2e" / "secret.txt"
    decoy.parent.mkdir()
    decoy.write_text("decoy")
    fetcher = render._ConfinedFetcher((allowed,))
    escapes = [
        f"file://{allowed}/%2e%2e/secret.txt",
        f"file://{allowed}/%2E%2E/secret.txt",
        f"file://{allowed}/..%2fsecret.txt",
        f"FILE://{allowed}/../secret.txt",
        f"file://elsewhere{allowed}/logo%20one.png",
        f"file://{secret}",
    ]
    for url in escapes:
        with pytest.raises(render.FatalURLFetchingError, match="refused to read"):
            fetcher.fetch(url)
    served = fetcher.fetch(f"file://{allowed}/logo%20one.png")
    assert served.read() == b"logo"
