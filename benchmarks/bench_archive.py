"""What a twelve-month archive costs a monthly run: the trend section and the index page.

For each size, one period is run from a generated customer table and copied to the
eleven months before it (a copy verifies: only file contents are hashed), so the
archive holds twelve periods of that size. Then, each a separate process (wall time
and peak resident memory of that child, bench_customers.measure):

- `archive index`: every period verified and read, the trend chart drawn, the page
  written; against `archive verify` of the same archive (the hashing alone) as baseline;
- `run` of the next month with that archive (it reads eleven earlier periods for the
  trend, and rebuilds the index) against the same `run` into an empty output folder.

Usage: python benchmarks/bench_archive.py [--sizes 2000 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_customers import best_of, generate

MONTHS = 12


def archive(work: Path, data: Path) -> Path:
    """An output folder holding MONTHS periods, 2025-02 to 2026-01, of `data`."""
    out = work / "archived"
    subprocess.run(
        [sys.executable, "-m", "reportgen", "run", "--quiet", "--out", str(out), "--data",
         str(data), "--period", "2026-01"],
        cwd=work, check=True, capture_output=True,
    )  # fmt: skip
    report = out / "customer-segments"
    for month in range(2, 13):
        shutil.copytree(report / "2026-01", report / f"2025-{month:02d}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    names = ("index s", "verify s", "run+12 s", "run s")  # run+12: with the archive
    print(f"{'customers':>10} " + " ".join(f"{name:>8} {'MiB':>5}" for name in names))
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            data = work / "customers.csv"
            generate(size, data)
            out = archive(work, data)
            tool = [sys.executable, "-m", "reportgen"]
            index = [*tool, "archive", "index", "--out", str(out)]
            verify = [*tool, "archive", "verify", "--out", str(out)]
            run = [*tool, "run", "--quiet", "--data", str(data), "--period", "2026-02", "--force"]
            figures = [
                best_of(args.repeat, index, work),
                best_of(args.repeat, verify, work),
                best_of(args.repeat, [*run, "--out", str(out)], work),
                best_of(args.repeat, [*run, "--out", str(work / "empty")], work),
            ]
            cells = " ".join(f"{wall:>8.1f} {mib:>5.0f}" for wall, mib, _ in figures)
            print(f"{size:>10,} {cells}")


if __name__ == "__main__":
    main()
