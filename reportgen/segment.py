"""Choosing k with evidence, fitting K-Means, and measuring how much to trust it.

k is chosen on a seeded sample (all rows when the data is small) by four
criteria voting; the final fit uses every row, started from the sample's
centroids so it is both fast and reproducible. Segments are numbered by
descending mean spend, never by K-Means' arbitrary labels, so "segment 1" means
the same thing in every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    pairwise_distances_argmin,
    silhouette_score,
)

from reportgen.config import SegmentationSettings
from reportgen.errors import SegmentationError
from reportgen.features import Features, Scaling
from reportgen.wording import ENGLISH, N_, PLURAL, Nn_

if TYPE_CHECKING:
    from reportgen.spark_points import SparkPoints

N_INIT = 4
WEAK_SILHOUETTE = 0.25
"""Below this mean silhouette, segments overlap more than they separate."""
WEAK_STABILITY = 0.75
"""Below this mean adjusted Rand index, resampling the data reshuffles segments."""
WARNINGS: Mapping[str, tuple[str, float]] = {
    "weak_separation": (
        N_(
            "the segments are not well separated (silhouette below %(limit)s): customers "
            "near the boundaries could belong to either side."
        ),
        WEAK_SILHOUETTE,
    ),
    "unstable": (
        N_(
            "the segments change noticeably when the data is resampled (stability below "
            "%(limit)s): compare them across months with care."
        ),
        WEAK_STABILITY,
    ),
}
"""Each warning's sentence and the limit it quotes, said once: in the brief's method
section (in the reader's language) and by `run` on the terminal (in English)."""
STABILITY_SAMPLE = 5_000
"""Bootstrap refits for stability are drawn from at most this many customers."""


@dataclass(frozen=True)
class KScore:
    k: int
    inertia: float
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float


@dataclass(frozen=True, kw_only=True)
class SegmentationSummary:
    """What the brief says about a segmentation: archived with it, unlike the labels."""

    k: int
    ids: tuple[int, ...]
    fixed: bool
    votes: Mapping[str, int]
    reason: str
    scores: tuple[KScore, ...]
    silhouette: float
    stability: float | None
    stability_runs: int
    seed: int
    warnings: tuple[str, ...]
    frozen_from: str | None
    outliers: int = 0
    """Customers whose own cluster was too small to be a segment (see Segmentation)."""
    reason_parts: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    """`reason` as (message id, parameters), for the brief in the reader's language
    (wording.Wording.phrases); empty in briefs archived before it, which show `reason`."""


@dataclass(frozen=True)
class NearestLabels:
    """The segment ids of customers an engine holds: ids[c] for those nearest centres[c]
    (ties to the lower c), computed by the engine where needed, never stored."""

    centres: np.ndarray
    ids: np.ndarray


@dataclass(frozen=True, kw_only=True)
class Segmentation:
    labels: np.ndarray | NearestLabels
    """Segment id (1..k) of every customer, in the order of the clean data; for customers
    an engine holds, how the engine labels them."""
    k: int
    fixed: bool
    """k was given (config or --k) rather than chosen."""
    votes: dict[str, int]
    """The k each criterion prefers: silhouette, calinski_harabasz, davies_bouldin, knee."""
    reason: str
    scores: tuple[KScore, ...]
    centroids: np.ndarray
    """Scaled centroids, row i is segment ids[i]."""
    silhouette: float
    stability: float | None
    stability_runs: int
    sample_size: int
    n_init: int
    seed: int
    warnings: tuple[str, ...]
    """weak_separation and/or unstable: the report must say the structure is weak."""
    ids: tuple[int, ...] = ()
    """Segment id of each centroid row, ascending; 1..k unless history kept earlier ids."""
    frozen_from: str | None = None
    """The period whose archived model scored these customers; None when fitted afresh."""
    outlier_rows: tuple[int, ...] = ()
    """Rows (in clean-data order) of customers set aside as too few and too far from the
    rest to form a segment; each joined the nearest segment."""
    reason_parts: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    """`reason` as (message id, parameters), translated where the brief shows it."""

    @property
    def outliers(self) -> int:
        return len(self.outlier_rows)

    def __post_init__(self) -> None:
        if not self.ids:
            object.__setattr__(self, "ids", tuple(range(1, self.k + 1)))

    @property
    def summary(self) -> SegmentationSummary:
        return SegmentationSummary(
            **{f.name: getattr(self, f.name) for f in fields(SegmentationSummary)}
        )


@dataclass(frozen=True, kw_only=True)
class ArchivedModel:
    """A model from the archive, for `[segmentation] mode = "frozen"`."""

    period: str
    scaling: Scaling
    ids: tuple[int, ...]
    centroids: np.ndarray
    """Scaled centroids, row i is segment ids[i], in the model's own scale."""
    scores: tuple[KScore, ...]
    """The evidence k was chosen on when the model was fitted."""
    k: int
    seed: int


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of at most `size` of `n` rows (all rows if fewer)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _score(
    points: np.ndarray,
    distances: np.ndarray,
    subset: np.ndarray,
    k: int,
    settings: SegmentationSettings,
) -> tuple[KScore, KMeans]:
    """Fit k clusters and score them; silhouette uses precomputed distances of one subset."""
    model = KMeans(n_clusters=k, n_init=N_INIT, random_state=settings.seed).fit(points)
    labels = model.labels_
    if len(np.unique(labels)) < 2 or len(np.unique(labels[subset])) < 2:
        return KScore(k, float(model.inertia_), float("nan"), float("nan"), float("nan")), model
    return KScore(
        k=k,
        inertia=_stable(model.inertia_),
        silhouette=_stable(silhouette_score(distances, labels[subset], metric="precomputed")),
        calinski_harabasz=_stable(calinski_harabasz_score(points, labels)),
        davies_bouldin=_stable(davies_bouldin_score(points, labels)),
    ), model


def _stable(value: float) -> float:
    """A score to 10 significant digits: multi-threaded sums differ in the last bits
    with the number of threads, and the archive must not."""
    return float(f"{float(value):.10g}")


def _means(points: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each cluster's mean, summed in row order: the same bits on any number of threads
    (K-Means' own centres are summed in parallel chunks)."""
    counts = np.bincount(labels, minlength=k).astype("float64")
    sums = np.stack(
        [np.bincount(labels, weights=points[:, j], minlength=k) for j in range(points.shape[1])],
        axis=1,
    )
    means: np.ndarray = sums / np.maximum(counts, 1)[:, None]
    return means


def _knee(scores: list[KScore]) -> int:
    """The k farthest below the straight line from the first to the last inertia."""
    if len(scores) < 3:
        return scores[0].k
    ks = np.array([s.k for s in scores], dtype=float)
    inertia = np.array([s.inertia for s in scores])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    spread = inertia[0] - inertia[-1]
    y = (inertia - inertia[-1]) / spread if spread > 0 else np.zeros_like(inertia)
    return int(ks[np.argmax((1 - x) - y)])


def _votes(scores: list[KScore]) -> dict[str, int]:
    valid = [s for s in scores if not np.isnan(s.silhouette)] or scores
    return {
        "silhouette": max(valid, key=lambda s: s.silhouette).k,
        "calinski_harabasz": max(valid, key=lambda s: s.calinski_harabasz).k,
        "davies_bouldin": min(valid, key=lambda s: s.davies_bouldin).k,
        "knee": _knee(scores),
    }


_CRITERIA = {
    "silhouette": N_("silhouette"),
    "calinski_harabasz": N_("Calinski–Harabasz"),
    "davies_bouldin": N_("Davies–Bouldin"),
    "knee": N_("the inertia knee"),
}
Parts = tuple[tuple[str, Mapping[str, Any]], ...]
"""Sentences as (message id, parameters): see wording.Wording.phrases."""


SET_ASIDE = Nn_(
    " %(count)s customer was too few and too far from the rest to form a segment of "
    "at least %(minimum)s (the smallest a segment may be); it was set aside while k "
    "was chosen and the model fitted, then assigned to the nearest segment.",
    " %(count)s customers were too few and too far from the rest to form a segment of "
    "at least %(minimum)s (the smallest a segment may be); they were set aside while k "
    "was chosen and the model fitted, then assigned to the nearest segment.",
)
"""The reason's sentence for customers set aside as too few and too far (with its count)."""

DISSOLVED = Nn_(
    " %(small)s of the %(fitted)s clusters had fewer than %(minimum)s customers, so "
    "its %(count)s customer was merged into the nearest of the %(chosen)s segments "
    "that remain.",
    " %(small)s of the %(fitted)s clusters had fewer than %(minimum)s customers, so "
    "their %(count)s customers were merged into the nearest of the %(chosen)s "
    "segments that remain.",
)
"""The reason's sentence for clusters too small to keep (with the customers they held)."""


def english(parts: Parts) -> str:
    """The reason as the terminal and model.json give it: in English, "1,234"."""
    return ENGLISH.phrases(parts, lambda n: f"{n:,}")


def _choose(votes: dict[str, int], scores: list[KScore]) -> tuple[int, Parts]:
    counts = Counter(votes.values())
    top = max(counts.values())
    tied = [k for k, c in counts.items() if c == top]
    by_k = {s.k: s for s in scores}
    k = max(tied, key=lambda k: (by_k[k].silhouette, -k))
    backers = [_CRITERIA[c] for c, v in votes.items() if v == k]
    parts: list[tuple[str, Mapping[str, Any]]] = [
        (
            N_("k = %(k)s was preferred by %(backers)s (%(count)s of 4 criteria)"),
            {"k": k, "backers": backers, "count": len(backers)},
        )
    ]
    if len(tied) > 1:
        parts.append((N_("; the tie was broken by the higher silhouette"), {}))
    others = [(_CRITERIA[c], v) for c, v in votes.items() if v != k]
    for i, (criterion, v) in enumerate(others):
        joint = "; " if i == 0 else (" and " if i == len(others) - 1 else ", ")
        parts.append((joint, {}) if joint != " and " else (N_(" and "), {}))
        parts.append((N_("%(criterion)s preferred %(k)s"), {"criterion": criterion, "k": v}))
    parts.append((".", {}))
    return k, tuple(parts)


def _stability(
    points: np.ndarray, k: int, reference: np.ndarray, settings: SegmentationSettings
) -> float | None:
    """Mean adjusted Rand index between the reference labels and refits on bootstrap samples."""
    if settings.stability_runs == 0:
        return None
    rng = np.random.default_rng(settings.seed + 1)
    subset = sample_rows(len(points), STABILITY_SAMPLE, settings.seed + 2)
    base, expected = points[subset], reference[subset]
    agreements = []
    for run in range(settings.stability_runs):
        boot = rng.choice(len(base), size=len(base), replace=True)
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=settings.seed + 3 + run)
        model.fit(base[boot])
        agreements.append(adjusted_rand_score(expected, model.predict(base)))
    return float(np.mean(agreements))


def _order(sizes: np.ndarray, means: np.ndarray) -> np.ndarray:
    """New id (0-based) for each K-Means label: by descending mean spend, then size."""
    k = len(sizes)
    ranking = sorted(range(k), key=lambda c: (-means[c], -sizes[c], c))
    new_id = np.empty(k, dtype=int)
    new_id[ranking] = np.arange(k)
    return new_id


@dataclass(frozen=True)
class Clustering:
    """Clusters of some points, each point in the one with the nearest centre."""

    centres: np.ndarray
    sizes: np.ndarray
    """Points per cluster."""
    labels: Any
    """Each point's cluster (0-based): an array for ArrayPoints, the engine's own handle
    for points an engine holds."""
    model: KMeans | None = None
    """The fitted model, for points in memory (its predict places the customers set aside
    exactly as K-Means would)."""


@dataclass(frozen=True)
class Placed:
    """Every customer placed in a cluster: those fitted as the fit put them, those set
    aside by their nearest centre."""

    sizes: np.ndarray
    """Customers per cluster, all of them."""
    means: np.ndarray
    """Each cluster's mean spend (zeros without spend), which numbers the segments."""
    outside: Any
    """The customers set aside (rows for ArrayPoints, the engine's handle otherwise)."""
    outliers: int


class Points(Protocol):
    """Every customer's scaled point, in memory (ArrayPoints) or held by an engine
    (spark_points.SparkPoints): what fitting and assigning read of all customers. Choosing
    k, the silhouette and stability only ever see a seeded sample, taken with `take`; one
    code path decides for both, so both engines choose k and set customers aside alike."""

    def __len__(self) -> int: ...

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The points at these positions (sorted, in the customers' order)."""
        ...

    def adopt(self, model: KMeans) -> Clustering:
        """The clustering of a model fitted on exactly these points."""
        ...

    def refine(self, centres: np.ndarray, seed: int) -> Clustering:
        """K-Means over all these points from `centres` (Lloyd, as KMeans with init)."""
        ...

    def without(self, clustering: Clustering, clusters: np.ndarray) -> Points:
        """These points less those in `clusters` (0-based) of `clustering`."""
        ...

    def distinct(self, at_most: int) -> int:
        """How many distinct points there are, counted up to `at_most`."""
        ...

    def means(self, clustering: Clustering) -> np.ndarray:
        """Each cluster's mean point."""
        ...

    def merged(self, rounds: list[tuple[Clustering, int]]) -> int:
        """How many points were in cluster c of clustering r for any (r, c) of `rounds`."""
        ...

    def place(self, fitted: Points, clustering: Clustering) -> Placed:
        """Every point (of all customers) in a cluster of `clustering`, which was fitted
        on `fitted` (these points, less some set aside)."""
        ...

    def label(self, centres: np.ndarray, ids: np.ndarray) -> Any:
        """Every point's segment id: ids[c] for the points nearest centres[c] (ties to
        the lower c)."""
        ...


@dataclass(frozen=True)
class ArrayPoints:
    """Points in memory: `matrix` rows `rows` (all of them unless some were set aside)."""

    matrix: np.ndarray
    rows: np.ndarray
    order_values: np.ndarray | None = None
    """Spend of every row of `matrix`, which numbers the segments (see _order)."""

    @classmethod
    def of(cls, matrix: np.ndarray, order_values: np.ndarray | None = None) -> ArrayPoints:
        return cls(matrix, np.arange(len(matrix)), order_values)

    @property
    def values(self) -> np.ndarray:
        return self.matrix if len(self.rows) == len(self.matrix) else self.matrix[self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, rows: np.ndarray) -> np.ndarray:
        taken: np.ndarray = self.matrix[self.rows[rows]]
        return taken

    def adopt(self, model: KMeans) -> Clustering:
        k = len(model.cluster_centers_)
        labels = model.labels_
        return Clustering(model.cluster_centers_, np.bincount(labels, minlength=k), labels, model)

    def refine(self, centres: np.ndarray, seed: int) -> Clustering:
        model = KMeans(n_clusters=len(centres), init=centres, n_init=1, random_state=seed)
        return self.adopt(model.fit(self.values))

    def without(self, clustering: Clustering, clusters: np.ndarray) -> ArrayPoints:
        return replace(self, rows=self.rows[~np.isin(clustering.labels, clusters)])

    def distinct(self, at_most: int) -> int:
        return min(len(np.unique(self.values, axis=0)), at_most)

    def means(self, clustering: Clustering) -> np.ndarray:
        return _means(self.values, clustering.labels, len(clustering.centres))

    def merged(self, rounds: list[tuple[Clustering, int]]) -> int:
        merged = np.zeros(len(self.rows), dtype=bool)
        for clustering, cluster in rounds:
            merged |= clustering.labels == cluster
        return int(merged.sum())

    def place(self, fitted: Points, clustering: Clustering) -> Placed:
        assert isinstance(fitted, ArrayPoints)
        k = len(clustering.centres)
        raw = np.empty(len(self.matrix), dtype=np.int64)
        raw[fitted.rows] = clustering.labels
        set_aside = np.ones(len(self.matrix), dtype=bool)
        set_aside[fitted.rows] = False
        outside = np.flatnonzero(set_aside)
        if len(outside):
            assert clustering.model is not None  # adopt and refine keep it
            raw[outside] = clustering.model.predict(self.matrix[outside])
        sizes = np.bincount(raw, minlength=k)
        if self.order_values is None:
            means = np.zeros(k)
        else:
            means = np.bincount(raw, weights=self.order_values, minlength=k) / np.maximum(sizes, 1)
        return Placed(sizes, means, outside, len(outside))

    def label(self, centres: np.ndarray, ids: np.ndarray) -> np.ndarray:
        n = len(self.matrix)
        nearest = np.empty(n, dtype=np.int64)
        for start in range(0, n, 100_000):  # bounded memory: n x k distances per block
            block = self.matrix[start : start + 100_000]
            nearest[start : start + len(block)] = pairwise_distances_argmin(block, centres)
        labelled: np.ndarray = np.asarray(ids, dtype=np.int64)[nearest]
        return labelled


def _dissolve(
    points: Points, clustering: Clustering, minimum: int, seed: int
) -> tuple[Clustering, int]:
    """Dissolve clusters smaller than `minimum`, smallest first, while two or more remain.

    The fallback when setting extreme customers aside did not suffice: the cluster's
    centre is dropped and K-Means is refitted from the others' centres, so its customers
    join the nearest segment. Returns the clustering and how many customers were dissolved.
    """
    rounds: list[tuple[Clustering, int]] = []
    while True:
        sizes = clustering.sizes
        if sizes.min() >= minimum or len(sizes) <= 2:
            return clustering, points.merged(rounds) if rounds else 0
        smallest = int(np.argmin(sizes))
        rounds.append((clustering, smallest))
        clustering = points.refine(np.delete(clustering.centres, smallest, axis=0), seed)


@dataclass(frozen=True)
class _Fit:
    """k chosen on a sample of some points, and the clustering of all of those points."""

    clustering: Clustering
    chosen: int
    scores: list[KScore]
    votes: dict[str, int]
    reason: Parts
    sample: np.ndarray
    """Positions of the sampled points, among the points fitted."""


def _fit(points: Points, settings: SegmentationSettings, fixed_k: int | None) -> _Fit:
    """Score every candidate k on a seeded sample, choose one, fit it on all the points."""
    sample = sample_rows(len(points), settings.sample_size, settings.seed)
    points_sample = points.take(sample)
    distinct = len(np.unique(points_sample, axis=0))
    k_high = max(2, min(settings.k_max, distinct - 1, len(points_sample) - 1))
    k_low = min(settings.k_min, k_high)
    candidates = list(range(k_low, k_high + 1))
    if fixed_k is not None and fixed_k not in candidates:
        candidates = sorted({*candidates, fixed_k})
    # One silhouette subset for every k: the scores compare like with like, and the
    # pairwise distances (the costly part) are computed once.
    subset = sample_rows(len(points_sample), settings.silhouette_sample, settings.seed + 4)
    distances = pairwise_distances(points_sample[subset])
    scored = [_score(points_sample, distances, subset, c, settings) for c in candidates]
    del distances
    scores = [s for s, _ in scored]
    in_range = [s for s in scores if k_low <= s.k <= k_high]
    votes = _votes(in_range)
    auto_k, reason = _choose(votes, in_range)
    if fixed_k is not None:
        chosen = fixed_k
        reason = (
            (
                N_("k = %(k)s was set by the user; the criteria alone would choose %(auto)s."),
                {"k": fixed_k, "auto": auto_k},
            ),
        )
    else:
        chosen = auto_k
    sample_model = dict(zip(candidates, (m for _, m in scored), strict=True))[chosen]
    if len(sample) == len(points):
        clustering = points.adopt(sample_model)
    else:
        clustering = points.refine(sample_model.cluster_centers_, settings.seed)
    return _Fit(clustering, chosen, scores, votes, reason, sample)


OUTLIER_ROUNDS = 5
OUTLIER_BUDGET = 0.05
"""Customers set aside as outliers are at most this share of the base: beyond it, the
small clusters are a structure of the data, not a handful of extremes."""


def _set_aside(
    points: Points, settings: SegmentationSettings, fixed_k: int | None, minimum: int
) -> tuple[_Fit, Points]:
    """Fit, and while the fit has clusters under `minimum` customers, set their customers
    aside and fit again without them: a few extreme customers would otherwise be "a
    segment" nobody can act on, and pull every other segment's scale. Returns the last
    fit and the points it was fitted on."""
    active = points
    fit = _fit(points, settings, fixed_k)
    for _ in range(OUTLIER_ROUNDS):
        small = np.flatnonzero(fit.clustering.sizes < minimum)
        if not len(small):
            break
        remaining = active.without(fit.clustering, small)
        if len(points) - len(remaining) > OUTLIER_BUDGET * len(points):
            break
        if remaining.distinct(3) < 3:
            break
        active = remaining
        fit = _fit(active, settings, fixed_k)
    return fit, active


def _check_k(points: Points, settings: SegmentationSettings, fixed_k: int | None) -> None:
    """Refuse, before any fit, a k the data cannot have and data too uniform to segment."""
    n = len(points)
    # Counted on the sample (all rows when small): sorting a million rows to count them
    # would cost seconds, and the sample is what k is chosen on.
    sample = points.take(sample_rows(n, settings.sample_size, settings.seed))
    distinct = len(np.unique(sample, axis=0))
    if fixed_k is not None and fixed_k >= n:
        raise SegmentationError(
            f"k = {fixed_k} is not smaller than the number of customers ({n}); choose a k of at "
            f"most {max(2, n - 1)}"
        )
    if fixed_k is not None and fixed_k > distinct:
        raise SegmentationError(
            f"k = {fixed_k} is more than the {distinct} distinct customer profiles in the data; "
            "choose a smaller k"
        )
    if distinct < 3:
        raise SegmentationError(
            f"only {distinct} distinct customer profile(s) among {n} customers: too few to "
            "segment (need at least 3)"
        )


def _reason(fit: _Fit, outliers: int, dissolved: int, chosen: int, minimum: int) -> Parts:
    """Why k is what it is: the criteria's choice, then the customers set aside and the
    clusters dissolved for being under `minimum` customers."""
    reason = fit.reason
    if outliers:
        one, many = SET_ASIDE
        reason += ((one, {PLURAL: many, "count": outliers, "minimum": minimum}),)
    if chosen < fit.chosen:
        one, many = DISSOLVED
        counts = {
            "count": dissolved,
            "small": fit.chosen - chosen,
            "fitted": fit.chosen,
            "minimum": minimum,
            "chosen": chosen,
        }
        reason += ((one, {PLURAL: many, **counts}),)
    return reason


def predict(clustering: Clustering, points: np.ndarray) -> np.ndarray:
    """The nearest cluster (0-based) of each of some points held in memory."""
    if clustering.model is not None:
        labels: np.ndarray = clustering.model.predict(points)
        return labels
    nearest: np.ndarray = pairwise_distances_argmin(points, clustering.centres)
    return nearest


def _silhouette(
    fit: _Fit, chosen: int, sampled: np.ndarray, labels: np.ndarray, settings: SegmentationSettings
) -> float:
    """The final model's silhouette on the sample k was chosen on (`labels`: its clusters):
    the score already measured for its k, unless dissolving clusters changed k since."""
    if chosen == fit.chosen:
        return next(s.silhouette for s in fit.scores if s.k == chosen)
    subset = sample_rows(len(sampled), settings.silhouette_sample, settings.seed + 4)
    on_subset = labels[subset]
    if len(np.unique(on_subset)) < 2:
        return float("nan")
    return _stable(silhouette_score(sampled[subset], on_subset))


def _warnings(silhouette: float, stability: float | None) -> tuple[str, ...]:
    """weak_separation (also when the silhouette could not be measured) and unstable."""
    warnings = []
    if not silhouette >= WEAK_SILHOUETTE:
        warnings.append("weak_separation")
    if stability is not None and stability < WEAK_STABILITY:
        warnings.append("unstable")
    return tuple(warnings)


def segment(
    features: Features,
    settings: SegmentationSettings,
    k: int | None = None,
    order_values: np.ndarray | None = None,
    minimum: int = 1,
    points: Points | None = None,
) -> Segmentation:
    """Fit the segmentation. `k` (from --k) overrides the config; `order_values` is spend.
    `points` are the customers' points when an engine holds them (features.matrix is
    then only the sample), with their spend.

    No segment has fewer than `minimum` customers while two segments remain: customers
    whose own cluster would be smaller are set aside while k is chosen and the model
    fitted, then assigned to the nearest segment and reported as outliers.
    """
    points = points or ArrayPoints.of(features.matrix, order_values)
    fixed_k = k if k is not None else settings.k
    _check_k(points, settings, fixed_k)
    fit, active = _set_aside(points, settings, fixed_k, minimum)
    clustering, dissolved = _dissolve(active, fit.clustering, minimum, settings.seed)
    chosen = len(clustering.centres)
    placed = points.place(active, clustering)
    new_id = _order(placed.sizes, placed.means)
    means = active.means(clustering)
    centroids = np.empty_like(clustering.centres)
    centroids[new_id] = means
    reason = _reason(fit, placed.outliers, dissolved, chosen, minimum)
    sampled = active.take(fit.sample)
    on_sample = predict(clustering, sampled)
    silhouette = _silhouette(fit, chosen, sampled, on_sample, settings)
    stability = _stability(sampled, chosen, on_sample, settings)
    return Segmentation(
        # Nearest the centres archived, not K-Means' own (which stop short of the means
        # by its tolerance): the model then puts every unchanged customer back where
        # this period did, so history can tell a customer who changed (see history.py).
        labels=points.label(means, new_id + 1),
        k=chosen,
        fixed=fixed_k is not None,
        votes=fit.votes,
        reason=english(reason),
        reason_parts=reason,
        scores=tuple(fit.scores),
        centroids=centroids,
        silhouette=silhouette,
        stability=stability,
        stability_runs=settings.stability_runs,
        sample_size=len(fit.sample),
        n_init=N_INIT,
        seed=settings.seed,
        warnings=_warnings(silhouette, stability),
        outlier_rows=tuple(np.asarray(placed.outside).tolist()),
    )


def apply_model(
    features: Features,
    model: ArchivedModel,
    settings: SegmentationSettings,
    points: SparkPoints | None = None,
) -> Segmentation:
    """Assign every customer to the nearest centroid of an archived model, without refitting.

    The segments keep the archived model's ids and centres, so this period is
    strictly comparable with the one the model was fitted on. A segment that no
    customer is nearest to is left out (history reports it as gone); silhouette is
    measured on this period's data, stability is not (nothing was refitted). `points`:
    the customers' points when an engine holds them.
    """
    ids = np.asarray(model.ids, dtype=np.int64)
    labels: np.ndarray | NearestLabels
    if points is None:
        n = len(features.matrix)
        labels = ArrayPoints.of(features.matrix).label(model.centroids, ids)
        present = np.flatnonzero(np.isin(ids, labels))
        subset = sample_rows(n, settings.silhouette_sample, settings.seed + 4)
        on_subset, subset_labels = features.matrix[subset], labels[subset]
    else:
        n = len(points)
        present = np.flatnonzero(points.sizes(model.centroids))
        labels = points.label(model.centroids, ids)
        on_subset = points.take(sample_rows(n, settings.silhouette_sample, settings.seed + 4))
        subset_labels = ids[pairwise_distances_argmin(on_subset, model.centroids)]
    if len(present) > 1 and len(np.unique(subset_labels)) > 1:
        silhouette = float(silhouette_score(on_subset, subset_labels))
    else:
        silhouette = float("nan")
    return Segmentation(
        labels=labels,
        k=model.k,  # the model's, even when one of its segments is empty this period
        fixed=True,
        votes={},
        reason="",
        scores=model.scores,
        centroids=model.centroids[present],
        silhouette=silhouette,
        stability=None,
        stability_runs=0,
        sample_size=n,
        n_init=0,
        seed=model.seed,
        warnings=_warnings(silhouette, None),
        ids=tuple(int(model.ids[row]) for row in present),
        frozen_from=model.period,
    )
