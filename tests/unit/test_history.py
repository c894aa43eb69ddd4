import numpy as np
import pandas as pd

from reportgen.history import PreviousPeriod, migrate
from reportgen.spreadsheet import neutralise, restore


def test_migration_counts_moves_new_and_gone_exactly():
    previous = PreviousPeriod(
        period="2026-10",
        assignments=pd.DataFrame(
            {"customer_id": ["a", "b", "c", "d", "e"], "segment": [1, 1, 2, 2, 3]}
        ),
        names={1: "Champions", 2: "Deal seekers", 3: "Hibernating"},
    )
    ids = pd.Series(["a", "b", "c", "d", "x", "y"])  # e is gone, x and y are new
    labels = np.array([1, 2, 2, 3, 1, 3])
    spend = np.array([100.0, 50.0, 20.0, 5.0, 70.0, 1.0])
    result = migrate(previous, ids, labels, spend)
    assert [(m.source, m.target, m.customers, m.spend) for m in result.moves] == [
        (1, 1, 1, 100.0),
        (1, 2, 1, 50.0),
        (2, 2, 1, 20.0),
        (2, 3, 1, 5.0),
    ]
    assert (result.new, result.churned, result.stayed, result.moved) == (2, 1, 2, 2)
    assert result.to_dict()["matrix"] == {"1": {"1": 1, "2": 1}, "2": {"2": 1, "3": 1}}
    assert (result.biggest_move.source, result.biggest_move.target) == (1, 2)


def test_exports_read_back_to_the_original_ids():
    ids = pd.Series(["=cmd", "'=x", "-10", "'abc", "@a", "plain", " +1"], dtype="string")
    assert restore(neutralise(ids)).tolist() == ids.tolist()
