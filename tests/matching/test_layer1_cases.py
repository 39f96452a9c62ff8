"""Layer 1 on small days written out in full: each rule and outcome, and the words it explains with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import polars as pl
import pytest

from recon.matching.layer1 import match_frames
from recon.config.ruleset import IdVariant, MatchRules
from tests.matching.factory import BILL_SCHEMA, DAY, UTC, _ours, _theirs
from recon.internal import INTERNAL_COLUMNS


def at(hh: int, mm: int, ss: int = 0, day: int = 1) -> dt.datetime:
    """Local Asia/Shanghai time on 2024-05-<day>, as UTC."""
    return dt.datetime(2024, 5, day, hh, mm, ss, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC)


def ours(i, mtx, amount, time, *, rtype="PAYMENT", refund=None, fee="0", status="SUCCESS", ctx=None, currency="CNY"):
    row = _ours(i, mtx, ctx, rtype, refund, D(amount), D(fee), time)
    return {**row, "status": status, "currency": currency, "source_line": i + 2}


def theirs(line, ctx, mtx, amount, time, *, rtype="PAYMENT", crefund=None, mrefund=None, fee="0",
           status="SUCCESS", currency="CNY", counterparty=None):
    row = _theirs(ctx, mtx, rtype, crefund, mrefund, D(amount), D(fee), time)
    return {**row, "status": status, "currency": currency, "source_line": line, "counterparty": counterparty}


def run(our_rows, their_rows, rules=MatchRules(), **kw) -> pl.DataFrame:
    internal = pl.DataFrame([{c: r[c] for c in INTERNAL_COLUMNS} for r in our_rows], schema=INTERNAL_COLUMNS, orient="row")
    bill = pl.DataFrame([{c: r.get(c) for c in BILL_SCHEMA} for r in their_rows], schema=BILL_SCHEMA, orient="row")
    return match_frames(bill, internal, rules, DAY, channel="wx", zone="Asia/Shanghai", **kw)


def only(results: pl.DataFrame, **where) -> dict:
    rows = results.filter(**where).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_exact_match_and_mismatch_reasons_in_plain_words():
    res = run([ours(0, "M1", "100.00", at(10, 0), fee="0.60"), ours(1, "M2", "100.00", at(11, 0)),
               ours(2, "M3", "5.00", at(12, 0), status="FAILED"), ours(3, "M4", "8.00", at(13, 0))],
              [theirs(2, "C1", "M1", "100.00", at(10, 0), fee="0.60"), theirs(3, "C2", "M2", "99.99", at(11, 0)),
               theirs(4, "C3", "M3", "5.00", at(12, 0)), theirs(5, "C4", "M4", "8.00", at(13, 0), fee="0.05")])
    assert only(res, our_txn_id="T000000")["outcome"] == "MATCHED"
    amount = only(res, our_txn_id="T000001")
    assert (amount["outcome"], amount["reason"]) == ("AMOUNT_MISMATCH", "amount 100.00 here, 99.99 at the channel")
    assert amount["diff_amount"] == D("-0.01") and amount["pass_name"] == "key:merchant_txn_id"
    assert only(res, our_txn_id="T000002")["reason"] == "status FAILED here, SUCCESS at the channel"
    fee = only(res, our_txn_id="T000003")
    assert (fee["outcome"], fee["reason"]) == ("FEE_MISMATCH", "fee 0.00 here, 0.05 at the channel")


def test_tolerances_absolute_and_relative_are_decimals():
    rows_o = [ours(0, "M1", "100.00", at(10, 0)), ours(1, "M2", "10000.00", at(11, 0))]
    rows_t = [theirs(2, "C1", "M1", "99.98", at(10, 0)), theirs(3, "C2", "M2", "9999.00", at(11, 0))]
    strict = run(rows_o, rows_t)
    assert set(strict["outcome"]) == {"AMOUNT_MISMATCH"}
    loose = run(rows_o, rows_t, MatchRules(amount_tolerance=D("0.02"), amount_tolerance_rel=D("0.0001")))
    assert loose["outcome"].to_list() == ["MATCHED", "MATCHED"]
    assert loose["diff_amount"].to_list() == [D("-0.02"), D("-1.00")]


def test_relative_tolerance_is_not_rounded_to_six_decimals():
    # 1500 x 0.000000001 = 0.0000015: a 0.000002 difference is over it (the old greatest() rounded
    # the product to 0.000002 and let it pass); 0.000001 is within it.
    rows_o = [ours(0, "M1", "1500", at(10, 0)), ours(1, "M2", "1500", at(11, 0))]
    rows_t = [theirs(2, "C1", "M1", "1500.000002", at(10, 0)), theirs(3, "C2", "M2", "1500.000001", at(11, 0))]
    res = run(rows_o, rows_t, MatchRules(amount_tolerance_rel=D("0.000000001")))
    assert only(res, our_txn_id="T000000")["outcome"] == "AMOUNT_MISMATCH"
    assert only(res, our_txn_id="T000001")["outcome"] == "MATCHED"


def test_absolute_tolerance_edge_and_26_digit_amounts():
    big = "12345678901234567890123456.123456"
    rows_o = [ours(0, "M1", "100.00", at(10, 0)), ours(1, "M2", "100.00", at(11, 0)), ours(2, "M3", big, at(12, 0))]
    rows_t = [theirs(2, "C1", "M1", "100.01", at(10, 0)), theirs(3, "C2", "M2", "100.010001", at(11, 0)),
              theirs(4, "C3", "M3", big, at(12, 0))]
    res = run(rows_o, rows_t, MatchRules(amount_tolerance=D("0.01")))
    assert [only(res, our_txn_id=f"T00000{i}")["outcome"] for i in range(3)] == ["MATCHED", "AMOUNT_MISMATCH", "MATCHED"]


def test_currency_mismatch_wins_and_never_subtracts_across_currencies():
    res = run([ours(0, "M1", "100.00", at(10, 0))], [theirs(2, "C1", "M1", "14.00", at(10, 0), currency="USD")])
    row = only(res, outcome="CURRENCY_MISMATCH")
    assert row["diff_amount"] is None and row["reason"].startswith("currency CNY here, USD at the channel")


def test_second_key_pairs_when_the_channel_does_not_echo_our_serial():
    res = run([ours(0, "M1", "3.00", at(10, 0), ctx="C1")], [theirs(2, "C1", None, "3.00", at(10, 0))])
    assert only(res, outcome="MATCHED")["pass_name"] == "key:channel_txn_id"


def test_refunds_pair_with_refunds_by_refund_id_partial_refunds_included():
    res = run([ours(0, "M1", "100.00", at(10, 0)),
               ours(1, "M1", "-30.00", at(11, 0), rtype="REFUND", refund="R1"),
               ours(2, "M1", "-20.00", at(12, 0), rtype="REFUND", refund="R2")],
              [theirs(2, "C1", "M1", "100.00", at(10, 0)),
               theirs(3, "C1", "M1", "-20.00", at(12, 0), rtype="REFUND", crefund="CR2", mrefund="R2"),
               theirs(4, "C1", "M1", "-30.00", at(11, 0), rtype="REFUND", crefund="CR1", mrefund="R1")])
    assert res["outcome"].to_list() == ["MATCHED"] * 3
    refunds = res.filter(pl.col("our_record_type") == "REFUND")
    assert refunds["pass_name"].unique().to_list() == ["key:merchant_refund_id"]
    assert dict(zip(refunds["our_merchant_refund_id"], refunds["their_channel_refund_id"])) == {"R1": "CR1", "R2": "CR2"}


def test_duplicate_names_the_first_copy_and_the_first_copy_still_matches():
    line = theirs(2, "C1", "M1", "5.00", at(10, 0))
    res = run([ours(0, "M1", "5.00", at(10, 0))], [line, {**line, "source_line": 9}])
    assert only(res, outcome="MATCHED")["their_source_line"] == 2
    assert only(res, outcome="DUPLICATE")["reason"] == "C1 appears again in the channel's bill; the first copy is bill.csv:2"


def test_id_variant_strips_a_prefix_and_keeps_the_last_n_characters():
    rules = MatchRules(id_variants=(IdVariant(name="wx-prefix", strip_prefix="WX"),
                                    IdVariant(name="last8", last=8)))
    res = run([ours(0, "A0001", "1.00", at(10, 0)), ours(1, "2024050100001234", "2.00", at(10, 5))],
              [theirs(2, "C1", "WXA0001", "1.00", at(10, 0)), theirs(3, "C2", "00001234", "2.00", at(10, 5))],
              rules)
    assert sorted(res["pass_name"].to_list()) == ["variant:last8", "variant:wx-prefix"]
    assert set(res["outcome"]) == {"MATCHED"}


def test_group_one_order_settled_by_several_lines_conserves_the_amount():
    rules = MatchRules(group_key="merchant_txn_id")
    lines = [theirs(2, "C1a", "M1", "60.00", at(10, 0), fee="0.36"), theirs(3, "C1b", "M1", "40.00", at(10, 0), fee="0.24")]
    res = run([ours(0, "M1", "100.00", at(10, 0), fee="0.60")], lines, rules)
    assert res["outcome"].to_list() == ["MATCHED", "MATCHED"]
    assert res["group_size"].to_list() == [2, 2] and res["pass_name"].unique().to_list() == ["group:merchant_txn_id"]
    assert res["our_amount"].to_list() == [D("100"), None]  # our money once, on the anchor line
    short = run([ours(0, "M1", "100.00", at(10, 0), fee="0.60")],
                [lines[0], {**lines[1], "amount": D("39.00")}], rules)
    assert set(short["outcome"]) == {"AMOUNT_MISMATCH"}
    assert short["reason"].to_list() == ["amount 100.00 here, 99.00 over the 2 channel lines"] * 2
    without_rule = run([ours(0, "M1", "100.00", at(10, 0), fee="0.60")], lines)
    # without the rule, a second line echoing our serial is the channel charging twice
    assert sorted(without_rule["outcome"]) == ["CHANNEL_ONLY", "DUPLICATE", "LOCAL_ONLY"]
    # ... unless the lines add up to our order exactly: then all three name the group and the rule
    for text in without_rule["reason"].to_list():
        assert "likely one combined payment: 2 channel lines with merchant_txn_id M1 add up to our" in text
        assert '[match] group_key = "merchant_txn_id"' in text
    charged_twice = run([ours(0, "M1", "100.00", at(10, 0))], [lines[0], {**lines[1], "amount": D("60.00")}])
    assert not any("combined" in (t or "") for t in charged_twice["reason"].to_list())


def test_no_reference_pass_suggests_and_accepts_only_above_the_named_score():
    o = [ours(0, "M1", "50.00", at(10, 0))]
    t = [theirs(2, "C9", None, "50.00", at(10, 3))]
    suggested = only(run(o, t), outcome="SUGGESTED")
    assert suggested["pass_name"] == "no_reference" and 0.6 < suggested["confidence"] < 1
    assert "3 min later" in suggested["reason"]
    accepted = run(o, t, MatchRules(auto_accept_score=0.8))
    assert only(accepted, outcome="MATCHED")["confidence"] == suggested["confidence"]
    ambiguous = run(o, [*t, theirs(3, "C8", None, "50.00", at(9, 57))])
    assert "SUGGESTED" not in set(ambiguous["outcome"])  # two equally close candidates: no guess


def test_unmatched_row_names_its_closest_candidate():
    res = run([ours(0, "M1", "42.00", at(10, 0))], [theirs(2, "C7", "M7", "42.00", at(10, 3))],
              MatchRules(passes=("key",)))
    local = only(res, outcome="LOCAL_ONLY")
    assert local["reason"] == ("not in the channel's bill; closest: channel line bill.csv:2 (C7): "
                               "same amount and currency, 3 min later, different id")
    assert local["closest"] == "C7 (bill.csv:2)"
    chan = only(res, outcome="CHANNEL_ONLY")
    assert chan["reason"].startswith("no record of ours; closest: our record internal.csv:2 (T000000)")


def test_near_midnight_rows_wait_and_a_pair_across_midnight_is_named():
    res = run([ours(0, "M1", "1.00", at(23, 59, 58)), ours(1, "M2", "2.00", at(23, 59, 59))],
              [theirs(2, "C2", "M2", "2.00", at(0, 0, 1, day=2))])
    assert only(res, our_txn_id="T000000")["outcome"] == "PENDING"
    crossed = only(res, our_txn_id="T000001")
    assert crossed["outcome"] == "MATCHED" and "across midnight: 2 s later" in crossed["reason"]


def test_rows_carried_from_yesterday_resolve_or_expire():
    carried = pl.DataFrame([{c: r[c] for c in INTERNAL_COLUMNS} | {"carried_from": dt.date(2024, 4, 30)}
                            for r in (ours(7, "M7", "7.00", at(23, 59, 50, day=1) - dt.timedelta(days=1)),
                                      ours(8, "M8", "8.00", at(23, 59, 55, day=1) - dt.timedelta(days=1)))])
    res = run([], [theirs(2, "C7", "M7", "7.00", at(0, 0, 5))], carried_ours=carried)
    resolved = only(res, our_txn_id="T000007")
    assert (resolved["outcome"], resolved["carried_from"]) == ("AUTO_RESOLVED", dt.date(2024, 4, 30))
    expired = only(res, our_txn_id="T000008")
    assert expired["outcome"] == "LOCAL_ONLY" and expired["reason"].startswith("pending since 2024-04-30")


@pytest.mark.parametrize("passes", [("key",), ("no_reference", "key")])
def test_passes_run_in_the_order_the_rules_name(passes):
    res = run([ours(0, "M1", "5.00", at(10, 0))], [theirs(2, "C1", "M1", "5.00", at(10, 1))],
              MatchRules(passes=passes, auto_accept_score=0.5))
    assert only(res, outcome="MATCHED")["pass_name"] == ("key:merchant_txn_id" if passes[0] == "key" else "no_reference")


def test_near_miss_by_shared_id_says_what_differs():
    res = run([ours(0, "M1", "9.00", at(10, 0))],
              [theirs(2, "C1", "M1", "-9.00", at(10, 0), rtype="REFUND", crefund="CR1", mrefund="R1")],
              MatchRules(passes=("key",)))
    assert only(res, outcome="LOCAL_ONLY")["reason"] == (
        "not in the channel's bill; closest: channel line bill.csv:2 (C1): same merchant_txn_id, "
        "but it is a REFUND, amount -9.00 CNY, same time")


def test_the_channel_charging_one_order_twice_is_a_duplicate():
    res = run([ours(0, "M1", "5.00", at(10, 0), ctx="C1")],
              [theirs(2, "C1", "M1", "5.00", at(10, 0)), theirs(3, "C9", "M1", "5.00", at(10, 0, 3))])
    assert only(res, outcome="MATCHED")["their_channel_txn_id"] == "C1"
    assert only(res, outcome="DUPLICATE")["reason"] == "M1 appears again in the channel's bill; the first copy is bill.csv:2"


def test_results_missing_or_repeating_an_input_row_are_refused():
    from recon.errors import StageFailed
    from recon.matching import engine, layer1

    rows_o = [ours(0, "M1", "10.00", at(10, 0)), ours(1, "M2", "20.00", at(11, 0))]
    rows_t = [theirs(2, "C1", "M1", "10.00", at(10, 0)), theirs(3, "C9", "M9", "30.00", at(12, 0))]
    con = engine.connect()
    run(rows_o, rows_t, con=con)
    layer1.check_coverage(con, "wx")  # as written: every row once
    con.execute("INSERT INTO res SELECT * FROM res WHERE x_side = 'T'")
    with pytest.raises(StageFailed, match="2 channel lines gave 3 results for 2 lines"):
        layer1.check_coverage(con, "wx")
    con.execute("DELETE FROM res WHERE x_side IN ('O', 'T')")
    with pytest.raises(StageFailed, match="2 rows of ours gave 1 decisions"):
        layer1.check_coverage(con, "wx")
