"""Seeded customer bases that look like real businesses, for the truth checker.

Each base is a customer table or an order log, shaped like a kind of business the
brief must describe truthfully: heavy-tailed spend with a few whales, mostly
one-time buyers from a single acquisition cohort (in the 1990s), a young
subscription base where everyone bought this month, a dormant base, a seasonal
shop. Every generator takes a seed, so a failure can be replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from reportgen.resources import sample_data_path
from reportgen.sample import generate_orders


@dataclass(frozen=True)
class Base:
    name: str
    kind: str
    """"customers" (one row per customer) or "transactions" (one row per order)."""
    frame: pd.DataFrame
    settings: dict = field(default_factory=dict)
    """Config tables to use instead of the defaults."""
    messy: bool = False
    """Its cells need reportgen's validation to be read (the bundled sample has "$1,234",
    "n" and blanks): the checker then takes each customer's figures from the validated
    table, which validation's own tests cover, instead of parsing the file itself."""


def _ids(n: int) -> list[str]:
    return [f"C{i:06d}" for i in range(n)]


def heavy_tailed(rng: np.random.Generator) -> Base:
    """Lognormal spend with 0.2% whales at 80x; purchases count orders."""
    n = 3000
    spend = rng.lognormal(5.0, 1.1, n)
    whales = rng.choice(n, size=6, replace=False)
    spend[whales] *= 80
    orders = 1 + rng.poisson(np.clip(spend / 150, 0, 40))
    frame = pd.DataFrame(
        {
            "Customer ID": _ids(n),
            "Total Spend": spend.round(2),
            "Orders": orders,
            "Days Since Last Purchase": rng.exponential(70, n).round().astype(int),
            "Average Rating": np.clip(rng.normal(4.0, 0.6, n), 1, 5).round(1),
            "Discount Applied": rng.choice(["Yes", "No"], n, p=[0.35, 0.65]),
        }
    )
    return Base("heavy-tailed spend", "customers", frame)


def whales_unlogged(rng: np.random.Generator) -> Base:
    """Heavy-tailed spend, clustered without the log transform: the whales must still not
    become a segment of their own."""
    base = heavy_tailed(rng)
    return Base(
        "whales, no log transform", base.kind, base.frame, {"features": {"log_skewed": False}}
    )


def everyone_active(rng: np.random.Generator) -> Base:
    """A young base: every customer bought within the last 30 days."""
    n = 2000
    tenure = rng.integers(30, 400, n)
    frame = pd.DataFrame(
        {
            "Customer ID": _ids(n),
            "Total Spend": rng.lognormal(5.0, 0.8, n).round(2),
            "Orders": 1 + rng.poisson(3, n),
            "Days Since Last Purchase": rng.integers(0, 30, n),
            "Days Since First Purchase": tenure,
        }
    )
    return Base("everyone active", "customers", frame)


def everyone_dormant(rng: np.random.Generator) -> Base:
    """Nobody has bought for at least 200 days; some were big, frequent customers."""
    n = 2000
    big = rng.uniform(size=n) < 0.3
    frame = pd.DataFrame(
        {
            "Customer ID": _ids(n),
            "Total Spend": np.where(
                big, rng.lognormal(7.0, 0.4, n), rng.lognormal(4.5, 0.6, n)
            ).round(2),
            "Orders": np.where(big, 8 + rng.poisson(6, n), 1 + rng.poisson(0.5, n)),
            "Days Since Last Purchase": rng.integers(200, 1200, n),
        }
    )
    return Base("everyone dormant", "customers", frame)


def satisfaction_table(rng: np.random.Generator) -> Base:
    """A customer table like the original analysis: items, ratings, satisfaction labels."""
    n = 1500
    mood = rng.choice(3, n, p=[0.3, 0.3, 0.4])
    frame = pd.DataFrame(
        {
            "Customer ID": _ids(n),
            "Total Spend": (rng.normal(500, 150, n) + 300 * mood).clip(50).round(2),
            "Items Purchased": (rng.normal(8, 2, n) + 4 * mood).clip(1).round().astype(int),
            "Average Rating": np.clip(3.0 + 0.6 * mood + rng.normal(0, 0.2, n), 1, 5).round(1),
            "Days Since Last Purchase": (rng.normal(45, 8, n) - 12 * mood).clip(1).round(),
            "Satisfaction Level": np.array(["Unsatisfied", "Neutral", "Satisfied"])[mood],
            "Discount Applied": rng.choice(["TRUE", "FALSE"], n),
        }
    )
    return Base("customer table with satisfaction", "customers", frame)


def _log(customers: list[tuple[str, list[date], list[float]]]) -> pd.DataFrame:
    rows = [
        (cid, f"{cid}-{i}", day.isoformat(), round(amount, 2))
        for cid, days, amounts in customers
        for i, (day, amount) in enumerate(zip(days, amounts, strict=True))
    ]
    return pd.DataFrame(rows, columns=["CustomerID", "InvoiceNo", "InvoiceDate", "Amount"])


def cohort_1990s(rng: np.random.Generator) -> Base:
    """One acquisition quarter (1997 Q1), most customers bought once, log ends mid-1998."""
    start, end = date(1997, 1, 1), date(1998, 6, 30)
    customers = []
    for cid in _ids(3000):
        first = start + timedelta(days=int(rng.integers(0, 90)))
        extra = 0 if rng.uniform() < 0.62 else 1 + rng.poisson(2.5)
        last_possible = (end - first).days
        days = sorted(
            {first}
            | {first + timedelta(days=int(d)) for d in rng.integers(1, last_possible, extra)}
        )
        customers.append((cid, days, list(rng.lognormal(3.3, 0.7, len(days)))))
    return Base("single 1990s cohort, mostly one-time", "transactions", _log(customers))


def subscription_young(rng: np.random.Generator) -> Base:
    """Everyone joined in the last 120 days and orders every 7-25 days, last within 30."""
    end = date(2026, 10, 31)
    customers = []
    for cid in _ids(1500):
        period = int(rng.integers(7, 26))
        last = end - timedelta(days=int(rng.integers(0, min(period, 30))))
        joined = int(rng.integers(period, 120))
        days = [last - timedelta(days=d) for d in range(0, joined, period)]
        customers.append((cid, sorted(days), list(rng.normal(30, 5, len(days)).clip(5))))
    return Base("young subscription base", "transactions", _log(customers))


def seasonal(rng: np.random.Generator) -> Base:
    """A gift shop: orders only in November and December of 2022-2024."""
    customers = []
    for cid in _ids(2000):
        seasons = sorted(
            rng.choice([2022, 2023, 2024], size=int(rng.integers(1, 4)), replace=False)
        )
        days = []
        for year in seasons:
            for _ in range(1 + rng.poisson(0.7)):
                days.append(date(year, 11, 1) + timedelta(days=int(rng.integers(0, 61))))
        days = sorted(set(days))
        customers.append((cid, days, list(rng.lognormal(4.0, 0.6, len(days)))))
    return Base("seasonal gift shop", "transactions", _log(customers))


def dormant_log(rng: np.random.Generator) -> Base:
    """Most customers last ordered years ago; a few whales with 100x baskets."""
    end = date(2024, 6, 30)
    customers = []
    for i, cid in enumerate(_ids(2000)):
        active = rng.uniform() < 0.08
        first = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 700)))
        stop = end if active else first + timedelta(days=int(rng.integers(0, 500)))
        count = 1 + rng.poisson(4 if active else 1.5)
        span = max((stop - first).days, 1)
        days = sorted(
            {first} | {first + timedelta(days=int(d)) for d in rng.integers(0, span, count)}
        )
        scale = 100 if i < 8 else 1
        customers.append((cid, days, list(scale * rng.lognormal(3.5, 0.5, len(days)))))
    return Base("dormant log with whales", "transactions", _log(customers))


def bundled_sample(rng: np.random.Generator) -> Base:
    """The sample customer table shipped with reportgen (the README's first command)."""
    frame = pd.read_csv(sample_data_path(), dtype=str)
    return Base("bundled sample", "customers", frame, messy=True)


def sample_orders(rng: np.random.Generator) -> Base:
    """reportgen's own sample order log: returns, duplicates, a future date, zero prices."""
    seed = int(rng.integers(1, 1000))
    frame = generate_orders(2000, seed=seed).to_pandas()
    return Base("sample order log", "transactions", frame)


GENERATORS: dict[str, Callable[[np.random.Generator], Base]] = {
    "bundled_sample": bundled_sample,
    "sample_orders": sample_orders,
    "heavy_tailed": heavy_tailed,
    "whales_unlogged": whales_unlogged,
    "everyone_active": everyone_active,
    "everyone_dormant": everyone_dormant,
    "satisfaction_table": satisfaction_table,
    "cohort_1990s": cohort_1990s,
    "subscription_young": subscription_young,
    "seasonal": seasonal,
    "dormant_log": dormant_log,
}
