"""Cross-check against an independent oracle: the key passes, duplicates and comparisons written as
plain Python loops over dicts, compared with the SQL engine row for row on generated days."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from recon.matching.layer1 import match_frames
from recon.config.ruleset import MatchRules
from tests.matching.factory import DAY, KINDS, clean_day, frames, inject

RULES = MatchRules(passes=("key",))  # the oracle knows exact keys only


def oracle(ours: list[dict], theirs: list[dict]) -> dict[tuple, str]:
    """{(our line or None, their line or None): outcome}, by the rules written out longhand."""
    ours = sorted((r for r in ours if not r.get("_drop")), key=lambda r: r["source_line"])
    theirs = sorted((r for r in theirs if not r.get("_drop")), key=lambda r: r["source_line"])
    result: dict[tuple, str] = {}
    seen: dict[tuple, int] = {}
    free_o, free_t = [], []
    for row in ours:
        ident = (row["record_type"], row["merchant_refund_id"] if row["record_type"] == "REFUND" else row["merchant_txn_id"])
        if ident in seen:
            result[(row["source_line"], None)] = "DUPLICATE"
        else:
            seen[ident] = 1
            free_o.append(row)
    seen = {}
    for row in theirs:
        ident = (row["record_type"], row["channel_refund_id"] if row["record_type"] == "REFUND" else row["channel_txn_id"])
        if ident in seen:
            result[(None, row["source_line"])] = "DUPLICATE"
        else:
            seen[ident] = 1
            free_t.append(row)
    passes = [(k, False) for k in RULES.keys] + [(k, True) for k in RULES.refund_keys]
    for key, refunds in passes:
        def our_value(r):
            return r["channel_txn_id"] if key == "channel_refund_id" else r[key]
        cls_o = [r for r in free_o if (r["record_type"] == "REFUND") == refunds and our_value(r) is not None]
        cls_t = [r for r in free_t if (r["record_type"] == "REFUND") == refunds and r[key] is not None]
        for a in cls_o:
            same_o = [x for x in cls_o if x["record_type"] == a["record_type"] and our_value(x) == our_value(a)]
            same_t = [b for b in cls_t if b["record_type"] == a["record_type"] and b[key] == our_value(a)]
            if len(same_o) == 1 and len(same_t) == 1 and same_t[0] in free_t and a in free_o:
                b = same_t[0]
                result[(a["source_line"], b["source_line"])] = compare(a, b)
                free_o.remove(a)
                free_t.remove(b)
    for a in free_o:
        result[(a["source_line"], None)] = "LOCAL_ONLY"
    for b in free_t:
        result[(None, b["source_line"])] = "CHANNEL_ONLY"
    return result


def compare(a: dict, b: dict) -> str:
    if a["currency"] != b["currency"]:
        return "CURRENCY_MISMATCH"
    if abs(b["amount"] - a["amount"]) > Decimal(0):
        return "AMOUNT_MISMATCH"
    if a["status"] != b["status"]:
        return "STATUS_MISMATCH"
    if abs(b["fee"] - a["fee"]) > Decimal(0):
        return "FEE_MISMATCH"
    return "MATCHED"


@pytest.mark.parametrize("seed", range(6))
def test_engine_agrees_with_the_oracle_row_for_row(seed):
    rng = random.Random(seed)
    ours, theirs = clean_day(rng.randint(40, 80), seed)
    for i, kind in enumerate(rng.sample(sorted(KINDS), 4)):
        inject(ours, theirs, kind, rng.randint(1, 3), seed * 10 + i)
    for row in rng.sample(ours, 3):  # some channel serials unknown to us, so the first key must do
        row["channel_txn_id"] = None
    bill, internal = frames(ours, theirs)
    results = match_frames(bill, internal, RULES, DAY, channel="wx", zone="Asia/Shanghai")
    got = {(r["our_source_line"], r["their_source_line"]): r["outcome"] for r in results.iter_rows(named=True)}
    assert got == oracle(ours, theirs)
