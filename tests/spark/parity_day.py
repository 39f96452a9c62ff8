"""Two generated days that give every layer-1 outcome, for the DuckDB/Spark parity test.

Day 1 has ordinary payments and refunds with one fault of each kind injected, a 1:N group, N:M
batches (one adding up, one not), 26-digit
amounts, both sides of the amount and fee tolerance edges, duplicates on both sides, a channel
serial with a prefix (id variant), a pair with no reference (SUGGESTED), pairs settled in another
currency (through a rate: MATCHED and FX_MISMATCH) and rows near midnight (PENDING). Day 2 brings one
of those rows in (AUTO_RESOLVED) and leaves another missing past its wait (CHANNEL_ONLY, carried).
Rules: `RULES` (group keys, a prefix variant, tolerances).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal as D

from recon.config.ruleset import IdVariant, MatchRules
from tests.matching.factory import KINDS, _ours, _theirs, inject

D1, D2 = dt.date(2024, 5, 1), dt.date(2024, 5, 2)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
BIG = D("12345678901234567890123456.120000")  # 26 digits before the point, six after (our side is exact at CNY cents)
RULES = MatchRules(
    group_key="merchant_txn_id", our_group_key="merchant_order_no", their_group_key="payout_id",
    amount_tolerance=D("0.01"), fee_tolerance_rel=D("0.000000001"),
    id_variants=(IdVariant(name="wx-prefix", strip_prefix="WX"),),
)


def local(day: dt.date, hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=SHANGHAI).astimezone(dt.timezone.utc)


def _pair(ours, theirs, tag, amount, time, *, their_amount=None, fee=D("0"), their_fee=None):
    mtx = f"M{tag}"
    ours.append(_ours(len(ours), mtx, None, "PAYMENT", None, amount, fee, time))
    theirs.append(_theirs(f"C{tag}", mtx, "PAYMENT", None, None,
                          amount if their_amount is None else their_amount,
                          fee if their_fee is None else their_fee, time))


def day_one(n: int = 60, seed: int = 11) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    ours: list[dict] = []
    theirs: list[dict] = []
    for i in range(n):
        amount = D(i + 1) + D(rng.randint(0, 99)) / 100
        time = local(D1, 1, 0) + dt.timedelta(seconds=rng.randint(0, 20 * 3600))
        _pair(ours, theirs, f"{i:05d}", amount, time, fee=(amount * D("0.006")).quantize(D("0.01")))
        if i % 7 == 0:  # a partial refund of that payment
            part = -(amount / 4).quantize(D("0.01"))
            ours.append(_ours(len(ours), f"M{i:05d}", None, "REFUND", f"R{i:05d}", part, D(0), time))
            theirs.append(_theirs(f"C{i:05d}", f"M{i:05d}", "REFUND", f"CR{i:05d}", f"R{i:05d}", part, D(0), time))
    for kind in KINDS:
        inject(ours, theirs, kind, 2, seed + len(kind))
    noon = local(D1, 12, 0)
    _pair(ours, theirs, "DUPO", D("66.60"), noon)
    ours.append({**ours[-1], "txn_id": "TDUPO"})  # our export holds that payment twice
    _pair(ours, theirs, "BIG1", BIG, noon)
    _pair(ours, theirs, "BIG2", BIG, noon, their_amount=BIG + 1)
    _pair(ours, theirs, "TOL1", D("100.00"), noon, their_amount=D("100.01"))  # exactly on the edge: MATCHED
    _pair(ours, theirs, "TOL2", D("100.00"), noon, their_amount=D("100.010001"))  # just past: AMOUNT_MISMATCH
    # fee 1500 x 0.000000001 = 0.0000015: 0.000001 off is within, 0.000002 off is not
    _pair(ours, theirs, "FEE1", D("9000"), noon, fee=D("1500"), their_fee=D("1500.000001"))
    _pair(ours, theirs, "FEE2", D("9001"), noon, fee=D("1500"), their_fee=D("1500.000002"))
    # settled in EUR: through the rates file's CNY->EUR 0.138 (test_parity), within 0.01 and beyond
    for tag, their_amount in (("FX1", D("13.81")), ("FX2", D("13.90"))):
        _pair(ours, theirs, tag, D("100.00"), noon, their_amount=their_amount)
        theirs[-1]["currency"] = "EUR"
    # 1:N: one order of ours settled as three channel lines under the same order number
    ours.append(_ours(len(ours), "MGRP", None, "PAYMENT", None, D("300.30"), D("0"), noon))
    for part in range(3):
        theirs.append(_theirs(f"CGRP{part}", "MGRP", "PAYMENT", None, None, D("100.10"), D("0"), noon))
    # N:M: batches of ours (merchant_order_no) against the channel's settlement batches (payout_id):
    # NM1 (2 rows against 4 lines) adds up, NM2 (2 rows against 1 line) is 0.02 off, past the tolerance
    for batch, mine, lines in (("NM1", ("40.00", "60.00"), ("10.00", "20.00", "30.00", "40.00")),
                               ("NM2", ("12.34", "56.78"), ("69.14",))):
        for k, amount in enumerate(mine):
            ours.append({**_ours(len(ours), f"M{batch}{k}", None, "PAYMENT", None, D(amount), D("0"), noon),
                         "merchant_order_no": batch})
        for k, amount in enumerate(lines):
            theirs.append({**_theirs(f"C{batch}{k}", None, "PAYMENT", None, None, D(amount), D("0"), noon),
                           "payout_id": batch})
    # the channel prefixes our serial: paired by the id variant
    ours.append(_ours(len(ours), "MVAR1", None, "PAYMENT", None, D("55.55"), D("0"), noon))
    theirs.append(_theirs("CVAR1", "WXMVAR1", "PAYMENT", None, None, D("55.55"), D("0"), noon))
    # no usable reference on the channel's side: a suggestion
    ours.append(_ours(len(ours), "MSUG1", None, "PAYMENT", None, D("77.70"), D("0"), local(D1, 15, 0)))
    theirs.append(_theirs("CSUG1", None, "PAYMENT", None, None, D("77.70"), D("0"), local(D1, 15, 4)))
    # near midnight, not in today's bill: PENDING (ours comes in tomorrow; theirs never)
    ours.append(_ours(len(ours), "MLATE1", None, "PAYMENT", None, D("88.80"), D("0"), local(D1, 23, 58)))
    theirs.append(_theirs("CLATE2", "MLATE2", "PAYMENT", None, None, D("99.90"), D("0"), local(D1, 23, 57)))
    return _lines(ours, theirs)


def day_two() -> tuple[list[dict], list[dict]]:
    ours: list[dict] = []
    theirs: list[dict] = []
    for i in range(5):
        _pair(ours, theirs, f"N{i:04d}", D(10 + i), local(D2, 9, i))
    # yesterday's late payment of ours, in today's bill with yesterday's time
    theirs.append(_theirs("CLATE1", "MLATE1", "PAYMENT", None, None, D("88.80"), D("0"), local(D1, 23, 58)))
    return _lines(ours, theirs)


def _lines(ours: list[dict], theirs: list[dict]) -> tuple[list[dict], list[dict]]:
    for line, row in enumerate(ours, start=2):
        row["source_line"] = line
    for line, row in enumerate(theirs, start=2):
        row["source_line"] = line
    return ours, theirs
