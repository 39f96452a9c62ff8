"""Benchmark: `recon core import` of N generated internal transactions into SQLite, against a floor.

The floor is a bare `sqlite3.executemany` of the same rows into the same `core_txn` table: the
cost of the storage alone. The import does what the floor does not — parses CSV as text, validates
every value, parses money exactly, fingerprints each row, inserts with ON CONFLICT DO NOTHING
RETURNING, records a transition and posts the journal entries — so the ratio is the price of
correctness. Each phase runs in its own process so peak RSS is its own.

    .venv/bin/python benchmarks/bench_core_import.py [N]      (default 1,000,000)
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")


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


def run_import(csv: Path, db: Path, out: mp.Queue) -> None:
    from recon.core.importer import import_file
    from recon.core.orders import Core
    from recon.store.engine import engine_for
    from recon.store.schema import ensure_schema

    from jobs.catalog import open_workspace
    from recon.core.accounting import accounting_of

    engine = engine_for(f"sqlite:///{db}")
    ensure_schema(engine)
    (db.parent / "ws").mkdir(exist_ok=True)
    (db.parent / "ws" / "recon.toml").write_text(f'[store]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    accounting = accounting_of(open_workspace(db.parent / "ws"))  # the built-in accounting rules
    start = time.perf_counter()
    result = import_file(Core(engine, accounting), csv, batch=10_000)
    wall = time.perf_counter() - start
    out.put((wall, result.inserted, len(result.problems), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def run_floor(csv: Path, db: Path, out: mp.Queue) -> None:
    from recon.store.engine import engine_for
    from recon.store.schema import ensure_schema

    ensure_schema(engine_for(f"sqlite:///{db}"))
    lines = csv.read_text(encoding="utf-8").splitlines()[1:]
    rows = []
    for n, line in enumerate(lines):
        f = line.split(",")
        rows.append((n + 1, f[0], f[6], f[1], f[2] if f[6] == "PAYMENT" else f[7], f[2], f[3], f[4], f[5],
                     f[7] or None, f[8] or None, f[9], f[10], f[11], f[12], "0", "PAID", 1, "x", f[9], f[9]))
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    start = time.perf_counter()
    conn.executemany("INSERT INTO core_txn (id, txn_id, record_type, merchant_id, request_no, merchant_order_no, "
                     "channel, merchant_txn_id, channel_txn_id, merchant_refund_id, original_txn_id, trade_time, "
                     "currency, amount, fee, refunded, state, version, payload_hash, created_at, updated_at) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    wall = time.perf_counter() - start
    out.put((wall, len(rows), 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def phase(target, csv: Path, db: Path) -> tuple:
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=target, args=(csv, db, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "internal.csv"
        generate(csv, n)
        print(f"rows: {n:,} ({csv.stat().st_size / 1e6:.0f} MB CSV)")
        for name, target in (("floor (bare executemany)", run_floor), ("recon core import", run_import)):
            wall, rows, problems, rss_kb = phase(target, csv, Path(tmp) / f"{target.__name__}.db")
            print(f"{name:<26} wall {wall:8.1f} s   {rows / wall:>10,.0f} rows/s   peak RSS {rss_kb / 1024:,.0f} MB"
                  f"   stored {rows:,}   problems {problems}")


if __name__ == "__main__":
    main()
