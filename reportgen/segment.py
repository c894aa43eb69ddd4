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
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_score,
)

from reportgen.config import SegmentationSettings
from reportgen.errors import SegmentationError
from reportgen.features import Features, Scaling
from reportgen.wording import ENGLISH, N_, PLURAL, Nn_

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


@dataclass(frozen=True, kw_only=True)
class Segmentation:
    labels: np.ndarray
    """Segment id (1..k) of every customer, in the order of the clean data."""
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


def _order(labels: np.ndarray, k: int, order_values: np.ndarray | None) -> np.ndarray:
    """New id (0-based) for each K-Means label: by descending mean spend, then size."""
    sizes = np.bincount(labels, minlength=k)
    if order_values is None:
        means = np.zeros(k)
    else:
        means = np.bincount(labels, weights=order_values, minlength=k) / np.maximum(sizes, 1)
    ranking = sorted(range(k), key=lambda c: (-means[c], -sizes[c], c))
    new_id = np.empty(k, dtype=int)
    new_id[ranking] = np.arange(k)
    return new_id


def _dissolve(
    model: KMeans, points: np.ndarray, minimum: int, seed: int
) -> tuple[KMeans, np.ndarray]:
    """Dissolve clusters smaller than `minimum`, smallest first, while two or more remain.

    The fallback when setting extreme customers aside did not suffice: the cluster's
    centre is dropped and K-Means is refitted from the others' centres, so its customers
    join the nearest segment. Returns the model and the rows (of `points`) dissolved.
    """
    merged = np.zeros(len(points), dtype=bool)
    while True:
        sizes = np.bincount(model.labels_, minlength=len(model.cluster_centers_))
        if sizes.min() >= minimum or len(sizes) <= 2:
            return model, np.flatnonzero(merged)
        smallest = int(np.argmin(sizes))
        merged |= model.labels_ == smallest
        centres = np.delete(model.cluster_centers_, smallest, axis=0)
        model = KMeans(n_clusters=len(centres), init=centres, n_init=1, random_state=seed)
        model.fit(points)


@dataclass(frozen=True)
class _Fit:
    """k chosen on a sample of some rows, and the model fitted on all of those rows."""

    model: KMeans
    chosen: int
    scores: list[KScore]
    votes: dict[str, int]
    reason: Parts
    sample: np.ndarray
    """Indices of the sampled rows, among the rows fitted."""


def _fit(points: np.ndarray, settings: SegmentationSettings, fixed_k: int | None) -> _Fit:
    """Score every candidate k on a seeded sample, choose one, fit it on all the rows."""
    sample = sample_rows(len(points), settings.sample_size, settings.seed)
    points_sample = points[sample]
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
        model = sample_model
    else:
        model = KMeans(
            n_clusters=chosen,
            init=sample_model.cluster_centers_,
            n_init=1,
            random_state=settings.seed,
        ).fit(points)
    return _Fit(model, chosen, scores, votes, reason, sample)


OUTLIER_ROUNDS = 5
OUTLIER_BUDGET = 0.05
"""Customers set aside as outliers are at most this share of the base: beyond it, the
small clusters are a structure of the data, not a handful of extremes."""


def _set_aside(
    points: np.ndarray, settings: SegmentationSettings, fixed_k: int | None, minimum: int
) -> tuple[_Fit, np.ndarray]:
    """Fit, and while the fit has clusters under `minimum` customers, set their customers
    aside and fit again without them: a few extreme customers would otherwise be "a
    segment" nobody can act on, and pull every other segment's scale. Returns the last
    fit and the rows it was fitted on."""
    active = np.arange(len(points))
    fit = _fit(points, settings, fixed_k)
    for _ in range(OUTLIER_ROUNDS):
        sizes = np.bincount(fit.model.labels_, minlength=fit.chosen)
        small = np.isin(fit.model.labels_, np.flatnonzero(sizes < minimum))
        remaining = active[~small]
        if not small.any() or len(points) - len(remaining) > OUTLIER_BUDGET * len(points):
            break
        if len(np.unique(points[remaining], axis=0)) < 3:
            break
        active = remaining
        fit = _fit(points[active], settings, fixed_k)
    return fit, active


def _check_k(points: np.ndarray, settings: SegmentationSettings, fixed_k: int | None) -> None:
    """Refuse, before any fit, a k the data cannot have and data too uniform to segment."""
    n = len(points)
    # Counted on the sample (all rows when small): sorting a million rows to count them
    # would cost seconds, and the sample is what k is chosen on.
    distinct = len(np.unique(points[sample_rows(n, settings.sample_size, settings.seed)], axis=0))
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


@dataclass(frozen=True)
class _Assigned:
    """Every customer's segment, and the segments' centres, in segment-id order."""

    labels: np.ndarray
    """Segment id (1..k) of every customer."""
    centroids: np.ndarray
    """Row i is segment i + 1: the mean of its customers that the model was fitted on."""
    outside: np.ndarray
    """Rows of the customers set aside, assigned by distance alone."""


def _assign(
    points: np.ndarray,
    fitted: np.ndarray,
    model: KMeans,
    active: np.ndarray,
    order_values: np.ndarray | None,
) -> _Assigned:
    """Every customer belongs to the nearest segment: those the model was fitted on
    (`fitted`, the rows `active` of `points`) as it put them, those set aside by distance.
    Segments are numbered by _order."""
    chosen = len(model.cluster_centers_)
    raw = np.empty(len(points), dtype=np.int64)
    raw[active] = model.labels_
    set_aside = np.ones(len(points), dtype=bool)
    set_aside[active] = False
    outside = np.flatnonzero(set_aside)
    if len(outside):
        raw[outside] = model.predict(points[outside])
    new_id = _order(raw, chosen, order_values)
    centroids = np.empty_like(model.cluster_centers_)
    centroids[new_id] = _means(fitted, raw[active], chosen)
    return _Assigned(labels=new_id[raw] + 1, centroids=centroids, outside=outside)


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


def _silhouette(
    fit: _Fit, model: KMeans, sampled: np.ndarray, settings: SegmentationSettings
) -> float:
    """The final model's silhouette on the sample k was chosen on: the score already
    measured for its k, unless dissolving clusters changed k since."""
    chosen = len(model.cluster_centers_)
    if chosen == fit.chosen:
        return next(s.silhouette for s in fit.scores if s.k == chosen)
    subset = sample_rows(len(sampled), settings.silhouette_sample, settings.seed + 4)
    on_subset = model.predict(sampled[subset])
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
) -> Segmentation:
    """Fit the segmentation. `k` (from --k) overrides the config; `order_values` is spend.

    No segment has fewer than `minimum` customers while two segments remain: customers
    whose own cluster would be smaller are set aside while k is chosen and the model
    fitted, then assigned to the nearest segment and reported as outliers.
    """
    points = features.matrix
    fixed_k = k if k is not None else settings.k
    _check_k(points, settings, fixed_k)
    fit, active = _set_aside(points, settings, fixed_k, minimum)
    fitted = points[active]
    model, dissolved = _dissolve(fit.model, fitted, minimum, settings.seed)
    chosen = len(model.cluster_centers_)
    assigned = _assign(points, fitted, model, active, order_values)
    reason = _reason(fit, len(assigned.outside), len(dissolved), chosen, minimum)
    sampled = fitted[fit.sample]
    silhouette = _silhouette(fit, model, sampled, settings)
    stability = _stability(sampled, chosen, model.predict(sampled), settings)
    return Segmentation(
        labels=assigned.labels.astype(np.int64),
        k=chosen,
        fixed=fixed_k is not None,
        votes=fit.votes,
        reason=english(reason),
        reason_parts=reason,
        scores=tuple(fit.scores),
        centroids=assigned.centroids,
        silhouette=silhouette,
        stability=stability,
        stability_runs=settings.stability_runs,
        sample_size=len(fit.sample),
        n_init=N_INIT,
        seed=settings.seed,
        warnings=_warnings(silhouette, stability),
        outlier_rows=tuple(assigned.outside.tolist()),
    )


def apply_model(
    features: Features, model: ArchivedModel, settings: SegmentationSettings
) -> Segmentation:
    """Assign every customer to the nearest centroid of an archived model, without refitting.

    The segments keep the archived model's ids and centres, so this period is
    strictly comparable with the one the model was fitted on. A segment that no
    customer is nearest to is left out (history reports it as gone); silhouette is
    measured on this period's data, stability is not (nothing was refitted).
    """
    n = len(features.matrix)
    nearest = np.empty(n, dtype=np.int64)
    for start in range(0, n, 100_000):  # bounded memory: n x k distances per block
        block = features.matrix[start : start + 100_000]
        nearest[start : start + len(block)] = pairwise_distances(block, model.centroids).argmin(
            axis=1
        )
    present = np.unique(nearest)
    ids = tuple(model.ids[row] for row in present)
    labels = np.asarray(model.ids, dtype=np.int64)[nearest]
    subset = sample_rows(n, settings.silhouette_sample, settings.seed + 4)
    if len(present) > 1 and len(np.unique(labels[subset])) > 1:
        silhouette = float(silhouette_score(features.matrix[subset], labels[subset]))
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
        ids=ids,
        frozen_from=model.period,
    )
