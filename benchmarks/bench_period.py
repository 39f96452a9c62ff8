"""Benchmark: the period report (`recon report --since --until`) over a month of stored days.

Writes `--days` days (default 30) of layer-1 results with `--rows` lines each (default 20,000;
one line in ten a discrepancy, three channels) plus a layer-2 file per day, then times the period
workbook and prints its wall time, CPU seconds, peak RSS and size. The queue is left empty: the
open-items sheet is sized by the queue, which `bench_report.py`'s scale covers. Run once:
`.venv/bin/python benchmarks/bench_period.py`. With `--workspace DIR` the days are written to DIR
and kept; a second run on DIR writes nothing and times the report alone (its peak RSS is the
report's own), so two versions of recon can be timed on the same days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "queue"))
START = dt.date(2025, 3, 1)
OUTCOMES = ("MATCHED",) * 9 + ("AMOUNT_MISMATCH", "LOCAL_ONLY", "CHANNEL_ONLY", "PENDING", "FEE_MISMATCH")


def write_days(ws, days: int, rows: int) -> None:
    from layers import GENERIC_SCHEMA, LAYER1_SCHEMA, generic

    for d in range(days):
        day = START + dt.timedelta(days=d)
        outcomes = [OUTCOMES[(i + d) % len(OUTCOMES)] for i in range(rows)]
        amounts = [Decimal(10_000 + i) / 100 for i in range(rows)]
        frame = pl.DataFrame({
            "business_date": [day] * rows, "channel": [("wechat", "alipay", "unionpay")[i % 3] for i in range(rows)],
            "account": ["1900000109"] * rows, "outcome": outcomes, "match_key": [f"k{d}-{i}" for i in range(rows)],
            "our_currency": ["CNY"] * rows, "our_amount": amounts, "their_currency": ["CNY"] * rows,
            "their_amount": [a + (Decimal("0.01") if o == "AMOUNT_MISMATCH" else 0) for a, o in zip(amounts, outcomes)],
        }).with_columns(diff_amount=pl.col("their_amount") - pl.col("our_amount"))
        frame = frame.select(pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                             for c, t in LAYER1_SCHEMA.items())
        path = ws.results_dir(day) / "layer1.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
        bill = [generic("BILL_OK", f"{c}:bill", "100.00", "100.00", day=day, channel=c) for c in ("wechat", "alipay")]
        bill.append(generic("SETTLEMENT_SHORT", "wechat:settle", "1000.00", "990.00", day=day))
        pl.DataFrame(bill, schema=GENERIC_SCHEMA, orient="row").write_parquet(ws.results_dir(day) / "layer2.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--workspace", type=Path, help="write the days here and keep them; reused when present")
    args = parser.parse_args()
    if args.workspace is None:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp) / "ws", args.days, args.rows)
    else:
        run(args.workspace, args.days, args.rows)


def run(root: Path, days: int, rows: int) -> None:
    from layers import make_ws

    from jobs.catalog import open_workspace
    from recon.report.period_workbook import write_period_report

    if (root / "recon.toml").exists():
        ws = open_workspace(root)
    else:
        ws = make_ws(root)
        write_days(ws, days, rows)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = write_period_report(ws, START, START + dt.timedelta(days=days - 1))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"days": days, "rows_per_day": rows, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                      "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
                      "rss_before_mb": round(before.ru_maxrss / 1024, 1),
                      "size_kb": round(result.path.stat().st_size / 1024, 1), "path": str(result.path),
                      "sheets": list(result.sheets)}))


if __name__ == "__main__":
    main()
