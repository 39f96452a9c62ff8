"""Layer 1 on Apache Spark: the same SQL as DuckDB, for channel-days too big for one machine.

The problem: a day of hundreds of millions of lines outgrows one box, but a second, hand-kept copy
of the matching would drift from the first. So nothing here knows how matching works. `SparkSql`
looks like the DuckDB connection layer 1 already talks to (`execute`, `sql`, `register`): each
statement the DuckDB code renders is transpiled (recon.matching.transpile) and carried out on
Spark, tables being checkpointed DataFrames under temp-view names. `SparkMatcher` stages a
channel-day's inputs as Parquet where the cluster reads them, runs layer 1's own `run` over
`SparkSql` (passes, outcomes, duplicates, near misses; the coverage check), lets the reason text be
written locally as today, has Spark write the results sorted, and streams the sorted parts into the
results file with the local DuckDB, so both engines write the same bytes.

Spark's defaults are not exact: decimal products round to 6 places unless precision loss is
refused, and constraint propagation can crash the optimizer on layer 1's unions. FORCED settings
override whatever the workspace's `[match.spark] conf` or the cluster says.

This module imports pyspark (the optional `recon[spark]` extra); only callers that chose Spark
import it, and they pass the matcher into `recon.matching.layer1_day.match_day`.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

import duckdb
import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from recon.config.settings import SparkSettings
from recon.errors import ConfigError, StageFailed
from recon.matching import layer1, transpile
from recon.matching.model import ChannelSummary

LOG = logging.getLogger("recon.spark")
FORCED = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",  # else products round to 6 decimals
    "spark.sql.constraintPropagation.enabled": "false",  # an optimizer crash on layer 1's unions
    "spark.sql.ansi.enabled": "true",  # overflow is an error, as in DuckDB, never a silent NULL
    "spark.sql.session.timeZone": "UTC",  # instants are bound and written as UTC
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # DuckDB reads it as TIMESTAMPTZ
}


def session(settings: SparkSettings) -> SparkSession:
    """A Spark session on the configured master or Spark Connect server, with FORCED applied."""
    builder = SparkSession.builder.appName("recon")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        builder = builder.master(settings.master or "local[*]")
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in {**settings.conf, **FORCED}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    for key, value in FORCED.items():  # a session that existed before keeps its old settings otherwise
        spark.conf.set(key, value)
        if spark.conf.get(key) != value:
            raise ConfigError(f"Spark refused {key}={value}, which exact matching needs")
    return spark


class _Rows:
    """A Spark result with the two readers layer 1 uses on DuckDB results."""

    def __init__(self, frame: DataFrame | None) -> None:
        self.frame = frame

    def fetchall(self) -> list[tuple]:
        return [] if self.frame is None else [tuple(row) for row in self.frame.collect()]

    def pl(self) -> pl.DataFrame:
        return pl.from_arrow(self.frame.toArrow())  # type: ignore[union-attr, return-value]


class SparkSql:
    """DuckDB's statements, carried out on Spark (each Spark statement is logged at DEBUG level)."""

    def __init__(self, spark: SparkSession, staging: Path) -> None:
        self.spark, self.staging = spark, staging
        self.tables: dict[str, DataFrame] = {}
        self.views: set[str] = set()  # every temp view this made, dropped by close()

    def close(self) -> None:
        """Drop every view this made, so a long run's session does not keep earlier days' tables."""
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        self.views.clear()
        self.tables.clear()

    def _table(self, name: str, frame: DataFrame) -> None:
        # A DuckDB table is a snapshot: checkpointing cuts the lineage, so later changes to the
        # tables it was computed from (and the ever longer plans of a cascade) do not reach it.
        frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self.tables[name] = frame
        self.views.add(name)

    def execute(self, statement: str, params: dict | None = None) -> _Rows:
        step = transpile.to_spark(statement, params)
        sql = transpile.finish(step, lambda name: self.tables[name].columns)
        LOG.debug("spark: %s", transpile.log_entry(step, sql))
        if step.kind == "query":
            return _Rows(self.spark.sql(sql))
        if step.kind == "create_view":
            self.tables.pop(step.target, None)  # type: ignore[arg-type]
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {step.target} AS {sql}")
            self.views.add(step.target)  # type: ignore[arg-type]
        elif step.kind in ("create_table", "delete", "update"):
            self._table(step.target, self.spark.sql(sql))  # type: ignore[arg-type]
        elif step.kind == "insert":
            target = self.tables[step.target]  # type: ignore[index]
            rows = self.spark.sql(sql).toDF(*target.columns)  # by position, cast as DuckDB would
            rows = rows.select([F.col(f.name).cast(f.dataType) for f in target.schema.fields])
            self._table(step.target, target.unionByName(rows))  # type: ignore[arg-type]
        elif step.kind == "drop":
            self.tables.pop(step.target, None)  # type: ignore[arg-type]
            self.spark.catalog.dropTempView(step.target)
        elif step.kind == "rename":
            frame = self.tables.pop(step.target)  # type: ignore[arg-type]
            self.spark.catalog.dropTempView(step.target)
            frame.createOrReplaceTempView(step.new_name)
            self.tables[step.new_name] = frame  # type: ignore[index]
            self.views.add(step.new_name)  # type: ignore[arg-type]
        return _Rows(None)

    def sql(self, statement: str) -> _Rows:
        return self.execute(statement)

    def load(self, name: str, path: Path) -> None:
        """A Parquet file (or folder) in the staging area as the view `name`."""
        self.spark.read.parquet(path.resolve().as_uri()).createOrReplaceTempView(name)
        self.views.add(name)

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """A local frame as the view `name`, through a Parquet file in the staging area."""
        path = self.staging / f"{name}.parquet"
        frame.write_parquet(path)
        self.load(name, path)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def write_sorted(self, query: str, folder: Path) -> list[Path]:
        """The rows of a (DuckDB) query, written by Spark as Parquet parts; the parts in row order."""
        step = transpile.to_spark(query)
        LOG.debug("spark: %s", transpile.log_entry(step, step.sql))
        self.spark.sql(step.sql).write.mode("overwrite").parquet(folder.resolve().as_uri())
        # a global sort range-partitions the rows: part files in name order are the rows in order
        return sorted(folder.glob("part-*.parquet"))


class SparkMatcher:
    """Layer 1 of a channel-day on Spark; the local DuckDB stages inputs and writes the results file."""

    name = "spark"

    def __init__(self, spark: SparkSession, staging: Path) -> None:
        self.spark, self.staging = spark, staging

    @classmethod
    def from_settings(cls, settings: SparkSettings, root: Path) -> SparkMatcher:
        return cls(session(settings), root / settings.staging)

    def match(self, con: duckdb.DuckDBPyConnection, job: layer1.ChannelDay,
              scratch: Path) -> tuple[ChannelSummary, list[Path]]:
        stage = self.staging / f"{job.channel}-{job.date}-{uuid.uuid4().hex[:8]}"
        stage.mkdir(parents=True)
        sql = SparkSql(self.spark, stage)
        try:
            summary, parts = self._run(con, job, stage, sql)
            # the sorted parts leave the shared staging folder for the caller's scratch, in order
            return summary, [Path(shutil.move(p, scratch / f"part-{i:05d}.parquet")) for i, p in enumerate(parts)]
        finally:
            sql.close()
            shutil.rmtree(stage, ignore_errors=True)

    def _run(self, con: duckdb.DuckDBPyConnection, job: layer1.ChannelDay, stage: Path,
             sql: SparkSql) -> tuple[ChannelSummary, list[Path]]:
        # Both sides in layer 1's fixed columns, row ids given, carried rows included: the views the
        # DuckDB engine matches, written where Spark reads them.
        layer1.register_side(con, "ours_in", job.ours, job.carried_ours, layer1.OURS_FIELDS)
        layer1.register_side(con, "theirs_in", job.theirs, job.carried_theirs, layer1.THEIRS_FIELDS)
        for side in ("ours_in", "theirs_in"):
            layer1.copy(con, f"SELECT * FROM {side}", stage / f"{side}.parquet")
            sql.load(side, stage / f"{side}.parquet")
        layer1.run(sql, job.rules, job.date, channel=job.channel, account=job.account, zone=job.zone,
                   fx_policy=job.fx)
        summary = layer1.summarize(sql, job.channel, *layer1.input_rows(con))
        parts = sql.write_sorted(layer1.wide_sql(), stage / "results")
        expected = sum(n for _, n in summary.outcomes)
        files = ", ".join(layer1.quote(p) for p in parts)
        written = con.execute(f"SELECT count(*) FROM read_parquet([{files}])").fetchall()[0][0] if parts else 0
        if written != expected:
            raise StageFailed(f"Spark's result parts for {job.channel} in {stage} hold {written} rows, "
                              f"{expected} expected: is {self.staging} a folder recon and the executors share?")
        return summary, parts
