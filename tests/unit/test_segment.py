import numpy as np
import pytest

from reportgen.config import SegmentationSettings
from reportgen.errors import SegmentationError
from reportgen.features import Features, Scaling
from reportgen.segment import ArchivedModel, KScore, _choose, _knee, apply_model, english, segment

SETTINGS = SegmentationSettings(k_min=2, k_max=6, stability_runs=5)


def blobs(sizes=(30, 20, 10), centres=((0, 0), (10, 0), (0, 10)), seed=0):
    rng = np.random.default_rng(seed)
    points = np.vstack(
        [rng.normal(c, 0.3, size=(n, 2)) for n, c in zip(sizes, centres, strict=True)]
    )
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return points, truth


def scaling_of(names):
    """An identity scaling: the points are the features."""
    return Scaling(
        names=names,
        roles=names,
        kind="standard",
        center=np.zeros(len(names)),
        scale=np.ones(len(names)),
        log1p=(),
    )


def features_of(points):
    return Features(matrix=points, scaling=scaling_of(("a", "b")), dropped_constant=())


def test_three_clear_groups_are_found_and_numbered_by_spend():
    points, truth = blobs()
    spend = np.array([100.0, 900.0, 500.0])[truth]  # group 1 spends most, then 2, then 0
    result = segment(features_of(points), SETTINGS, order_values=spend)
    assert result.k == 3
    assert set(result.votes.values()) == {3}
    assert result.reason == (
        "k = 3 was preferred by silhouette, Calinski–Harabasz, Davies–Bouldin and the inertia "
        "knee (4 of 4 criteria)."
    )
    expected = np.array([3, 1, 2])[truth]
    assert result.labels.tolist() == expected.tolist()
    np.testing.assert_allclose(result.centroids[0], [10, 0], atol=0.2)
    assert [s.k for s in result.scores] == [2, 3, 4, 5, 6]
    assert result.silhouette > 0.8 and result.stability == pytest.approx(1.0)
    assert result.warnings == ()


def test_same_input_same_labels_and_fixed_k():
    points, _ = blobs()
    first = segment(features_of(points), SETTINGS)
    assert np.array_equal(first.labels, segment(features_of(points), SETTINGS).labels)
    fixed = segment(features_of(points), SETTINGS, k=5)
    assert fixed.k == 5 and fixed.fixed
    assert fixed.reason == "k = 5 was set by the user; the criteria alone would choose 3."
    assert sorted(set(fixed.labels.tolist())) == [1, 2, 3, 4, 5]


def test_fixed_k_outside_the_range_is_still_scored():
    points, _ = blobs()
    result = segment(
        features_of(points), SegmentationSettings(k_min=2, k_max=3, k=5, stability_runs=0)
    )
    assert [s.k for s in result.scores] == [2, 3, 5]
    assert result.k == 5 and result.stability is None


def test_no_structure_is_flagged_as_weak():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(400, 6))  # one round cloud: any split is arbitrary
    names = tuple("abcdef")
    result = segment(
        Features(matrix=noise, scaling=scaling_of(names), dropped_constant=()),
        SETTINGS,
    )
    assert result.silhouette < 0.25
    assert "weak_separation" in result.warnings


def test_k_not_smaller_than_customers_is_an_error():
    points, _ = blobs()
    with pytest.raises(
        SegmentationError,
        match=r"k = 60 is not smaller than the number of "
        r"customers \(60\); choose a k of at most 59",
    ):
        segment(features_of(points), SETTINGS, k=60)


def test_too_few_distinct_customers():
    points = np.array([[0.0, 0], [0, 0], [1, 1], [1, 1]])
    with pytest.raises(SegmentationError, match="only 2 distinct customer profile"):
        segment(features_of(points), SETTINGS)
    with pytest.raises(SegmentationError, match="k = 3 is more than the 2 distinct"):
        segment(features_of(points), SETTINGS, k=3)


def test_knee_of_a_hand_made_curve():
    scores = [
        KScore(k, inertia, 0, 0, 0) for k, inertia in [(2, 100), (3, 40), (4, 20), (5, 15), (6, 12)]
    ]
    assert _knee(scores) == 3


def test_votes_tie_is_broken_by_silhouette():
    scores = [KScore(2, 0, 0.5, 0, 0), KScore(3, 0, 0.6, 0, 0), KScore(4, 0, 0.4, 0, 0)]
    k, parts = _choose(
        {"silhouette": 3, "calinski_harabasz": 2, "davies_bouldin": 3, "knee": 2}, scores
    )
    reason = english(parts)  # stored as message ids, translated where the brief shows it
    assert k == 3
    assert reason == (
        "k = 3 was preferred by silhouette and Davies–Bouldin (2 of 4 criteria); "
        "the tie was broken by the higher silhouette; Calinski–Harabasz preferred 2 "
        "and the inertia knee preferred 2."
    )


def test_large_data_is_chosen_on_a_sample_and_fitted_on_all_rows():
    points, _truth = blobs(sizes=(3000, 2000, 1000))
    settings = SegmentationSettings(
        k_min=2, k_max=4, sample_size=500, silhouette_sample=200, stability_runs=2
    )
    result = segment(features_of(points), settings)
    assert result.sample_size == 500 and result.k == 3
    assert len(result.labels) == 6000
    assert np.bincount(result.labels).tolist() == [0, 3000, 2000, 1000]


def archived(centroids, ids):
    scores = (KScore(2, 10.0, 0.5, 100.0, 0.6), KScore(3, 5.0, 0.7, 200.0, 0.4))
    return ArchivedModel(
        period="2026-10",
        scaling=scaling_of(("a", "b")),
        ids=ids,
        centroids=np.array(centroids, dtype=float),
        scores=scores,
        k=len(ids),
        seed=7,
    )


def test_apply_model_assigns_each_customer_to_the_nearest_archived_centre():
    model = archived([[0, 0], [10, 0], [0, 10]], (2, 4, 7))
    points = np.array([[1, 1], [9, 1], [-1, 0], [1, 9], [6, 0], [0, 4]], dtype=float)
    seg = apply_model(features_of(points), model, SETTINGS)
    assert seg.labels.tolist() == [2, 4, 2, 7, 4, 2]
    assert seg.ids == (2, 4, 7) and seg.k == 3 and seg.frozen_from == "2026-10"
    np.testing.assert_array_equal(seg.centroids, model.centroids)
    assert seg.scores == model.scores and seg.stability is None
    assert seg.silhouette > 0.25 and seg.warnings == ()


def test_apply_model_leaves_out_a_segment_nobody_is_nearest_to():
    model = archived([[0, 0], [10, 0], [0, 10]], (1, 2, 3))
    points = np.array([[1, 0], [0, 1], [9, 0], [11, 0]], dtype=float)
    seg = apply_model(features_of(points), model, SETTINGS)
    assert seg.ids == (1, 2) and seg.k == 3  # the model keeps k; segment 3 is empty
    assert seg.labels.tolist() == [1, 1, 2, 2]
    np.testing.assert_array_equal(seg.centroids, [[0, 0], [10, 0]])


def test_extreme_customers_are_set_aside_and_never_form_a_segment():
    # Three groups of 100 and three customers far from everyone: alone, K-Means gives the
    # three their own cluster (the silhouette prefers it). With a minimum of 10 customers
    # per segment they are set aside, the three real groups are found, and each of the
    # three joins its nearest group.
    points, truth = blobs(sizes=(100, 100, 100))
    extremes = np.array([[60.0, 60.0], [61.0, 60.0], [60.0, 61.0]])
    everyone = np.vstack([points, extremes])
    unguarded = segment(features_of(everyone), SETTINGS)
    assert min(np.bincount(unguarded.labels)[1:]) == 3  # the failure this guards against
    result = segment(features_of(everyone), SETTINGS, minimum=10)
    assert result.k == 3 and result.outlier_rows == (300, 301, 302)
    assert result.outliers == 3 and result.summary.outliers == 3
    assert min(np.bincount(result.labels)[1:]) >= 100
    assert len(set(result.labels[:300][truth == 0].tolist())) == 1
    # The centres are the means of the customers fitted, not pulled by the three.
    for row in result.centroids:
        assert np.abs(row).max() < 11
    assert (
        "3 customers were too few and too far from the rest to form a segment of at least 10"
        in result.reason
    )


def test_without_extremes_nothing_is_set_aside():
    points, _ = blobs()
    result = segment(features_of(points), SETTINGS, minimum=5)
    assert result.outlier_rows == () and "set aside" not in result.reason


def test_small_clusters_of_ordinary_customers_are_merged_not_called_outliers():
    # A group of 4 of 25 customers: too many to set aside as extremes (5% at most), so
    # the small cluster is merged into the nearest one instead.
    points, _ = blobs(sizes=(15, 6, 4))
    result = segment(features_of(points), SETTINGS, k=3, minimum=5)
    assert result.outlier_rows == ()
    assert result.k == 2 and min(np.bincount(result.labels)[1:]) >= 5
    assert "were merged into the nearest of the 2 segments that remain" in result.reason


@pytest.mark.parametrize("seed", range(4))
def test_the_archived_model_puts_every_customer_back_where_the_fit_did(seed):
    """The model archived with a period reproduces that period's segments exactly, so a
    customer whose figures did not change keeps their segment under it (history tells
    changes from regroupings by it, frozen mode reports no move). Generated overlapping
    groups, fitted on a sample smaller than the base, some customers set aside: K-Means
    stops short of the means by its tolerance, and customers on a border between its
    centres and the archived means were put in one segment and scored into another."""
    from reportgen.model_file import model_record, read_model

    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    centres = rng.normal(0, 2.0, size=(k, 3))
    points = np.vstack(
        [rng.normal(c, 1.0, size=(int(rng.integers(800, 2500)), 3)) for c in centres]
        + [rng.normal(0, 25.0, size=(5, 3))]  # a few far from everyone: set aside
    )
    names = ("a", "b", "c")
    features = Features(matrix=points, scaling=scaling_of(names), dropped_constant=())
    settings = SegmentationSettings(k=k, sample_size=2_000, stability_runs=2, seed=seed)
    fitted = segment(features, settings, minimum=20)
    model = read_model(model_record(features, fitted), "2026-10").model
    scored = apply_model(features, model, settings)
    assert np.array_equal(scored.labels, fitted.labels)
