"""`reportgen assign` on large customer tables against a notebook-style baseline, in one run.

A period's model is fitted once on the bundled 2,000-customer sample; then, for each
size, a generated customer table is labelled by `reportgen assign` (read, validate,
scale with model.json, nearest centre, distance, formula-safe CSV) and by the baseline:
pandas.read_csv, the same scaling by hand and scikit-learn's pairwise_distances_argmin,
written with DataFrame.to_csv, without validation. Each is a separate process; wall
time and peak resident memory of that child alone (bench_customers.measure).

Usage: python benchmarks/bench_assign.py [--sizes 100000 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_customers import best_of, generate

BASELINE = """
import json, sys
import numpy as np, pandas as pd
from sklearn.metrics import pairwise_distances_argmin
model = json.load(open(sys.argv[1]))
frame = pd.read_csv(sys.argv[2])
columns = {"spend": "Total Spend", "frequency": "Items Purchased", "recency":
           "Days Since Last Purchase", "rating": "Average Rating"}
names, scaler = model["features"], model["scaler"]
values = np.column_stack([
    pd.to_numeric(frame[columns[n]], errors="coerce").fillna(0).to_numpy(dtype=float)
    if n in columns else np.zeros(len(frame)) for n in names])
for i, n in enumerate(names):
    if n in scaler["log1p"]:
        values[:, i] = np.log1p(values[:, i])
scaled = (values - np.array(scaler["center"])) / np.array(scaler["scale"])
centres = np.array([[c["scaled"][n] for n in names] for c in model["centroids"]])
nearest = pairwise_distances_argmin(scaled, centres)
pd.DataFrame({"customer_id": frame["Customer ID"], "segment": nearest + 1}).to_csv(
    sys.argv[3], index=False)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        subprocess.run(
            [sys.executable, "-m", "reportgen", "run", "--quiet", "--out", "out",
             "--period", "2026-10"],
            cwd=work, check=True, capture_output=True,
        )  # fmt: skip
        model = next((work / "out").glob("*/2026-10/model.json"))
        print(f"{'customers':>10} {'assign s':>9} {'MiB':>6} {'baseline s':>11} {'MiB':>6}")
        for size in args.sizes:
            data = work / f"customers-{size}.csv"
            generate(size, data)
            assign = [
                sys.executable, "-m", "reportgen", "assign", "--out", "out", "--period",
                "2026-10", "--data", str(data), "--out-file", "labels.csv", "--force",
            ]  # fmt: skip
            baseline = [sys.executable, "-c", BASELINE, str(model), str(data), "base.csv"]
            ours, ours_mib, _ = best_of(args.repeat, assign, work)
            base, base_mib, _ = best_of(args.repeat, baseline, work)
            print(f"{size:>10,} {ours:>9.1f} {ours_mib:>6.0f} {base:>11.1f} {base_mib:>6.0f}")


if __name__ == "__main__":
    main()
