"""One local Spark session per test process (a session takes 5–15 s to start): the
engine's own `session`, which later calls in every module find running and reuse.

Without PySpark or Java the tests skip, saying what to install, except in CI (.ci/run
installs both), where they fail."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from reportgen.config import SparkSettings

IN_CI = bool(os.environ.get("CI"))
MISSING = [
    what
    for what, found in (
        ("PySpark (pip install -e '.[test,spark]')", importlib.util.find_spec("pyspark")),
        ("Java 17+ (apt-get install openjdk-17-jre-headless)", shutil.which("java")),
    )
    if not found
]
LOCAL = SparkSettings(
    master="local[2]", app_name="reportgen-tests", conf={"spark.ui.enabled": "false"}
)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if MISSING:
        message = f"the Spark engine's tests need {' and '.join(MISSING)}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from reportgen.spark import session

    active = session(LOCAL)
    yield active
    active.stop()
