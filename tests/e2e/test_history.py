"""Month over month: migration between two constructed periods, counted exactly."""

import json
import re
import shutil

import numpy as np
import pandas as pd
from pypdf import PdfReader

from tests.helpers import REAL_DATA, assert_user_error, needs_real_data, run_cli

# Three behaviours far apart, so every customer's segment is unambiguous.
GROUPS = {  # spend, items, days since last purchase
    "high": (1500.0, 20, 5),
    "mid": (800.0, 12, 25),
    "low": (200.0, 3, 60),
    "vip": (4000.0, 45, 2),
}


def month(ids: list[str], behaviour: dict[str, str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for customer in ids:
        spend, items, days = GROUPS[behaviour[customer]]
        rows.append(
            {
                "Customer ID": customer,
                "Total Spend": round(spend * (1 + rng.normal(0, 0.03)), 2),
                "Items Purchased": int(items + rng.integers(-1, 2)),
                "Days Since Last Purchase": int(days + rng.integers(-2, 3)),
            }
        )
    return pd.DataFrame(rows)


def test_two_months_migration_matches_the_construction(tmp_path):
    october = [f"c{i:03d}" for i in range(300)]
    behaviour = {c: ("high", "mid", "low")[i % 3] for i, c in enumerate(october)}
    month(october, behaviour, 1).to_csv(tmp_path / "oct.csv", index=False)

    gone = october[:12]  # 4 of each behaviour leave
    moved = [c for c in october[12:] if behaviour[c] == "high"][:20]  # high spenders lapse
    new = [f"n{i:03d}" for i in range(15)]
    november = [c for c in october if c not in gone] + new
    behaviour.update(dict.fromkeys(moved, "low"))
    behaviour.update(dict.fromkeys(new, "mid"))
    month(november, behaviour, 2).to_csv(tmp_path / "nov.csv", index=False)

    for period, data in (("2026-10", "oct.csv"), ("2026-11", "nov.csv")):
        result = run_cli(
            "run", "--data", data, "--period", period, "--k", "3", "--quiet", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    folder = tmp_path / "output" / "customer-segments"
    assert not (folder / "2026-10" / "migration.json").exists()  # nothing to compare with
    migration = json.loads((folder / "2026-11" / "migration.json").read_text())
    # Segments are numbered by mean spend: 1 = high, 2 = mid, 3 = low, in both months.
    assert migration["previous_period"] == "2026-10"
    assert migration["new"] == 15 and migration["churned"] == 12
    assert migration["matrix"] == {
        "1": {"1": 96 - 20, "3": 20},
        "2": {"2": 96},
        "3": {"3": 96},
    }
    assert (migration["stayed"], migration["moved"]) == (268, 20)

    text = pdf_text(folder / "2026-11" / "report.pdf")
    assert (
        "Since October 2026, 20 customers moved to another segment because their own figures "
        "changed. 15 customers are new and 12 are gone." in text
    )
    assert "The largest change: 20 customers went from" in text
    assert migration["changed"]["customers"] == 20 and migration["regrouped"]["customers"] == 0
    # Segment 1 lost its 20 lapsed and 4 gone customers: changes, not regrouping.
    assert "−20 from customers who changed segment, −4 from new customers less those gone." in text
    assert "Since October 2026: 100 → 76 customers (−24.0%)" in text  # 4 gone, 20 moved out
    assert "Since October 2026: 100 → 111 customers (+11.0%)" in text  # 4 gone, 15 new
    assert "Since October 2026: 100 → 116 customers (+16.0%)" in text  # 4 gone, 20 moved in
    summary = text[text.index("We analysed") : text.index("Share of customers and of revenue")]
    assert "Customers vs October 2026" in summary
    for size, change in ((76, "−24.0%"), (111, "+11.0%"), (116, "+16.0%")):
        pattern = rf" {size} \S+% \S+% {re.escape(change)} [+−]\d+\.\d pts"
        assert re.search(pattern, summary), (size, summary)

    # December: a new behaviour appears. It spends most, yet the three known segments
    # keep their numbers and names, and the new one gets number 4.
    vips = [f"v{i:03d}" for i in range(40)]
    behaviour.update(dict.fromkeys(vips, "vip"))
    month(november + vips, behaviour, 3).to_csv(tmp_path / "dec.csv", index=False)
    result = run_cli(
        "run", "--data", "dec.csv", "--period", "2026-12", "--k", "4", "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    model = json.loads((folder / "2026-12" / "model.json").read_text())
    assert model["ids"] == [1, 2, 3, 4] and model["max_id"] == 4
    spend = {c["segment"]: c["units"]["spend"] for c in model["centroids"]}
    assert spend[4] > spend[1] > spend[2] > spend[3]  # numbered by identity, not by spend
    december = json.loads((folder / "2026-12" / "migration.json").read_text())
    assert december["new"] == 40 and december["churned"] == 0 and december["moved"] == 0
    names = {
        month: {
            s["id"]: s["persona"]
            for s in json.loads((folder / month / "profiles.json").read_text())["segments"]
        }
        for month in ("2026-11", "2026-12")
    }
    # Segments 2 and 3 still fit their personas and keep them; segment 1 no longer stands
    # out next to the new group, so it may be renamed (the persona must still fit).
    assert {i: names["2026-12"][i] for i in (2, 3)} == {i: names["2026-11"][i] for i in (2, 3)}
    assert len(set(names["2026-12"].values())) == 4
    text = pdf_text(folder / "2026-12" / "report.pdf")
    assert f"New this period: segment 4, {names['2026-12'][4]}." in text
    assert "New since November 2026." in text
    assert run_cli("archive", "verify", cwd=tmp_path).returncode == 0


def pdf_text(path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_a_tampered_previous_snapshot_is_not_compared_against(tmp_path):
    ids = [f"c{i:03d}" for i in range(60)]
    behaviour = {c: ("high", "mid", "low")[i % 3] for i, c in enumerate(ids)}
    month(ids, behaviour, 1).to_csv(tmp_path / "m.csv", index=False)
    assert (
        run_cli("run", "--data", "m.csv", "--period", "2026-10", "--quiet", cwd=tmp_path).returncode
        == 0
    )
    assignments = tmp_path / "output" / "customer-segments" / "2026-10" / "assignments.csv"
    assignments.write_text(assignments.read_text().replace(",1\n", ",2\n"))
    result = run_cli("run", "--data", "m.csv", "--period", "2026-11", cwd=tmp_path)
    assert_user_error(result, "fails verification (assignments.csv changed, missing or added)")
    assert not (tmp_path / "output" / "customer-segments" / "2026-11").exists()


def test_frozen_mode_scores_a_new_period_with_the_archived_model(tmp_path):
    october = [f"c{i:03d}" for i in range(150)]
    behaviour = {c: ("high", "mid", "low")[i % 3] for i, c in enumerate(october)}
    month(october, behaviour, 1).to_csv(tmp_path / "oct.csv", index=False)
    # [features] drivers edited since October: the frozen model still scores with the
    # three it was fitted on, and the brief names those.
    (tmp_path / "frozen.toml").write_text(
        '[segmentation]\nmode = "frozen"\n[features]\ndrivers = ["spend"]\n'
    )
    folder = tmp_path / "output" / "customer-segments"

    first = run_cli(
        "run", "--data", "oct.csv", "--period", "2026-10", "--config", "frozen.toml", cwd=tmp_path
    )
    assert_user_error(first, "needs an earlier period of this report in the archive")
    assert not folder.exists()
    refit = ("run", "--data", "oct.csv", "--period", "2026-10", "--k", "3", "--quiet")
    assert run_cli(*refit, cwd=tmp_path).returncode == 0

    # November: 30 VIP customers appear. A refit would give them a segment of their
    # own; the frozen model has no such segment and puts them with the high spenders.
    vips = [f"v{i:03d}" for i in range(30)]
    behaviour.update(dict.fromkeys(vips, "vip"))
    month(october + vips, behaviour, 2).to_csv(tmp_path / "nov.csv", index=False)
    november = ("run", "--data", "nov.csv", "--period", "2026-11", "--config", "frozen.toml")
    with_k = run_cli(*november, "--k", "4", cwd=tmp_path)
    assert_user_error(with_k, "--k cannot be combined")
    result = run_cli(*november, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 segments: scored with the archived model of 2026-10" in result.stderr

    models = [json.loads((folder / p / "model.json").read_text()) for p in ("2026-10", "2026-11")]
    assert models[1]["ids"] == [1, 2, 3]
    assert models[1]["scaler"] == models[0]["scaler"]
    assert models[1]["centroids"] == models[0]["centroids"]
    migration = json.loads((folder / "2026-11" / "migration.json").read_text())
    assert migration["new"] == 30 and migration["churned"] == 0 and migration["moved"] == 0
    assert migration["scored_with"] == "frozen model"
    assert migration["changed"]["customers"] == migration["regrouped"]["customers"] == 0
    sizes = {
        s["id"]: s["size"]
        for s in json.loads((folder / "2026-11" / "profiles.json").read_text())["segments"]
    }
    assert sizes == {1: 50 + 30, 2: 50, 3: 50}
    text = pdf_text(folder / "2026-11" / "report.pdf")
    assert "The segments were not refitted this period" in text
    assert "the model fitted for October 2026" in text
    assert (
        "K-Means (3 clusters) on days since last purchase (column “Days Since Last Purchase”), "
        "spend (column “Total Spend”), items purchased (column “Items Purchased”)." in text
    )
    assert (
        "Of the customers in both periods, 0 are in another segment than in October 2026 "
        "because their own figures changed: this period was scored with the segments of "
        "October 2026, so every move is a change. 150 are in the same segment" in text
    )


def test_frozen_mode_keeps_the_label_codes_of_the_archived_model(tmp_path):
    """With one_hot = false, a category is its position among the levels. In November
    Bronze is gone and Platinum is new: sorted afresh, Gold would take Bronze's code
    and its customers Bronze's segment."""
    customers = [f"c{i:03d}" for i in range(150)]
    rng = np.random.default_rng(3)
    spend = rng.normal(500, 50, len(customers)).round(2)
    october = ["Gold", "Silver", "Bronze"] * 50
    november = ["Gold", "Silver", "Platinum"] * 50
    for name, tiers in (("oct.csv", october), ("nov.csv", november)):
        frame = {"Customer ID": customers, "Total Spend": spend, "Membership Type": tiers}
        pd.DataFrame(frame).to_csv(tmp_path / name, index=False)
    features = '[features]\ndrivers = ["spend", "tier"]\none_hot = false\n'
    (tmp_path / "reportgen.toml").write_text(features)
    refit = ("run", "--data", "oct.csv", "--period", "2026-10", "--k", "3", "--quiet")
    assert run_cli(*refit, cwd=tmp_path).returncode == 0, "October"
    (tmp_path / "reportgen.toml").write_text(features + '[segmentation]\nmode = "frozen"\n')
    result = run_cli("run", "--data", "nov.csv", "--period", "2026-11", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    folder = tmp_path / "output" / "customer-segments"
    model = json.loads((folder / "2026-11" / "model.json").read_text())
    assert model["scaler"]["codes"] == {"tier": ["Bronze", "Gold", "Silver"]}
    segments = [
        pd.read_csv(folder / period / "assignments.csv", dtype={"customer_id": str}).set_index(
            "customer_id"
        )["segment"]
        for period in ("2026-10", "2026-11")
    ]
    kept = [c for c, tier in zip(customers, november, strict=True) if tier != "Platinum"]
    assert len(kept) == 100
    # October put Bronze alone in one segment; no Gold customer may fall into it now
    assert segments[1][kept].tolist() == segments[0][kept].tolist()
    text = pdf_text(folder / "2026-11" / "report.pdf")
    assert "do not influence which segment a customer falls into: Membership = Platinum" in text


def test_a_frozen_segment_left_empty_stays_in_the_model(tmp_path):
    """November has no low spenders: their segment is gone for the month, but the model
    keeps it, and December's low spenders land in it again under the same number."""
    october = [f"c{i:03d}" for i in range(150)]
    behaviour = {c: ("high", "mid", "low")[i % 3] for i, c in enumerate(october)}
    month(october, behaviour, 1).to_csv(tmp_path / "oct.csv", index=False)
    high_and_mid = [c for c in october if behaviour[c] != "low"]
    month(high_and_mid, behaviour, 2).to_csv(tmp_path / "nov.csv", index=False)
    month(october, behaviour, 3).to_csv(tmp_path / "dec.csv", index=False)
    refit = ("run", "--data", "oct.csv", "--period", "2026-10", "--k", "3", "--quiet")
    assert run_cli(*refit, cwd=tmp_path).returncode == 0
    (tmp_path / "reportgen.toml").write_text('[segmentation]\nmode = "frozen"\n')
    november = run_cli("run", "--data", "nov.csv", "--period", "2026-11", cwd=tmp_path)
    assert november.returncode == 0, november.stderr
    assert "2 segments: scored with the archived model of 2026-10" in november.stderr
    december = run_cli("run", "--data", "dec.csv", "--period", "2026-12", "--quiet", cwd=tmp_path)
    assert december.returncode == 0, december.stderr

    folder = tmp_path / "output" / "customer-segments"
    models = {
        p: json.loads((folder / p / "model.json").read_text())
        for p in ("2026-10", "2026-11", "2026-12")
    }
    for period in ("2026-11", "2026-12"):
        assert models[period]["ids"] == [1, 2, 3] and models[period]["k"] == 3
        assert models[period]["centroids"] == models["2026-10"]["centroids"]
    assignments = {
        p: pd.read_csv(folder / p / "assignments.csv").set_index("customer_id")["segment"]
        for p in ("2026-10", "2026-11", "2026-12")
    }
    low = [c for c in october if behaviour[c] == "low"]
    (empty,) = set(assignments["2026-10"][low])
    assert empty not in set(assignments["2026-11"])
    assert set(assignments["2026-12"][low]) == {empty}
    text = pdf_text(folder / "2026-11" / "report.pdf")
    assert f"No customer was nearest to segment {empty} this period." in text
    html = (folder / "2026-11" / "report.html").read_text()
    assert "with the chosen k = 3 marked" in html  # the model's k, not the 2 segments left


def test_a_handful_of_customers_gives_two_quiet_periods(tmp_path):
    # Every segment is under min_segment_size: the second brief has moves but nothing
    # to draw, and scikit-learn's warnings about so few points never reach the terminal.
    (tmp_path / "t.csv").write_text(
        "Customer ID,Total Spend,Items Purchased,Days Since Last Purchase\n"
        "A,10,1,5\nB,200,5,40\nC,30,2,90\n"
    )
    # February's export lacks a column January's model needs: that model cannot score
    # it, so whether a move is a change or a regrouping is not known, and not guessed.
    (tmp_path / "f.csv").write_text(
        "Customer ID,Total Spend,Days Since Last Purchase\nA,10,5\nB,200,40\nC,30,90\n"
    )
    for period, data in (("2026-01", "t.csv"), ("2026-02", "f.csv")):
        result = run_cli("run", "--data", data, "--period", period, "--quiet", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
    snapshot = tmp_path / "output" / "customer-segments" / "2026-02"
    html = (snapshot / "report.html").read_text()
    assert "<h2>Since January 2026</h2>" in html
    migration = json.loads((snapshot / "migration.json").read_text())
    assert migration["scored_with"] is migration["changed"] is migration["regrouped"] is None
    assert (
        f"Of the customers in both periods, {migration['moved']} are in another segment than "
        "in January 2026; whether their figures changed or the segments were redrawn cannot "
        "be told, as this period's data was not scored with the model of January 2026." in html
    )


def _segments(snapshot) -> pd.Series:
    found = pd.read_csv(snapshot / "assignments.csv", dtype={"customer_id": str})
    return found.set_index("customer_id")["segment"]


@needs_real_data
def test_customers_who_changed_are_told_from_segments_that_were_redrawn(tmp_path):
    """The real data in October (5 segments); in November 30 of its Champions lapse
    (their spend, items, recency, rating and satisfaction change), nothing else changes,
    and the refit is asked for 8 segments, which redraws segments around customers whose
    figures are exactly October's. Only the 30 changed; every other customer in another
    segment was regrouped; a split is named. Then the same refit on October's data
    unchanged: nobody changed, whatever the segments did."""
    real = pd.read_csv(REAL_DATA, dtype={"Customer ID": str})
    real.to_csv(tmp_path / "oct.csv", index=False)
    oct_run = ("run", "--data", "oct.csv", "--period", "2026-10", "--quiet")
    assert run_cli(*oct_run, cwd=tmp_path).returncode == 0
    folder = tmp_path / "output" / "customer-segments"
    october = _segments(folder / "2026-10")
    lapsed = october[october == 1].index[:30]
    november = real.copy()
    chosen = november["Customer ID"].isin(lapsed)
    november.loc[chosen, "Total Spend"] = (november.loc[chosen, "Total Spend"] * 0.4).round(2)
    november.loc[chosen, "Items Purchased"] = 8
    november.loc[chosen, "Days Since Last Purchase"] += 40
    november.loc[chosen, "Average Rating"] = 3.1
    november.loc[chosen, "Satisfaction Level"] = "Unsatisfied"
    november.to_csv(tmp_path / "nov.csv", index=False)
    shutil.copytree(tmp_path / "output", tmp_path / "same")
    nov_run = ("run", "--period", "2026-11", "--k", "8", "--quiet")
    result = run_cli(*nov_run, "--data", "nov.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    now = _segments(folder / "2026-11")
    moved = now[october.index] != october
    migration = json.loads((folder / "2026-11" / "migration.json").read_text())
    assert migration["moved"] == int(moved.sum())
    assert migration["changed"]["customers"] == int(moved[lapsed].sum()) == 30
    regrouped = int(moved.drop(lapsed).sum())
    assert regrouped >= 20 and migration["regrouped"]["customers"] == regrouped
    assert migration["changed"]["customers"] + regrouped == migration["moved"]
    assert {m["source"] for m in migration["changed"]["moves"]} == {1}
    (split,) = migration["splits"]
    text = pdf_text(folder / "2026-11" / "report.pdf")
    names = {s["id"]: s["persona"] for s in json.loads(
        (folder / "2026-10" / "profiles.json").read_text())["segments"]}  # fmt: skip
    assert (
        f"The segment {split['source']} · {names[split['source']]} of October 2026 was split into"
        in text
    )
    assert f"{regrouped} more are in another segment only because the segments were redrawn" in text
    largest = migration["changed"]["moves"][0]
    assert f"The largest change: {largest['customers']} customers went from {names[1]}" in text
    assert "Since October 2026, 30 customers moved to another segment because their own" in text

    same = ("--data", "oct.csv", "--out", "same")
    assert run_cli(*nov_run, *same, cwd=tmp_path).returncode == 0
    unchanged = json.loads(
        (tmp_path / "same" / "customer-segments" / "2026-11" / "migration.json").read_text()
    )
    assert unchanged["moved"] > 0 and unchanged["changed"]["customers"] == 0
    assert unchanged["regrouped"]["customers"] == unchanged["moved"]
