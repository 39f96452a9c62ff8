"""Reading what layers 2 and 3 compare, and running their SQL over it.

Layers 2 and 3 look back over several days (a settlement period, a payout's landing window), so
they read a channel's bills for a range of dates, each day reduced to what a check uses (today's
totals read every line of the day, in the few columns they use); a day without a bill file is
reported back, not raised, because weekends and holidays legitimately have none. The SQL lives in
`sql/*.sql` and runs in a throw-away in-memory DuckDB over polars frames: money stays DECIMAL(38, 6)
both ways.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

from recon import duck
from recon.errors import StageFailed
from recon.schema import BALANCE_COLUMNS, BILL_COLUMNS, OPTIONAL_COLUMNS, conform, empty_bill
from recon.workspace import Workspace

SQL_DIR = Path(__file__).resolve().parent / "sql"



@lru_cache(maxsize=None)
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def query(name: str, params: dict | None = None, **frames: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Run `sql/<name>.sql` over the given frames (registered under their keyword names; a lazy scan
    is read for the columns the query uses)."""
    con = duck.connect()
    try:
        # These are small aggregates; one thread leaves the shared cores to matching.
        con.execute("SET threads = 1")
        for table, frame in frames.items():
            con.register(table, frame)
        return con.sql(sql_text(name), params=params).pl()
    finally:
        con.close()


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _check_money(schema: pl.Schema, path: Path, columns: Iterable[str]) -> None:
    for column in columns:
        if column in schema and not isinstance(schema[column], pl.Decimal):
            raise StageFailed(f"{path}: column {column!r} is {schema[column]}, expected a decimal")


def _scan(path: Path) -> pl.LazyFrame:
    """A standardized bill as its contract columns, lazily: a query reads only the columns it uses."""
    frame = pl.scan_parquet(path)
    _check_money(frame.collect_schema(), path, ("amount", "fee", "net_amount"))
    return conform(frame).select([*BILL_COLUMNS, *OPTIONAL_COLUMNS]).cast({**BILL_COLUMNS, **OPTIONAL_COLUMNS})


def load_bill(ws: Workspace, channel: str, day: dt.date, columns: Iterable[str]) -> pl.DataFrame | None:
    """The day's standardized bill of `channel` in `columns` (read from the file alone), or None when it has none."""
    path = ws.bill_path(channel, day)
    return _scan(path).select(list(columns)).collect() if path.exists() else None


Parts = dict[tuple[str, str, dt.date], pl.DataFrame]  # (query, channel, day) -> its part of that day's bill


def load_parts(ws: Workspace, channel: str, part: str, days: Iterable[dt.date],
               read: Parts) -> tuple[pl.DataFrame, list[dt.date]]:
    """`sql/<part>.sql` over each day's bill of `channel` (registered as `bill`), stacked; plus the
    days that have none.

    A look-back range of 1M-line days cannot be held whole: each day is reduced on its own, the query
    reading only its columns of the file, and `read` keeps a run's small parts (layers 2 and 3 come
    back to the same days)."""
    frames, missing = [], []
    for day in sorted(set(days)):
        if (part, channel, day) not in read:
            path = ws.bill_path(channel, day)
            if not path.exists():
                missing.append(day)
                continue
            read[part, channel, day] = query(part, bill=_scan(path))
        frames.append(read[part, channel, day])
    return (pl.concat(frames, how="vertical") if frames else empty_part(part)), missing


def empty_part(part: str) -> pl.DataFrame:
    return query(part, bill=empty_bill())


def load_balances(ws: Workspace, channel: str, day: dt.date) -> pl.DataFrame | None:
    """The day's balances of a bank channel, or None when the bank sent no statement."""
    path = ws.balances_path(channel, day)
    if not path.exists():
        return None
    frame = pl.read_parquet(path)
    lacking = [c for c in BALANCE_COLUMNS if c not in frame.columns]
    if lacking:
        raise StageFailed(f"{path}: balances file lacks column(s) {lacking}")
    _check_money(frame.schema, path, ("amount",))
    return frame.select(list(BALANCE_COLUMNS)).cast(BALANCE_COLUMNS)  # type: ignore[arg-type]


def empty_balances() -> pl.DataFrame:
    return pl.DataFrame(schema=BALANCE_COLUMNS)
