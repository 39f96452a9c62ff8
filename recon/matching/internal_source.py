"""Our side for one channel and day, from whichever source recon.toml names.

`file`: a CSV or Parquet export (a date template in `path`). A Parquet export already typed like
the internal frame (Decimal money, UTC timestamps, source columns) is checked with one vectorized
query and handed to the matcher as a path for DuckDB to scan, because converting millions of rows
one record at a time (or holding them all in a frame) would dominate a big day; anything else goes
through `recon.internal.read_file`, which validates value by value.
`sql`: a query with `:date` and `:channel` over any SQLAlchemy URL. `core`: the payment core's
export (`recon.core.export.internal_frame`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from recon import duck, internal
from recon.core.export import internal_frame
from recon.errors import ConfigError, StageFailed
from recon.internal import INTERNAL_COLUMNS, REQUIRED
from recon.money import MoneyError, exponent, unit_problem
from recon.schema import RECORD_TYPES, STATUSES
from recon.store.engine import engine_for
from recon.workspace import Workspace


def load_internal(ws: Workspace, channel: str, date: dt.date) -> pl.DataFrame:
    """The internal frame (INTERNAL_COLUMNS) of `channel` on business day `date`."""
    cfg = ws.settings.channel(channel).internal
    if cfg.source == "file":
        if not cfg.path:
            raise ConfigError(f"channels.{channel}.internal.path is required when source = \"file\"")
        try:
            frame = read_typed_or_text(ws.resolve(internal.expand(cfg.path, date)))
        except StageFailed as exc:  # name the setting, so the line says where to look
            raise StageFailed(f"{exc.message} (setting channels.{channel}.internal.path)",
                              hint=f"export our side of {date} there, then recon rerun --date {date} --from-stage match"
                              ) from None
        # results name files relative to the workspace, so the same day gives the same bytes anywhere
        return frame.with_columns(pl.col("source_file").str.strip_prefix(f"{ws.root}/"))
    if cfg.source == "sql":
        if not cfg.url or not cfg.query:
            raise ConfigError(f"channels.{channel}.internal: url and query are required when source = \"sql\"")
        engine = sa.create_engine(cfg.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text(cfg.query), {"date": date.isoformat(), "channel": channel})
                records = [dict(r._mapping) for r in rows]
        finally:
            engine.dispose()
        return internal.from_records(records, f"channels.{channel}.internal.query")
    # engine_for caches one engine per URL for the process; it is not ours to dispose.
    frame = internal_frame(engine_for(ws.store_url()), channel, date, ws.settings.channel_zone(channel))
    check_units(frame, "the payment core's store", record="txn_id")  # a store row has no line: name the txn
    return frame


def internal_input(ws: Workspace, channel: str, date: dt.date) -> pl.DataFrame | Path:
    """What the matcher reads for our side: a checked, typed Parquet path, else the frame."""
    cfg = ws.settings.channel(channel).internal
    if cfg.source == "file" and cfg.path:
        path = ws.resolve(internal.expand(cfg.path, date))
        if _typed(path, with_source=True):
            _check_parquet(path)
            check_units(pl.read_parquet(path, columns=["currency", "amount", "source_line"]), path)
            return path
    return load_internal(ws, channel, date)


# What layer 2's bill totals read of our side (layer2_bills._our_rows).
TOTALS_COLUMNS = ("channel", "currency", "record_type", "amount", "fee", "status")


def internal_totals(ws: Workspace, channel: str, date: dt.date, *, checked: bool) -> pl.DataFrame:
    """Our side of `channel` for layer 2's totals: at least TOTALS_COLUMNS, values as `load_internal`
    gives them. A typed Parquet export that layer 1 has just checked (`checked`: `internal_input`
    handed it over as a path, with the same checks `load_internal` makes) is read for those
    columns alone instead of whole and checked again."""
    cfg = ws.settings.channel(channel).internal
    if checked and cfg.source == "file" and cfg.path:
        path = ws.resolve(internal.expand(cfg.path, date))
        if _typed(path, with_source=True):
            return (pl.read_parquet(path, columns=list(TOTALS_COLUMNS))
                    .cast({c: INTERNAL_COLUMNS[c] for c in TOTALS_COLUMNS})  # type: ignore[dict-item]
                    .with_columns(pl.col("fee").fill_null(0)))
    return load_internal(ws, channel, date)


def _typed(path: Path, *, with_source: bool) -> bool:
    if path.suffix != ".parquet" or not path.exists():
        return False
    schema = pl.read_parquet_schema(path)
    optional = () if with_source else ("source_file", "source_line")
    return all(schema.get(c) == t for c, t in INTERNAL_COLUMNS.items() if c not in optional)


def _check_parquet(path: Path) -> None:
    """from_records' per-value checks as one query over the file; the first failure names its line."""
    # only a text column can be empty: casting every amount and time to text just to compare it with
    # '' cost more than the rest of the check (the file's types were checked by _typed already)
    arms = [f"WHEN {c} IS NULL OR {c} = '' THEN 'missing {c}'" if INTERNAL_COLUMNS[c] == pl.String
            else f"WHEN {c} IS NULL THEN 'missing {c}'" for c in REQUIRED]
    arms.append(f"WHEN record_type NOT IN {tuple(RECORD_TYPES)} THEN 'record_type ' || record_type")
    arms.append(f"WHEN status NOT IN {tuple(STATUSES)} THEN 'status ' || status")
    problem = "CASE " + " ".join(arms) + " END"
    quoted = str(path).replace("'", "''")
    found = duck.connect().execute(
        f"SELECT source_line, {problem} AS problem FROM read_parquet('{quoted}') "
        f"WHERE {problem} IS NOT NULL ORDER BY source_line LIMIT 1").fetchall()
    if found:
        raise StageFailed(f"{path}:{found[0][0]}: bad {found[0][1]}")


def read_typed_or_text(path: Path) -> pl.DataFrame:
    if not _typed(path, with_source=False):
        return internal.read_file(path)
    frame = pl.read_parquet(path)
    if "source_file" not in frame.columns:
        frame = frame.with_columns(pl.lit(str(path)).alias("source_file"))
    if "source_line" not in frame.columns:
        frame = frame.with_row_index("source_line", offset=2).with_columns(pl.col("source_line").cast(pl.Int64))
    return _check(frame.select(list(INTERNAL_COLUMNS)).cast(INTERNAL_COLUMNS), path)  # type: ignore[arg-type]


def _check(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """The checks `from_records` makes per value, as expressions; the first failure names its line."""
    checks = {
        **{f"missing {c}": pl.col(c).is_null() | (pl.col(c).cast(pl.String) == "") for c in REQUIRED},
        "record_type": ~pl.col("record_type").is_in(list(RECORD_TYPES)),
        "status": ~pl.col("status").is_in(list(STATUSES)),
    }
    bad = frame.select(pl.col("source_line"), **{k: v for k, v in checks.items()}).filter(pl.any_horizontal(list(checks)))
    if bad.height:
        row = bad.row(0, named=True)
        what = next(k for k in checks if row[k])
        raise StageFailed(f"{path}:{row['source_line']}: bad {what}")
    check_units(frame, path)
    return frame.with_columns(pl.col("fee").fill_null(0))


def check_units(frame: pl.DataFrame, path: Path | str, *, record: str | None = None) -> None:
    """No amount finer than its currency's minor unit (JPY 100.5); the first one names its line, or
    its `record` column's value (the payment core's txn id) where rows have no line."""
    for currency in sorted(frame["currency"].drop_nulls().unique().to_list()):
        try:
            exp = exponent(currency)
        except MoneyError as exc:
            raise StageFailed(f"{path}: {exc}") from None
        rows = frame.filter((pl.col("currency") == currency) & (pl.col("amount").round(exp) != pl.col("amount")))
        if rows.height:
            first = rows.sort("source_line").row(0, named=True)
            where = f"{path}: {record} {first[record]}" if record else f"{path}:{first['source_line']}"
            raise StageFailed(f"{where}: {unit_problem(first['amount'], currency)}")
