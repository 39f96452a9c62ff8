"""Reading what layers 2 and 3 compare, and running their SQL over it.

Layers 2 and 3 look back over several days (a settlement period, a payout's landing window), so
they read a channel's bills for a range of dates; a day without a bill file is reported back, not
raised, because weekends and holidays legitimately have none. The SQL lives in `sql/*.sql` and
runs in a throw-away in-memory DuckDB over polars frames: money stays DECIMAL(38, 6) both ways.
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


def query(name: str, params: dict | None = None, **frames: pl.DataFrame) -> pl.DataFrame:
    """Run `sql/<name>.sql` over the given frames (registered under their keyword names)."""
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


def _check_money(frame: pl.DataFrame, path: Path, columns: Iterable[str]) -> None:
    for column in columns:
        if column in frame.columns and not isinstance(frame.schema[column], pl.Decimal):
            raise StageFailed(f"{path}: column {column!r} is {frame.schema[column]}, expected a decimal")


Bills = dict[tuple[str, dt.date], pl.DataFrame]  # (channel, day) -> that day's conformed bill


def load_bills(ws: Workspace, channel: str, days: Iterable[dt.date],
               read: Bills | None = None) -> tuple[pl.DataFrame, list[dt.date]]:
    """The standardized bills of `channel` for `days`, stacked; plus the days that have none.

    `read`: the bills a run has read already, filled as it goes (layers 2 and 3 read today's bill
    for the totals, then again within each look-back range)."""
    frames, missing = [], []
    read = {} if read is None else read
    for day in sorted(set(days)):
        if (channel, day) in read:
            frames.append(read[channel, day])
            continue
        path = ws.bill_path(channel, day)
        if not path.exists():
            missing.append(day)
            continue
        frame = pl.read_parquet(path)
        _check_money(frame, path, ("amount", "fee", "net_amount"))
        read[channel, day] = conform(frame).select([*BILL_COLUMNS, *OPTIONAL_COLUMNS]).cast(
            {**BILL_COLUMNS, **OPTIONAL_COLUMNS})
        frames.append(read[channel, day])
    bills = pl.concat(frames, how="vertical") if frames else empty_bill()
    return bills, missing


def load_balances(ws: Workspace, channel: str, day: dt.date) -> pl.DataFrame | None:
    """The day's balances of a bank channel, or None when the bank sent no statement."""
    path = ws.balances_path(channel, day)
    if not path.exists():
        return None
    frame = pl.read_parquet(path)
    lacking = [c for c in BALANCE_COLUMNS if c not in frame.columns]
    if lacking:
        raise StageFailed(f"{path}: balances file lacks column(s) {lacking}")
    _check_money(frame, path, ("amount",))
    return frame.select(list(BALANCE_COLUMNS)).cast(BALANCE_COLUMNS)  # type: ignore[arg-type]


def empty_balances() -> pl.DataFrame:
    return pl.DataFrame(schema=BALANCE_COLUMNS)
