"""What month over month costs a run: the previous period's snapshot read, this period
scored with its archived model (to tell customers who changed from regrouped ones), and
the migration counted.

For each size, October is run from one generated customer table and November from
another of the same customers (another seed), refitted. Then, each a separate process
(wall time and peak resident memory of that child, bench_customers.measure):

- `run` of November with October archived (month over month), and its manifest's
  `history` stage (the scoring and the migration);
- the same `run` into an empty output folder, as baseline (no history).

Run it at two commits to compare them (PYTHONPATH selects the code the children run).

Usage: python benchmarks/bench_history.py [--sizes 100000 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_customers import best_of, generate


def run(data: Path, out: Path, period: str) -> list[str]:
    return [sys.executable, "-m", "reportgen", "run", "--quiet", "--force", "--data",
            str(data), "--out", str(out), "--period", period]  # fmt: skip


def history_seconds(out: Path) -> float:
    """The `history` stage of November's run in `out`, from its manifest."""
    (manifest,) = out.glob("*/2026-11/manifest.json")
    return float(json.loads(manifest.read_text())["timings"]["history"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    heads = ("history s", "run+prev s", "MiB", "run s", "MiB")
    print(f"{'customers':>10} " + " ".join(f"{head:>10}" for head in heads))
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            october, november = work / "oct.csv", work / "nov.csv"
            generate(size, october, "--seed", "1")
            generate(size, november, "--seed", "2")
            out = work / "archived"
            subprocess.run(run(october, out, "2026-10"), cwd=work, check=True, capture_output=True)
            monthly = best_of(args.repeat, run(november, out, "2026-11"), work)
            history = history_seconds(out)
            alone = best_of(args.repeat, run(november, work / "empty", "2026-11"), work)
            cells = (f"{history:.2f}", f"{monthly[0]:.1f}", f"{monthly[1]:.0f}",
                     f"{alone[0]:.1f}", f"{alone[1]:.0f}")  # fmt: skip
            print(f"{size:>10,} " + " ".join(f"{cell:>10}" for cell in cells))


if __name__ == "__main__":
    main()
