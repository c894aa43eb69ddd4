"""What changed since the previous period: where each customer went.

The previous snapshot of the same report gives, per customer, the segment they
were in; this period's segmentation gives where they are now. The migration
matrix counts both, and customers only in one period are new or gone. Reading
the archive is `archive`'s job; this stage only compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PreviousPeriod:
    """What the archive holds of the latest earlier period."""

    period: str
    assignments: pd.DataFrame
    """customer_id (text) and segment (int)."""
    names: Mapping[int, str]
    """Segment id -> persona name, as that period's brief called them."""


@dataclass(frozen=True)
class Move:
    source: int
    target: int
    customers: int
    spend: float | None
    """This period's total spend of the customers who made this move."""


@dataclass(frozen=True)
class Migration:
    previous_period: str
    previous_names: Mapping[int, str]
    moves: tuple[Move, ...]
    """Every (previous segment, current segment) pair with customers, most customers first."""
    new: int
    """Customers not in the previous period."""
    churned: int
    """Customers of the previous period who are not in this one."""

    @property
    def stayed(self) -> int:
        return sum(m.customers for m in self.moves if m.source == m.target)

    @property
    def moved(self) -> int:
        return sum(m.customers for m in self.moves if m.source != m.target)

    @property
    def biggest_move(self) -> Move | None:
        changes = [m for m in self.moves if m.source != m.target]
        return changes[0] if changes else None

    def to_dict(self) -> dict[str, Any]:
        matrix: dict[str, dict[str, int]] = {}
        for move in self.moves:
            matrix.setdefault(str(move.source), {})[str(move.target)] = move.customers
        return {
            "previous_period": self.previous_period,
            "matrix": matrix,
            "new": self.new,
            "churned": self.churned,
            "stayed": self.stayed,
            "moved": self.moved,
            "moves": [vars(m) for m in self.moves],
        }


def migrate(
    previous: PreviousPeriod, customer_ids: pd.Series, labels: np.ndarray, spend: np.ndarray | None
) -> Migration:
    """Count customers by (previous segment, current segment); new and gone separately."""
    now = pd.DataFrame(
        {
            "customer_id": customer_ids.astype("string").to_numpy(),
            "target": labels,
            "spend": spend if spend is not None else np.nan,
        }
    )
    before = previous.assignments.rename(columns={"segment": "source"})
    both = now.merge(before, on="customer_id", how="inner", validate="one_to_one")
    grouped = both.groupby(["source", "target"], sort=True).agg(
        customers=("customer_id", "size"), spend=("spend", "sum")
    )
    moves = sorted(
        (
            Move(
                int(source),
                int(target),
                int(row.customers),
                float(row.spend) if spend is not None else None,
            )
            for (source, target), row in grouped.iterrows()
        ),
        key=lambda m: (-m.customers, m.source, m.target),
    )
    return Migration(
        previous_period=previous.period,
        previous_names=dict(previous.names),
        moves=tuple(moves),
        new=len(now) - len(both),
        churned=len(before) - len(both),
    )
