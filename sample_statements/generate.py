"""Regenerate the demo's sample statements (deterministic; the output is committed).

    .venv/bin/python sample_statements/generate.py

Writes sample_statements/wechat/wechat_<YYYYMMDD>.csv (WeChat Pay ALL bills, CRLF on one day as
real captures vary), sample_statements/internal/wechat_<YYYY-MM-DD>.csv (our export) and
sample_statements/expected/wechat_outcomes.csv (the injected discrepancies); then, from the same
trades (tests.synth.demo_cash), the fund-flow bills wechat_fundflow/fundflow_1900000109_<YYYYMMDD>.csv,
the bank statements bank/icbc_cny_<YYYYMMDD>.mt940, the treasury's bookings
internal/treasury_bookings.jsonl and the expected layer-3 results expected/cash_outcomes.csv.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.synth import demo_cash, demo_scenario  # noqa: E402
from tests.synth.wechat import write_bill  # noqa: E402


def main() -> None:
    days = demo_scenario.build()
    for index, (date, (bill, internal)) in enumerate(days.items()):
        bill_sorted = sorted(bill, key=lambda r: (r.local_time, r.transaction_id, r.refund_id))
        text = write_bill(bill_sorted, demo_scenario.MCH_ID, crlf=index == 1)
        (HERE / "wechat" / f"wechat_{date:%Y%m%d}.csv").write_bytes(text.encode("utf-8"))
        with open(HERE / "internal" / f"wechat_{date:%Y-%m-%d}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=demo_scenario.INTERNAL_HEADER)
            writer.writeheader()
            writer.writerows(sorted(internal, key=lambda r: (r["trade_time"], r["txn_id"])))  # as a system exports: in time order
    with open(HERE / "expected" / "wechat_outcomes.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(("business_date", "outcome", "key"))
        writer.writerows(demo_scenario.EXPECTED)
    fundflow, statements, bookings, expected = demo_cash.build(days)
    for date, text in fundflow.items():
        (HERE / "wechat_fundflow" / f"fundflow_{demo_scenario.MCH_ID}_{date:%Y%m%d}.csv").write_bytes(text.encode("utf-8"))
    for date, statement in statements.items():
        (HERE / "bank" / f"icbc_cny_{date:%Y%m%d}.mt940").write_bytes(demo_cash.mt940_text(statement).encode("ascii"))
    (HERE / "internal" / "treasury_bookings.jsonl").write_text(demo_cash.bookings_jsonl(bookings), encoding="utf-8")
    with open(HERE / "expected" / "cash_outcomes.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(("business_date", "kind", "key", "our_amount", "their_amount"))
        writer.writerows(expected)


if __name__ == "__main__":
    main()
