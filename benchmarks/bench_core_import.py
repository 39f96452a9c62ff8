"""Benchmark: `recon core import` of N generated internal transactions, SQLite and PostgreSQL, against floors.

The floors are bare DBAPI writes of the same rows into the same `core_txn` table — the cost of
the storage alone: `sqlite3.executemany`; psycopg `executemany` and psycopg `COPY` on PostgreSQL.
The import does what the floors do not — reads the CSV as text, validates every value, parses
money exactly, fingerprints each row, checks duplicates and refund room per batch, records a
transition per transaction and posts its journal entries (about five rows written per payment), so
the ratio is the price of correctness. A second floor, "its rows, bare", writes exactly the rows
the SQLite import stored in all four tables (about 5.4 per transaction) into a fresh store in one
transaction, values ready-made (executemany on SQLite, COPY of CSV text on PostgreSQL): the storage
cost no import of these rows can avoid, in transactions/s like the import. The import's time is
split into reading the file (`recon.core.import_read`) and writing it (`import_frame`). Each phase
runs in its own process so its peak RSS is its own; PostgreSQL phases each get a fresh schema,
dropped afterwards, and are skipped with the reason when no server answers.

    .venv/bin/python benchmarks/bench_core_import.py [N] [--pg URL] [--no-pg]   (default N 1,000,000)
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo (tests.builtin_rules)
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TXN_COLUMNS = ("txn_id, record_type, merchant_id, request_no, merchant_order_no, channel, merchant_txn_id, "
               "channel_txn_id, merchant_refund_id, original_txn_id, trade_time, currency, amount, fee, refunded, "
               "state, version, payload_hash, created_at, updated_at")
JOURNAL_TABLES = ("core_txn", "core_transition", "core_entry", "core_posting")


def generate(path: Path, n: int) -> None:
    """n rows: nine payments in ten succeed; every tenth successful payment has a partial refund."""
    base = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        payments = n - n // 11
        for i in range(payments):
            when = (base + dt.timedelta(seconds=i % 86400)).isoformat()
            status = "FAILED" if i % 10 == 9 else "SUCCESS"
            fh.write(f"P{i:09d},m{i % 500},o{i},wechat,S{i:09d},W{i:09d},PAYMENT,,,{when},CNY,"
                     f"{100 + i % 9000}.{i % 100:02d},0.{i % 60:02d},{status}\n")
        for j in range(n - payments):
            i = j * 10
            when = (base + dt.timedelta(seconds=i % 86400 + 1)).isoformat()
            fh.write(f"R{j:09d},m{i % 500},o{i},wechat,S{i:09d},W{i:09d},REFUND,RF{j:09d},P{i:09d},{when},CNY,"
                     f"-1.00,0,SUCCESS\n")


def _floor_rows(csv: Path) -> list[tuple]:
    rows = []
    for line in csv.read_text(encoding="utf-8").splitlines()[1:]:
        f = line.split(",")
        when = dt.datetime.fromisoformat(f[9])
        rows.append((f[0], f[6], f[1], f[2] if f[6] == "PAYMENT" else f[7], f[2], f[3], f[4], f[5] or None,
                     f[7] or None, f[8] or None, when, f[10], f[11], f[12], "0", "PAID", 1, "x", when, when))
    return rows


def _schema(url: str, pg_schema: str | None) -> str:
    """The store URL of this phase (a fresh PostgreSQL schema), with the core's tables created."""
    from recon.store.engine import engine_for
    from recon.store.schema import ensure_schema

    if pg_schema is not None:
        url = f"{url}?options=-csearch_path%3D{pg_schema}"
    ensure_schema(engine_for(url))
    return url


def run_import(csv: Path, url: str, pg_schema: str | None, out: mp.Queue) -> None:
    from recon.core.importer import import_frame
    from recon.core.orders import Core
    try:
        from recon.core.import_read import read_internal as read_file
    except ImportError:  # before issue 24: the row reader
        from recon.internal import read_file
    from recon.store.engine import engine_for
    from tests.builtin_rules import builtin_accounting

    url = _schema(url, pg_schema)
    core = Core(engine_for(url), builtin_accounting())
    start = time.perf_counter()
    frame = read_file(csv)
    read = time.perf_counter() - start
    result = import_frame(core, frame)
    wall = time.perf_counter() - start
    with core.engine.connect() as conn:  # every row the import wrote: transactions, transitions, journal
        written = sum(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
                      for t in ("core_txn", "core_transition", "core_entry", "core_posting"))
    print(f"  (import wrote {written:,} rows in four tables: {written / max(result.inserted, 1):.1f} per transaction)")
    out.put((wall, read, result.inserted, len(result.problems), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def run_floor(csv: Path, url: str, pg_schema: str | None, out: mp.Queue, *, copy: bool = False) -> None:
    url = _schema(url, pg_schema)
    rows = _floor_rows(csv)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        rows = [tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v for v in r) for r in rows]
        start = time.perf_counter()
        conn.executemany(f"INSERT INTO core_txn ({TXN_COLUMNS}) VALUES ({', '.join('?' * 20)})", rows)
        conn.commit()
    else:
        import psycopg

        conn = psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname=test options=-csearch_path={pg_schema}")
        start = time.perf_counter()
        with conn.cursor() as cur:
            if copy:
                with cur.copy(f"COPY core_txn ({TXN_COLUMNS}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
            else:
                cur.executemany(f"INSERT INTO core_txn ({TXN_COLUMNS}) VALUES ({', '.join(['%s'] * 20)})", rows)
        conn.commit()
    wall = time.perf_counter() - start
    out.put((wall, 0.0, len(rows), 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def run_copy_floor(csv: Path, url: str, pg_schema: str | None, out: mp.Queue) -> None:
    run_floor(csv, url, pg_schema, out, copy=True)


def run_journal_floor(csv: Path, url: str, pg_schema: str | None, out: mp.Queue) -> None:
    """Every row the SQLite import stored (transactions, transitions, entries, postings), written
    bare into a fresh store of the same schema: executemany on SQLite, COPY of ready CSV text on
    PostgreSQL, one transaction. What any import writing these rows through the DBAPI must pay."""
    source = sqlite3.connect(csv.parent / "run_import.db")
    tables = {t: source.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in JOURNAL_TABLES}
    source.close()
    url = _schema(url, pg_schema)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "cache_size=-262144"):
            conn.execute(f"PRAGMA {pragma}")
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table, rows in tables.items():
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        conn.execute("COMMIT")
    else:
        import csv as csvlib
        import io

        import psycopg

        texts = {}
        for table, rows in tables.items():
            buf = io.StringIO()
            csvlib.writer(buf).writerows(rows)
            texts[table] = buf.getvalue()
        conn = psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname=test options=-csearch_path={pg_schema}")
        start = time.perf_counter()
        with conn.cursor() as cur:
            for table, text in texts.items():
                with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as cp:
                    cp.write(text)
        conn.commit()
    wall = time.perf_counter() - start
    out.put((wall, 0.0, len(tables["core_txn"]), 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def phase(target, csv: Path, url: str, pg_url: str | None) -> tuple:
    schema = None
    if pg_url is not None:
        import sqlalchemy as sa

        schema, admin = f"bench_{uuid.uuid4().hex[:10]}", sa.create_engine(pg_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        queue: mp.Queue = mp.Queue()
        proc = mp.Process(target=target, args=(csv, url, schema, queue))
        proc.start()
        result = queue.get()
        proc.join()
        return result
    finally:
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _pg_reason(url: str) -> str | None:
    try:
        import sqlalchemy as sa

        with sa.create_engine(url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # any failure: report it and skip the PostgreSQL phases
        return f"{type(exc).__name__}: {str(exc).strip()[:120]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--pg", default=PG_URL)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "internal.csv"
        generate(csv, args.n)
        print(f"rows: {args.n:,} ({csv.stat().st_size / 1e6:.0f} MB CSV)")
        backends = [("sqlite", None)]
        reason = None if args.no_pg else _pg_reason(args.pg)
        if args.no_pg or reason:
            print(f"PostgreSQL skipped: {reason or '--no-pg'}")
        else:
            backends.append(("postgresql", args.pg))
        for backend, pg_url in backends:
            phases = [("floor: bare executemany", run_floor)]
            if pg_url:
                phases.append(("floor: bare COPY", run_copy_floor))
            phases.append(("recon core import", run_import))
            phases.append(("floor: its rows, bare", run_journal_floor))
            floor = None
            for name, target in phases:
                url = pg_url or f"sqlite:///{Path(tmp) / f'{target.__name__}.db'}"
                wall, read, rows, problems, rss_kb = phase(target, csv, url, pg_url)
                floor = floor or wall
                split = f"  (read {read:5.1f} s, write {wall - read:5.1f} s = {rows / (wall - read):>9,.0f} rows/s)" \
                    if read else ""
                print(f"{backend:<10} {name:<24} wall {wall:7.1f} s {rows / wall:>9,.0f} rows/s {wall / floor:5.1f}x "
                      f"floor  peak RSS {rss_kb / 1024:,.0f} MB  stored {rows:,}  problems {problems}{split}")


if __name__ == "__main__":
    main()
