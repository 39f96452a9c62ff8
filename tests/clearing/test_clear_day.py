"""Worked examples of `clear_day`: every figure below is computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from clearing_support import detail, make_ws, resolve, settlements, txn, write_layer1

from recon.clearing import clear_day
from recon.core.ledger import balances, trial_balance
from recon.store.engine import open_store
from recon.store.tables.core import entries

RULES = '''
name = "clearing"
version = "test"

# M-TIER: 1% until 1,000.00 CNY of month-to-date volume, 0.5% from there.
[fees.tier]
merchant = "M-TIER"
currency = "CNY"
record_types = ["PAYMENT"]
kind = "tiered"
tiers = [{ from = "0", percent = "1" }, { from = "1000.00", percent = "0.5" }]
rounding = "half_up"
round_at = "transaction"

# M-CAP: 1%, at least 0.50, at most 5.00.
[fees.capped]
merchant = "M-CAP"
currency = "CNY"
record_types = ["PAYMENT"]
kind = "percent"
percent = "1"
min = "0.50"
max = "5.00"
rounding = "half_up"
round_at = "transaction"

# M-SPLIT: no fee; platform and partner 25% each, rounded down, leftover cent to the platform.
[fees.split-free]
merchant = "M-SPLIT"
currency = "CNY"
record_types = ["PAYMENT"]
kind = "none"
rounding = "half_up"
round_at = "transaction"

[splits.three-way]
merchant = "M-SPLIT"
shares = [{ party = "platform", percent = "25" }, { party = "partner", percent = "25" }]
remainder_to = "platform"
rounding = "down"

# Any merchant in JPY or KWD, and M-REF in CNY: 0.6%, half-up; M-REF's refunds return the fee.
[fees.default-pay]
merchant = "*"
record_types = ["PAYMENT"]
currency = "JPY"
kind = "percent"
percent = "0.6"
rounding = "half_up"
round_at = "transaction"

[fees.default-pay-kwd]
record_types = ["PAYMENT"]
currency = "KWD"
kind = "percent"
percent = "0.6"
rounding = "half_up"
round_at = "transaction"

[fees.ref-pay]
merchant = "M-REF"
currency = "CNY"
record_types = ["PAYMENT"]
kind = "percent"
percent = "0.6"
rounding = "half_up"
round_at = "transaction"

[fees.ref-refund]
merchant = "M-REF"
currency = "CNY"
record_types = ["REFUND"]
kind = "percent"
percent = "0.6"
direction = "return"
rounding = "half_up"
round_at = "transaction"
'''

D1 = dt.date(2025, 3, 1)
D2 = dt.date(2025, 3, 2)
D3 = dt.date(2025, 3, 3)
D4 = dt.date(2025, 3, 4)
SHANGHAI_NOON = dt.time(4, 0)  # 12:00 in Asia/Shanghai, in UTC


@pytest.fixture()
def ws(tmp_path):
    return make_ws(tmp_path / "ws", RULES)


def row_of(rows, merchant, currency="CNY"):
    return next(r for r in rows if r["merchant_id"] == merchant and r["currency"] == currency)


def test_tiered_fee_crossing_the_tier_mid_month(ws):
    write_layer1(ws, D1, [txn("t0", "M-TIER", "900.00", day=D1)])
    clear_day(ws, D1)
    # Day 1: volume 900.00 < 1000.00 -> 1%: 9.00.
    assert detail(ws, D1, "M-TIER")["t0"]["fee"] == "9.00"
    write_layer1(ws, D2, [txn("t1", "M-TIER", "50.00", day=D2, minute=1),
                          txn("t2", "M-TIER", "100.00", day=D2, minute=2),
                          txn("t3", "M-TIER", "200.00", day=D2, minute=3)])
    clear_day(ws, D2)
    fees = {k: r["fee"] for k, r in detail(ws, D2, "M-TIER").items()}
    # t1: volume 950.00 -> 1% of 50.00 = 0.50; t2 crosses: 1050.00 -> 0.5% of 100.00 = 0.50;
    # t3: 1250.00 -> 0.5% of 200.00 = 1.00.
    assert fees == {"t1": "0.50", "t2": "0.50", "t3": "1.00"}
    assert row_of(settlements(ws, D2), "M-TIER") == {
        "merchant_id": "M-TIER", "currency": "CNY", "gross": "350.00", "refunds": "0.00", "fees": "2.00",
        "splits": "0.00", "held": "0.00", "net_payable": "348.00"}


def test_min_max_fee_split_cent_jpy_kwd_and_refund_returning_fee(ws):
    write_layer1(ws, D1, [
        txn("c1", "M-CAP", "10.00", day=D1), txn("c2", "M-CAP", "1000.00", day=D1),
        txn("c3", "M-CAP", "200.00", day=D1),
        txn("s1", "M-SPLIT", "100.01", day=D1),
        txn("j1", "M-JPY", "1234", day=D1, currency="JPY"),
        txn("k1", "M-KWD", "12.345", day=D1, currency="KWD"),
        txn("r1", "M-REF", "100.00", day=D1), txn("r2", "M-REF", "-40.00", day=D1, record_type="REFUND"),
    ])
    summary = clear_day(ws, D1)
    rows = settlements(ws, D1)
    # 1% of 10.00 = 0.10 -> min 0.50; of 1000.00 = 10.00 -> max 5.00; of 200.00 = 2.00. Fees 7.50.
    cap = detail(ws, D1, "M-CAP")
    assert [cap[t]["fee"] for t in ("c1", "c2", "c3")] == ["0.50", "5.00", "2.00"]
    assert row_of(rows, "M-CAP")["fees"] == "7.50" and row_of(rows, "M-CAP")["net_payable"] == "1202.50"
    # 100.01: merchant 50% = 50.005 -> 50.00; platform 25.0025 -> 25.00; partner 25.00;
    # 100.01 - 100.00 = 0.01 left over -> platform 25.01. splits 50.01, net payable 50.00.
    s1 = detail(ws, D1, "M-SPLIT")["s1"]
    assert (s1["split_detail"], s1["splits"], s1["net_payable"]) == ("platform=25.01;partner=25.00", "50.01", "50.00")
    # JPY has no minor unit: 0.6% of 1234 = 7.404 -> 7; net 1227.
    assert row_of(rows, "M-JPY", "JPY") == {"merchant_id": "M-JPY", "currency": "JPY", "gross": "1234",
                                            "refunds": "0", "fees": "7", "splits": "0", "held": "0",
                                            "net_payable": "1227"}
    # KWD has three decimals: 0.6% of 12.345 = 0.07407 -> 0.074; net 12.271.
    assert row_of(rows, "M-KWD", "KWD")["fees"] == "0.074" and row_of(rows, "M-KWD", "KWD")["net_payable"] == "12.271"
    # Payment 100.00 pays 0.60; refund of 40.00 gets 0.24 back: fees 0.36, net 60.00 - 0.36 = 59.64.
    assert row_of(rows, "M-REF") == {"merchant_id": "M-REF", "currency": "CNY", "gross": "60.00",
                                     "refunds": "-40.00", "fees": "0.36", "splits": "0.00", "held": "0.00",
                                     "net_payable": "59.64"}
    assert [r["merchant_id"] for r in rows] == ["M-CAP", "M-JPY", "M-KWD", "M-REF", "M-SPLIT"]
    engine = open_store(ws.store_url())
    assert trial_balance(engine).balanced
    assert {b.account: b.balance for b in balances(engine, "liabilities:split")} == {
        "liabilities:split:partner:M-SPLIT": Decimal("-25.00"), "liabilities:split:platform:M-SPLIT": Decimal("-25.01")}
    assert {b.account: b.balance for b in balances(engine, "income:merchant-fee:M-REF")} == {
        "income:merchant-fee:M-REF": Decimal("-0.36")}
    assert len(summary.posted) == 5 and not summary.reversed
    # The same day again posts nothing and writes the same files.
    before = (ws.clearing_dir(D1) / "settlements.csv").read_bytes()
    again = clear_day(ws, D1)
    assert (again.posted, again.reversed, len(again.unchanged)) == ((), (), 5)
    assert (ws.clearing_dir(D1) / "settlements.csv").read_bytes() == before


def test_held_transaction_released_two_days_later(ws):
    write_layer1(ws, D1, [txn("h1", "M-REF", "200.00", day=D1, outcome="LOCAL_ONLY"),
                          txn("p1", "M-REF", "50.00", day=D1)])
    clear_day(ws, D1)
    # p1 clears (fee 0.30); h1 is held: gross 250.00 = 49.70 + 0.30 + 0 + 200.00.
    assert row_of(settlements(ws, D1), "M-REF") == {
        "merchant_id": "M-REF", "currency": "CNY", "gross": "250.00", "refunds": "0.00", "fees": "0.30",
        "splits": "0.00", "held": "200.00", "net_payable": "49.70"}
    write_layer1(ws, D2, [])
    assert clear_day(ws, D2).settlements == ()
    resolve(ws, "h1", dt.datetime.combine(D3, SHANGHAI_NOON, dt.UTC))
    write_layer1(ws, D3, [txn("q1", "M-REF", "10.00", day=D3)])
    summary = clear_day(ws, D3)
    # Released on D3: its gross was D1's, so gross 10.00 (q1) = (9.94 + 198.80) + (0.06 + 1.20) + 0 - 200.00.
    assert (summary.released, summary.cleared) == (1, 1)
    assert row_of(settlements(ws, D3), "M-REF") == {
        "merchant_id": "M-REF", "currency": "CNY", "gross": "10.00", "refunds": "0.00", "fees": "1.26",
        "splits": "0.00", "held": "-200.00", "net_payable": "208.74"}
    h1 = detail(ws, D3, "M-REF")["h1"]
    assert (h1["state"], h1["original_date"], h1["net_payable"]) == ("RELEASED", "2025-03-01", "198.80")
    # D1 re-cleared after the resolution: h1 was resolved on D3, so D1 still holds it; nothing changes.
    assert clear_day(ws, D1).posted == ()
    engine = open_store(ws.store_url())
    assert {b.account: b.balance for b in balances(engine, "liabilities:settlement:M-REF")} == {
        "liabilities:settlement:M-REF": Decimal("-258.44")}  # 49.70 + 208.74
    assert trial_balance(engine).balanced


def test_late_match_of_a_carried_row_releases_it(ws):
    write_layer1(ws, D1, [txn("x1", "M-REF", "100.00", day=D1, outcome="PENDING")])
    clear_day(ws, D1)
    assert row_of(settlements(ws, D1), "M-REF")["held"] == "100.00"
    write_layer1(ws, D2, [txn("x1", "M-REF", "100.00", day=D2, carried_from=D1)])
    clear_day(ws, D2)
    # Matched a day late: released on D2 with its original date; 0 = 99.40 + 0.60 - 100.00.
    assert row_of(settlements(ws, D2), "M-REF") == {
        "merchant_id": "M-REF", "currency": "CNY", "gross": "0.00", "refunds": "0.00", "fees": "0.60",
        "splits": "0.00", "held": "-100.00", "net_payable": "99.40"}
    assert detail(ws, D2, "M-REF")["x1"]["original_date"] == "2025-03-01"


def test_re_clear_after_correction_posts_reversal_and_new_entry(ws):
    write_layer1(ws, D4, [txn("a1", "M-REF", "100.00", day=D4)])
    first = clear_day(ws, D4)
    assert first.posted == ("CLEAR:2025-03-04:M-REF:CNY:wechat",)
    # Matching is corrected and re-run: a second payment of 50.00 appears for the day.
    write_layer1(ws, D4, [txn("a1", "M-REF", "100.00", day=D4), txn("a2", "M-REF", "50.00", day=D4)])
    second = clear_day(ws, D4)
    assert second.reversed == ("CLEAR:2025-03-04:M-REF:CNY:wechat",)
    assert second.posted == ("CLEAR:2025-03-04:M-REF:CNY:wechat#2",)
    engine = open_store(ws.store_url())
    with engine.connect() as conn:
        keys = conn.execute(sa.select(entries.c.entry_key).order_by(entries.c.entry_key)).scalars().all()
    assert keys == ["CLEAR:2025-03-04:M-REF:CNY:wechat", "CLEAR:2025-03-04:M-REF:CNY:wechat#2",
                    "REV:CLEAR:2025-03-04:M-REF:CNY:wechat"]
    # 150.00 - 0.90 = 149.10 payable now; the first 99.40 was reversed, not edited.
    assert balances(engine, "liabilities:settlement:M-REF")[0].balance == Decimal("-149.10")
    assert clear_day(ws, D4).posted == ()
    # The day no longer clears anything for M-REF: only a reversal.
    write_layer1(ws, D4, [])
    third = clear_day(ws, D4)
    assert (third.reversed, third.posted) == (("CLEAR:2025-03-04:M-REF:CNY:wechat#2",), ())
    assert balances(engine, "liabilities:settlement:M-REF")[0].balance == 0
    assert not list(ws.clearing_dir(D4).glob("merchant-*.csv"))
    assert trial_balance(engine).balanced


def test_missing_fee_rule_and_missing_results_are_refused(ws):
    from recon.errors import StageFailed

    with pytest.raises(StageFailed, match="recon match --date 2025-03-02"):
        clear_day(ws, D2)
    write_layer1(ws, D2, [txn("n1", "M-NONE", "1.00", day=D2)])
    with pytest.raises(StageFailed, match="no fee rule for merchant M-NONE, channel wechat, CNY PAYMENT"):
        clear_day(ws, D2)
