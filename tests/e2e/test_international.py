"""A German export, configured by nothing but `reportgen init`, gives the brief the same
data written the American way gives: the same segments, customer by customer, and the
same figures.

The German file is the hard case of issue #14: semicolons, German column names, spend
in whole euros with a point between thousands (`3.562`, which the values alone cannot
tell from three and a half), ratings with a decimal comma and yes/no as Excel writes it
in German (WAHR/FALSCH).
"""

import json
from pathlib import Path

import pandas as pd
from pypdf import PdfReader

from reportgen import sample
from tests.helpers import assert_user_error, run_cli

PERIOD = "2026-11"
GERMAN = {
    "Customer ID": "Kundennummer",
    "Gender": "Geschlecht",
    "Age": "Alter",
    "City": "Stadt",
    "Membership Type": "Mitgliedschaft",
    "Total Spend": "Umsatz",
    "Items Purchased": "Gekaufte Artikel",
    "Average Rating": "Durchschnittliche Bewertung",
    "Discount Applied": "Rabatt genutzt",
    "Days Since Last Purchase": "Tage seit letztem Kauf",
    "Satisfaction Level": "Zufriedenheit",
}


def _tables(rows: int = 800) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same customers, written the American way and the German way."""
    table = sample.generate(rows, 11)
    table["Total Spend"] = table["Total Spend"].round(0) * 3  # whole units, some ≥ 1,000
    american = table.copy()
    german = table.rename(columns=GERMAN)
    german["Umsatz"] = table["Total Spend"].map(
        lambda v: "" if pd.isna(v) else f"{v:,.0f}".replace(",", ".")
    )
    german["Durchschnittliche Bewertung"] = table["Average Rating"].map(
        lambda v: "" if pd.isna(v) else f"{v:.1f}".replace(".", ",")
    )
    words = table["Discount Applied"].astype("string").str.strip().str.casefold()
    german["Rabatt genutzt"] = words.map(
        lambda w: (
            ""
            if pd.isna(w) or w == ""
            else ("WAHR" if w in ("true", "yes", "y", "1") else "FALSCH")
        )
    )
    return american, german


def _snapshot(root: Path) -> Path:
    return root / "output" / "customer-segments" / PERIOD


def test_a_german_export_gives_the_segments_and_figures_of_the_american_one(tmp_path):
    american, german = _tables()
    assert (german["Umsatz"].str.contains(r"^\d{1,3}\.\d{3}$")).sum() > 100
    american.to_csv(tmp_path / "customers.csv", index=False)
    german.to_csv(tmp_path / "kunden.csv", index=False, sep=";")

    init = run_cli("init", "--data", "kunden.csv", "--out", "kunden.toml", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    written = (tmp_path / "kunden.toml").read_text()
    assert '\ndecimal_mark = ","' in written and '\nthousands_separator = "."' in written

    us = tmp_path / "us"
    de = tmp_path / "de"
    for folder, args in ((us, ["--data", "customers.csv"]), (de, ["--config", "kunden.toml"])):
        folder.mkdir()
        result = run_cli("run", *args, "--period", PERIOD, "--out", folder / "output", cwd=tmp_path)
        assert result.returncode == 0, result.stderr

    segments = {
        name: pd.read_csv(_snapshot(folder) / "assignments.csv", dtype=str)
        for name, folder in (("us", us), ("de", de))
    }
    assert segments["us"].equals(segments["de"])
    profiles = {
        name: json.loads((_snapshot(folder) / "profiles.json").read_text())
        for name, folder in (("us", us), ("de", de))
    }
    assert profiles["us"] == profiles["de"]
    manifest = json.loads((_snapshot(de) / "manifest.json").read_text())
    read = {f["column"]: f for f in manifest["data_quality"]["number_formats"]}
    assert (read["Umsatz"]["decimal_mark"], read["Umsatz"]["thousands_separator"]) == (",", ".")
    assert read["Durchschnittliche Bewertung"]["decimal_mark"] == ","
    # The brief says how the numbers were read, as a reader can check against the file.
    pages = PdfReader(_snapshot(de) / "report.pdf").pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "“Umsatz” decimal comma, a point between thousands (as configured)" in text
    assert "“Durchschnittliche Bewertung” decimal comma, no thousands separator" in text


def test_whole_amounts_nothing_can_decide_are_an_error_naming_the_setting(tmp_path):
    _, german = _tables(200)
    # Tab-separated, and no other column with a decimal comma: "3.562" has two readings.
    german = german.drop(columns=["Durchschnittliche Bewertung"])
    german.to_csv(tmp_path / "kunden.tsv", index=False, sep="\t")
    result = run_cli("validate", "--data", "kunden.tsv", cwd=tmp_path)
    assert_user_error(
        result, "column 'Umsatz' (role spend)", "can be read two ways", "[data] decimal_mark"
    )
