"""`recon run --since D1 --until D2 --jobs 2` against the same run one day after another.

    .venv/bin/python benchmarks/bench_jobs.py [--channels 5] [--days 2] [--rows 100000] [--jobs 2]

Builds a workspace of C WeChat Pay channels x D days (10 channel-days by default), each a raw
statement of N lines in a local drop folder and a typed internal export, copied twice. Then runs
the whole pipeline over the range (fetch, parse, layers 1-3, clearing, report) serially and with
`--jobs`, each as the `recon` command, and prints wall time, channel-days/s and whether both wrote
the same results and settlements. The machine's core count bounds the speed-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FIRST = dt.date(2026, 11, 20)
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


def generate(root: Path, channels: int, days: int, rows: int) -> None:
    import polars as pl

    from recon.internal import INTERNAL_COLUMNS
    from tests.synth.wechat import TradeRow, write_bill

    config = ['[defaults]\ntimezone = "Asia/Shanghai"\n']
    (root / "drop").mkdir(parents=True)
    (root / "internal").mkdir()
    for c in range(channels):
        name, account = f"wx{c}", f"19000001{c:02d}"
        config.append(CHANNEL.format(name=name, account=account))
        for d in range(days):
            date = FIRST + dt.timedelta(days=d)
            start = dt.datetime.combine(date, dt.time(0, 30))
            trades = [TradeRow(start + dt.timedelta(seconds=i * 80_000 // rows), f"42{c}{d}{i:010d}", f"M{c}{d}{i:09d}",
                               Decimal(100 + i % 9000) / 100, (Decimal(100 + i % 9000) * 6 / 100_000).quantize(Decimal("0.00001")))
                      for i in range(rows)]
            text = write_bill(trades, account)
            (root / "drop" / f"{name}_{date:%Y%m%d}.csv").write_text(text, encoding="utf-8")
            utc = dt.timezone(dt.timedelta(hours=8))
            internal = pl.DataFrame([{
                "txn_id": f"T{c}{d}{i:09d}", "merchant_id": "MER1", "merchant_order_no": f"O{c}{d}{i}", "channel": name,
                "merchant_txn_id": t.out_trade_no, "channel_txn_id": t.transaction_id, "record_type": "PAYMENT",
                "merchant_refund_id": None, "original_txn_id": None,
                "trade_time": t.local_time.replace(tzinfo=utc).astimezone(dt.timezone.utc), "currency": "CNY",
                "amount": t.amount if i % 997 else t.amount + Decimal("0.01"), "fee": t.fee.quantize(Decimal("0.01")),
                "status": "SUCCESS", "source_file": f"internal/{name}_{date}.parquet", "source_line": i + 2,
            } for i, t in enumerate(trades) if i % 1009 != 7], schema=INTERNAL_COLUMNS, orient="row")
            internal.write_parquet(root / "internal" / f"{name}_{date:%Y-%m-%d}.parquet")
    (root / "recon.toml").write_text("\n".join(config), encoding="utf-8")


def run(root: Path, days: int, jobs: int) -> float:
    recon = str(Path(sys.executable).with_name("recon"))
    last = FIRST + dt.timedelta(days=days - 1)
    start = time.perf_counter()
    done = subprocess.run([recon, "run", "--since", str(FIRST), "--until", str(last), "--jobs", str(jobs),
                           "--quiet", "-w", str(root)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"recon run --jobs {jobs} exited {done.returncode}: {done.stderr[-2000:]}")
    return wall


def outputs(root: Path) -> dict[str, bytes]:
    found = sorted([*root.glob("results/*/*.parquet"), *root.glob("clearing/*/*.csv")])
    return {str(p.relative_to(root)): p.read_bytes() for p in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--rows", type=int, default=100_000, help="statement lines per channel-day")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    try:
        start = time.perf_counter()
        generate(base / "serial", args.channels, args.days, args.rows)
        shutil.copytree(base / "serial", base / "parallel")
        units = args.channels * args.days
        print(f"{units} channel-days ({args.channels} channels x {args.days} days), {args.rows:,} lines each: "
              f"generated in {time.perf_counter() - start:.1f} s")
        serial = run(base / "serial", args.days, 1)
        parallel = run(base / "parallel", args.days, args.jobs)
        for name, wall in (("serial (--jobs 1)", serial), (f"--jobs {args.jobs}", parallel)):
            print(f"  {name:18} wall {wall:7.2f} s  {units / wall:6.2f} channel-days/s  "
                  f"{units * args.rows / wall:10,.0f} lines/s")
        same = outputs(base / "serial") == outputs(base / "parallel")
        print(f"  speed-up: {serial / parallel:.2f}x   same results and settlements: {same}")
        if not same:
            raise SystemExit("--jobs changed the outputs")
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
