"""N:M groups (`our_group_key` / `their_group_key`): rows of ours against channel lines, on their sums.

A settlement batch on the channel's side (`payout_id`) against the rows of ours booked under the
same batch (here our `merchant_order_no`): no row pairs with any one row of the other side, but the
batch does. Each test builds both sides by hand so the sums are plain to read.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import polars as pl
import pytest
from pydantic import ValidationError

from recon.config.ruleset import MatchRules
from recon.matching.layer1 import match_frames
from tests.matching.factory import DAY, DAY_START, _ours, _theirs, frames

BATCH = MatchRules(our_group_key="merchant_order_no", their_group_key="payout_id")
PASS = "groups:merchant_order_no=payout_id"


def at(minutes: int) -> dt.datetime:
    return DAY_START + dt.timedelta(hours=2, minutes=minutes)


def ours(n: int, batch: str | None, amount: str, *, fee: str = "0", currency: str = "CNY", mtx: str | None = None,
         status: str = "SUCCESS") -> dict:
    row = _ours(n, mtx or f"M{n:04d}", None, "PAYMENT", None, D(amount), D(fee), at(n))
    return {**row, "merchant_order_no": batch, "currency": currency, "status": status, "source_line": n + 2}


def theirs(n: int, batch: str | None, amount: str, *, fee: str = "0", currency: str = "CNY",
           mtx: str | None = None) -> dict:
    row = _theirs(f"C{n:04d}", mtx, "PAYMENT", None, None, D(amount), D(fee), at(n))
    return {**row, "payout_id": batch, "currency": currency, "source_line": n + 2}


def run(our_rows: list[dict], their_rows: list[dict], rules: MatchRules = BATCH) -> pl.DataFrame:
    bill, internal = frames(our_rows, their_rows)
    return match_frames(bill, internal, rules, DAY, channel="wx", zone="Asia/Shanghai")


def test_a_batch_of_ours_matches_a_batch_of_the_channels_on_its_sums():
    res = run([ours(1, "B1", "10.00", fee="0.06"), ours(2, "B1", "20.00", fee="0.12"),
               ours(3, "B1", "30.50", fee="0.18")],
              [theirs(11, "B1", "25.00", fee="0.15"), theirs(12, "B1", "35.50", fee="0.21")])
    assert res.height == 3  # the longer side's members, each once; the shorter side's beside them
    assert set(res["outcome"]) == {"MATCHED"} and set(res["pass_name"]) == {PASS}
    assert set(res["group_id"]) == {"B1"} and set(res["group_size"]) == {3} and set(res["match_key"]) == {"B1"}
    assert sorted(res["our_txn_id"].drop_nulls()) == ["T000001", "T000002", "T000003"]
    assert sorted(res["their_channel_txn_id"].drop_nulls()) == ["C0011", "C0012"]
    assert res["our_amount"].sum() == res["their_amount"].sum() == D("60.50")
    assert res["our_fee"].sum() == res["their_fee"].sum() == D("0.36")
    # the difference is the group's, once (on the anchor row), so the file's sum of diffs is the day's
    assert res["diff_amount"].drop_nulls().to_list() == [D("0")] and res["diff_fee"].drop_nulls().to_list() == [D("0")]
    assert set(res["reason"]) == {"group B1: our 3 rows sum to 60.50 CNY, the channel's 2 lines to 60.50 CNY"}


def test_a_batch_off_by_one_cent_beyond_the_tolerance_is_a_mismatch_naming_both_sums_and_counts():
    rules = BATCH.model_copy(update={"amount_tolerance": D("0.01")})
    our_rows = [ours(1, "B1", "10.00"), ours(2, "B1", "20.00")]
    within = run(our_rows, [theirs(11, "B1", "12.00"), theirs(12, "B1", "7.00"), theirs(13, "B1", "11.01")], rules)
    assert set(within["outcome"]) == {"MATCHED"}
    assert "amount differs by 0.01 (within tolerance)" in within["reason"][0]
    beyond = run(our_rows, [theirs(11, "B1", "12.00"), theirs(12, "B1", "7.00"), theirs(13, "B1", "11.02")], rules)
    assert beyond.height == 3 and set(beyond["outcome"]) == {"AMOUNT_MISMATCH"}
    assert set(beyond["reason"]) == {"group B1: our 2 rows sum to 30.00 CNY, the channel's 3 lines to 30.02 CNY; "
                                     "amount differs by 0.02"}
    assert beyond["diff_amount"].drop_nulls().to_list() == [D("0.02")]


def test_the_relative_tolerance_is_a_fraction_of_our_sum():
    rules = BATCH.model_copy(update={"amount_tolerance_rel": D("0.001")})  # 0.1% of 1000.00 = 1.00
    our_rows = [ours(1, "B1", "600.00"), ours(2, "B1", "400.00")]
    assert set(run(our_rows, [theirs(11, "B1", "1001.00")], rules)["outcome"]) == {"MATCHED"}
    assert set(run(our_rows, [theirs(11, "B1", "1001.01")], rules)["outcome"]) == {"AMOUNT_MISMATCH"}


def test_fee_and_status_differences_are_the_groups():
    fee = run([ours(1, "B1", "10.00", fee="0.10"), ours(2, "B1", "20.00", fee="0.10")],
              [theirs(11, "B1", "30.00", fee="0.25")])
    assert set(fee["outcome"]) == {"FEE_MISMATCH"} and fee["diff_fee"].drop_nulls().to_list() == [D("0.05")]
    assert "fees 0.20 over our 2 rows, 0.25 over the channel's 1 line" in fee["reason"][0]
    mixed = run([ours(1, "B1", "10.00"), ours(2, "B1", "20.00", status="FAILED")], [theirs(11, "B1", "30.00")])
    assert set(mixed["outcome"]) == {"STATUS_MISMATCH"}
    assert "status MIXED over our 2 rows, SUCCESS over the channel's 1 line" in mixed["reason"][0]


def test_rows_paired_by_an_earlier_pass_are_not_regrouped():
    # our 1 and the channel's 11 share our serial: the key pass pairs them before any group forms
    res = run([ours(1, "B1", "5.00", mtx="M-X"), ours(2, "B1", "10.00"), ours(3, "B1", "20.00")],
              [theirs(11, "B1", "5.00", mtx="M-X"), theirs(12, "B1", "30.00")])
    by_pass = {p: g for (p,), g in res.group_by("pass_name")}
    assert by_pass["key:merchant_txn_id"]["our_txn_id"].to_list() == ["T000001"]
    assert by_pass["key:merchant_txn_id"]["group_id"].to_list() == [None]
    group = by_pass[PASS]
    assert sorted(group["our_txn_id"].drop_nulls()) == ["T000002", "T000003"]
    assert group["their_channel_txn_id"].drop_nulls().to_list() == ["C0012"]
    assert set(group["outcome"]) == {"MATCHED"}


def test_a_group_mixing_currencies_is_never_summed():
    res = run([ours(1, "B1", "10.00"), ours(2, "B1", "20.00", currency="USD")], [theirs(11, "B1", "30.00")])
    assert PASS not in set(res["pass_name"].drop_nulls())
    assert sorted(res["outcome"]) == ["CHANNEL_ONLY", "LOCAL_ONLY", "LOCAL_ONLY"]
    other = run([ours(1, "B1", "30.00")], [theirs(11, "B1", "30.00", currency="USD")])
    assert sorted(other["outcome"]) == ["CHANNEL_ONLY", "LOCAL_ONLY"]


def test_separate_batches_stay_separate_and_rows_without_a_batch_are_left_alone():
    res = run([ours(1, "B1", "10.00"), ours(2, "B2", "20.00"), ours(3, "B2", "1.00"), ours(4, None, "3.00")],
              [theirs(11, "B1", "10.00"), theirs(12, "B2", "21.00"), theirs(13, None, "4.00")])
    groups = {g: sorted(f["our_txn_id"].drop_nulls()) for (g,), f in res.group_by("group_id")}
    assert groups == {"B1": ["T000001"], "B2": ["T000002", "T000003"], None: ["T000004"]}
    # a batch of one row a side is an ordinary pair named by the batch
    b1 = res.filter(pl.col("group_id") == "B1")
    assert (b1["group_size"].to_list(), b1["outcome"].to_list()) == ([1], ["MATCHED"])
    assert sorted(res.filter(pl.col("group_id").is_null())["outcome"]) == ["CHANNEL_ONLY", "LOCAL_ONLY"]


def test_one_to_n_groups_still_run_first_and_n_to_m_takes_what_is_left():
    rules = BATCH.model_copy(update={"group_key": "merchant_txn_id"})
    res = run([ours(1, None, "100.00", mtx="M-1N"), ours(2, "B1", "10.00"), ours(3, "B1", "20.00")],
              [theirs(11, None, "60.00", mtx="M-1N"), theirs(12, None, "40.00", mtx="M-1N"), theirs(13, "B1", "30.00")],
              rules)
    one_n = res.filter(pl.col("pass_name") == "group:merchant_txn_id")
    assert one_n["our_txn_id"].to_list() == ["T000001", "T000001"]
    assert one_n["our_amount"].drop_nulls().to_list() == [D("100")]
    n_m = res.filter(pl.col("pass_name") == PASS)
    assert n_m.height == 2 and set(n_m["outcome"]) == {"MATCHED"}


def test_results_are_identical_on_a_rerun():
    our_rows = [ours(i, f"B{i % 3}", f"{i}.25") for i in range(1, 10)]
    their_rows = [theirs(20 + i, f"B{i % 3}", f"{i}.25") for i in range(1, 8)]
    first, second = run(our_rows, their_rows), run(list(reversed(our_rows)), list(reversed(their_rows)))
    assert first.equals(second)


@pytest.mark.parametrize(("settings", "message"), [
    ({"our_group_key": "merchant_order_no"}, "set both or neither"),
    ({"their_group_key": "payout_id"}, "set both or neither"),
    ({"our_group_key": "payout_id", "their_group_key": "payout_id"}, "must be one of"),
    ({"our_group_key": "merchant_order_no", "their_group_key": "merchant_order_no"}, "must be one of"),
])
def test_group_keys_are_checked(settings, message):
    with pytest.raises(ValidationError, match=message):
        MatchRules(**settings)


def test_a_row_of_ours_carried_from_yesterday_joins_todays_batch_and_is_auto_resolved():
    yesterday = ours(1, "B1", "10.00")
    carried = frames([yesterday], [])[1].with_columns(pl.lit(DAY - dt.timedelta(days=1)).alias("carried_from"))
    bill, internal = frames([ours(2, "B1", "20.00")], [theirs(11, "B1", "30.00")])
    res = match_frames(bill, internal, BATCH, DAY, channel="wx", zone="Asia/Shanghai", carried_ours=carried)
    outcomes = dict(zip(res["our_txn_id"], res["outcome"]))
    assert outcomes == {"T000001": "AUTO_RESOLVED", "T000002": "MATCHED"}
    assert set(res["group_id"]) == {"B1"} and res["diff_amount"].drop_nulls().to_list() == [D("0")]
