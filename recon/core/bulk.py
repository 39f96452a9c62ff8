"""Bulk writes of the payment core: a Polars frame into a table in one statement per batch.

SQLAlchemy's per-value type processing costs more than the storage itself at a million rows, so
the import writes through the DBAPI: `executemany` on SQLite, `COPY ... FROM STDIN` on PostgreSQL
(psycopg 3). The values are encoded once per column, in Polars, exactly as the column types of
`recon.store.types` store them — money as canonical decimal text with six places on SQLite (what
`ExactDecimal` writes; NUMERIC on PostgreSQL), instants as naive UTC text on SQLite (SQLAlchemy's
`DateTime` format) and as UTC `timestamptz` on PostgreSQL — so a row written here reads back through
the ORM types like any other.

Transactions may meet a unique key (a re-import, a concurrent importer). On SQLite the unit of
work holds the write lock, so `insert_returning` inserts with `ON CONFLICT DO NOTHING` and reads
back the rows above the rowid it started from. On PostgreSQL a batch is first COPYed straight into
the table inside a savepoint: a clean batch (the common case) costs one COPY and no look-up, and
any held key fails the whole COPY (a concurrent importer's uncommitted key makes it wait for that
importer's outcome first), which the savepoint undoes. Only then do the rows go through a *stage*
— a temporary table of the target's columns, filled by COPY — merged with one `INSERT ... SELECT
... ON CONFLICT DO NOTHING RETURNING`, so the unique indexes decide between concurrent importers
row by row. (The undone COPY leaves gaps in the id sequence, as skipped conflicts always did.)
Stages live inside the caller's transaction and are dropped with it. `existing` is the set-based
look-up of keys a table already holds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.6f"  # SQLAlchemy's SQLite DATETIME storage format


def _encode(conn: Connection, frame: pl.DataFrame) -> pl.DataFrame:
    """Each column as the DBAPI stores it on this backend (text for money and time)."""
    sqlite = conn.dialect.name == "sqlite"
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Decimal):
            out.append(col.cast(pl.String))  # Decimal(38, 6) prints with exactly six places
        elif isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                raise TypeError(f"column {name}: instants must be aware (UTC)")
            utc = col.dt.convert_time_zone("UTC")
            out.append(utc.dt.strftime(_SQLITE_TIME) if sqlite else utc.dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00:00"))
        elif dtype == pl.Date:
            out.append(col.cast(pl.String))
        else:
            out.append(col)
    return frame.select(out)


def _raw(conn: Connection):
    return conn.connection.dbapi_connection


def write(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    """Append every row of `frame` to `table` (columns by name); no conflict handling."""
    if frame.is_empty():
        return
    data = _encode(conn, frame)
    names = ", ".join(data.columns)
    if conn.dialect.name == "postgresql":
        buf = io.BytesIO()
        data.write_csv(buf, include_header=False, null_value="", quote_style="non_numeric")
        with _raw(conn).cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        return
    _executemany(conn, table, data)


def _executemany(conn: Connection, table: str, data: pl.DataFrame, suffix: str = "") -> None:
    marks = ", ".join("?" * len(data.columns))
    cur = _raw(conn).cursor()
    try:
        cur.executemany(f"INSERT INTO {table} ({', '.join(data.columns)}) VALUES ({marks}){suffix}", data.iter_rows())
    finally:
        cur.close()


def stage(conn: Connection, table: sa.Table, frame: pl.DataFrame, *, name: str | None = None) -> str:
    """A temporary copy of `table`'s columns in `frame`, plus `stage_order` (the frame's row order), filled."""
    stage_name = name or f"stage_{table.name}"
    cols = ", ".join(frame.columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_temp(conn)}{stage_name}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {stage_name} AS SELECT 0 AS stage_order, {cols} FROM {table.name} WHERE 1 = 0")
    write(conn, stage_name, frame.with_row_index("stage_order").with_columns(pl.col("stage_order").cast(pl.Int64)))
    return stage_name


def drop(conn: Connection, stage_name: str) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_temp(conn)}{stage_name}")


def merge(conn: Connection, table: sa.Table, stage_name: str, columns: Sequence[str],
          returning: str | None = None) -> list:
    """Insert the stage into `table` in stage order, skipping rows a unique key already holds;
    with `returning`, the values of that column for the rows this statement wrote."""
    cols = ", ".join(columns)
    sql = (f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage_name} WHERE 1 = 1 ORDER BY stage_order "
           "ON CONFLICT DO NOTHING")
    if returning is None:
        conn.exec_driver_sql(sql)
        return []
    return [row[0] for row in conn.exec_driver_sql(f"{sql} RETURNING {returning}")]


def insert_returning(conn: Connection, table: sa.Table, frame: pl.DataFrame, key: str) -> set:
    """Insert the frame's rows a unique key does not already hold; the `key` values of those written.

    SQLite: the unit of work holds the database's write lock (BEGIN IMMEDIATE), so the rows this
    statement wrote are exactly those with a rowid above the largest before it — no stage needed.
    PostgreSQL: COPY straight into the table inside a savepoint — a clean batch is written as it
    is; if any row meets a unique key (the COPY fails as a whole and the savepoint undoes it), stage
    and merge with RETURNING instead, so concurrent writers are decided by the indexes row by row.
    """
    if frame.is_empty():
        return set()
    if conn.dialect.name == "sqlite":
        before = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table.name}").scalar_one()
        _executemany(conn, table.name, _encode(conn, frame), " ON CONFLICT DO NOTHING")
        return set(conn.exec_driver_sql(f"SELECT {key} FROM {table.name} WHERE rowid > ?", (before,)).scalars())
    if _copy_all_or_none(conn, table.name, frame):
        return set(frame[key])
    # a key is held (a re-import, a concurrent importer): the savepoint undid the COPY
    name = stage(conn, table, frame)
    written = set(merge(conn, table, name, frame.columns, returning=key))
    drop(conn, name)
    return written


def write_new(conn: Connection, table: sa.Table, frame: pl.DataFrame, key: str) -> bool:
    """Append every row of `frame`, or — if a unique key already holds one of them — none (False).

    PostgreSQL: COPY inside a savepoint, undone by the unique violation, so a clean batch pays no
    look-up. SQLite (the unit of work holds the write lock): `existing` first, then `write`.
    """
    if conn.dialect.name == "sqlite":
        if existing(conn, table, key, frame[key]):
            return False
        write(conn, table.name, frame)
        return True
    return _copy_all_or_none(conn, table.name, frame)


def _copy_all_or_none(conn: Connection, table: str, frame: pl.DataFrame) -> bool:
    """PostgreSQL: COPY `frame` into `table` in a savepoint; False, nothing written, on a unique violation."""
    try:
        with conn.begin_nested():
            write(conn, table, frame)
        return True
    except UniqueViolation:
        return False


def existing(conn: Connection, table: sa.Table, key: str, values: pl.Series) -> set:
    """The `values` of `key` that `table` already holds (one indexed lookup per value, in bulk)."""
    values = values.drop_nulls().unique().to_list()
    if not values:
        return set()
    cur = _raw(conn).cursor()
    try:
        if conn.dialect.name == "postgresql":
            cur.execute(f"SELECT {key} FROM {table.name} WHERE {key} = ANY(%s)", (values,))
            return {row[0] for row in cur.fetchall()}
        found = set()
        for start in range(0, len(values), 10_000):  # below SQLite's bound-parameter limit
            part = values[start:start + 10_000]
            cur.execute(f"SELECT {key} FROM {table.name} WHERE {key} IN ({', '.join('?' * len(part))})", part)
            found.update(row[0] for row in cur.fetchall())
        return found
    finally:
        cur.close()


def _temp(conn: Connection) -> str:
    return "temp." if conn.dialect.name == "sqlite" else "pg_temp."
