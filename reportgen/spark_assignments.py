"""Every customer's segment, written by Spark as Parquet partitioned by segment.

With the Spark engine the customers may be far too many for a CSV inside the archive
(and for the driver to hold), so Spark writes them where the business's own tables
live: `[spark] assignments_path`/<report>/<period>/<run>/segment=<id>/part-*.parquet. The
manifest records where, how many rows, and every file with its size and rows, read
back from what Spark wrote (so a partial write is an error, not a quiet shortfall).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reportgen.errors import EngineError


def location(base: Path | str, slug: str, period: str) -> str:
    """Where this run's assignments go: a new folder per run under the report's and the
    period's, so that a run again (--force), or one that fails before its snapshot is
    in place, never alters the Parquet an archived snapshot names."""
    run = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    if isinstance(base, Path):
        return str(base.absolute() / slug / period / run)
    return f"{base.rstrip('/')}/{slug}/{period}/{run}"


def from_memory(spark: SparkSession, assignments: pd.DataFrame) -> DataFrame:
    """Assignments the driver holds (a customer table's) as a Spark frame."""
    table = pa.table(
        {
            "customer_id": pa.array(assignments["customer_id"].astype("string"), pa.string()),
            "segment": pa.array(assignments["segment"].astype("int64"), pa.int64()),
        }
    )
    return spark.createDataFrame(table)


def write(frame: DataFrame, where: str, expected: int) -> dict[str, Any]:
    """Write `frame`'s customer_id and segment to `where` (a new folder: never over
    anything) and describe what was written, for the manifest."""
    (
        frame.select(F.col("customer_id").cast("string"), F.col("segment").cast("long"))
        .write.mode("errorifexists")
        .partitionBy("segment")
        .parquet(where)
    )
    back = frame.sparkSession.read.parquet(where)
    found = (
        back.groupBy(
            F.col("_metadata.file_path").alias("file"), F.col("_metadata.file_size").alias("size")
        )
        .count()
        .collect()
    )
    rows = sum(int(row["count"]) for row in found)
    if rows != expected:
        raise EngineError(f"Spark wrote {rows:,} assignments to {where}, expected {expected:,}")
    tail = "/" + where.rstrip("/").rsplit("/", 1)[-1] + "/"
    files = [
        {
            "file": str(row["file"]).rpartition(tail)[2],
            "bytes": int(row["size"]),
            "rows": int(row["count"]),
        }
        for row in sorted(found, key=lambda row: str(row["file"]))
    ]
    return {
        "path": where,
        "format": "parquet",
        "partitioned_by": "segment",
        "rows": rows,
        "files": files,
    }
