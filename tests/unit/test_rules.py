"""Segment rules and segments.sql: exact rules on hand-made data, and, on generated messy
exports with hostile column names, the property that matters: every figure a rule carries
is true on all customers, and the SQL labels rows in DuckDB exactly as reported."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from reportgen.rules import MAX_CONDITIONS, MIN_PRECISION, MIN_RECALL, learn, matches, rule_input
from reportgen.rules_sql import literal, rule_sql, segments_sql
from reportgen.validate import plain_text
from tests.helpers import clean

HOSTILE = ['"; DROP TABLE x; --', "it's \\ spend", "Items\nPurchased", "select", "Rating ✓"]


def _rules(frame: pd.DataFrame, labels: np.ndarray, min_size: int = 5, **tables: dict):
    """The rules of `labels` (one per row of `frame`, whose ids are 1..n) as a run learns them."""
    data = clean(frame, **tables)
    ordered = labels[data.frame["customer_id"].astype(int).to_numpy() - 1]  # in id order
    found = rule_input(data, data.drivers, ordered, derived=False)
    segments = sorted(set(ordered.tolist()))
    return data, ordered, learn(found, segments, (), (min_size, 7))


def test_a_segment_cut_by_spend_gets_that_cut_at_a_round_value() -> None:
    n = 200
    rng = np.random.default_rng(1)
    spend = np.r_[rng.uniform(100, 980, 150), rng.uniform(1012, 3000, 50)].round(2)
    frame = pd.DataFrame(
        {
            "Customer ID": [str(i) for i in range(1, n + 1)],
            "Total Spend": spend.astype(str),
            "Days Since Last Purchase": rng.integers(1, 90, n).astype(str),
        },
        dtype="string",
    )
    labels = np.where(spend > 1000, 1, 2)
    _, _, rules = _rules(frame, labels)
    top = rules.rule(1)
    assert top.status == "rule"
    assert [(c.column, c.operator, c.value) for c in top.conditions] == [
        ("Total Spend", ">=", 1000.0)
    ]
    assert (top.precision, top.recall, top.support) == (1.0, 1.0, 50)
    assert rules.rule(2).conditions[0].value == 1000.0  # "≤ 1,000": the same cut
    assert rules.order == (1, 2)


def test_a_segment_no_short_rule_describes_says_so() -> None:
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame(
        {
            "Customer ID": [str(i) for i in range(1, n + 1)],
            "Total Spend": rng.uniform(0, 100, n).round(2).astype(str),
            "Items Purchased": rng.integers(1, 20, n).astype(str),
        },
        dtype="string",
    )
    labels = rng.integers(1, 4, n)  # unrelated to any column
    _, _, rules = _rules(frame, labels)
    assert {r.status for r in rules.segments} == {"no_short_rule"}
    assert rules.order == ()
    assert "CAST(NULL AS INTEGER)" in segments_sql(rules, "r", "2026-10")


def _messy(seed: int) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """A customer export as real ones come: stray spaces, yes/no words and labels in any
    case, blank cells and words for "no value", categories; hostile column names; labels
    drawn from the values (with noise) so that some segments have good rules and some do
    not."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(120, 400))
    spend = rng.lognormal(6, 1, n).round(2)
    days = rng.integers(0, 120, n)
    rating = rng.uniform(1, 5, n).round(1)
    discount = rng.random(n) < [0.4, 0.7][seed % 2]  # filled with no, or with yes
    level = rng.choice(["Unsatisfied", "Neutral", "Satisfied"], n)
    tier = rng.choice(["Gold", "Silver", "Bronze", "O'Brien \\ Co"], n)
    score = np.log(spend) / 2 - days / 60 + discount + (level == "Unsatisfied") * 2
    score += rng.normal(0, [0.05, 0.5, 2.0][seed % 3], n)
    labels = np.digitize(score, np.quantile(score, [0.3, 0.6, 0.85])) + 1
    roles = ["spend", "recency", "rating", "discount", "satisfaction", "tier"]
    names = dict(zip(roles, rng.permutation([*HOSTILE, "Tier"]), strict=True))
    yes_words = np.array(["TRUE", " yes", "Y", "ja", "1"])
    no_words = np.array(["FALSE", "no ", "n", "Nein", "0"])
    text = {
        "Customer ID": [str(i) for i in range(1, n + 1)],
        names["spend"]: spend.astype(str),
        names["recency"]: days.astype(str),
        names["rating"]: rating.astype(str),
        names["discount"]: np.where(discount, rng.choice(yes_words, n), rng.choice(no_words, n)),
        names["satisfaction"]: [f" {v.lower() if i % 3 else v} " for i, v in enumerate(level)],
        names["tier"]: tier,
    }
    frame = pd.DataFrame(text, dtype="string")
    for column in (names["rating"], names["satisfaction"], names["tier"], names["discount"]):
        frame.loc[rng.random(n) < 0.03, column] = ""  # blank: missing, filled by validation
    for column in (names["spend"], names["rating"], names["satisfaction"], names["discount"]):
        # words for "no value": missing where a number, yes/no or level is expected
        frame.loc[rng.random(n) < 0.02, column] = rng.choice([" n/a", "NULL", "nan", "#N/A"])
    tables = {"columns": dict(names), "features": {"drivers": list(names)}}
    return frame, labels, tables


@pytest.mark.parametrize("seed", range(9))
def test_every_figure_holds_and_segments_sql_labels_rows_as_reported(seed: int) -> None:
    frame, labels, tables = _messy(seed)
    data, labels, rules = _rules(frame, labels, **tables)
    ids = data.frame["customer_id"].astype(int).to_numpy()
    for rule in rules.segments:
        assert rule.size == int((labels == rule.segment).sum())
        if rule.status != "rule":
            assert rule.conditions == ()
            continue
        assert 1 <= len(rule.conditions) <= MAX_CONDITIONS
        assert rule.precision >= MIN_PRECISION and rule.recall >= MIN_RECALL
        hit = np.ones(len(labels), dtype=bool)
        for condition in rule.conditions:
            hit &= matches(condition, data.frame)
            if condition.kind == "number":  # typed, not read off a tree to 17 digits
                assert float(f"{condition.value:.6g}") == condition.value
        inside = labels == rule.segment
        assert rule.support == hit.sum()
        assert math.isclose(rule.precision, (hit & inside).sum() / hit.sum())
        assert math.isclose(rule.recall, (hit & inside).sum() / inside.sum())

    # The raw export in DuckDB, hostile names and messy values as they are in the file.
    db = duckdb.connect()
    db.execute("CREATE TABLE x (n INTEGER)")
    # The export as a warehouse holds it, its columns named as reportgen reads them
    # (control characters removed: none reaches segments.sql).
    db.register("raw", frame.set_axis([plain_text(c).strip() for c in frame.columns], axis=1))
    db.execute("CREATE TABLE customers AS SELECT * FROM raw")
    expression = segments_sql(rules, "r", "2026-10")
    got = db.execute(f'SELECT "Customer ID", {expression} AS segment FROM customers').df()
    got = got.set_index("Customer ID").loc[[str(i) for i in ids], "segment"].to_numpy()
    for rule in rules.segments:
        if rule.status != "rule":
            assert not (got == rule.segment).any()
            continue
        inside, labelled = labels == rule.segment, got == rule.segment
        assert rule.listed is not None
        assert rule.listed.support == labelled.sum()
        assert math.isclose(rule.listed.precision, (labelled & inside).sum() / labelled.sum())
        assert math.isclose(rule.listed.recall, (labelled & inside).sum() / inside.sum())
        where = rule_sql(rule.conditions, rules.fills)
        alone = db.execute(f"SELECT count(*) FROM customers WHERE {where}").fetchone()
        assert alone == (rule.support,)
    assert db.execute("SELECT count(*) FROM x").fetchone() == (0,)  # still there


@pytest.mark.parametrize(
    "text", ["plain", "it's", "back\\slash", "\\'; DROP TABLE x; --", "", "'", "\\"]
)
def test_a_literal_holds_no_quote_or_backslash_and_reads_back_as_the_text(text: str) -> None:
    sql = literal(text)
    inside = sql.replace("CHR(39)", "").replace("CHR(92)", "")
    assert "\\" not in inside and inside.count("'") % 2 == 0
    assert duckdb.connect().execute(f"SELECT {sql}").fetchone() == (text,)
