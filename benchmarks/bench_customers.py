"""Whole-run figures for `reportgen run` (HTML and PDF included) against the notebook-style
baseline, in one run.

For each size it generates a customer table with reportgen's own generator,
then runs each command as a separate process and reads its wall time and peak
resident memory (ru_maxrss of that child alone, via os.wait4). The baseline
computes silhouette on all rows, which is quadratic in the row count, so it is
only run up to --baseline-max rows; larger sizes print why it was skipped.

Usage: python benchmarks/bench_customers.py [--sizes 10000 100000 1000000]
                                            [--baseline-max 100000] [--repeat 3]
                                            [--files ../shared/data/ecommerce_customer_behavior.csv]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS in MiB of one process run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def generate(rows: int, out: Path, *options: str) -> None:
    """`reportgen sample` in a child process: a measured child forked from a large parent
    would report the parent's memory as its own peak (ru_maxrss survives exec)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "reportgen",
            "sample",
            "--rows",
            str(rows),
            "--out",
            str(out),
            *options,
        ],
        check=True,
        capture_output=True,
    )


def reportgen_run(data: Path, out: Path) -> list[str]:
    """The measured command: a whole `reportgen run`, report included."""
    return [sys.executable, "-m", "reportgen", "run", "--data", str(data), "--out", str(out),
            "--period", "2026-01", "--force", "--quiet"]  # fmt: skip


def best_of(repeat: int, command: list[str], cwd: Path) -> tuple[float, float, list[float]]:
    runs = [measure(command, cwd) for _ in range(repeat)]
    walls = [wall for wall, _ in runs]
    return min(walls), max(rss for _, rss in runs), walls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--baseline-max", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--files",
        type=Path,
        nargs="*",
        default=[],
        help="existing customer tables to measure too, such as the real 350-customer data set",
    )
    args = parser.parse_args()

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; best wall of "
        f"{args.repeat} runs, peak RSS of the whole process"
    )
    print(
        f"{'rows':>10}  {'reportgen s':>11}  {'RSS MiB':>8}  {'baseline s':>10}  "
        f"{'RSS MiB':>8}  {'speed-up':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = [(path.resolve(), sum(1 for _ in path.open()) - 1) for path in args.files]
        for rows in args.sizes:
            data = work / f"customers_{rows}.csv"
            generate(rows, data, "--seed", "11")
            inputs.append((data, rows))
        for data, rows in inputs:
            ours = reportgen_run(data, work / "out")
            wall, rss, walls = best_of(args.repeat, ours, work)
            line = f"{rows:>10,}  {wall:>11.2f}  {rss:>8.0f}"
            if rows <= args.baseline_max:
                base = [
                    sys.executable,
                    str(HERE / "notebook_baseline.py"),
                    str(data),
                    str(work / "baseline"),
                ]
                base_wall, base_rss, _ = best_of(1 if rows > 10_000 else args.repeat, base, work)
                line += f"  {base_wall:>10.2f}  {base_rss:>8.0f}  {base_wall / wall:>7.1f}x"
            else:
                line += "  (baseline skipped: silhouette on all rows is quadratic in rows)"
            print(line, f"  runs: {', '.join(f'{w:.2f}' for w in walls)}", flush=True)
        print(f"median of the last size's runs: {statistics.median(walls):.2f} s")


if __name__ == "__main__":
    main()
