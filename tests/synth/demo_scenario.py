"""The demo's three days: WeChat Pay bills and our internal export, with known discrepancies.

Each day has ordinary payments and refunds that match exactly, plus injected discrepancies whose
expected outcome is recorded in `EXPECTED` (and written to sample_statements/expected/), so tests
can prove that `recon match` finds exactly these and nothing else:

- 11-20: one of each layer-1 kind (CHANNEL_ONLY, LOCAL_ONLY, AMOUNT_MISMATCH, STATUS_MISMATCH,
  FEE_MISMATCH, and a DUPLICATE: the channel booked one of our serials twice) and a payment at 23:59:58 that the channel books on 11-21 (PENDING,
  then AUTO_RESOLVED on 11-21);
- 11-21: a partial refund recorded with the wrong amount, a refund only the channel has;
- 11-22: a payment at 23:59:40 that is still PENDING when the demo ends.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from tests.synth.wechat import TradeRow

ZONE = ZoneInfo("Asia/Shanghai")
MCH_ID = "1900000109"
MERCHANTS = ("M1001", "M1002", "M1003")
DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22))
RATE = Decimal("0.006")
CENT = Decimal("0.01")

INTERNAL_HEADER = ("txn_id", "merchant_id", "merchant_order_no", "channel", "merchant_txn_id", "channel_txn_id",
                   "record_type", "merchant_refund_id", "original_txn_id", "trade_time", "currency", "amount",
                   "fee", "status")


def fee_of(amount: Decimal) -> Decimal:
    return (amount * RATE).quantize(CENT, rounding=ROUND_HALF_UP)


class _Day:
    """Accumulates both sides of one day; ids are deterministic from the date and a counter."""

    def __init__(self, date: dt.date, rng: random.Random) -> None:
        self.date, self.rng, self.seq = date, rng, 0
        self.bill: list[TradeRow] = []
        self.internal: list[dict[str, str]] = []

    def ids(self) -> tuple[str, str, str]:
        self.seq += 1
        d = self.date.strftime("%Y%m%d")
        return f"T{d}{self.seq:05d}", f"S{d}{self.seq:05d}", f"42000{d}{self.seq:015d}"

    def at(self, hour: int, minute: int, second: int, day_offset: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.date + dt.timedelta(days=day_offset), dt.time(hour, minute, second), ZONE)

    def ours(self, txn_id: str, serial: str, channel_id: str | None, when: dt.datetime, amount: Decimal, *,
             record_type: str = "PAYMENT", refund_id: str = "", original: str = "", status: str = "SUCCESS",
             fee: Decimal | None = None) -> None:
        self.internal.append({
            "txn_id": txn_id, "merchant_id": MERCHANTS[sum(map(ord, serial)) % len(MERCHANTS)],
            "merchant_order_no": "ORD-" + serial[1:], "channel": "wechat", "merchant_txn_id": serial,
            "channel_txn_id": channel_id or "", "record_type": record_type, "merchant_refund_id": refund_id,
            "original_txn_id": original, "trade_time": when.isoformat(), "currency": "CNY",
            "amount": f"{amount:.2f}", "fee": f"{(fee if fee is not None else fee_of(abs(amount)) * (1 if amount > 0 else -1)):.2f}",
            "status": status,
        })

    def txn_of(self, serial: str) -> str:
        """Our txn_id of the payment sent to the channel as `serial` (a refund's original_txn_id)."""
        return next(r["txn_id"] for r in self.internal if r["merchant_txn_id"] == serial and r["record_type"] == "PAYMENT")

    def payment(self, *, when: dt.datetime | None = None, amount: Decimal | None = None) -> tuple[str, str, str, Decimal, dt.datetime]:
        txn, serial, chan = self.ids()
        amount = amount or Decimal(self.rng.randint(100, 99_999)) / 100
        when = when or self.at(self.rng.randint(8, 22), self.rng.randint(0, 59), self.rng.randint(0, 59))
        return txn, serial, chan, amount, when


def build(seed: int = 20261120) -> dict[dt.date, tuple[list[TradeRow], list[dict[str, str]]]]:
    rng = random.Random(seed)
    days = {d: _Day(d, rng) for d in DAYS}
    for day in days.values():
        for _ in range(30):  # ordinary payments, both sides agree
            txn, serial, chan, amount, when = day.payment()
            day.bill.append(TradeRow(when, chan, serial, amount, fee_of(amount)))
            day.ours(txn, serial, chan, when, amount)
        for i in range(3):  # ordinary refunds of earlier payments of the day
            ref = day.bill[i * 5]
            refund = (ref.amount / 2).quantize(CENT)
            rid, ours_rid = f"50{ref.transaction_id[5:]}{i:02d}", f"R{ref.out_trade_no[1:]}{i}"
            when = ref.local_time + dt.timedelta(minutes=30)
            day.bill.append(TradeRow(when, ref.transaction_id, ref.out_trade_no, Decimal("0.00"), -fee_of(refund),
                                     state="REFUND", refund_id=rid, out_refund_no=ours_rid, refund_amount=refund,
                                     refund_status="SUCCESS"))
            day.ours(f"F{ours_rid[1:]}", ref.out_trade_no, ref.transaction_id, when, -refund,
                     record_type="REFUND", refund_id=ours_rid, original=day.txn_of(ref.out_trade_no))
    _inject(days)
    return {d: (day.bill, day.internal) for d, day in days.items()}


# (date, outcome, key): key is merchant_txn_id for payments, merchant_refund_id / channel refund id for refunds
EXPECTED: list[tuple[str, str, str]] = []


def _inject(days: dict[dt.date, _Day]) -> None:
    EXPECTED.clear()
    d1, d2, d3 = (days[d] for d in DAYS)

    txn, serial, chan, amount, when = d1.payment()
    d1.bill.append(TradeRow(when, chan, serial, amount, fee_of(amount)))
    EXPECTED.append(("2026-11-20", "CHANNEL_ONLY", serial))

    txn, serial, chan, amount, when = d1.payment(when=d1.at(14, 0, 0))
    d1.ours(txn, serial, chan, when, amount)
    EXPECTED.append(("2026-11-20", "LOCAL_ONLY", serial))

    txn, serial, chan, amount, when = d1.payment(amount=Decimal("100.00"))
    d1.bill.append(TradeRow(when, chan, serial, Decimal("99.90"), fee_of(Decimal("99.90"))))
    d1.ours(txn, serial, chan, when, amount, fee=fee_of(Decimal("99.90")))
    EXPECTED.append(("2026-11-20", "AMOUNT_MISMATCH", serial))

    txn, serial, chan, amount, when = d1.payment()
    d1.bill.append(TradeRow(when, chan, serial, amount, fee_of(amount)))
    d1.ours(txn, serial, chan, when, amount, status="FAILED")
    EXPECTED.append(("2026-11-20", "STATUS_MISMATCH", serial))

    txn, serial, chan, amount, when = d1.payment(amount=Decimal("110.00"))
    d1.bill.append(TradeRow(when, chan, serial, amount, Decimal("0.77")))
    d1.ours(txn, serial, chan, when, amount)
    EXPECTED.append(("2026-11-20", "FEE_MISMATCH", serial))

    txn, serial, chan, amount, when = d1.payment()
    d1.bill.append(TradeRow(when, chan, serial, amount, fee_of(amount)))
    # the channel booked our serial twice under two of its own serials (a retried charge)
    d1.bill.append(TradeRow(when + dt.timedelta(seconds=3), chan[:-1] + "9", serial, amount, fee_of(amount)))
    d1.ours(txn, serial, chan, when, amount)
    EXPECTED.append(("2026-11-20", "DUPLICATE", serial))

    txn, serial, chan, amount, when = d1.payment(when=d1.at(23, 59, 58))
    d1.ours(txn, serial, chan, when, amount)
    d2.bill.append(TradeRow(d1.at(0, 0, 2, day_offset=1), chan, serial, amount, fee_of(amount)))
    EXPECTED.append(("2026-11-20", "PENDING", serial))
    EXPECTED.append(("2026-11-21", "AUTO_RESOLVED", serial))

    ref = d2.bill[10]
    rid, ours_rid = f"50{ref.transaction_id[5:]}77", f"R{ref.out_trade_no[1:]}7"
    when = ref.local_time + dt.timedelta(minutes=5)
    d2.bill.append(TradeRow(when, ref.transaction_id, ref.out_trade_no, Decimal("0.00"), -fee_of(Decimal("20.00")),
                            state="REFUND", refund_id=rid, out_refund_no=ours_rid, refund_amount=Decimal("20.00"),
                            refund_status="SUCCESS"))
    d2.ours(f"F{ours_rid[1:]}", ref.out_trade_no, ref.transaction_id, when, Decimal("-25.00"),
            record_type="REFUND", refund_id=ours_rid, original=d2.txn_of(ref.out_trade_no), fee=-fee_of(Decimal("20.00")))
    EXPECTED.append(("2026-11-21", "AMOUNT_MISMATCH", ours_rid))

    ref = d2.bill[12]
    rid, ours_rid = f"50{ref.transaction_id[5:]}88", f"R{ref.out_trade_no[1:]}8"
    d2.bill.append(TradeRow(ref.local_time + dt.timedelta(minutes=9), ref.transaction_id, ref.out_trade_no,
                            Decimal("0.00"), -fee_of(Decimal("5.00")), state="REFUND", refund_id=rid,
                            out_refund_no=ours_rid, refund_amount=Decimal("5.00"), refund_status="SUCCESS"))
    EXPECTED.append(("2026-11-21", "CHANNEL_ONLY", ours_rid))

    txn, serial, chan, amount, when = d3.payment(when=d3.at(23, 59, 40))
    d3.ours(txn, serial, chan, when, amount)
    EXPECTED.append(("2026-11-22", "PENDING", serial))
