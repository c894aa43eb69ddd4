"""A seeded order log (one row per order line), to try and test `kind = "transactions"`.

Customers follow one of six buying patterns (champions, loyal, new, at risk,
hibernating, occasional), so an RFM segmentation has real structure to find.
Like real exports it has returns (negative quantities), and a few lines with no
customer id, duplicated, dated in the future or priced at zero, so a run on it
exercises the order-log checks. Everything is drawn with numpy in whole columns:
ten million lines take seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

LAST_DAY = date(2026, 10, 31)
"""The last day with orders; a run counts recency to the day after."""


@dataclass(frozen=True)
class _Pattern:
    weight: float
    orders: float
    """Mean number of orders."""
    first: tuple[int, int]
    """Days before LAST_DAY of the first order: from, to."""
    last: tuple[int, int]
    """Days before LAST_DAY of the last order: from, to."""
    price: float
    """Median unit price."""
    returns: float
    """Share of orders returned."""


_PATTERNS = (
    _Pattern(0.12, 14.0, (500, 720), (0, 15), 38.0, 0.03),  # champions
    _Pattern(0.20, 7.0, (400, 700), (10, 60), 25.0, 0.04),  # loyal
    _Pattern(0.13, 1.6, (0, 45), (0, 30), 22.0, 0.05),  # new
    _Pattern(0.15, 6.0, (450, 700), (150, 260), 30.0, 0.08),  # at risk
    _Pattern(0.25, 1.5, (300, 700), (250, 600), 14.0, 0.06),  # hibernating
    _Pattern(0.15, 2.5, (100, 400), (40, 120), 18.0, 0.05),  # occasional
)
FLAWED_SHARE = 0.0005
"""Share of lines given each flaw: no customer id, duplicated, future date, zero price."""


def generate_orders(customers: int, seed: int = 7) -> pa.Table:
    """About ten lines per customer: InvoiceNo, CustomerID, InvoiceDate, Quantity, UnitPrice."""
    rng = np.random.default_rng(seed)
    weights = np.array([p.weight for p in _PATTERNS])
    kind = rng.choice(len(_PATTERNS), size=customers, p=weights / weights.sum())
    table = {
        name: np.array([getattr(p, name) for p in _PATTERNS], dtype="float64")
        for name in ("orders", "price", "returns")
    }
    first = np.array([p.first for p in _PATTERNS], dtype="float64")
    last = np.array([p.last for p in _PATTERNS], dtype="float64")

    orders = 1 + rng.poisson(table["orders"][kind] - 1)
    owner = np.repeat(np.arange(customers), orders)
    k = kind[owner]
    # Each customer's orders spread between their first and last day.
    first_day = rng.uniform(first[kind, 0], first[kind, 1])
    last_day = np.minimum(rng.uniform(last[kind, 0], last[kind, 1]), first_day)
    position = rng.uniform(size=len(owner))
    start = np.r_[0, np.cumsum(orders)[:-1]]
    position[start] = 0.0  # the first order is on the first day
    ends = np.cumsum(orders) - 1
    position[ends[orders > 1]] = 1.0  # the last order on the last day
    days_before = first_day[owner] - position * (first_day[owner] - last_day[owner])
    order_day = np.datetime64(LAST_DAY) - np.rint(days_before).astype("timedelta64[D]")
    returned = rng.uniform(size=len(owner)) < table["returns"][k]
    returned[start] = False  # nobody's first order is a return

    lines = 1 + rng.poisson(1.0, size=len(owner))
    order = np.repeat(np.arange(len(owner)), lines)
    kk = k[order]
    quantity = 1 + rng.poisson(0.8, size=len(order))
    quantity = np.where(returned[order], -quantity, quantity)
    price = np.round(table["price"][kk] * rng.lognormal(0.0, 0.45, size=len(order)), 2)
    customer = owner[order].astype("int64") + 10_000
    day = order_day[order]
    invoice = order.astype("int64") + 500_000

    flawed = max(1, int(len(order) * FLAWED_SHARE))
    picks = rng.choice(len(order), size=4 * flawed, replace=False).reshape(4, flawed)
    no_id = np.zeros(len(order), dtype=bool)
    no_id[picks[0]] = True
    day[picks[2]] = np.datetime64(LAST_DAY + timedelta(days=400))
    price[picks[3]] = 0.0
    keep = np.r_[np.arange(len(order)), picks[1]]  # duplicated lines appear twice
    return pa.table(
        {
            "InvoiceNo": pa.array(invoice[keep]),
            "CustomerID": pa.array(customer[keep], mask=no_id[keep]),
            "InvoiceDate": pa.array(day[keep].astype("datetime64[D]")),
            "Quantity": pa.array(quantity[keep]),
            "UnitPrice": pa.array(price[keep]),
        }
    )


def order_log_bytes(log: pa.Table, suffix: str) -> bytes:
    """The log as a .parquet or .csv file's bytes."""
    sink = pa.BufferOutputStream()
    if suffix == ".parquet":
        pq.write_table(log, sink)
    else:
        pacsv.write_csv(log, sink)
    return sink.getvalue().to_pybytes()
