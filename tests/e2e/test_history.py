"""Month over month: migration between two constructed periods, counted exactly."""

import json

import numpy as np
import pandas as pd
from pypdf import PdfReader

from tests.conftest import run_cli

# Three behaviours far apart, so every customer's segment is unambiguous.
GROUPS = {  # spend, items, days since last purchase
    "high": (1500.0, 20, 5),
    "mid": (800.0, 12, 25),
    "low": (200.0, 3, 60),
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

    text = " ".join(
        " ".join(p.extract_text().split())
        for p in PdfReader(folder / "2026-11" / "report.pdf").pages
    )
    assert "Since 2026-10, 15 customers are new, 12 are gone and 20 changed segment." in text
    assert "The largest move: 20 customers went from" in text
    assert run_cli("archive", "verify", cwd=tmp_path).returncode == 0


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
    assert result.returncode == 2
    assert "fails verification (assignments.csv changed or missing)" in result.stderr
    assert not (tmp_path / "output" / "customer-segments" / "2026-11").exists()
