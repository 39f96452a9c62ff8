"""Payout trace linkage (recon.matching.payout_trace): payouts against a landing window of bank credits.

Prints the time to link N payouts against M credits where half the payouts are named in a credit's
remittance text and the rest fall back to amount and date. Usage: bench_payout_trace.py [N] [M]
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from decimal import Decimal

from recon.matching.layer2_settlement import Payout
from recon.matching.payout_trace import link_payouts


def main(n: int = 500, m: int = 50_000) -> None:
    day = dt.date(2024, 3, 4)
    payouts = [Payout("stripe", "acct", "EUR", f"po_{i:010d}", f"po_{i:010d}", day, day, Decimal(100 + i % 7),
                      Decimal(100 + i % 7), "stripe.csv", i + 2) for i in range(n)]
    credits = [{"channel": "bank", "account": "IBAN", "currency": "EUR", "channel_txn_id": f"B{j}",
                "merchant_txn_id": None, "counterparty": "STRIPE",
                "memo": f"STRIPE PAYOUT PO_{j:010d}" if j < n // 2 else f"INVOICE {j} ORDER {j * 7}",
                "amount": Decimal(100 + j % 7), "value_date": day, "bill_date": day} for j in range(m)]
    start = time.perf_counter()
    links = link_payouts(payouts, credits, lambda p: day)
    took = time.perf_counter() - start
    traced = sum(link.by_trace for link in links.values())
    print(f"payout trace linkage: {n} payouts x {m} credits: {took:.2f} s, {traced} by trace, "
          f"{len(links) - traced} by amount and date")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
