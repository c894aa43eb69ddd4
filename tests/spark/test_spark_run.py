"""`reportgen run --engine spark`: the same brief as the local engine through Spark
Connect and under spark-submit (in local mode: test_spark_held); and the engine's own
failures as one line and an exit status (PySpark or Java missing: 2, a cluster out of
reach: 3)."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.helpers import run_cli, run_process

pytestmark = pytest.mark.spark  # a stage of its own: see pyproject.toml

PERIOD = ("--period", "2026-11", "--as-of", "2026-11-01")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An order log of 300 customers as CSV, a config for it, and the local engine's
    brief. The customers are all in the sample, so they come to the driver and are
    fitted there: Spark Connect's and spark-submit's cold JVMs make every Spark job slow,
    and the fit in Spark is tested in local mode (test_spark_held)."""
    work = tmp_path_factory.mktemp("spark_run")
    made = run_cli("sample", "--orders", "--rows", "300", "--out", "orders.csv", cwd=work)
    assert made.returncode == 0, made.stderr
    (work / "reportgen.toml").write_text('[data]\nkind = "transactions"\npath = "orders.csv"\n')
    local = run_cli("run", *PERIOD, "--out", "local", cwd=work)
    assert local.returncode == 0, local.stderr
    return work


def _snapshot(work: Path, out: str) -> Path:
    (found,) = (work / out).glob("*/2026-11")
    return found


def _close(spark: Any, local: Any, where: str = "") -> None:
    """Counts and texts equal, figures within 1e-9 relative, all the way down."""
    if isinstance(local, dict):
        assert spark.keys() == local.keys(), where
        for key in local:
            _close(spark[key], local[key], f"{where}.{key}")
    elif isinstance(local, list):
        assert len(spark) == len(local), where
        for i, (a, b) in enumerate(zip(spark, local, strict=True)):
            _close(a, b, f"{where}[{i}]")
    elif isinstance(local, float) and not isinstance(local, bool):
        assert math.isclose(spark, local, rel_tol=1e-9, abs_tol=1e-12), (where, spark, local)
    else:
        assert spark == local, where


def _pdf_text(snapshot: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(snapshot / "report.pdf").pages)


def _same_brief(work: Path, out: str) -> None:
    spark, local = _snapshot(work, out), _snapshot(work, "local")
    for name in ("profiles.json", "brief.json"):
        _close(json.loads((spark / name).read_text()), json.loads((local / name).read_text()))
    assert (spark / "assignments.csv").read_bytes() == (local / "assignments.csv").read_bytes()
    assert _pdf_text(spark) == _pdf_text(local)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def connect_server(spark: Any) -> Iterator[str]:
    """A Spark Connect server on loopback (PySpark's own spark-submit starts Spark's
    SparkConnectServer), in its own process, until the test ends."""
    import pyspark

    port = _free_port()
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    server = subprocess.Popen(
        [
            str(submit),
            "--class",
            "org.apache.spark.sql.connect.service.SparkConnectServer",
            "--master",
            "local[2]",
            "--conf",
            f"spark.connect.grpc.binding.port={port}",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",  # a cluster's setting; Spark's 200 partitions cost 20 s on this log
            "spark.sql.shuffle.partitions=4",
            "spark-internal",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "the Connect server stopped"
                assert time.monotonic() < deadline, "the Connect server did not start"
                time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_spark_connect_writes_the_local_engines_brief(connect_server, folder):
    config = folder / "connect.toml"
    config.write_text(
        '[data]\nkind = "transactions"\npath = "orders.csv"\n[engine]\nname = "spark"\n'
        f'[spark]\nremote = "{connect_server}"\n'
    )
    result = run_process("run", *PERIOD, "--out", "connect", "--config", config, cwd=folder)
    assert result.returncode == 0, result.stderr
    _same_brief(folder, "connect")
    manifest = json.loads((_snapshot(folder, "connect") / "manifest.json").read_text())
    assert manifest["engine"]["remote"] == connect_server


def test_a_connect_server_out_of_reach_is_exit_3_in_one_line(folder):
    config, away = folder / "away.toml", f"sc://127.0.0.1:{_free_port()}"
    config.write_text(
        '[data]\nkind = "transactions"\npath = "orders.csv"\n[engine]\nname = "spark"\n'
        f'[spark]\nremote = "{away}"\n'
    )
    result = run_cli("run", *PERIOD, "--out", "away", "--config", config, cwd=folder)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        f"reportgen: error: Spark Connect at {away} cannot be reached: Connection refused"
    ]


HIDDEN = (
    "import sys; sys.modules['pyspark'] = None; from reportgen.__main__ import main; "
    "sys.exit(main())"
)


def test_without_pyspark_the_spark_engine_is_exit_2_naming_the_install(folder):
    """pyspark made unimportable, as in an environment without the extra."""
    result = subprocess.run(
        [sys.executable, "-c", HIDDEN, "run", *PERIOD, "--out", "none", "--engine", "spark"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "pip install 'reportgen[spark]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("java", ["none on PATH", "JAVA_HOME without one"])
def test_without_java_the_local_spark_engine_is_exit_2_naming_the_install(folder, java):
    environment = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    environment["PATH"] = str(Path(sys.executable).parent)  # python, but no java
    if java == "JAVA_HOME without one":
        environment["JAVA_HOME"] = str(folder / "no-jdk-here")
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "run", *PERIOD, "--out", "none", "--engine", "spark"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Java 17 or later" in result.stderr and "JAVA_HOME" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_log_through_a_new_spark_jvm_is_one_error_line_not_sparks_log(folder):
    """Spark's log is off (spark_log4j2.properties): no start-up notes, no task stack
    trace, and no line of the data; only the JVM's own note on its modules may precede
    the error."""
    bad = folder / "bad.csv"
    bad.write_text("InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n1,7,2026-10-01,2,3.5,9\n")
    result = run_process("validate", "--data", bad, "--engine", "spark", cwd=folder)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING: Using")]
    assert lines == [
        f"reportgen: error: {bad}: cannot be read as an order log: [MALFORMED_CSV_RECORD] "
        "Malformed CSV record"
    ]


LAUNCHER = "from reportgen.__main__ import main\n\nraise SystemExit(main())\n"
"""The README's launcher for spark-submit, which runs a .py file (one inside the package
would put the package's folder first on sys.path, where numbers.py hides the stdlib's)."""


def test_under_spark_submit_its_master_is_the_one_used(spark, folder):
    """`spark-submit --master local[2] run_reportgen.py run`: the session is
    spark-submit's, not [spark] master's default local[*]."""
    import pyspark

    launcher = folder / "run_reportgen.py"
    launcher.write_text(LAUNCHER)
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    command = [str(submit), "--master", "local[2]", "--conf", "spark.sql.shuffle.partitions=2"]
    command += [str(launcher), "run"]
    result = subprocess.run(
        [*command, *PERIOD, "--out", "submitted", "--engine", "spark", "--quiet"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},  # this venv's Python
    )
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((_snapshot(folder, "submitted") / "manifest.json").read_text())
    assert manifest["engine"]["master"] == "local[2]"
    _same_brief(folder, "submitted")


def test_a_mistyped_customer_table_is_refused_before_the_run_starts(folder):
    """--engine spark changes how an order log is read; a customer table is still read,
    and checked before the output folder is looked at, locally."""
    from reportgen import inputs
    from reportgen.config import parse
    from reportgen.errors import InputError

    config = parse({"data": {"kind": "customers"}, "engine": {"name": "spark"}})
    with pytest.raises(InputError, match=r"no-such\.csv"):
        inputs.check_sources(folder / "no-such.csv", config)
