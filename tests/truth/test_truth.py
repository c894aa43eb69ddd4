"""The truth checker: every claim in a segment's name and description holds on its figures.

For many kinds of generated customer bases (tests/truth/bases.py), the real stages
segment the customers and name the segments. Then, for every segment shown, the
segment's figures are computed again here, independently, from the input itself
(the customer table, or the order log aggregated in pandas), and each level that
its persona asserts, each level its words claim, and each highlight of the
executive summary is checked against the documented rules (README, "Levels"),
implemented here a second time.

What a persona claims is written down here, not read from the library: removing an
assertion from templates/personas.yaml, or going back to levels from z-scores,
makes this test fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.config import parse
from reportgen.formatting import Formatter
from reportgen.personas import assign_personas, load_library
from reportgen.pipeline import analyse
from reportgen.profile import highlights
from reportgen.resources import templates_dir
from tests.helpers import REAL_DATA, needs_real_data
from tests.truth.bases import GENERATORS, Base

LIBRARY = load_library(templates_dir() / "personas.yaml", Formatter())
SEEDS = (1, 2)

# The documented defaults ([levels] in README).
RATIO, SHARE_POINTS, RATING_POINTS, STEPS, REPEAT = 1.25, 0.10, 0.4, 0.5, 2
RECENT, LAPSED, LOST, NEW, ESTABLISHED = 30, 90, 365, 90, 365
MIN_SHARE = 0.01

LAPSED_OR_LOST = {"lapsed", "lost"}
ORDERS = {"orders"}
"""Under "counts": the wording speaks of orders, so frequency must count orders, not items."""
PERSONA_CLAIMS: dict[str, dict[str, set[str]]] = {
    "champions": {"spend": {"high"}, "frequency": {"high"}, "recency": {"recent"}},
    "loyal_regulars": {
        "counts": ORDERS,
        "frequency": {"high"},
        "spend": {"typical", "high"},
        "recency": {"recent", "typical"},
    },
    "promising_newcomers": {
        "tenure": {"low"},
        "recency": {"recent"},
        "spend": {"typical", "high"},
    },
    "new_customers": {"tenure": {"low"}},
    "recent_light_buyers": {"recency": {"recent"}, "spend": {"low"}},
    "deal_seekers": {"discount": {"high"}},
    "valuable_at_risk": {"spend": {"high"}, "recency": {"lapsed"}},
    "cant_lose_them": {"recency": {"lapsed"}, "frequency": {"high"}, "spend": {"high"}},
    "at_risk": {"counts": ORDERS, "recency": {"lapsed"}, "frequency": {"high"}},
    "hibernating": {"recency": LAPSED_OR_LOST, "spend": {"low"}},
    "lost_customers": {"recency": {"lost"}},
    "occasional_buyers": {"frequency": {"low"}, "recency": {"recent", "typical"}},
    "dissatisfied": {"satisfaction": {"low"}, "rating": {"low"}},
    "steady_mid_value": {
        "spend": {"typical"},
        "frequency": {"typical"},
        "recency": {"recent", "typical"},
    },
    "big_ticket_buyers": {"spend": {"high"}, "frequency": {"low", "typical"}},
    "loyal_customers": {
        "counts": ORDERS,
        "frequency": {"high"},
        "tenure": {"high"},
        "recency": {"recent", "typical"},
    },
    "potential_loyalists": {
        "counts": ORDERS,
        "frequency": {"high"},
        "tenure": {"low", "typical"},
        "recency": {"recent"},
    },
    "frequent_returners": {"return_rate": {"high"}},
}
"""What each persona's name and description say, in levels."""

WORDS: dict[str, dict[str, set[str]]] = {
    "frequent returners": {"return_rate": {"high"}},
    "rarely return": {"return_rate": {"low"}},
    "recently active": {"recency": {"recent"}},
    "bought recently": {"recency": {"recent"}},
    "long-standing": {"tenure": {"high"}},
    "fairly new": {"tenure": {"low", "typical"}},
    "found you recently": {"tenure": {"low"}},
    "newcomers": {"tenure": {"low"}},
    "new": {"tenure": {"low"}},
    "full-price buyers": {"discount": {"low"}},
    "discount users": {"discount": {"high"}},
    "drawn by price": {"discount": {"high"}},
    "infrequent buyers": {"frequency": {"low"}},
    "frequent buyers": {"frequency": {"high"}},
    "without buying more often": {"frequency": {"low", "typical"}},
    "few purchases": {"frequency": {"low"}},
    "frequent": {"frequency": {"high"}},
    "often": {"frequency": {"high"}, "counts": ORDERS},
    "regularly": {"frequency": {"high"}, "counts": ORDERS},
    "regulars": {"frequency": {"high"}, "counts": ORDERS},
    "regular": {"frequency": {"high"}, "counts": ORDERS},
    "loyal": {"frequency": {"high"}, "counts": ORDERS},
    "loyalists": {"frequency": {"high"}, "counts": ORDERS},
    "keep ordering": {"frequency": {"high"}, "counts": ORDERS},
    "keep coming back": {"frequency": {"high"}, "counts": ORDERS},
    "high spend": {"spend": {"high"}},
    "low spend": {"spend": {"low"}},
    "best customers": {"spend": {"high"}},
    "top customers": {"spend": {"high"}},
    "high-value": {"spend": {"high"}},
    "valuable": {"spend": {"high"}},
    "bought little": {"spend": {"low"}},
    "spend little": {"spend": {"low"}},
    "high ratings": {"rating": {"high"}},
    "low ratings": {"rating": {"low"}},
    "dissatisfied": {"satisfaction": {"low"}},
    "unhappy": {"satisfaction": {"low"}},
    "satisfied": {"satisfaction": {"high"}},
    "steady": {"recency": {"recent", "typical"}},
    "dependable": {"recency": {"recent", "typical"}},
    "still around": {"recency": {"recent", "typical"}},
    "lapsed": {"recency": LAPSED_OR_LOST},
    "lost": {"recency": {"lost"}},
    "hibernating": {"recency": LAPSED_OR_LOST},
    "inactive": {"recency": LAPSED_OR_LOST},
    "at risk": {"recency": {"lapsed"}},
    "slipping": {"recency": {"lapsed"}},
    "gone quiet": {"recency": LAPSED_OR_LOST},
    "long ago": {"recency": LAPSED_OR_LOST},
    "used to": {"recency": LAPSED_OR_LOST},
}
"""Words that state a level, wherever they appear in a name or description."""


TODAY = pd.Timestamp.today().normalize()


def _from_log(frame: pd.DataFrame) -> pd.DataFrame:
    """Each customer's figures from an order log, aggregated here in pandas, as the README's
    order-log table defines them: duplicates once, no customer or future date dropped, a
    zero or negative amount that is not a return dropped, returns subtracted."""
    lines = frame.drop_duplicates().dropna(subset=["CustomerID"])
    lines = lines.assign(day=pd.to_datetime(lines["InvoiceDate"]))
    if "Amount" in lines:
        lines = lines.assign(amount=lines["Amount"], returned=False)
    else:
        lines = lines.assign(
            amount=lines["Quantity"] * lines["UnitPrice"], returned=lines["Quantity"] < 0
        )
    lines = lines[(lines["day"] <= TODAY) & (lines["returned"] | (lines["amount"] > 0))]
    as_of = lines["day"].max() + pd.Timedelta(days=1)
    bought = lines[~lines["returned"]].groupby("CustomerID")
    everything = lines.groupby("CustomerID")
    figures = pd.DataFrame(
        {
            "spend": everything["amount"].sum(),
            "frequency": bought["InvoiceNo"].nunique().astype(float),
            "recency": (as_of - bought["day"].max()).dt.days.astype(float),
            "tenure": (as_of - everything["day"].min()).dt.days.astype(float),
        }
    )
    figures.index = figures.index.astype(str)
    return figures


_COLUMNS = {
    "Total Spend": "spend",
    "Orders": "frequency",
    "Items Purchased": "frequency",
    "Days Since Last Purchase": "recency",
    "Days Since First Purchase": "tenure",
    "Average Rating": "rating",
    "Discount Applied": "discount",
    "Satisfaction Level": "satisfaction",
}


def per_customer(base: Base, clean: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Each customer's figures by role, and whether frequency counts orders: from the input
    itself, or for a messy table from the validated table (`clean`), never from profiles."""
    if base.kind == "transactions":
        return _from_log(base.frame), True
    orders = "Orders" in base.frame
    if base.messy:
        roles = [r for r in dict.fromkeys(_COLUMNS.values()) if r in clean]
        figures = clean.set_index(clean["customer_id"].astype(str))[roles].copy()
        if "satisfaction" in figures:
            figures["satisfaction"] = figures["satisfaction"].cat.codes
        return figures.astype(float), orders
    figures = base.frame.set_index("Customer ID").rename(columns=_COLUMNS)
    figures = figures[[c for c in figures.columns if c in _COLUMNS.values()]].copy()
    if "discount" in figures:
        figures["discount"] = figures["discount"].isin(["Yes", "TRUE"]).astype(float)
    if "satisfaction" in figures:
        codes = {"Unsatisfied": 0, "Neutral": 1, "Satisfied": 2}
        figures["satisfaction"] = figures["satisfaction"].map(codes).astype(float)
    return figures.astype(float), orders


def rhythm(figures: pd.DataFrame, orders: bool) -> float | None:
    if not orders or "tenure" not in figures:
        return None
    repeat = figures[figures["frequency"] >= 2]
    if len(repeat) < 20:
        return None
    return float(((repeat["tenure"] - repeat["recency"]) / (repeat["frequency"] - 1)).median())


def level(role: str, members: pd.Series, everyone: pd.Series, orders: bool, gap) -> str:
    """The documented rule for a role's level, written again from the README."""
    median, base_median = members.median(), everyone.median()
    if role == "recency":
        recent = max(RECENT, gap or 0)
        lapsed = max(LAPSED, 2 * (gap or 0))
        lost = max(LOST, 4 * (gap or 0))
        if median >= lost:
            return "lost"
        return "lapsed" if median >= lapsed else "recent" if median <= recent else "typical"
    if role == "tenure":
        return "low" if median <= NEW else "high" if median >= ESTABLISHED else "typical"
    if role in ("discount", "return_rate"):
        share, base_share = members.mean(), everyone.mean()
        if share >= max(base_share + SHARE_POINTS, base_share * RATIO):
            return "high"
        return "low" if share <= min(base_share - SHARE_POINTS, base_share / RATIO) else "typical"
    if role == "satisfaction":
        mean, base_mean = members.mean(), everyone.mean()
        return (
            "high"
            if mean >= base_mean + STEPS
            else "low"
            if mean <= base_mean - STEPS
            else "typical"
        )
    if role == "rating":
        if median >= base_median + RATING_POINTS:
            return "high"
        return "low" if median <= base_median - RATING_POINTS else "typical"
    high, low = base_median * RATIO, base_median / RATIO
    if role == "frequency" and orders:
        high, low = max(high, REPEAT), max(low, REPEAT - 1)
    return "high" if median >= high else "low" if median <= low else "typical"


def claims_in(text: str) -> list[tuple[str, dict[str, set[str]]]]:
    """(phrase, claimed levels) for every claiming phrase, longest phrases first."""
    plain = text.lower()
    found = []
    for phrase in sorted(WORDS, key=len, reverse=True):
        pattern = re.compile(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])")
        if pattern.search(plain):
            found.append((phrase, WORDS[phrase]))
            plain = pattern.sub(" ", plain)
    return found


def analysed(base: Base, folder: Path):
    path = folder / f"{base.kind}.csv"
    base.frame.to_csv(path, index=False)
    config = parse(
        {"data": {"kind": base.kind}, "segmentation": {"stability_runs": 0}, **base.settings}
    )
    analysis = analyse(path, config)
    return analysis, assign_personas(analysis.profiles, LIBRARY)


def falsehoods(base: Base, folder: Path) -> list[str]:
    """Every claim of the brief about a segment that its own figures contradict."""
    analysis, personas = analysed(base, folder)
    figures, orders = per_customer(base, analysis.clean.frame)
    labels = pd.Series(
        analysis.segmentation.labels, index=analysis.clean.frame["customer_id"].astype(str)
    )
    figures = figures.loc[labels.index]
    gap = rhythm(figures, orders)
    n = len(figures)
    wrong = []
    levels_of = {}
    for profile, persona in zip(analysis.profiles.segments, personas.segments, strict=True):
        members = figures[labels.to_numpy() == profile.id]
        if len(members) < MIN_SHARE * n:
            wrong.append(f"segment {profile.id} has {len(members)} of {n} customers (< 1%)")
        if profile.suppressed:
            continue
        levels = {
            role: level(role, members[role], figures[role], orders, gap) for role in figures.columns
        }
        levels["counts"] = "orders" if orders else "items"
        levels_of[profile.id] = levels
        text = f"{persona.name}. {persona.description}"
        claims = [(f"persona {persona.key}", PERSONA_CLAIMS[persona.key])] if persona.key else []
        for source, claimed in claims + claims_in(text):
            for role, allowed in claimed.items():
                if role in levels and levels[role] not in allowed:
                    wrong.append(
                        f"{base.name}: segment {profile.id} {persona.name!r}: {source!r} says "
                        f"{role} is {'/'.join(sorted(allowed))}, but it is {levels[role]} "
                        f"(median {members[role].median():.4g}, all {figures[role].median():.4g})"
                    )
    outliers = analysis.profiles.outliers
    if analysis.segmentation.outliers and (
        outliers is None or outliers.customers != analysis.segmentation.outliers
    ):
        wrong.append(f"{base.name}: customers were set aside but not reported")
    marks = highlights(analysis.profiles)
    if marks.risk in ("lapsed", "lapsed_repeat"):
        risky = levels_of[marks.at_risk]
        if risky["recency"] != "lapsed":
            wrong.append(f"{base.name}: the urgent risk is {risky['recency']}, not lapsed")
        if marks.risk == "lapsed_repeat":
            medians = figures[labels.to_numpy() == marks.at_risk]["frequency"].median()
            if medians < REPEAT:
                wrong.append(f"{base.name}: the urgent risk is not repeat customers")
    for lost in marks.lost:
        if levels_of[lost]["recency"] != "lost":
            wrong.append(f"{base.name}: segment {lost} is reported lost but is not")
    return wrong


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_claim_about_a_segment_holds_on_its_own_figures(name, seed, tmp_path):
    base = GENERATORS[name](np.random.default_rng(seed))
    assert falsehoods(base, tmp_path) == []


@needs_real_data
def test_every_claim_holds_on_the_real_data_set(tmp_path):
    frame = pd.read_csv(REAL_DATA, dtype=str)
    assert falsehoods(Base("real data set", "customers", frame, messy=True), tmp_path) == []
