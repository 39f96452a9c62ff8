"""Layer 1 against its floor, pair by pair: a bare DuckDB FULL OUTER JOIN of the same Parquet files.

    nice .venv/bin/python benchmarks/bench_match.py --rows 1000000 [--rows 10000000] [--pairs 3] [--keep DIR]

For each size, generates a day with N rows a side (payments and partial refunds; ~0.1% injected
amount, fee and status differences, channel-only, local-only and duplicate lines; a few rows near
midnight), as Parquet: the standardized bill and a typed internal export. Then, `--pairs` times,
each in a fresh process so peak RSS is its own, and each next to a floor run just before it (a
shared machine drifts; the ratio is taken pair by pair and its median shown, of wall time and of
CPU time: process time, every thread, which a loaded machine stretches far less than the wall):
- floor: the bare FULL OUTER JOIN on (merchant_txn_id, record_type), written to Parquet (every
  column of both sides; the ratios are against this);
- bare join: the same join not written, only counted (DuckDB then reads the two key columns alone):
  the issue's floor (0.34 s at 1M, 1.2 s at 10M); recon's ratio to it is printed too;
- recon: `recon.matching.layer1_day.match_day` in a workspace (queue sync off: it is the queue's
  cost, `--queue` times it apart): read both sides, every pass, explain, write layer1.parquet;
- naive: one DuckDB statement classifying the same join (matched / amount / status / one side);
- datacompy (if installed): datacompy's Polars compare on the same join columns.
Goal (issue 24): recon within 3x of the floor at 1M and 10M under the default 2 GB memory limit,
and ahead of the naive statement and of datacompy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DAY = dt.date(2024, 5, 1)
CONFIG = """
[match]
memory_limit = "{memory}"
temp_dir = "tmp/duckdb"

[channels.wx]
format = "wechatpay.trade"
account = "1900000109"

[channels.wx.internal]
source = "file"
path = "internal/{{date:%Y-%m-%d}}.parquet"
"""


def generate(root: Path, rows: int, memory: str) -> None:
    """Both sides of one day as Parquet, with ~1% of rows broken in known ways."""
    import polars as pl

    from recon.internal import INTERNAL_COLUMNS
    from recon.schema import BILL_COLUMNS, MONEY, UTC_TIME

    i = pl.int_range(0, rows, eager=True).alias("i")
    base = pl.DataFrame(i).with_columns(
        # 1 in 10 rows is a partial refund of the payment just before it
        refund=(pl.col("i") % 10 == 9),
        cents=(pl.col("i") * 7919 % 1_000_000 + 100),
        # spread over the local day 2024-05-01 (UTC+8); the last rows fall in its final minutes
        trade_time=(pl.lit(dt.datetime(2024, 4, 30, 16, 0, 5)) + pl.duration(microseconds=pl.col("i") * (86_390_000_000 // rows)))
        .dt.replace_time_zone("UTC").cast(UTC_TIME),
    ).with_columns(
        record_type=pl.when("refund").then(pl.lit("REFUND")).otherwise(pl.lit("PAYMENT")),
        amount=(pl.when("refund").then(-pl.col("cents") // 3).otherwise(pl.col("cents")).cast(MONEY) / 100).cast(MONEY),
        merchant_txn_id=pl.format("M{}", pl.when("refund").then(pl.col("i") - 1).otherwise("i").cast(pl.String).str.zfill(10)),
        channel_txn_id=pl.format("42{}", pl.when("refund").then(pl.col("i") - 1).otherwise("i").cast(pl.String).str.zfill(12)),
        merchant_refund_id=pl.when("refund").then(pl.format("R{}", pl.col("i").cast(pl.String).str.zfill(10))),
    ).with_columns(fee=(pl.col("amount").abs() * pl.lit(6, MONEY) / 1000).cast(MONEY))
    ours = base.select(
        pl.format("T{}", pl.col("i").cast(pl.String).str.zfill(10)).alias("txn_id"), pl.lit("MER1").alias("merchant_id"),
        pl.format("O{}", "i").alias("merchant_order_no"), pl.lit("wx").alias("channel"), "merchant_txn_id",
        pl.when(~pl.col("refund")).then("channel_txn_id").alias("channel_txn_id"), "record_type",
        "merchant_refund_id", pl.lit(None, pl.String).alias("original_txn_id"), "trade_time",
        pl.lit("CNY").alias("currency"), "amount", "fee",
        pl.when(pl.col("i") % 997 == 5).then(pl.lit("FAILED")).otherwise(pl.lit("SUCCESS")).alias("status"),
        pl.lit("internal.parquet").alias("source_file"), (pl.col("i") + 2).alias("source_line"), "i",
    ).filter(pl.col("i") % 1009 != 7)  # channel-only lines: missing from our side
    theirs = base.select(
        pl.lit("wx").alias("channel"), pl.lit("1900000109").alias("account"), pl.lit(DAY).alias("bill_date"),
        "record_type", "channel_txn_id", "merchant_txn_id",
        pl.when("refund").then(pl.format("50{}", "i")).alias("channel_refund_id"), "merchant_refund_id",
        "trade_time", pl.lit("CNY").alias("currency"),
        pl.when(pl.col("i") % 983 == 3).then(pl.col("amount") - pl.lit(1, MONEY) / 100).otherwise("amount").cast(MONEY).alias("amount"),
        pl.when(pl.col("i") % 991 == 4).then(pl.col("fee") + pl.lit(1, MONEY) / 100).otherwise("fee").cast(MONEY).alias("fee"),
        pl.lit("SUCCESS").alias("status"), pl.lit("bill.csv").alias("source_file"), (pl.col("i") + 2).alias("source_line"),
        "i",
    ).with_columns(net_amount=(pl.col("amount") - pl.col("fee")).cast(MONEY))
    dupes = theirs.filter(pl.col("i") % 1013 == 11).with_columns(source_line=pl.col("source_line") + rows + 10)
    theirs = pl.concat([theirs.filter(pl.col("i") % 1019 != 13), dupes])  # local-only: dropped by the channel
    theirs = theirs.select(list(BILL_COLUMNS))
    (root / "bills" / "wx").mkdir(parents=True)
    (root / "internal").mkdir()
    theirs.write_parquet(root / "bills" / "wx" / f"{DAY}.parquet", row_group_size=256_000)
    ours.select(list(INTERNAL_COLUMNS)).write_parquet(root / "internal" / f"{DAY}.parquet", row_group_size=256_000)
    (root / "recon.toml").write_text(CONFIG.format(memory=memory), encoding="utf-8")


NAIVE = """
COPY (
  SELECT coalesce(o.merchant_txn_id, t.merchant_txn_id) AS k, o.txn_id, t.channel_txn_id, o.amount, t.amount AS their_amount,
         CASE WHEN o.txn_id IS NULL THEN 'CHANNEL_ONLY' WHEN t.channel_txn_id IS NULL THEN 'LOCAL_ONLY'
              WHEN o.amount <> t.amount THEN 'AMOUNT_MISMATCH' WHEN o.status <> t.status THEN 'STATUS_MISMATCH'
              WHEN o.fee <> t.fee THEN 'FEE_MISMATCH' ELSE 'MATCHED' END AS outcome
  FROM read_parquet('{ours}') o FULL OUTER JOIN read_parquet('{bill}') t USING (merchant_txn_id, record_type)
  ORDER BY outcome, k
) TO '{out}' (FORMAT parquet)
"""


def _paths(root: Path) -> tuple[Path, Path]:
    return root / "internal" / f"{DAY}.parquet", root / "bills" / "wx" / f"{DAY}.parquet"


def _con(root: Path):
    from jobs.catalog import open_workspace
    from recon.matching import engine

    return engine.connect_for(open_workspace(root))


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _spent(start: tuple[float, float]) -> dict:
    """Wall and CPU seconds (process time: every thread, so a busy shared machine matters less)."""
    return {"op": time.perf_counter() - start[0], "cpu": time.process_time() - start[1]}


def floor(root: Path) -> dict:
    con = _con(root)
    ours, bill = _paths(root)
    start = _clock()
    con.execute(f"COPY (SELECT * FROM read_parquet('{ours}') o FULL OUTER JOIN read_parquet('{bill}') t "
                f"USING (merchant_txn_id, record_type)) TO '{root / 'floor.parquet'}' (FORMAT parquet)")
    return _spent(start)


def bare(root: Path) -> dict:
    con = _con(root)
    ours, bill = _paths(root)
    start = _clock()
    con.execute(f"SELECT count(*) FROM read_parquet('{ours}') o FULL OUTER JOIN read_parquet('{bill}') t "
                f"USING (merchant_txn_id, record_type)").fetchall()
    return _spent(start)


def naive(root: Path) -> dict:
    con = _con(root)
    ours, bill = _paths(root)
    start = _clock()
    con.execute(NAIVE.format(ours=ours, bill=bill, out=root / "naive.parquet"))
    return _spent(start)


def compare(root: Path) -> dict:
    """datacompy 1.x on Polars: the same join columns, its report text built (that is its result)."""
    import polars as pl
    from datacompy import PolarsCompare

    ours, bill = _paths(root)
    start = _clock()
    a = pl.read_parquet(ours, columns=["merchant_txn_id", "record_type", "amount", "fee", "status"])
    b = pl.read_parquet(bill, columns=["merchant_txn_id", "record_type", "amount", "fee", "status"])
    report = PolarsCompare(a, b, join_columns=["merchant_txn_id", "record_type"]).report()
    return {**_spent(start), "report_chars": len(report)}


def job(root: Path) -> dict:
    """match_day end to end (the discrepancy queue is synced by the caller, measured apart)."""
    from jobs.catalog import open_workspace
    from recon.matching.layer1_day import match_day

    ws = open_workspace(root)
    start = _clock()
    totals = match_day(ws, DAY).totals()
    return {**_spent(start), "totals": totals}


def queue(root: Path) -> dict:
    """What the match stage does after all layers: recon.queue.sync over the results just written."""
    from jobs.catalog import open_workspace
    from recon.queue.sync import sync_results

    ws = open_workspace(root)
    start = _clock()
    sync_results(ws, DAY)
    return _spent(start)


KINDS = {"floor": floor, "bare": bare, "recon": job, "naive": naive, "datacompy": compare, "queue": queue}


def child(kind: str, root: Path) -> None:
    extra = KINDS[kind](root)
    wall, cpu = extra.pop("op"), extra.pop("cpu")  # the operation alone: not imports, not opening
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss": rss, "extra": extra}))


def measure(kind: str, root: Path) -> dict | None:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(root)], capture_output=True, text=True)
    if out.returncode:
        if kind == "datacompy":  # not installed, or (1.1) not working with Polars 2: left out
            print(f"  datacompy left out: {out.stderr.strip().splitlines()[-1]}")
            return None
        raise SystemExit(f"{kind} failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows a side (repeatable)")
    parser.add_argument("--memory", default="2GB", help="DuckDB memory_limit for every run")
    parser.add_argument("--pairs", type=int, default=3, help="floor/contender pairs per contender; medians shown")
    parser.add_argument("--keep", type=Path, help="keep the generated workspaces under this folder")
    parser.add_argument("--queue", action="store_true", help="also time recon.queue.sync on the results, apart")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        start = time.perf_counter()
        if args.child == "generate":
            generate(args.dir, args.rows[0], args.memory)
            print(json.dumps({"wall": time.perf_counter() - start}))
            return
        child(args.child, args.dir)
        return
    for rows in args.rows or [1_000_000]:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix=f"bench-match-{rows}-", dir=args.keep))
        gen = subprocess.run([sys.executable, __file__, "--child", "generate", "--dir", str(base),
                              "--rows", str(rows), "--memory", args.memory], check=True, capture_output=True, text=True)
        print(f"{rows:,} rows a side: generated in {json.loads(gen.stdout.splitlines()[-1])['wall']:.1f} s ({base})")
        kinds = ["bare", "recon", "naive", "datacompy"] + (["queue"] if args.queue else [])
        floors, seen = [], {}
        for kind in kinds:
            pairs = []
            for _ in range(1 if kind == "queue" else args.pairs):
                flo, got = measure("floor", base), measure(kind, base)
                if got is None:
                    break
                floors.append(flo)
                pairs.append((got, got["wall"] / flo["wall"], got["cpu"] / flo["cpu"]))
            if pairs:
                seen[kind] = pairs
        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        flo_wall, flo_rss = med([f["wall"] for f in floors]), max(f["rss"] for f in floors)
        flo_cpu = med([f["cpu"] for f in floors])
        print(f"  {'floor (bare FULL OUTER JOIN)':30} wall {flo_wall:7.2f} s   1.0x   cpu {flo_cpu:7.2f} s   1.0x"
              f"   peak RSS {flo_rss / 2**30:5.2f} GiB")
        labels = {"bare": "bare join (counted, unwritten)", "recon": "recon layer 1 (match_day)",
                  "naive": "naive single statement", "datacompy": "datacompy (Polars)", "queue": "queue sync (apart)"}
        for kind, pairs in seen.items():
            wall, ratio = med([g["wall"] for g, _, _ in pairs]), med([r for _, r, _ in pairs])
            cpu, cpu_ratio = med([g["cpu"] for g, _, _ in pairs]), med([c for _, _, c in pairs])
            rss = max(g["rss"] for g, _, _ in pairs)
            walls, cpus = (", ".join(format(p[i], ".1f") for p in pairs) for i in (1, 2))
            print(f"  {labels[kind]:30} wall {wall:7.2f} s {ratio:5.1f}x   cpu {cpu:7.2f} s {cpu_ratio:5.1f}x"
                  f"   peak RSS {rss / 2**30:5.2f} GiB   (wall ratios {walls}; cpu {cpus})")
        if "recon" in seen:
            print(f"  outcomes: {seen['recon'][0][0]['extra']['totals']}")
            verdict = med([r for _, r, _ in seen["recon"]])
            print(f"  goal <= 3x the floor: {'met' if verdict <= 3 else 'NOT met'} ({verdict:.1f}x wall; "
                  f"{med([c for _, _, c in seen['recon']]):.1f}x in CPU seconds)")
            if "bare" in seen:
                walls = {k: med([g["wall"] for g, _, _ in seen[k]]) for k in ("recon", "bare")}
                cpus = {k: med([g["cpu"] for g, _, _ in seen[k]]) for k in ("recon", "bare")}
                print(f"  recon against the bare join (medians, not pair by pair): "
                      f"{walls['recon'] / walls['bare']:.1f}x wall, {cpus['recon'] / cpus['bare']:.1f}x cpu")
        if args.keep is None:
            shutil.rmtree(base)


if __name__ == "__main__":
    main()
