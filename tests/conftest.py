"""Fixtures shared by the whole suite (helpers to import are in tests/helpers.py), and the
suite's one thread per process.

Each test process computes on one BLAS/OpenMP thread unless the environment says
otherwise: pytest-xdist already runs a worker per core, and an OpenMP thread waiting for
a sibling that another worker has pushed off its core spins, burning that core (two
concurrent runs of the bundled sample took 10.7 s on two threads each, 4.4 s on one).
The variables are set before anything loads numpy or scikit-learn, which read them then,
and processes the tests start inherit them. Results do not depend on it:
tests/reliability/test_reproducible.py runs on one and two threads on purpose.
"""

# ruff: noqa: E402 -- the thread settings come before the imports that read them (see above)
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pandas as pd
import pytest


@pytest.fixture
def tiny_table() -> pd.DataFrame:
    """Six customers as text, the way ingest reads a CSV."""
    return pd.DataFrame(
        {
            "Customer ID": ["1", "2", "3", "4", "5", "6"],
            "Total Spend": ["100", "200", "300", "1000", "1100", "1200"],
            "Items Purchased": ["1", "2", "3", "10", "11", "12"],
            "Days Since Last Purchase": ["50", "40", "60", "5", "6", "4"],
        },
        dtype="string",
    )
