"""Exact-sum proposals (issue 23): the post-pass's time and memory next to the plain layer-1 run.

    nice .venv/bin/python benchmarks/bench_proposals.py --rows 100000 [--rows 1000000] [--keep DIR]

For each size, generates a day with N rows a side as Parquet (bench_match's workspace layout): 99%
payments both sides agree on, and 1% of each side unmatched, in blocks of 8 rows a side sharing a
counterparty (both sides carry one): per block three of our orders booked by the channel as one
aggregate line, two more as another, one of our orders paid as two channel lines, the rest noise of
the same size. A few blocks share one counterparty, making one block too large to search. Then, each
in a fresh process so peak RSS is its own:
- layer 1 alone: `match_day` with `[match.proposals] enabled = false`;
- layer 1 + proposals: `match_day` with the defaults; the post-pass (`proposals.propose`) is timed
  apart inside it, with the process's peak RSS before and after it, and its Python heap peak
  (tracemalloc, in a third run: it slows what it watches). The search's own counters (blocks,
  subsets looked at, proposals) are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_match import CONFIG, DAY  # noqa: E402  (same workspace layout and day)

BLOCK = 8  # unmatched rows a side per counterparty block
BIG_EVERY = 400  # 4 blocks in every 400 share one counterparty: a block too large to search


def _unmatched(count: int, seed: int = 23) -> tuple[list[dict], list[dict]]:
    """Rows of ours and theirs no key pairs, in blocks whose sums tell known stories."""
    rng = random.Random(seed)
    ours, theirs = [], []
    for k in range(count // BLOCK):
        party = "BIG" if k % BIG_EVERY < 4 else f"B{k:06d}"
        o = [Decimal(rng.randint(100, 500_000)) / 100 for _ in range(BLOCK)]
        t = [Decimal(rng.randint(100, 500_000)) / 100 for _ in range(BLOCK)]
        t[0] = o[0] + o[1] + o[2]  # a daily aggregate of three orders
        t[1] = o[3] + o[4]  # and of two
        o[5] = t[2] + t[3]  # one order paid in two lines
        ours += [(party, a) for a in o]
        theirs += [(party, a) for a in t]
    return ours, theirs


def generate(root: Path, rows: int, memory: str) -> dict:
    import polars as pl

    from recon.internal import INTERNAL_COLUMNS
    from recon.schema import BILL_COLUMNS, MONEY, UTC_TIME

    lost = rows // 100
    lost_ours, lost_theirs = _unmatched(lost)
    paired = rows - len(lost_ours)
    start = dt.datetime(2024, 4, 30, 16, 0, 5)
    step = 86_000_000_000 // rows  # microseconds: the day's rows end well before midnight
    i = pl.int_range(0, paired, eager=True).alias("i")
    base = pl.DataFrame(i).with_columns(
        amount=((pl.col("i") * 7919 % 1_000_000 + 100).cast(MONEY) / 100).cast(MONEY),
        trade_time=(pl.lit(start) + pl.duration(microseconds=pl.col("i") * step)).dt.replace_time_zone("UTC").cast(UTC_TIME),
        merchant_txn_id=pl.format("M{}", pl.col("i").cast(pl.String).str.zfill(10)),
        channel_txn_id=pl.format("42{}", pl.col("i").cast(pl.String).str.zfill(12)),
        counterparty=pl.lit(None, pl.String),
    )
    extra = []
    for side, lost_rows in (("ours", lost_ours), ("theirs", lost_theirs)):
        j = list(range(len(lost_rows)))
        extra.append(pl.DataFrame({
            "i": [paired + n for n in j],
            "amount": pl.Series([a for _, a in lost_rows], dtype=MONEY),
            "trade_time": pl.Series([start + dt.timedelta(microseconds=(n * 97 % paired) * step) for n in j])
            .dt.replace_time_zone("UTC").cast(UTC_TIME),
            "merchant_txn_id": [f"U{n:09d}" if side == "ours" else None for n in j],
            "channel_txn_id": [f"X{n:012d}" if side == "theirs" else None for n in j],
            "counterparty": [p for p, _ in lost_rows],
        }, schema=base.schema))
    ours = pl.concat([base, extra[0]]).select(
        pl.format("T{}", pl.col("i").cast(pl.String).str.zfill(10)).alias("txn_id"), pl.lit("MER1").alias("merchant_id"),
        pl.format("O{}", "i").alias("merchant_order_no"), pl.lit("wx").alias("channel"), "merchant_txn_id",
        "channel_txn_id", pl.lit("PAYMENT").alias("record_type"), pl.lit(None, pl.String).alias("merchant_refund_id"),
        pl.lit(None, pl.String).alias("original_txn_id"), "trade_time", pl.lit("CNY").alias("currency"), "amount",
        pl.lit(0, MONEY).alias("fee"), pl.lit("SUCCESS").alias("status"), pl.lit("internal.parquet").alias("source_file"),
        (pl.col("i") + 2).alias("source_line"), "counterparty")
    theirs = pl.concat([base, extra[1]]).select(
        pl.lit("wx").alias("channel"), pl.lit("1900000109").alias("account"), pl.lit(DAY).alias("bill_date"),
        pl.lit("PAYMENT").alias("record_type"), "channel_txn_id", "merchant_txn_id",
        pl.lit(None, pl.String).alias("channel_refund_id"), pl.lit(None, pl.String).alias("merchant_refund_id"),
        "trade_time", pl.lit("CNY").alias("currency"), "amount", pl.lit(0, MONEY).alias("fee"),
        pl.col("amount").alias("net_amount"), pl.lit("SUCCESS").alias("status"), pl.lit("bill.csv").alias("source_file"),
        (pl.col("i") + 2).alias("source_line"), "counterparty")
    assert [c for c in ours.columns if c in INTERNAL_COLUMNS] == list(INTERNAL_COLUMNS)
    assert [c for c in theirs.columns if c in BILL_COLUMNS] == list(BILL_COLUMNS)
    (root / "bills" / "wx").mkdir(parents=True)
    (root / "internal").mkdir()
    theirs.write_parquet(root / "bills" / "wx" / f"{DAY}.parquet", row_group_size=256_000)
    ours.write_parquet(root / "internal" / f"{DAY}.parquet", row_group_size=256_000)
    (root / "recon.toml").write_text(CONFIG.format(memory=memory), encoding="utf-8")
    return {"unmatched_a_side": len(lost_ours)}


def run(root: Path, with_proposals: bool, heap: bool = False) -> dict:
    from jobs.catalog import open_workspace
    from recon.config.ruleset import ProposalRules
    from recon.matching import proposals
    from recon.matching.layer1_day import match_day, rules_for

    ws = open_workspace(root)
    rules = rules_for(ws, "wx")
    if not with_proposals:
        rules = rules.model_copy(update={"proposals": ProposalRules(enabled=False)})
    search: dict = {}
    plain_propose = proposals.propose

    def timed(con, settings):  # the post-pass alone, inside the real run
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if heap:  # tracemalloc slows every allocation: its run gives the heap peak, not the time
            tracemalloc.start()
        start = time.perf_counter()
        stats = plain_propose(con, settings)
        search.update(wall=time.perf_counter() - start, heap_peak=tracemalloc.get_traced_memory()[1] if heap else None,
                      rss_before=rss_before, rss_after=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      blocks=stats.blocks, searched=stats.searched, too_large=stats.too_large,
                      evaluations=stats.evaluations, max_block_evaluations=stats.max_block_evaluations,
                      proposals=len(stats.proposals))
        tracemalloc.stop()
        return stats

    proposals.propose = timed
    start = time.perf_counter()
    totals = match_day(ws, DAY, rules_override=rules).totals()
    return {"wall": time.perf_counter() - start, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "totals": totals, "search": search}


def measure(kind: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(root)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{kind} failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows a side (repeatable)")
    parser.add_argument("--memory", default="2GB", help="DuckDB memory_limit for every run")
    parser.add_argument("--keep", type=Path, help="keep the generated workspaces under this folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "generate":
            start = time.perf_counter()
            info = generate(args.dir, args.rows[0], args.memory)
            print(json.dumps({"wall": time.perf_counter() - start, **info}))
        else:
            print(json.dumps(run(args.dir, with_proposals=args.child != "plain", heap=args.child == "heap")))
        return
    gib = 2**30
    for rows in args.rows or [100_000]:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix=f"bench-proposals-{rows}-", dir=args.keep))
        gen = subprocess.run([sys.executable, __file__, "--child", "generate", "--dir", str(base), "--rows", str(rows),
                              "--memory", args.memory], check=True, capture_output=True, text=True)
        info = json.loads(gen.stdout.splitlines()[-1])
        print(f"{rows:,} rows a side, {info['unmatched_a_side']:,} unmatched a side: generated in {info['wall']:.1f} s")
        plain, full, heap = measure("plain", base), measure("proposals", base), measure("heap", base)
        s = {**full["search"], "heap_peak": heap["search"]["heap_peak"]}
        print(f"  {'layer 1 alone':28} wall {plain['wall']:7.2f} s   peak RSS {plain['rss'] / gib:5.2f} GiB")
        print(f"  {'layer 1 + proposals':28} wall {full['wall']:7.2f} s   peak RSS {full['rss'] / gib:5.2f} GiB")
        print(f"  {'proposal search alone':28} wall {s['wall']:7.2f} s   Python heap peak {s['heap_peak'] / 2**20:6.1f} MiB"
              f"   peak RSS before/after it {s['rss_before'] / gib:4.2f}/{s['rss_after'] / gib:4.2f} GiB")
        print(f"  search: {s['blocks']:,} blocks, {s['searched']:,} searched, {s['too_large']} too large, "
              f"{s['evaluations']:,} subsets looked at (at most {s['max_block_evaluations']:,} in one block), "
              f"{s['proposals']:,} proposals")
        print(f"  outcomes without proposals: {plain['totals']}")
        print(f"  outcomes with proposals:    {full['totals']}")
        if args.keep is None:
            shutil.rmtree(base)


if __name__ == "__main__":
    main()
