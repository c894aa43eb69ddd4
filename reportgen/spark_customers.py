"""The customers an order log becomes, kept in Spark: the Spark engine's customer base.

With the Spark engine, the customer table built from an order log stays in the cluster
and the driver never holds it: validation checks its seeded sample (after Spark has
checked that validation would change no customer, see `hold`), scaling statistics,
the final K-Means (spark_points), every figure of the profiles, the migration since
the previous period and the assignments are Spark aggregations or writes. What reaches
the driver has a fixed size: the sample k is chosen on, the charts' samples, centres,
and per-segment figures.

Where the local engine's answer needs a customer-level value, Spark computes the same
definition: medians and quartiles are exact (Spark's `percentile`, interpolated as
pandas does), standard deviations are the population's, and sums are added in another
order (figures agree within 1e-9 relative; README).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from reportgen import rules as found_rules
from reportgen.config import Config, FeatureSettings, LevelSettings
from reportgen.features import SKEW_LIMIT, Features, Scaling, apply_scaling, nothing_to_segment
from reportgen.findings import DISTRIBUTION_ROLES, Picker
from reportgen.history import Migration, PreviousPeriod, migration_of
from reportgen.profile import (
    DAYS_PER_MONTH,
    RHYTHM_MIN_CUSTOMERS,
    Profiles,
    Summary,
    frequency_counts,
    numeric_roles,
    outliers_of,
    profiles_of,
)
from reportgen.roles import ROLE_BY_NAME, Kind
from reportgen.segment import (
    ArchivedModel,
    NearestLabels,
    Segmentation,
    apply_model,
    sample_rows,
    segment,
)
from reportgen.spark import forget, to_pandas
from reportgen.spark_assignments import from_memory
from reportgen.spark_points import ROW, SPEND, SparkPoints, nearest, numbered, scaled_columns
from reportgen.validate import MAX_MAGNITUDE, UNSAFE_CHARACTERS, CleanData

SEGMENT = "_segment"


def _java_class(body: str) -> str:
    """A Python regular-expression class body (characters and ranges) for Java's regex."""
    out = []
    for i, char in enumerate(body):
        inside = 0 < i < len(body) - 1
        out.append("-" if char == "-" and inside else f"\\x{{{ord(char):x}}}")
    return "".join(out)


_SPACES = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
_UNSAFE_ID = f"[{_java_class(UNSAFE_CHARACTERS)}]"
"""An id validation would clean (validate.plain_text), as a Java regex."""
_EDGE_SPACE = f"^[{_java_class(_SPACES)}]|[{_java_class(_SPACES)}]$"
"""An id validation would strip (Python's str.strip: every character isspace() names)."""


def _double(role: str) -> Column:
    return F.col(role).cast("double")


@dataclass(frozen=True, eq=False)
class HeldCustomers:
    """The customer table as Spark keeps it (persisted): customer_id, the roles, and ROW,
    each customer's position in customer-id order (the local engine's row order)."""

    frame: DataFrame
    n: int
    roles: tuple[str, ...]
    """The roles besides customer_id."""
    sample: pd.DataFrame
    """The customers at sample_rows(n, sample size, seed), as the local engine's frame
    has them: what validation checks, and what choosing k starts from."""


def _at(frame: DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The rows of `frame` at these positions (ROW, sorted), without ROW."""
    spark = frame.sparkSession
    wanted = spark.createDataFrame(pa.table({ROW: pa.array(positions, pa.int64())}))
    picked = frame.join(F.broadcast(wanted), ROW)
    result = to_pandas(picked.orderBy(ROW).drop(ROW))
    if "customer_id" in result:
        result["customer_id"] = result["customer_id"].astype("string")
    return result


def _changed_by_validation(frame: DataFrame, roles: Iterable[str]) -> bool:
    """Whether validation would change any customer: a missing, non-finite, too large
    or negative figure, or an id it would clean or strip."""
    bad = F.col("customer_id").rlike(_UNSAFE_ID) | F.col("customer_id").rlike(_EDGE_SPACE)
    for role in roles:
        value = _double(role)
        bad = bad | value.isNull() | F.isnan(value) | (F.abs(value) > MAX_MAGNITUDE)
        if ROLE_BY_NAME[role].non_negative:
            bad = bad | (value < 0)
    return bool(frame.where(bad).limit(1).count())


def hold(
    spark: SparkSession, query: str, roles: tuple[str, ...], sample_size: int, seed: int
) -> HeldCustomers | None:
    """The customers of `query` (orders.customer_query, in Spark SQL) kept in Spark; None
    when they are no more than the sample (which is then all of them, so the driver
    holds them in any case, and the stages run in memory, faster) or when validation
    would change one of them: the engine then collects the table and validates it in
    memory, as the local engine does."""
    table = spark.sql(query)
    if table.count() <= sample_size or _changed_by_validation(table, roles):
        return None
    kept, n = numbered(table, "customer_id", ROW)
    return HeldCustomers(kept, n, roles, _at(kept, sample_rows(n, sample_size, seed)))


def _skew(n: int, g1: float | None) -> float:
    """pandas' Series.skew (the adjusted Fisher-Pearson G1) from Spark's population g1."""
    if g1 is None or n < 3 or math.isnan(g1):
        return 0.0
    return g1 * math.sqrt(n * (n - 1)) / (n - 2)


def features(held: HeldCustomers, clean: CleanData, settings: FeatureSettings) -> Features:
    """features.build_features over every customer Spark holds: the drivers of an order
    log are all numbers, so no category is encoded. Features.matrix is empty: the points
    are Spark's (points())."""
    drivers = clean.drivers
    assert all(ROLE_BY_NAME[d].kind is Kind.NUMERIC for d in drivers), drivers
    first = held.frame.agg(
        *[F.min(_double(d)).alias(f"min_{d}") for d in drivers],
        *[F.max(_double(d)).alias(f"max_{d}") for d in drivers],
        *[F.skewness(_double(d)).alias(f"skew_{d}") for d in drivers],
    ).first()
    assert first is not None
    logged = []
    for d in drivers:
        role = ROLE_BY_NAME[d]
        skewed = (
            settings.log_skewed
            and role.non_negative
            and not role.share
            and first[f"min_{d}"] >= 0
            and _skew(held.n, first[f"skew_{d}"]) > SKEW_LIMIT
        )
        if skewed or (settings.log_spend and d == "spend"):
            logged.append(d)
    columns = {d: _value(d, d in logged) for d in drivers}
    spreads = held.frame.agg(
        *[F.min(c).alias(f"min_{d}") for d, c in columns.items()],
        *[F.max(c).alias(f"max_{d}") for d, c in columns.items()],
        *[F.avg(c).alias(f"mean_{d}") for d, c in columns.items()],
        *[F.stddev_pop(c).alias(f"std_{d}") for d, c in columns.items()],
        *[
            F.percentile(c, F.array(F.lit(0.25), F.lit(0.5), F.lit(0.75))).alias(f"q_{d}")
            for d, c in columns.items()
            if settings.scaling == "robust"
        ],
    ).first()
    assert spreads is not None
    constant = [d for d in drivers if spreads[f"min_{d}"] == spreads[f"max_{d}"]]
    kept = [d for d in drivers if d not in constant]
    if not kept:
        raise nothing_to_segment(drivers)
    if settings.scaling == "robust":
        quartiles = [spreads[f"q_{d}"] for d in kept]
        center = np.array([q[1] for q in quartiles])
        iqr = np.array([q[2] - q[0] for q in quartiles])
        scale = np.where(iqr > 0, iqr, [spreads[f"std_{d}"] for d in kept])
    else:
        center = np.array([spreads[f"mean_{d}"] for d in kept])
        scale = np.array([spreads[f"std_{d}"] for d in kept])
    scaling = Scaling(
        names=tuple(kept),
        roles=tuple(kept),
        kind=settings.scaling,
        center=center,
        scale=scale,
        log1p=tuple(d for d in kept if d in logged),
    )
    return Features(
        matrix=np.empty((0, len(kept))), scaling=scaling, dropped_constant=tuple(constant)
    )


def _value(role: str, logged: bool) -> Column:
    value = _double(role)
    return F.log1p(F.greatest(value, F.lit(0.0))) if logged else value


def _scaled(scaling: Scaling) -> dict[str, Column]:
    """The customers' features in `scaling`, as features.apply_scaling scales them, under
    the names SparkPoints reads."""
    values = [_value(name, name in scaling.log1p) for name in scaling.names]
    return scaled_columns(values, scaling.center, scaling.scale)


def points(held: HeldCustomers, scaling: Scaling) -> SparkPoints:
    """Every customer's point in `scaling`, with the customer's roles alongside."""
    scaled = _scaled(scaling)
    spend = _double("spend") if "spend" in held.roles else F.lit(None).cast("double")
    frame = held.frame.withColumns({**scaled, SPEND: spend})
    return SparkPoints.of(frame, len(scaling.names))


def labelled(points: SparkPoints, labels: NearestLabels) -> DataFrame:
    """The customers with their segment id (SEGMENT)."""
    return points.frame.withColumn(SEGMENT, points.segment(labels))


Conditions = tuple[found_rules.Condition, ...]


def rule_counter(frame: DataFrame) -> found_rules.Counter:
    """found_rules.Counter over the customers Spark holds (`frame`, from `labelled`): one job per
    call. An order log's customers have numbers only, so every condition is a comparison."""

    def matched(conditions: Conditions) -> Column:
        found = F.lit(True)
        for c in conditions:
            assert c.kind == found_rules.NUMBER, c
            value = F.col(c.role).cast("double")
            found = found & (value <= c.value if c.operator == "<=" else value >= c.value)
        return found

    def count(listed: Sequence[tuple[int, Conditions]]) -> found_rules.Counted:
        taken = F.lit(False)
        columns = []
        for i, (segment_id, conditions) in enumerate(listed):
            mine, inside = matched(conditions), F.col(SEGMENT) == segment_id
            first = mine & ~taken
            taken = taken | mine
            tests = {"m": mine, "h": mine & inside, "f": first, "g": first & inside, "n": inside}
            for name, test in tests.items():
                columns.append(F.sum(F.when(test, 1).otherwise(0)).alias(f"{name}{i}"))
        row = frame.agg(*columns).first() if columns else None
        counts = {name: int(value or 0) for name, value in (row.asDict() if row else {}).items()}
        alone, first_fits, sizes = {}, {}, {}
        for i, (segment_id, _) in enumerate(listed):
            size = sizes[segment_id] = counts[f"n{i}"]
            alone[segment_id] = found_rules.fit_of(counts[f"m{i}"], counts[f"h{i}"], size)
            first_fits[segment_id] = found_rules.fit_of(counts[f"f{i}"], counts[f"g{i}"], size)
        return found_rules.Counted(alone, first_fits, sizes)

    return count


def _percentiles(value: Column, *at: float) -> Column:
    return F.percentile(value, F.array(*[F.lit(p) for p in at]))


def summary(
    frame: DataFrame,
    clean: CleanData,
    segmentation: Segmentation,
    levels: LevelSettings,
    numeric: tuple[str, ...],
) -> Summary:
    """profile.summarise over the customers Spark holds (`frame`, from `labelled`);
    `numeric`: the roles profile's numeric view has, in reading order. An order log's
    customers have no category, so there is no mix."""
    n, base, revenue = _whole(frame, numeric)
    groups = _groups(frame, numeric)
    counts = frequency_counts(clean, numeric, levels)
    return Summary(
        customers=n,
        base=base,
        sizes={i: int(g["n"]) for i, g in groups.items()},
        means={i: {r: float(g[f"mean_{r}"]) for r in numeric} for i, g in groups.items()},
        medians={i: {r: float(g[f"median_{r}"][0]) for r in numeric} for i, g in groups.items()},
        revenue=revenue,
        revenues=(
            {i: float(g["revenue"]) for i, g in groups.items()} if revenue is not None else None
        ),
        per_month=(
            {i: float(g["per_month"][0]) for i, g in groups.items()}
            if {"frequency", "tenure"} <= set(numeric)
            else None
        ),
        counts=counts,
        rhythm=_rhythm(frame, counts, numeric),
        outliers=outliers_of(
            n, _set_aside(frame, segmentation, clean.drivers), segmentation.outliers, base
        ),
        mixes={},
    )


def _whole(
    frame: DataFrame, numeric: tuple[str, ...]
) -> tuple[int, dict[str, dict[str, float]], float | None]:
    """The customers, profile's base statistics of each role, and the revenue."""
    row = frame.agg(
        F.count("*").alias("n"),
        *[F.avg(_double(r)).alias(f"mean_{r}") for r in numeric],
        *[F.stddev_pop(_double(r)).alias(f"std_{r}") for r in numeric],
        *[_percentiles(_double(r), 0.25, 0.5, 0.75).alias(f"q_{r}") for r in numeric],
        *([F.sum(_double("spend")).alias("revenue")] if "spend" in numeric else []),
    ).first()
    assert row is not None
    base = {
        r: {
            "mean": float(row[f"mean_{r}"]),
            "median": float(row[f"q_{r}"][1]),
            "std": float(row[f"std_{r}"]),
            "q25": float(row[f"q_{r}"][0]),
            "q75": float(row[f"q_{r}"][2]),
        }
        for r in numeric
    }
    return int(row["n"]), base, float(row["revenue"]) if "spend" in numeric else None


def _groups(frame: DataFrame, numeric: tuple[str, ...]) -> dict[int, Row]:
    """Per segment id: its customers, each role's mean and median, its revenue and the
    median orders per month."""
    per_month = None
    if {"frequency", "tenure"} <= set(numeric):
        months = F.greatest(_double("tenure") / DAYS_PER_MONTH, F.lit(1.0))
        per_month = _percentiles(_double("frequency") / months, 0.5)
    found = (
        frame.groupBy(SEGMENT)
        .agg(
            F.count("*").alias("n"),
            *[F.avg(_double(r)).alias(f"mean_{r}") for r in numeric],
            *[_percentiles(_double(r), 0.5).alias(f"median_{r}") for r in numeric],
            *([F.sum(_double("spend")).alias("revenue")] if "spend" in numeric else []),
            *([per_month.alias("per_month")] if per_month is not None else []),
        )
        .collect()
    )
    return {int(g[SEGMENT]): g for g in found}


def _rhythm(frame: DataFrame, counts: str | None, numeric: tuple[str, ...]) -> float | None:
    """profile.rhythm: the median gap between a repeat customer's orders."""
    if counts != "orders" or not {"tenure", "recency", "frequency"} <= set(numeric):
        return None
    orders = _double("frequency")
    gap = F.greatest((_double("tenure") - _double("recency")) / (orders - 1), F.lit(0.0))
    found = frame.where(orders >= 2).agg(F.count("*").alias("n"), _percentiles(gap, 0.5).alias("m"))
    row = found.first()
    assert row is not None
    if row["n"] < RHYTHM_MIN_CUSTOMERS:
        return None
    return float(row["m"][0])


def _set_aside(
    frame: DataFrame, segmentation: Segmentation, drivers: tuple[str, ...]
) -> dict[str, tuple[float, float, float, bool]] | None:
    """profile's values of the customers set aside, per numeric driver."""
    if not segmentation.outliers:
        return None
    spark = frame.sparkSession
    rows = spark.createDataFrame(pa.table({ROW: pa.array(segmentation.outlier_rows, pa.int64())}))
    theirs = frame.join(F.broadcast(rows), ROW)
    numeric = [d for d in drivers if ROLE_BY_NAME[d].kind is Kind.NUMERIC]
    found = theirs.agg(
        *[_percentiles(_double(d), 0.5).alias(f"m_{d}") for d in numeric],
        *[F.min(_double(d)).alias(f"lo_{d}") for d in numeric],
        *[F.max(_double(d)).alias(f"hi_{d}") for d in numeric],
    ).first()
    assert found is not None
    return {
        d: (
            float(found[f"m_{d}"][0]),
            float(found[f"lo_{d}"]),
            float(found[f"hi_{d}"]),
            float(found[f"lo_{d}"]) > 0,
        )
        for d in numeric
    }


def picker(points: SparkPoints, labels: NearestLabels, roles: Iterable[str]) -> Picker:
    """findings.chart_data's view of the customers: at some positions, their points,
    segment ids and `roles`."""
    wanted = [r for r in roles if r in points.frame.columns]

    def pick(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        found = _at(labelled(points, labels).select(ROW, SEGMENT, *points.names, *wanted), rows)
        matrix = found[list(points.names)].to_numpy(dtype="float64")
        return matrix, found[SEGMENT].to_numpy(dtype="int64"), found[wanted]

    return pick


SCORED = "_scored"


def with_scored(frame: DataFrame, roles: Collection[str], model: ArchivedModel) -> DataFrame | None:
    """`frame` (from `labelled`) with each customer's segment by last period's model
    (SCORED, history.migrate's `scored`); None when a role that model needs is missing."""
    scaling = model.scaling
    if any(name not in roles for name in scaling.names):
        return None
    ids = F.array(*[F.lit(int(i)) for i in model.ids])
    # The model's own points replace this period's under the names `nearest` reads;
    # SEGMENT was computed from this period's before.
    return frame.withColumns(_scaled(scaling)).withColumn(
        SCORED, F.element_at(ids, nearest(model.centroids) + 1)
    )


def migrate(
    frame: DataFrame,
    previous: PreviousPeriod,
    customers: int,
    frozen: bool,
) -> Migration:
    """history.migrate over the customers Spark holds (`frame`, from `labelled`, with
    SCORED unless last period's model could not score them)."""
    spark = frame.sparkSession
    before = previous.assignments
    if isinstance(before, str):  # the Parquet Spark wrote for that period
        earlier = spark.read.parquet(before).select(
            F.col("customer_id").cast("string"), F.col("segment").cast("long").alias("_source")
        )
    else:
        earlier = from_memory(spark, before).withColumnRenamed("segment", "_source")
    has_spend = "spend" in frame.columns
    spend = F.sum(_double("spend")) if has_spend else F.lit(None)
    scored = SCORED in frame.columns
    changed = F.col(SCORED) != F.col("_source") if scored else F.lit(False)
    pairs = (
        frame.join(earlier, "customer_id")
        .groupBy("_source", SEGMENT, changed.alias("_changed"))
        .agg(F.count("*").alias("n"), spend.alias("spend"))
        .collect()
    )
    found = [tuple(row) for row in pairs]
    return migration_of(previous, found, customers, has_spend, scored, frozen)


@dataclass(frozen=True, eq=False)
class HeldRun:
    """A run's customers in Spark and how they are labelled: what the snapshot's
    assignments are written from."""

    points: SparkPoints
    labels: NearestLabels

    def frame(self) -> DataFrame:
        """customer_id and segment of every customer, with ROW (customer-id order)."""
        return labelled(self.points, self.labels).select(
            ROW, "customer_id", F.col(SEGMENT).alias("segment")
        )

    def assignments(self) -> pd.DataFrame:
        """customer_id and segment of every customer, in customer-id order, in memory
        (only up to [spark] local_assignments_max_rows)."""
        found = to_pandas(self.frame().orderBy(ROW).drop(ROW))
        found["customer_id"] = found["customer_id"].astype("string")
        return found


@dataclass(frozen=True, eq=False)
class HeldBase:
    """pipeline.CustomerBase over the customers Spark holds: each stage's figure over
    every customer is a Spark job; the decisions are the local engine's code."""

    held: HeldCustomers
    clean: CleanData
    config: Config
    _made: list[SparkPoints] = field(default_factory=list)
    """The points `features` made (Spark caches them): the run's one set of points."""

    @property
    def customers(self) -> int:
        return self.held.n

    def _points(self) -> SparkPoints:
        (made,) = self._made
        return made

    def _labels(self, segmentation: Segmentation) -> NearestLabels:
        labels = segmentation.labels
        assert isinstance(labels, NearestLabels)
        return labels

    def features(self, model: ArchivedModel | None) -> Features:
        config = self.config
        if model is None:
            found = features(self.held, self.clean, config.features)
        else:  # the model's scaling; apply_scaling on the sample refuses a missing driver
            applied = apply_scaling(
                self.clean, config.features, model.scaling, config.report.min_segment_size
            )
            found = replace(applied, matrix=np.empty((0, len(model.scaling.names))))
        self._made[:] = [points(self.held, found.scaling)]  # cached: the table can go
        forget(self.held.frame)
        return found

    def segment(
        self, features: Features, model: ArchivedModel | None, k: int | None, minimum: int
    ) -> Segmentation:
        settings = self.config.segmentation
        if model is None:
            return segment(features, settings, k, None, minimum, self._points())
        return apply_model(features, model, settings, self._points())

    def migrate(self, previous: PreviousPeriod, segmentation: Segmentation) -> Migration:
        frame = labelled(self._points(), self._labels(segmentation))
        frozen = segmentation.frozen_from is not None
        if frozen:
            frame = frame.withColumn(SCORED, F.col(SEGMENT))
        elif previous.model is not None:
            scored = with_scored(frame, self.held.roles, previous.model)
            frame = frame if scored is None else scored
        return migrate(frame, previous, self.held.n, frozen)

    def profiles(self, segmentation: Segmentation) -> Profiles:
        config = self.config
        found = summary(
            labelled(self._points(), self._labels(segmentation)),
            self.clean,
            segmentation,
            config.levels,
            numeric_roles(self.clean.frame),
        )
        return profiles_of(
            found,
            segmentation.ids,
            config.levels,
            config.validation,
            config.report.min_segment_size,
        )

    def picker(self, features: Features, segmentation: Segmentation) -> Picker:
        return picker(self._points(), self._labels(segmentation), DISTRIBUTION_ROLES)

    def rules(
        self, features: Features, segmentation: Segmentation, profiles: Profiles
    ) -> found_rules.SegmentRules:
        """The rules the local engine learns: grown on the same sample of customers
        (collected from Spark), their figures counted by Spark over every customer."""
        labels, config = self._labels(segmentation), self.config
        roles = [r for r in self.clean.drivers if r in features.scaling.roles]
        rows = found_rules.fit_rows(self.held.n, segmentation.seed)
        _, ids, values = picker(self._points(), labels, roles)(rows)
        data = found_rules.RuleInput(
            frame=values.reset_index(drop=True),
            labels=ids,
            columns=self.clean.roles.columns,
            roles=tuple(roles),
            fills={},
            derived=True,
        )
        return found_rules.learn(
            data,
            [s.id for s in profiles.segments],
            profiles.suppressed_ids,
            (config.report.min_segment_size, segmentation.seed),
            rule_counter(labelled(self._points(), labels)),
        )

    def held_run(self, segmentation: Segmentation) -> HeldRun:
        return HeldRun(self._points(), self._labels(segmentation))
