"""The customers' scaled points held by Spark, for segment.py's fit (segment.Points).

Only fixed-size things reach the driver: the seeded sample k is chosen on (`take`),
centres, and counts or means per cluster. Each K-Means step is one Spark aggregation:
every point goes to its nearest centre and each cluster's new centre is the mean of its
points, from the sample's centres until the centres move less than scikit-learn's
tolerance (1e-4 of the points' mean variance), as KMeans(init=centres, n_init=1) does
on the local engine. Sums are added in a different order than in memory, so a centre can
differ in its last bits; a customer exactly between two centres could then land on the
other side (README: sizes agree within 0.1%).

A point's cluster is never stored: it is the nearest of a clustering's centres,
recomputed where needed (ties go to the lower cluster, as argmin does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from sklearn.cluster import KMeans

from reportgen.segment import Clustering, NearestLabels, Placed, Points
from reportgen.spark import forget, keep

ROW = "_row"
"""A customer's position among all customers, in the local engine's order."""
POSITION = "_pos"
"""Its position among these points (all customers, less any set aside)."""
SPEND = "_spend"
MAX_ITER = 300
TOLERANCE = 1e-4
"""scikit-learn's KMeans defaults: its iteration limit, and its tolerance as a share of
the points' mean variance."""


def _features(d: int) -> list[str]:
    return [f"_f{j}" for j in range(d)]


def _double(value: float) -> str:
    """A Spark SQL double literal that reads back as exactly `value`."""
    return f"({float(value)!r}D)"


def nearest(centres: np.ndarray) -> Column:
    """The 0-based index of the nearest centre (ties to the lower index). Written as one
    SQL expression: built from Column calls, each a round trip to the JVM, k centres of
    d features cost a second or more per use."""
    if len(centres) == 1:
        return F.lit(0)
    names = _features(centres.shape[1])
    candidates = []
    for c, row in enumerate(centres):
        distance = _double(0.0)
        for name, value in zip(names, row, strict=True):
            distance = f"({distance} + POWER(({name} - {_double(value)}), 2))"
        candidates.append(f"named_struct('d', {distance}, 'c', {c})")
    return F.expr(f"least({', '.join(candidates)}).c")


def numbered(frame: DataFrame, by: str, into: str) -> tuple[DataFrame, int]:
    """`frame` with `into` = 0..n-1 in the order of `by`, cached, and n. Numbered without
    moving every row to one partition (as a window over all rows would): after sorting, a
    row's monotonically_increasing_id is its partition's index (shifted left 33 bits)
    plus its place in the partition, and each partition starts at the count of rows
    before it. The sorted copy is let go once the result is cached."""
    ordered = keep(
        frame.drop(into)
        .orderBy(by)
        .withColumns({"_part": F.spark_partition_id(), "_mono": F.monotonically_increasing_id()})
    )
    counts = sorted(tuple(row) for row in ordered.groupBy("_part").count().collect())
    start, total = F.lit(0).cast("long"), 0
    for part, count in counts:
        start = F.when(F.col("_part") == part, F.lit(total).cast("long")).otherwise(start)
        total += count
    place = F.col("_mono") - F.shiftleft(F.col("_part").cast("long"), 33)
    kept = keep(ordered.withColumn(into, start + place).drop("_part", "_mono"))
    kept.count()
    forget(ordered)
    return kept, total


def scaled_columns(
    values: list[Column], center: np.ndarray, scale: np.ndarray
) -> dict[str, Column]:
    """The feature columns SparkPoints reads: (value - center) / scale, one per feature."""
    return {
        name: (value - float(c)) / float(s)
        for name, value, c, s in zip(_features(len(values)), values, center, scale, strict=True)
    }


@dataclass(frozen=True, eq=False)
class SparkPoints:
    """Scaled points as columns _f0.._f{d-1} of a persisted frame, with ROW, POSITION
    and SPEND (null without spend)."""

    frame: DataFrame
    d: int
    n: int

    @classmethod
    def of(cls, frame: DataFrame, d: int) -> SparkPoints:
        """Points from a frame with ROW (0..n-1), the feature columns and SPEND."""
        kept = keep(frame.withColumn(POSITION, F.col(ROW)))
        return cls(kept, d, kept.count())

    def __len__(self) -> int:
        return self.n

    def _labelled(self, centres: np.ndarray) -> DataFrame:
        return self.frame.withColumn("_c", nearest(centres))

    def take(self, rows: np.ndarray) -> np.ndarray:
        wanted = self.frame.sparkSession.createDataFrame(
            [(int(r),) for r in rows], f"{POSITION} long"
        )
        found = (
            self.frame.join(F.broadcast(wanted), POSITION)
            .orderBy(POSITION)
            .select(*_features(self.d))
            .collect()
        )
        return np.array([list(row) for row in found], dtype="float64").reshape(-1, self.d)

    def _sums(self, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points nearest each centre, and their sum per feature."""
        k = len(centres)
        rows = (
            self._labelled(centres)
            .groupBy("_c")
            .agg(F.count("*").alias("n"), *[F.sum(f).alias(f) for f in _features(self.d)])
            .collect()
        )
        sizes = np.zeros(k, dtype=np.int64)
        sums = np.zeros((k, self.d))
        for row in rows:
            sizes[row["_c"]] = row["n"]
            sums[row["_c"]] = [row[f] for f in _features(self.d)]
        return sizes, sums

    def sizes(self, centres: np.ndarray) -> np.ndarray:
        """Points nearest each centre."""
        return self._sums(centres)[0]

    def adopt(self, model: KMeans) -> Clustering:
        centres = model.cluster_centers_
        return Clustering(centres, self._sums(centres)[0], centres)

    def _tolerance(self) -> float:
        variances = self.frame.agg(*[F.var_pop(f) for f in _features(self.d)]).first()
        assert variances is not None
        return float(np.mean([float(v) for v in variances])) * TOLERANCE

    def refine(self, centres: np.ndarray, seed: int) -> Clustering:
        tolerance = self._tolerance()
        centres = np.array(centres, dtype="float64")
        for _ in range(MAX_ITER):
            sizes, sums = self._sums(centres)
            # An empty cluster keeps its centre (scikit-learn would move it to a far point).
            moved = np.where(sizes[:, None] > 0, sums / np.maximum(sizes, 1)[:, None], centres)
            shift = float(((moved - centres) ** 2).sum())
            centres = moved
            if shift <= tolerance:
                break
        return Clustering(centres, self._sums(centres)[0], centres)

    def without(self, clustering: Clustering, clusters: np.ndarray) -> SparkPoints:
        kept = self._labelled(clustering.centres).where(
            ~F.col("_c").isin([int(c) for c in clusters])
        )
        renumbered, n = numbered(kept.drop("_c"), ROW, POSITION)
        return SparkPoints(renumbered, self.d, n)

    def distinct(self, at_most: int) -> int:
        return int(self.frame.select(*_features(self.d)).distinct().limit(at_most).count())

    def means(self, clustering: Clustering) -> np.ndarray:
        sizes, sums = self._sums(clustering.centres)
        means: np.ndarray = sums / np.maximum(sizes, 1)[:, None]
        return means

    def merged(self, rounds: list[tuple[Clustering, int]]) -> int:
        condition = F.lit(False)
        for clustering, cluster in rounds:
            condition = condition | (nearest(clustering.centres) == cluster)
        return int(self.frame.where(condition).count())

    def place(self, fitted: Points, clustering: Clustering) -> Placed:
        assert isinstance(fitted, SparkPoints)
        k = len(clustering.centres)
        rows = (
            self._labelled(clustering.centres)
            .groupBy("_c")
            .agg(F.count("*").alias("n"), F.avg(SPEND).alias("spend"))
            .collect()
        )
        sizes, means = np.zeros(k, dtype=np.int64), np.zeros(k)
        for row in rows:
            sizes[row["_c"]] = row["n"]
            means[row["_c"]] = row["spend"] or 0.0
        outside = self.frame.select(ROW).subtract(fitted.frame.select(ROW))
        rows_outside = np.sort(np.array([row[ROW] for row in outside.collect()], dtype=np.int64))
        return Placed(sizes, means, rows_outside, len(rows_outside))

    def label(self, centres: np.ndarray, ids: np.ndarray) -> NearestLabels:
        return NearestLabels(np.asarray(centres), np.asarray(ids, dtype=np.int64))

    @property
    def names(self) -> list[str]:
        """The feature columns."""
        return _features(self.d)

    def segment(self, labels: NearestLabels) -> Column:
        """Each point's segment id."""
        ids = F.array(*[F.lit(int(i)) for i in labels.ids])
        return F.element_at(ids, nearest(labels.centres) + 1)
