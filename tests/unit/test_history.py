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


def _segmentation(centroids, labels):
    from reportgen.segment import Segmentation

    return Segmentation(
        labels=np.array(labels),
        k=len(centroids),
        fixed=True,
        votes={},
        reason="",
        scores=(),
        centroids=np.array(centroids, dtype=float),
        silhouette=0.5,
        stability=None,
        stability_runs=0,
        sample_size=0,
        n_init=1,
        seed=0,
        warnings=(),
    )


def _features():
    from reportgen.features import Features, Scaling

    scaling = Scaling(
        names=("spend", "frequency"),
        roles=("spend", "frequency"),
        kind="standard",
        center=np.array([100.0, 10.0]),
        scale=np.array([50.0, 5.0]),
        log1p=(),
    )
    return Features(matrix=np.zeros((1, 2)), scaling=scaling, dropped_constant=())


def test_segments_near_last_periods_keep_their_ids_and_others_get_new_ones():
    from reportgen.history import keep_identities

    previous = PreviousPeriod(
        period="2026-10",
        assignments=pd.DataFrame(columns=["customer_id", "segment"]),
        names={1: "A", 2: "B", 5: "C"},
        features=("spend", "frequency"),
        # in this period's scale: id 1 at (2, 2), id 2 at (0, 0), id 5 at (-2, -2)
        centroids={
            1: {"spend": 200.0, "frequency": 20.0},
            2: {"spend": 100.0, "frequency": 10.0},
            5: {"spend": 0.0, "frequency": 0.0},
        },
        max_id=6,
        persona_keys={1: "champions", 2: None, 5: "hibernating"},
    )
    # Rows by spend: a new group far above, id 1 moved 0.5, id 2 moved 0.1; id 5 is gone.
    current = _segmentation([[5.0, 5.0], [2.0, 2.5], [0.1, 0.0]], [1, 2, 3, 3, 2, 1])
    renumbered, identity = keep_identities(previous, _features(), current)
    assert renumbered.ids == (1, 2, 7)
    assert renumbered.labels.tolist() == [7, 1, 2, 2, 1, 7]
    np.testing.assert_allclose(renumbered.centroids, [[2.0, 2.5], [0.1, 0.0], [5.0, 5.0]])
    assert identity.kept == {1: 0.5, 2: 0.1}
    assert (identity.new, identity.gone, identity.max_id) == ((7,), (5,), 7)
    assert identity.personas == {1: "champions"}


def test_changed_drivers_mean_every_segment_is_new():
    from reportgen.history import keep_identities

    previous = PreviousPeriod(
        period="2026-10",
        assignments=pd.DataFrame(),
        names={1: "A"},
        features=("spend",),
        centroids={1: {"spend": 1.0}},
        max_id=1,
    )
    renumbered, identity = keep_identities(
        previous, _features(), _segmentation([[1.0, 1.0], [0.0, 0.0]], [1, 2])
    )
    assert renumbered.ids == (2, 3) and not identity.comparable
    assert identity.gone == (1,)
