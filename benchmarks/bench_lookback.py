"""Layers 2 and 3 on a late day of a deployment: the look-back range they read, timed.

    .venv/bin/python benchmarks/bench_lookback.py WORKSPACE [--days 14]
    flock /work/team/bench.lock nice .venv/bin/python benchmarks/bench_lookback.py WORKSPACE
    PYTHONPATH=/path/to/other/checkout ... benchmarks/bench_lookback.py WORKSPACE  (another version)

WORKSPACE is one `bench_day.py --keep` left behind (its day parsed and matched once). The first run
turns it into `--days` consecutive days of its channel, the matched day last: each day is that
day's standardized bill under the day's date (bill date and trade times moved), one line in seven
in USD, one in five carrying one of three payout ids, one in 499 failed, plus the payout lines that
settle the day before (the USD one in two pieces, one named payout short); the channel is told its
bills carry payouts, and a bank channel (MT940) gets the credits of those payouts, one unexpected
credit and one reversal a day. Later runs reuse the days. Each run calls `run_layers23` for the
last day as the match stage does and prints its wall time, CPU seconds and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

import polars as pl

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: another checkout wins
BANK = """
[channels.bank]
format = "mt940"
account = "DE00BANK"
"""
SETTLEMENT = """
[channels.wx]
payouts_reported = true
"""
MARK = "bench_lookback.days"


def _day_bill(base: pl.DataFrame, day: dt.date, last: dt.date) -> pl.DataFrame:
    line = pl.col("source_line")
    pid = pl.format("po{}-{}-{}", pl.lit(f"{day:%m%d}"), "currency", (line % 3).cast(pl.String))
    return base.with_columns(
        bill_date=pl.lit(day), trade_time=pl.col("trade_time") - pl.duration(days=(last - day).days),
        currency=pl.when(line % 7 == 0).then(pl.lit("USD")).otherwise("currency"),
        status=pl.when(line % 499 == 0).then(pl.lit("FAILED")).otherwise("status"),
    ).with_columns(payout_id=pl.when(line % 5 == 0).then(pid).otherwise("payout_id"))


def _owed(bill: pl.DataFrame) -> dict[tuple[str, str | None], Decimal]:
    """Net owed for the day: per currency (lines without an id) and per payout id."""
    trades = bill.filter((pl.col("status") == "SUCCESS") & (pl.col("record_type") != "PAYOUT"))
    sums = trades.group_by("currency", "payout_id").agg(pl.col("net_amount").sum())
    return {(r["currency"], r["payout_id"]): r["net_amount"] for r in sums.iter_rows(named=True)}


def _payout_lines(template: pl.DataFrame, paid_for: dt.date, day: dt.date) -> tuple[pl.DataFrame, list[dict]]:
    """The day's payout lines for what `paid_for` owes, and the bank credits they become."""
    owed = _owed(_day_bill(template, paid_for, paid_for))
    pieces: list[tuple[str, str | None, str, Decimal]] = []  # (currency, payout id, line id, amount)
    for (cur, pid), net in sorted(owed.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if pid is None and cur == "USD":
            half = (net / 2).quantize(Decimal("0.01"))
            pieces += [(cur, f"pp{paid_for:%m%d}", f"PO{day:%m%d}U1", half),
                       (cur, f"pp{paid_for:%m%d}", f"PO{day:%m%d}U2", net - half)]
        elif pid is None:
            pieces.append((cur, None, f"PO{day:%m%d}{cur}", net))
        else:
            pieces.append((cur, pid, f"PO{day:%m%d}{pid}", net - (Decimal(1) if pid.endswith("-2") else 0)))
    first = template.head(1)
    rows = [first.with_columns(
        bill_date=pl.lit(day), record_type=pl.lit("PAYOUT"), status=pl.lit("SUCCESS"), currency=pl.lit(cur),
        payout_id=pl.lit(pid, pl.String), channel_txn_id=pl.lit(ref), merchant_txn_id=pl.lit(None, pl.String),
        amount=pl.lit(-amount).cast(first.schema["amount"]), fee=pl.lit(0).cast(first.schema["fee"]),
        net_amount=pl.lit(-amount).cast(first.schema["net_amount"]),
        settle_date=pl.lit(day + dt.timedelta(days=1)), source_line=pl.lit(10_000_000 + i))
        for i, (cur, pid, ref, amount) in enumerate(pieces)]
    credits = [{"payout_id": pid, "ref": ref, "currency": cur, "amount": amount} for cur, pid, ref, amount in pieces]
    return pl.concat(rows), credits


def _bank_bill(template: pl.DataFrame, credits: list[dict], day: dt.date) -> pl.DataFrame:
    first = template.head(1).select(template.columns)
    rows = []
    extra = [{"payout_id": None, "ref": f"X{day:%m%d}", "currency": "CNY", "amount": Decimal("12.34")}]
    for i, c in enumerate(credits + extra):
        rows.append(first.with_columns(
            channel=pl.lit("bank"), account=pl.lit("DE00BANK"), bill_date=pl.lit(day), record_type=pl.lit("PAYMENT"),
            status=pl.lit("SUCCESS"), currency=pl.lit(c["currency"]), channel_txn_id=pl.lit(f"B{day:%m%d}-{i}"),
            amount=pl.lit(c["amount"]).cast(first.schema["amount"]), fee=pl.lit(0).cast(first.schema["fee"]),
            net_amount=pl.lit(c["amount"]).cast(first.schema["net_amount"]), settle_date=pl.lit(day),
            memo=pl.lit(f"PAYOUT {c['payout_id'] or c['ref']}" if i % 2 == 0 else "transfer"),
            payout_id=pl.lit(None, pl.String), source_file=pl.lit(f"raw/bank/{day}.sta"), source_line=pl.lit(i + 1)))
    rows.append(rows[0].with_columns(record_type=pl.lit("ADJUSTMENT"), channel_txn_id=pl.lit(f"B{day:%m%d}-adj")))
    return pl.concat(rows, how="vertical_relaxed")


def build(root: Path, days: int) -> dt.date:
    from jobs.catalog import open_workspace

    ws = open_workspace(root)
    channel = min(set(ws.settings.channels) - {"bank"})
    last = dt.date.fromisoformat(sorted((root / "bills" / channel).glob("*.parquet"))[-1].stem)
    if (root / MARK).exists():
        return last
    base = pl.read_parquet(ws.bill_path(channel, last))
    template = base
    for k in range(days - 1, -1, -1):
        day = last - dt.timedelta(days=k)
        payouts, credits = _payout_lines(template, day - dt.timedelta(days=1), day)
        bill = pl.concat([_day_bill(template, day, last), payouts.select(template.columns).cast(template.schema)])
        bill.write_parquet(root / "bills" / channel / f"{day}.parquet")
        (root / "bills" / "bank").mkdir(exist_ok=True)
        _bank_bill(template, credits, day).cast(template.schema).write_parquet(root / "bills" / "bank" / f"{day}.parquet")
    with (root / "recon.toml").open("a", encoding="utf-8") as config:
        config.write(BANK)
    (root / "rules").mkdir(exist_ok=True)
    (root / "rules" / "settlement.toml").write_text(SETTLEMENT, encoding="utf-8")
    (root / MARK).write_text(str(days), encoding="utf-8")
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    last = build(args.workspace, args.days)

    from jobs.catalog import open_workspace
    from recon.core.positions import positions_at
    from recon.matching.internal_source import internal_totals
    from recon.matching.layers23 import run_layers23

    ws = open_workspace(args.workspace)
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    summary = run_layers23(ws, last, internal=lambda name: internal_totals(ws, name, last, checked=True),
                           positions=positions_at(ws, last))
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"layers 2-3 of {last}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {after.ru_maxrss / 1024:,.0f} MiB "
          f"(before the run {before.ru_maxrss / 1024:,.0f} MiB); kinds {summary.kinds}")


if __name__ == "__main__":
    main()
