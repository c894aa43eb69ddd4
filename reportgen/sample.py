"""Seeded, realistic sample data, so the tool can be tried and tested without real data.

Two shapes, as the input comes in two:
- a customer table (`generate`), with the columns of the e-commerce export the
  original analysis used, five overlapping behavioural groups, a few missing values and
  booleans spelled in mixed ways, so that a run on it exercises validation as real
  exports do;
- an order log (`generate_orders`, one row per order line, for `kind =
  "transactions"`), whose customers follow one of six buying patterns (champions,
  loyal, new, at risk, hibernating, occasional), so an RFM segmentation has real
  structure to find. Like real exports it has returns (negative quantities), and a few
  lines with no customer id, duplicated, dated in the future or priced at zero, so a
  run on it exercises the order-log checks. Everything is drawn with numpy in whole
  columns: ten million lines take seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DEFAULT_ROWS = 2_000
DEFAULT_SEED = 7
CITIES = ("New York", "Los Angeles", "Chicago", "San Francisco", "Miami", "Houston")
TIERS = ("Bronze", "Silver", "Gold")
SATISFACTION = ("Unsatisfied", "Neutral", "Satisfied")


@dataclass(frozen=True)
class _Group:
    weight: float
    spend: tuple[float, float]
    items: tuple[float, float]
    rating: tuple[float, float]
    recency: tuple[float, float]
    discount: float
    tiers: tuple[float, float, float]
    satisfaction: tuple[float, float, float]
    age: tuple[float, float]


# Loyal high spenders, steady mid-value, deal seekers, lapsing, and newcomers.
_GROUPS = (
    _Group(
        0.18,
        (1400, 180),
        (19, 2.5),
        (4.7, 0.2),
        (12, 6),
        0.2,
        (0.02, 0.13, 0.85),
        (0.03, 0.12, 0.85),
        (31, 5),
    ),
    _Group(
        0.27,
        (900, 150),
        (13, 2.0),
        (4.2, 0.25),
        (22, 8),
        0.4,
        (0.15, 0.70, 0.15),
        (0.10, 0.35, 0.55),
        (35, 7),
    ),
    _Group(
        0.22,
        (600, 120),
        (12, 2.5),
        (3.9, 0.3),
        (28, 10),
        0.9,
        (0.50, 0.40, 0.10),
        (0.20, 0.55, 0.25),
        (38, 9),
    ),
    _Group(
        0.18,
        (520, 120),
        (8, 2.0),
        (3.3, 0.3),
        (52, 10),
        0.5,
        (0.75, 0.20, 0.05),
        (0.70, 0.22, 0.08),
        (42, 10),
    ),
    _Group(
        0.15,
        (250, 80),
        (4, 1.5),
        (4.1, 0.4),
        (7, 4),
        0.3,
        (0.60, 0.30, 0.10),
        (0.15, 0.45, 0.40),
        (27, 5),
    ),
)
_TRUE_SPELLINGS = ("TRUE", "TRUE", "TRUE", "TRUE", "Yes", "y", "1")
_FALSE_SPELLINGS = ("FALSE", "FALSE", "FALSE", "FALSE", "No", "n", "0")


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """A customer table with `rows` customers; the same arguments give the same table."""
    rng = np.random.default_rng(seed)
    weights = np.array([g.weight for g in _GROUPS])
    group = rng.choice(len(_GROUPS), size=rows, p=weights / weights.sum())

    def draw(attribute: str) -> np.ndarray:
        mean = np.array([getattr(g, attribute)[0] for g in _GROUPS])[group]
        sd = np.array([getattr(g, attribute)[1] for g in _GROUPS])[group]
        return rng.normal(mean, sd)

    def pick(attribute: str, labels: tuple[str, ...]) -> np.ndarray:
        probabilities = np.array([getattr(g, attribute) for g in _GROUPS])[group]
        cumulative = probabilities.cumsum(axis=1)
        index = (rng.random(rows)[:, None] > cumulative).sum(axis=1)
        picked: np.ndarray = np.array(labels)[np.minimum(index, len(labels) - 1)]
        return picked

    discount = rng.random(rows) < np.array([g.discount for g in _GROUPS])[group]
    spelling = rng.integers(0, len(_TRUE_SPELLINGS), size=rows)
    frame = pd.DataFrame(
        {
            "Customer ID": np.arange(100_001, 100_001 + rows),
            "Gender": np.where(rng.random(rows) < 0.5, "Female", "Male"),
            "Age": np.clip(np.rint(draw("age")), 18, 80).astype(int),
            "City": np.array(CITIES)[rng.integers(0, len(CITIES), size=rows)],
            "Membership Type": pick("tiers", TIERS),
            "Total Spend": np.round(np.clip(draw("spend"), 20, None), 2),
            "Items Purchased": np.clip(np.rint(draw("items")), 1, None).astype(int),
            "Average Rating": np.round(np.clip(draw("rating"), 1, 5), 1),
            "Discount Applied": np.where(
                discount, np.array(_TRUE_SPELLINGS)[spelling], np.array(_FALSE_SPELLINGS)[spelling]
            ),
            "Days Since Last Purchase": np.clip(np.rint(draw("recency")), 0, None).astype(int),
            "Satisfaction Level": pick("satisfaction", SATISFACTION),
        }
    )
    # A few gaps, as real exports have: they must be reported and filled, not crash the run.
    frame = frame.astype(
        {"Age": "object", "Average Rating": "object", "Satisfaction Level": "object"}
    )
    for column, share in (("Satisfaction Level", 0.006), ("Age", 0.003), ("Average Rating", 0.002)):
        frame.loc[rng.random(rows) < share, column] = None
    return frame


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --- the order log ---------------------------------------------------------------------

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
    by_pattern = {
        name: np.array([getattr(p, name) for p in _PATTERNS], dtype="float64")
        for name in ("orders", "price", "returns")
    }
    first = np.array([p.first for p in _PATTERNS], dtype="float64")
    last = np.array([p.last for p in _PATTERNS], dtype="float64")

    orders = 1 + rng.poisson(by_pattern["orders"][kind] - 1)
    owner = np.repeat(np.arange(customers), orders)
    order_kind = kind[owner]
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
    returned = rng.uniform(size=len(owner)) < by_pattern["returns"][order_kind]
    returned[start] = False  # nobody's first order is a return

    lines = 1 + rng.poisson(1.0, size=len(owner))
    order = np.repeat(np.arange(len(owner)), lines)
    line_kind = order_kind[order]
    quantity = 1 + rng.poisson(0.8, size=len(order))
    quantity = np.where(returned[order], -quantity, quantity)
    price = np.round(by_pattern["price"][line_kind] * rng.lognormal(0.0, 0.45, size=len(order)), 2)
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
    content: bytes = sink.getvalue().to_pybytes()
    return content
