"""A whole day, `recon run` end to end, against its floors timed in the same run.

    nice .venv/bin/python benchmarks/bench_day.py [--rows 1000000] [--rows 10000000 --channels 5] [--keep DIR] [--runs 1]

For each size: one WeChat Pay channel (or --channels K sub-accounts of N/K lines each: a statement is
capped at 512 MiB, about 2.3M lines, so a 10M-line day arrives as several), a raw trade bill of N lines (1 in 10 a partial refund) in a
local drop folder and a typed internal export of the same day with injected discrepancies (~0.1%
each: amount, status, channel-only, local-only, duplicate lines). Then, each in its own process so
peak RSS is its own:
- the floors: a bare polars read of the bill CSVs; a bare DuckDB FULL OUTER JOIN of each parsed bill
  and its internal Parquet; that join's discrepancies (rows not equal on both sides) to Parquet;
- `recon run --date D -q --json`: wall time and peak RSS from outside, and each stage's own wall
  time and peak memory from the run's JSON (jobs.meter); what is left of the wall time is the work
  between stages (fingerprints, registry bookkeeping, process start).
Prints the stage table, the whole run against the sum of the floors, and the issue's goals
(1M day <= 20 s and <= 2 GiB; 10M day <= 180 s and <= 4 GiB). Run it under `nice` on a shared machine.
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
DAY = dt.date(2026, 11, 20)
CONFIG = """
[defaults]
timezone = "Asia/Shanghai"

[match]
memory_limit = "{memory}"
"""
CHANNEL = """
[channels.{name}]
format = "wechatpay.trade"
account = "{account}"

[channels.{name}.fetch]
transport = "local"
path = "drop/{name}_{{date:%Y%m%d}}.csv"

[channels.{name}.internal]
source = "file"
path = "internal/{name}_{{date:%Y-%m-%d}}.parquet"
"""
GOALS = {1_000_000: (20.0, 2.0), 10_000_000: (180.0, 4.0)}  # rows -> (seconds, GiB)


def _bill_csv(frame, account: str):
    """The WeChat Pay ALL bill text (tests.synth.wechat's layout), built column-wise."""
    import polars as pl

    from tests.synth.wechat import APPID, HEADER, SUMMARY_HEADER

    refund = pl.col("refund")
    money = lambda c: pl.col(c).cast(pl.String)  # noqa: E731  (2 decimals already)
    cells = [
        pl.col("local").dt.strftime("%Y-%m-%d %H:%M:%S"), pl.lit(APPID), pl.lit(account), pl.lit("0"), pl.lit(""),
        pl.col("transaction_id"), pl.col("out_trade_no"), pl.lit("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), pl.lit("JSAPI"),
        pl.when(refund).then(pl.lit("REFUND")).otherwise(pl.lit("SUCCESS")), pl.lit("OTHERS"), pl.lit("CNY"),
        pl.when(refund).then(pl.lit("0.00")).otherwise(money("pay")), pl.lit("0.00"),
        pl.when(refund).then(pl.col("refund_id")).otherwise(pl.lit("0")),
        pl.when(refund).then(pl.col("out_refund_no")).otherwise(pl.lit("0")),
        pl.when(refund).then(money("back")).otherwise(pl.lit("0.00")), pl.lit("0.00"),
        pl.when(refund).then(pl.lit("ORIGINAL")).otherwise(pl.lit("")),
        pl.when(refund).then(pl.lit("SUCCESS")).otherwise(pl.lit("")), pl.lit("商品"), pl.lit(""),
        pl.col("fee5"), pl.lit("0.60%"),
        pl.when(refund).then(pl.lit("0.00")).otherwise(money("pay")),
        pl.when(refund).then(money("back")).otherwise(pl.lit("0.00")), pl.lit(""),
    ]
    lines = frame.select(pl.concat_str([pl.lit("`") + c for c in cells], separator=",").alias("l"))["l"]
    sums = frame.select(n=pl.len(), settle=pl.col("pay").filter(~refund).sum(), back=pl.col("back").filter(refund).sum(),
                        fee=pl.col("fee").sum()).row(0, named=True)
    summary = [str(sums["n"]), f"{sums['settle']:.2f}", f"{sums['back']:.2f}", "0.00", f"{sums['fee']:.5f}",
               f"{sums['settle']:.2f}", f"{sums['back']:.2f}"]
    return HEADER + "\n" + "\n".join(lines) + "\n" + SUMMARY_HEADER + "\n" + ",".join("`" + c for c in summary) + "\n"


def names(channels: int) -> list[str]:
    """The channels' names: `wx` alone, else wx0, wx1, ... (one WeChat Pay sub-account each)."""
    return ["wx"] if channels == 1 else [f"wx{k}" for k in range(channels)]


def generate(root: Path, rows: int, memory: str, channels: int = 1) -> None:
    """`rows` bill lines over `channels` channels; the config naming them all."""
    (root / "drop").mkdir(parents=True)
    (root / "internal").mkdir()
    config = CONFIG.format(memory=memory)
    for k, name in enumerate(names(channels)):
        account = f"19000001{k:02d}" if channels > 1 else "1900000109"
        generate_channel(root, name, account, rows // channels)
        config += CHANNEL.format(name=name, account=account)
    (root / "recon.toml").write_text(config, encoding="utf-8")


def generate_channel(root: Path, name: str, account: str, rows: int) -> None:
    """The raw bill in drop/ and the internal export, ~0.1% of rows broken in each known way."""
    import polars as pl

    from recon.internal import INTERNAL_COLUMNS
    from recon.schema import MONEY

    start = dt.datetime.combine(DAY, dt.time(0, 0, 5))
    base = pl.DataFrame(pl.int_range(0, rows, eager=True).alias("i")).with_columns(
        refund=pl.col("i") % 10 == 9,  # a partial refund of the payment just before it
        local=pl.lit(start) + pl.duration(microseconds=pl.col("i") * (86_390_000_000 // rows)),
        cents=pl.col("i") * 7919 % 1_000_000 + 100,
        p=pl.when(pl.col("i") % 10 == 9).then(pl.col("i") - 1).otherwise("i"),
    ).with_columns(
        pay=(pl.col("cents").cast(MONEY) / 100).cast(pl.Decimal(18, 2)),
        back=((pl.col("cents") // 3).cast(MONEY) / 100).cast(pl.Decimal(18, 2)),
        transaction_id=pl.format("42{}", pl.col("p").cast(pl.String).str.zfill(12)),
        out_trade_no=pl.format("M{}", pl.col("p").cast(pl.String).str.zfill(10)),
        refund_id=pl.format("50{}", pl.col("i").cast(pl.String).str.zfill(12)),
        out_refund_no=pl.format("R{}", pl.col("i").cast(pl.String).str.zfill(10)),
    ).with_columns(
        fee=(pl.when("refund").then(-pl.col("back")).otherwise("pay").cast(pl.Decimal(18, 5)) * 6 / 1000)
        .cast(pl.Decimal(18, 5)),
    ).with_columns(fee5=pl.col("fee").cast(pl.String))
    local_only = pl.col("i") % 1019 == 13  # the channel never sent these lines
    dupes = base.filter(pl.col("i") % 1013 == 11)  # the channel sent these twice
    bill = pl.concat([base.filter(~local_only), dupes]).sort("i", maintain_order=True)
    (root / "drop" / f"{name}_{DAY:%Y%m%d}.csv").write_text(_bill_csv(bill, account), encoding="utf-8")
    utc = pl.col("local").dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC")
    ours = base.filter(pl.col("i") % 1009 != 7).select(  # channel-only: missing from our side
        txn_id=pl.format("T{}", pl.col("i").cast(pl.String).str.zfill(10)),
        merchant_id=pl.format("MER{}", pl.col("p") % 50), merchant_order_no=pl.format("O{}", "i"),
        channel=pl.lit(name), merchant_txn_id=pl.col("out_trade_no"),
        channel_txn_id=pl.when("refund").then("refund_id").otherwise("transaction_id"),
        record_type=pl.when("refund").then(pl.lit("REFUND")).otherwise(pl.lit("PAYMENT")),
        merchant_refund_id=pl.when("refund").then("out_refund_no"),
        original_txn_id=pl.when("refund").then(pl.format("T{}", pl.col("p").cast(pl.String).str.zfill(10))),
        trade_time=utc, currency=pl.lit("CNY"),
        amount=pl.when("refund").then(-pl.col("back")).otherwise("pay").cast(MONEY)
        + pl.when(pl.col("i") % 983 == 3).then(pl.lit(1, MONEY) / 100).otherwise(pl.lit(0, MONEY)),
        fee=pl.col("fee").cast(MONEY),
        status=pl.when(pl.col("i") % 997 == 5).then(pl.lit("FAILED")).otherwise(pl.lit("SUCCESS")),
        source_file=pl.lit(f"internal/{name}_{DAY:%Y-%m-%d}.parquet"), source_line=pl.col("i") + 2,
    ).with_columns(amount=pl.col("amount").cast(MONEY))
    ours.select(list(INTERNAL_COLUMNS)).cast(INTERNAL_COLUMNS).write_parquet(  # type: ignore[arg-type]
        root / "internal" / f"{name}_{DAY:%Y-%m-%d}.parquet")


def floor_read(root: Path) -> dict:
    """The bills read by polars, every column as text: less than any parser can do."""
    import polars as pl

    start = time.perf_counter()
    height = sum(pl.read_csv(bill, infer_schema=False, truncate_ragged_lines=True).height
                 for bill in sorted((root / "drop").glob("*.csv")))
    return {"rows": height, "op": time.perf_counter() - start}


def floor_join(root: Path, discrepancies: bool) -> dict:
    """The bare FULL OUTER JOIN of the parsed bill and the internal side; optionally its
    discrepancies (rows on one side only, or with a different amount or status) written to Parquet."""
    from jobs.catalog import open_workspace
    from recon.matching import engine

    ws = open_workspace(root)
    con = engine.connect_for(ws)
    start = time.perf_counter()
    for name in sorted(ws.settings.channels):  # channel by channel, as recon matches them
        bill, ours = ws.bill_path(name, DAY), root / "internal" / f"{name}_{DAY:%Y-%m-%d}.parquet"
        join = (f"SELECT * FROM read_parquet('{ours}') o FULL OUTER JOIN read_parquet('{bill}') t "
                f"USING (merchant_txn_id, record_type)")
        if discrepancies:
            join += (" WHERE o.txn_id IS NULL OR t.channel_txn_id IS NULL OR o.amount <> t.amount"
                     " OR o.status <> t.status")
        con.execute(f"COPY ({join}) TO '{root / f'floor-{name}.parquet'}' (FORMAT parquet)")
    return {"op": time.perf_counter() - start}


def recon_run(root: Path) -> dict:
    recon = str(Path(sys.executable).with_name("recon"))
    done = subprocess.run([recon, "run", "--date", str(DAY), "-q", "--json", "-w", str(root)],
                          capture_output=True, text=True)
    if done.returncode not in (0, 4):  # 4: discrepancies found is still a finished run
        raise SystemExit(f"recon run exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)[0]


def child(kind: str, root: Path) -> None:
    start = time.perf_counter()
    extra = {"read": lambda: floor_read(root), "join": lambda: floor_join(root, False),
             "disc": lambda: floor_join(root, True), "run": lambda: recon_run(root)}[kind]()
    if kind == "run":  # a stage's own peak memory resets the process's high-water mark (jobs.meter)
        extra["peak_mib"] = max((u["peak_mib"] for u in extra["usage"].values()), default=0)
    wall = extra.pop("op", None) or time.perf_counter() - start  # a floor times its operation alone
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall": wall, "rss": max(own, kids) * 1024, "extra": extra}))


def measure(kind: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(root)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reset(root: Path) -> None:
    """Back to a fresh workspace: only the drop folder, the internal export and the config stay."""
    for entry in root.iterdir():
        if entry.name not in ("drop", "internal", "recon.toml"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def bench(rows: int, base: Path, runs: int, channels: int = 1) -> None:
    runs_out = []
    for _ in range(runs):
        _reset(base)
        runs_out.append(measure("run", base))
    floors = {k: measure(k, base) for k in ("read", "join", "disc")}
    run = sorted(runs_out, key=lambda m: m["wall"])[len(runs_out) // 2]  # the median run
    usage = run["extra"]["usage"]
    where = "one channel" if channels == 1 else f"{channels} channels of {rows // channels:,}"
    print(f"\n{rows:,} bill lines, {where}; `recon run` exit {run['extra']['exit_code']}, "
          f"{run['extra']['rows']:,} result rows, {run['extra']['discrepancies']:,} discrepancies"
          + (f" (median of {runs}: {', '.join(format(m['wall'], '.1f') for m in runs_out)} s)" if runs > 1 else ""))
    print(f"  {'stage':44} {'wall s':>8} {'peak MiB':>9}")
    total = 0.0
    for name, u in usage.items():
        total += u["seconds"]
        print(f"  {name:44} {u['seconds']:8.2f} {u['peak_mib']:9,}")
    print(f"  {'between stages (fingerprints, bookkeeping)':44} {run['wall'] - total:8.2f}")
    peak = max(run["rss"] / 2**20, run["extra"]["peak_mib"])
    print(f"  {'whole recon run':44} {run['wall']:8.2f} {peak:9,.0f}")
    print("  floors (same run; the operation alone, imports not counted):")
    for key, label in (("read", "bare polars read of the bill CSV"), ("join", "bare DuckDB FULL OUTER JOIN"),
                       ("disc", "join + discrepancies to Parquet")):
        print(f"    {label:42} {floors[key]['wall']:8.2f} {floors[key]['rss'] / 2**20:9,.0f}")
    floor = floors["read"]["wall"] + floors["disc"]["wall"]
    print(f"  whole run / (read + join + discrepancies) floor: {run['wall'] / floor:.1f}x; "
          f"match stage / bare join: {usage.get('*/match', {}).get('seconds', 0) / floors['join']['wall']:.1f}x")
    if rows in GOALS:
        secs, gib = GOALS[rows]
        print(f"  goal: <= {secs:.0f} s and <= {gib:.0f} GiB: wall {'met' if run['wall'] <= secs else 'NOT met'}, "
              f"memory {'met' if peak <= gib * 2**10 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="bill lines (repeatable); default 1,000,000")
    parser.add_argument("--memory", default="2GB", help="DuckDB memory_limit ([match] memory_limit)")
    parser.add_argument("--runs", type=int, default=1, help="recon runs per size; the median is shown")
    parser.add_argument("--channels", type=int, default=1,
                        help="spread the lines over this many WeChat Pay sub-accounts (a statement is capped "
                             "at 512 MiB, about 2.3M lines: a 10M-line day arrives as several)")
    parser.add_argument("--keep", type=Path, help="keep the generated workspaces under this folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "generate":
            start = time.perf_counter()
            generate(args.dir, args.rows[0], args.memory, args.channels)
            print(json.dumps({"wall": time.perf_counter() - start}))
        else:
            child(args.child, args.dir)
        return
    for rows in args.rows or [1_000_000]:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix=f"bench-day-{rows}-", dir=args.keep))
        gen = subprocess.run([sys.executable, __file__, "--child", "generate", "--dir", str(base),
                              "--rows", str(rows), "--memory", args.memory, "--channels", str(args.channels)], check=True, capture_output=True, text=True)
        print(f"{rows:,} lines: generated in {json.loads(gen.stdout.splitlines()[-1])['wall']:.1f} s ({base})")
        bench(rows, base, args.runs, args.channels)
        if args.keep is None:
            shutil.rmtree(base)


if __name__ == "__main__":
    main()
