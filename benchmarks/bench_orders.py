"""Whole-run figures for `reportgen run` on an order log (DuckDB features, HTML and PDF
included) against a plain pandas RFM script, in one run.

The log is generated with reportgen's seeded generator (`reportgen sample --orders`,
about ten lines per customer) in a child process, written as Parquet, then each
command runs as its own process; wall time and peak resident memory are read with
os.wait4, as in bench_customers.py.

Usage: python benchmarks/bench_orders.py [--customers 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from bench_customers import HERE, best_of, generate, reportgen_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}; best wall of {args.repeat} runs, peak RSS of the "
        "whole process"
    )
    print(
        f"{'customers':>10}  {'lines':>11}  {'reportgen s':>11}  {'RSS MiB':>8}  "
        f"{'pandas s':>8}  {'RSS MiB':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "reportgen.toml").write_text('[data]\nkind = "transactions"\n')
        for customers in args.customers:
            log = work / f"orders_{customers}.parquet"
            generate(customers, log, "--orders")
            lines = pq.read_metadata(log).num_rows
            ours = reportgen_run(log, work / "out")
            wall, rss, walls = best_of(args.repeat, ours, work)
            base = [sys.executable, str(HERE / "orders_baseline.py"), str(log)]
            base_wall, base_rss, _ = best_of(args.repeat, base, work)
            print(
                f"{customers:>10,}  {lines:>11,}  {wall:>11.2f}  {rss:>8.0f}  "
                f"{base_wall:>8.2f}  {base_rss:>8.0f}   runs: "
                + ", ".join(f"{w:.2f}" for w in walls),
                flush=True,
            )


if __name__ == "__main__":
    main()
