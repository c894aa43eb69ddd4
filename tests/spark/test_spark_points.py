"""Segment.py's fit on points Spark holds gives what it gives on points in memory."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from reportgen.config import SegmentationSettings
from reportgen.features import Features, Scaling
from reportgen.segment import ArrayPoints, Points, segment

pytestmark = pytest.mark.spark  # a stage of its own: see pyproject.toml


def _features(matrix: np.ndarray) -> Features:
    names = tuple(f"x{j}" for j in range(matrix.shape[1]))
    scaling = Scaling(
        names=names,
        roles=names,
        kind="standard",
        center=np.zeros(len(names)),
        scale=np.ones(len(names)),
        log1p=(),
    )
    return Features(matrix=matrix, scaling=scaling, dropped_constant=())


def _points(spark, matrix: np.ndarray, spend: np.ndarray) -> Points:
    from reportgen.spark_points import ROW, SPEND, SparkPoints

    columns = {ROW: np.arange(len(matrix), dtype=np.int64)}
    columns |= {f"_f{j}": matrix[:, j] for j in range(matrix.shape[1])}
    table = pa.table({**columns, SPEND: spend})
    return SparkPoints.of(spark.createDataFrame(table).repartition(3), matrix.shape[1])


def _labels(points, labels) -> np.ndarray:
    """Each point's segment id as Spark computes it, in row order."""
    from reportgen.spark_points import ROW

    found = points.frame.select(ROW, points.segment(labels).alias("s")).orderBy(ROW).collect()
    return np.array([row["s"] for row in found])


def _case(seed: int, extremes: int, small: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-8, 8, size=(rng.integers(2, 6), 3))
    sizes = rng.integers(60, 200, size=len(centres))
    parts = [
        rng.normal(c, rng.uniform(0.5, 2.0), size=(n, 3))
        for c, n in zip(centres, sizes, strict=True)
    ]
    parts.append(rng.normal(40, 0.5, size=(extremes, 3)))  # too few, too far: set aside
    parts.append(rng.normal(centres[0] + 4, 0.3, size=(small, 3)))
    matrix = np.vstack(parts)[rng.permutation(sum(map(len, parts)))]
    spend = np.exp(matrix[:, 0] / 4) * 100
    return matrix, spend


@pytest.mark.parametrize(
    ("seed", "extremes", "small", "sample", "minimum", "path"),
    [
        (1, 8, 0, 200, 10, "set aside"),  # k on a sample, then Lloyd in Spark; 8 set aside
        (1, 0, 30, 200, 40, "merged"),  # a cluster of 30 ordinary customers dissolved
        (2, 6, 0, 20_000, 10, "set aside"),  # the sample is everyone: fitted in memory
    ],
)
def test_spark_points_fit_as_points_in_memory(
    spark, seed, extremes, small, sample, minimum, path
) -> None:
    matrix, spend = _case(seed, extremes, small)
    settings = SegmentationSettings(k_min=2, k_max=6, stability_runs=2, sample_size=sample)
    local = segment(_features(matrix), settings, order_values=spend, minimum=minimum)
    assert path in local.reason  # the case still takes the path it is here for
    points = _points(spark, matrix, spend)
    remote = segment(_features(matrix), settings, minimum=minimum, points=points)
    assert remote.k == local.k
    assert remote.reason == local.reason
    assert remote.outlier_rows == local.outlier_rows
    assert remote.scores == local.scores and remote.votes == local.votes
    assert remote.silhouette == local.silhouette and remote.stability == local.stability
    assert np.array_equal(_labels(points, remote.labels), local.labels)
    np.testing.assert_allclose(remote.centroids, local.centroids, rtol=1e-9, atol=1e-12)


def test_spark_scores_with_last_periods_model_as_the_local_engine_does(spark) -> None:
    """Refit mode tells changed from regrouped customers by scoring this period with last
    period's model (history.migrate's `scored`): Spark's SCORED column is the local
    engine's label for every customer, log and scale included, and a model needing a
    role the customers lack scores nobody rather than everybody wrongly."""
    from reportgen.segment import ArchivedModel
    from reportgen.spark_customers import SCORED, with_scored
    from reportgen.spark_points import ROW

    rng = np.random.default_rng(5)
    spend, recency = rng.lognormal(6, 1, 500), rng.uniform(0, 200, 500)
    scaling = Scaling(
        names=("spend", "recency"),
        roles=("spend", "recency"),
        kind="standard",
        center=np.array([6.0, 90.0]),
        scale=np.array([1.1, 55.0]),
        log1p=("spend",),
    )
    centroids = rng.normal(0, 1, size=(4, 2))
    model = ArchivedModel(
        period="2026-10", scaling=scaling, ids=(2, 5, 1, 7), centroids=centroids, scores=(),
        k=4, seed=0,
    )  # fmt: skip
    frame = spark.createDataFrame(
        pa.table({ROW: np.arange(500, dtype=np.int64), "spend": spend, "recency": recency})
    ).repartition(3)
    scored = with_scored(frame, {"spend", "recency"}, model)
    assert scored is not None
    found = np.array([r[SCORED] for r in scored.orderBy(ROW).select(SCORED).collect()])
    matrix = (np.column_stack([np.log1p(spend), recency]) - scaling.center) / scaling.scale
    expected = ArrayPoints.of(matrix).label(centroids, np.array(model.ids))
    assert np.array_equal(found, expected)
    assert set(found) == {2, 5, 1, 7}  # every segment is someone's: the case tells them apart
    assert with_scored(frame, {"spend"}, model) is None
