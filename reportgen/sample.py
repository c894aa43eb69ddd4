"""A seeded, realistic customer table, so the tool can be tried and tested without real data.

It has the columns of the e-commerce export the original analysis used, five
overlapping behavioural groups, a few missing values and booleans spelled in
mixed ways, so that a run on it exercises validation as real exports do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
        return np.array(labels)[np.minimum(index, len(labels) - 1)]

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
