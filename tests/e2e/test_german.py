"""Briefs in the reader's language (issue #14, points 4 and 5): the German brief of the
bundled sample carries no English sentence of the default wording and writes every
number the German way; a locale without a catalogue stays English with its own number
formats and says so once; the brief never sends its reader to the tool's files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pypdf import PdfReader

from reportgen.resources import sample_data_path, templates_dir
from reportgen.wording import extract_messages
from tests.helpers import run_cli, words_off_the_page

PERIOD = "2026-11"


class Brief:
    def __init__(self, folder: Path, stderr: str) -> None:
        self.pdf = folder / "report.pdf"
        self.html = (folder / "report.html").read_text(encoding="utf-8")
        pages = PdfReader(folder / "report.pdf").pages
        self.text = " ".join(" ".join((page.extract_text() or "").split()) for page in pages)
        self.stderr = stderr


def produce(folder: Path, config: str, *args: str) -> Brief:
    (folder / "reportgen.toml").write_text(config, encoding="utf-8")
    result = run_cli("run", "--period", PERIOD, *args, cwd=folder)
    assert result.returncode == 0, result.stderr
    return Brief(folder / result.stdout.strip(), result.stderr)


@pytest.fixture(scope="module")
def german(tmp_path_factory) -> Brief:
    return produce(
        tmp_path_factory.mktemp("de"), '[report]\nlocale = "de_DE"\ncurrency = "EUR"\n', "--quiet"
    )


def _library(folder: Path) -> Path:
    """The bundled persona library cut to one persona: most segments then match none."""
    document = yaml.safe_load((templates_dir() / "personas.yaml").read_text(encoding="utf-8"))
    document["personas"] = document["personas"][:1]
    path = folder / "few-personas.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def french(tmp_path_factory) -> Brief:
    folder = tmp_path_factory.mktemp("fr")
    library = _library(folder)
    data = pd.read_csv(sample_data_path())
    data["Notes"] = "x"  # a column no role uses: the method section lists it
    data.to_csv(folder / "customers.csv", index=False)
    return produce(
        folder,
        f'[report]\nlocale = "fr_FR"\ncurrency = "EUR"\npersonas = "{library.name}"\n',
        "--data",
        "customers.csv",
    )


_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{.*?\}\}|\{%.*?%\}|<[^>]+>")


def english_fragments(words: int = 4) -> set[str]:
    """Every run of `words` or more English words in the default wording, with its
    placeholders, Jinja code and markup taken out (they split a sentence into runs)."""
    found = set()
    for messages in extract_messages().values():
        for message in messages:
            for text in message.id if isinstance(message.id, tuple) else (message.id,):
                for run in _PLACEHOLDER.split(text):
                    for piece in re.split(r"[^A-Za-z' -]+", run):
                        tokens = piece.split()
                        if len(tokens) >= words:
                            found.add(" ".join(tokens))
    return found


def test_no_english_sentence_of_the_default_wording_is_left(german):
    fragments = english_fragments()
    assert len(fragments) > 100  # the check has teeth
    text = re.sub(r"\s+", " ", german.text)
    left = sorted(f for f in fragments if f in text)
    assert left == []


_ENGLISH_NUMBER = re.compile(r"\d,\d{3}(?![\d,])|(?<![\d.])\d+\.\d{1,2}(?!\d)")


def test_every_number_is_german(german):
    assert _ENGLISH_NUMBER.findall(german.text) == []
    assert re.search(r"\d,\d %", german.text)  # "28,6 %"
    assert re.search(r"\d €", german.text) and "$" not in german.text
    assert re.search(r"\d{1,3}\.\d{3}\b", german.text)  # "2.000 Kunden"
    assert "Kundensegmente" in german.text and "Zusammenfassung" in german.text
    assert '<html lang="de">' in german.html


def test_a_locale_without_catalogue_is_english_with_its_formats_and_one_warning(french):
    assert "We analysed" in french.text and "Executive summary" in french.text
    assert re.search(r"\d,\d\u202f?\s?%", french.text)  # French: "28,6 %"
    assert re.search(r"\d\s?€", french.text)
    assert len([line for line in french.stderr.splitlines() if "fr_FR" in line]) == 1
    assert "English" in french.stderr


def test_the_brief_never_sends_its_reader_to_the_tool_files(french, german):
    assert "matched no persona" in french.stderr
    assert "few-personas.yaml" in french.stderr  # the terminal names the file to edit
    for brief in (french, german):
        for text in (brief.html, brief.text):
            assert "personas.yaml" not in text
            assert "templates/" not in text
    assert "the library can be extended with a persona" in french.text


def test_the_method_section_keeps_its_spaces(french):
    assert "customers analysed. Columns not used: Notes." in french.text
    assert not re.search(r"[a-z][.;:][A-Z]", french.text.replace("e.g.", ""))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_longer_german_labels_stay_on_the_page(german):
    # "Durchschnittliche Bewertung" and "Tage seit dem letzten Kauf" as column heads once
    # pushed the comparison table past the right margin.
    assert words_off_the_page(german.pdf) == []


_FRENCH_MONTHS = re.compile(
    r"\b(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b"
)


def test_english_fallback_wording_has_english_words_in_its_figures(french):
    """fr_FR has no catalogue: the words a figure carries (days, months) are English like
    the sentences around them; the digits and marks stay French."""
    text = french.text
    assert not re.search(r"\bjours?\b", text), re.search(r".{40}\bjours?\b.{20}", text)
    assert not _FRENCH_MONTHS.search(text)
    assert "November 2026" in text and re.search(r"generated \w+ \d{1,2}, 2026", text)
    assert re.search(r"\d days? ago", text)
    assert re.search(r"\d,\d\u202f?\s?%", text)  # still French numbers: "28,6 %"


def test_no_number_one_before_a_plural_noun_and_german_quotes_only(french, german):
    # (counts 1 and 2 of each message are rendered in tests/unit/test_wording.py)
    wrong = re.compile(r"(?<![\d.,\u202f])1 (customers|segments|orders|Kunden sind|Bestellungen)\b")
    assert not wrong.search(french.text) and not wrong.search(german.text)
    # German quotes „…“: every “ closes a „, and the English closing ” never appears
    assert "”" not in german.text and german.text.count("„") == german.text.count("“") > 0
