"""Whole-run figures for an order log through both engines: `reportgen run` with the
local engine (DuckDB) and with the Spark engine in local mode, on the same generated
logs (Parquet), one after the other in one run.

Each run is its own process. The driver's memory is the reportgen process's own peak
RSS; Spark's JVM (a child process that, in local mode, is also the executor) is
measured apart, as the peak of the sum of its processes. Both are read from /proc every
0.1 s, as os.wait4 would fold the JVM into the driver's figure or leave it out by
whether it was reaped.

Usage: python benchmarks/bench_spark.py [--lines 1 10 30] [--engines local spark]
(--lines in millions; the log has about ten lines per customer.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from bench_customers import generate

CONFIG = """[data]
kind = "transactions"

[spark]
master = "local[*]"
# Above [spark] local_assignments_max_rows (1,000,000) customers, Spark writes the
# assignments here only (Parquet); below it, the snapshot also holds assignments.csv.
assignments_path = "assignments"

[spark.conf]
"spark.driver.memory" = "{jvm}"
"""


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in found.split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    found, pending = [], _children(pid)
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(_children(child))
    return found


def measure(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, the driver's peak RSS and its child processes' (the JVM's) peak RSS
    summed, both in MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    driver = jvm = 0
    while process.poll() is None:
        driver = max(driver, _rss_kib(process.pid))
        jvm = max(jvm, sum(_rss_kib(child) for child in _descendants(process.pid)))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return wall, driver / 1024, jvm / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=float, nargs="+", default=[1, 10, 30])
    parser.add_argument("--engines", nargs="+", default=["local", "spark"])
    parser.add_argument("--jvm-memory", default="6g", help="spark.driver.memory (local mode)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; one run each; RSS peaks sampled every 0.1 s")
    print(f"{'lines':>11}  {'customers':>10}  {'engine':>6}  {'wall s':>7}  {'driver MiB':>10}  "
          f"{'JVM MiB':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "reportgen.toml").write_text(CONFIG.format(jvm=args.jvm_memory))
        for millions in args.lines:
            customers = round(millions * 1_000_000 / 9.9)
            log = work / f"orders_{customers}.parquet"
            generate(customers, log, "--orders")
            lines = pq.read_metadata(log).num_rows
            for engine in args.engines:
                command = [sys.executable, "-m", "reportgen", "run", "--data", str(log),
                           "--out", str(work / "out"), "--period", "2026-01", "--force",
                           "--quiet", "--engine", engine]  # fmt: skip
                wall, driver, jvm = measure(command, work)
                print(
                    f"{lines:>11,}  {customers:>10,}  {engine:>6}  {wall:>7.1f}  "
                    f"{driver:>10.0f}  {jvm:>8.0f}",
                    flush=True,
                )
            log.unlink()


if __name__ == "__main__":
    main()
