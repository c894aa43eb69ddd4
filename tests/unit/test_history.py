import dataclasses

import numpy as np
import pandas as pd
import pytest

from reportgen.history import Merge, PreviousPeriod, Split, migrate
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
    assert not result.scored and result.changed is None and result.regrouped is None
    assert result.to_dict()["changed"] is None and result.net(1) is None


def _previous(segments: list[int]) -> PreviousPeriod:
    ids = [f"c{i}" for i in range(len(segments))]
    names = {s: f"S{s}" for s in set(segments)}
    frame = pd.DataFrame({"customer_id": ids, "segment": segments})
    return PreviousPeriod(period="2026-10", assignments=frame, names=names)


def test_each_move_is_a_change_or_a_regrouping_by_last_periods_model():
    # c0..c5 were in 1, c6..c9 in 2. Last period's model, scoring this period's data,
    # puts c0 and c1 in 2 (they changed); the refit puts c0, c2, c3 and c4 in 3.
    previous = _previous([1, 1, 1, 1, 1, 1, 2, 2, 2, 2])
    ids = pd.Series([f"c{i}" for i in range(10)])
    now = np.array([3, 2, 3, 3, 3, 1, 2, 2, 2, 2])
    scored = np.array([2, 2, 1, 1, 1, 1, 2, 2, 2, 2])
    spend = np.arange(10, dtype=float) * 10
    result = migrate(previous, ids, now, spend, scored)
    assert (result.moved, result.changed, result.regrouped) == (5, 2, 3)
    assert [(m.source, m.target, m.customers, m.spend) for m in result.changes] == [
        (1, 2, 1, 10.0),
        (1, 3, 1, 0.0),
    ]
    assert [(m.source, m.target, m.customers, m.spend) for m in result.regroupings] == [
        (1, 3, 3, 90.0)
    ]
    assert (result.biggest_move.source, result.biggest_move.target) == (1, 2)
    record = result.to_dict()
    assert record["changed"]["matrix"] == {"1": {"2": 1, "3": 1}}
    assert record["regrouped"]["matrix"] == {"1": {"3": 3}}
    assert record["regrouped"]["moves"] == [
        {"source": 1, "target": 3, "customers": 3, "spend": 90.0}
    ]
    assert record["scored_with"] == "previous model"
    # Of segment 1's unchanged customers c2..c5, three are in 3 now and one still in 1.
    assert result.splits == (Split(1, (3, 1), 4),) and result.merges == ()
    assert result.other_regroupings == ()
    assert (result.net(1), result.net(2), result.net(3)) == ((-2, -3), (1, 0), (1, 3))


def test_scored_with_the_same_model_every_move_is_a_change():
    previous = _previous([1, 1, 2, 2])
    ids = pd.Series(["c0", "c1", "c2", "c3"])
    labels = np.array([2, 1, 2, 1])
    result = migrate(previous, ids, labels, None, labels, frozen=True)
    assert (result.moved, result.changed, result.regrouped) == (2, 2, 0)
    assert result.to_dict()["scored_with"] == "frozen model"
    assert result.changes[0].spend is None


def test_segments_that_mostly_land_in_one_are_named_as_merged():
    previous = _previous([1] * 5 + [2] * 5 + [3] * 4)
    ids = pd.Series([f"c{i}" for i in range(14)])
    now = np.array([1, 1, 1, 1, 3] + [1, 1, 1, 2, 2] + [3] * 4)
    result = migrate(previous, ids, now, None, np.array([1] * 5 + [2] * 5 + [3] * 4))
    assert result.merges == (Merge((1, 2), 1, 7),)
    assert [(m.source, m.target) for m in result.other_regroupings] == [(1, 3)]
    assert result.splits == (Split(2, (1, 2), 5),)
    # The brief's minimum segment size: parts of 2 or 3 customers are too few to name.
    fewer = dataclasses.replace(result, min_part=4)
    assert (fewer.merges, fewer.splits) == ((), ())
    assert fewer.other_regroupings == fewer.regroupings != ()


@pytest.mark.parametrize("seed", range(30))
def test_changed_and_regrouped_add_up_to_moved(seed):
    """Generated periods: every cell of the matrix splits into its changes and its
    regroupings; a customer last period's model still puts where they were is never a
    change, and one it puts elsewhere never a regrouping."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 300)), int(rng.integers(1, 7))
    before = rng.integers(1, k + 1, size=n)
    previous = _previous(before.tolist())
    kept = rng.random(n) < rng.random()
    scored = np.where(kept, before, rng.integers(1, k + 1, size=n))
    now = np.where(rng.random(n) < 0.5, scored, rng.integers(1, k + 3, size=n))
    ids = pd.Series([f"c{i}" for i in range(n)])
    result = migrate(previous, ids, now, rng.random(n), scored)
    assert result.changed + result.regrouped == result.moved
    moved = now != before
    assert result.changed == int((moved & (scored != before)).sum())
    assert result.regrouped == int((moved & (scored == before)).sum())
    record = result.to_dict()
    for source, row in record["matrix"].items():
        for target, count in row.items():
            parts = [record[kind]["matrix"].get(source, {}).get(target, 0)
                     for kind in ("changed", "regrouped")]  # fmt: skip
            assert sum(parts) == (count if source != target else 0)
    spend = sum(m.spend for m in result.changes) + sum(m.spend for m in result.regroupings)
    assert spend == pytest.approx(sum(m.spend for m in result.between))
    for segment in range(1, k + 3):
        changed, regrouped = result.net(segment)
        gained = int(((now == segment) & (before != segment)).sum())
        lost = int(((before == segment) & (now != segment)).sum())
        assert changed + regrouped == gained - lost


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
