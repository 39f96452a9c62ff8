"""N:M groups through `recon run` (subprocess, local fetch of a WeChat trade bill): results, queue,
clearing and the report's group sheet for a workspace whose rule set declares a group key per side.

Our side books a marketplace order as several payments sharing `merchant_order_no`; the channel
settled each order as lines echoing the order number (`merchant_txn_id`). Neither side's rows pair
one by one; the orders do, on their sums.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import polars as pl

from tests.jobs.conftest import CONFIG, recon
from tests.synth.wechat import TradeRow, write_bill

DAY = "2026-11-20"
RULES = '[match]\nour_group_key = "merchant_order_no"\ntheir_group_key = "merchant_txn_id"\n'
OURS_HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
               "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status")


def _local(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 11, 20, hour, minute)


def _workspace(root: Path) -> Path:
    root.mkdir()
    (root / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (root / "rules").mkdir()
    (root / "rules" / "wechatpay.toml").write_text(RULES, encoding="utf-8")
    lines = [
        TradeRow(_local(9, 0), "4200000000000000000000000001", "S-1", D("10.00"), D("0.06000")),
        TradeRow(_local(10, 0), "4200000000000000000000000002", "ORD-B1", D("25.00"), D("0.15000")),
        TradeRow(_local(10, 1), "4200000000000000000000000003", "ORD-B1", D("35.50"), D("0.21000")),
        TradeRow(_local(11, 0), "4200000000000000000000000004", "ORD-B2", D("100.01"), D("0.60000")),
    ]
    (root / "drop").mkdir()
    (root / "drop" / "wechat_20261120.csv").write_text(write_bill(lines, "1900000109"), encoding="utf-8")
    ours = [  # txn, order, serial, time, amount, fee
        ("T1", "ORD-1", "S-1", "09:00", "10.00", "0.06"),
        ("T2", "ORD-B1", "S-B1a", "10:00", "10.00", "0.06"), ("T3", "ORD-B1", "S-B1b", "10:00", "20.00", "0.12"),
        ("T4", "ORD-B1", "S-B1c", "10:01", "30.50", "0.18"),
        ("T5", "ORD-B2", "S-B2a", "11:00", "40.00", "0.24"), ("T6", "ORD-B2", "S-B2b", "11:00", "60.00", "0.36"),
    ]
    (root / "internal").mkdir()
    text = [OURS_HEADER] + [f"{t},M1001,{o},wechat,{s},,PAYMENT,,,{DAY}T{hm}:00+08:00,CNY,{a},{f},SUCCESS"
                            for t, o, s, hm, a, f in ours]
    (root / "internal" / f"wechat_{DAY}.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    return root


def test_batches_match_and_mismatch_through_run_queue_clearing_and_report(tmp_path: Path):
    ws = _workspace(tmp_path / "ws")
    done = recon(ws, "run", "--date", DAY, "--quiet")
    assert done.returncode == 0, done.stderr
    res = pl.read_parquet(ws / "results" / DAY / "layer1.parquet")
    b1, b2 = (res.filter(pl.col("group_id") == g) for g in ("ORD-B1", "ORD-B2"))
    assert b1.height == 3 and set(b1["outcome"]) == {"MATCHED"} and set(b1["group_size"]) == {3}
    assert sorted(b1["our_txn_id"].drop_nulls()) == ["T2", "T3", "T4"] and b1["their_amount"].sum() == D("60.50")
    assert b2.height == 2 and set(b2["outcome"]) == {"AMOUNT_MISMATCH"}
    assert set(b2["reason"]) == {"group ORD-B2: our 2 rows sum to 100.00 CNY, the channel's 1 line to 100.01 CNY; "
                                 "amount differs by 0.01"}
    single = res.filter(pl.col("our_txn_id") == "T1")
    assert (single["outcome"].to_list(), single["group_id"].to_list()) == (["MATCHED"], [None])

    # the mismatched batch is one queue item with both totals, its line and both rows of ours
    items = json.loads(recon(ws, "queue", "list", "--layer", "1", "--json").stdout)
    assert [(i["kind"], i["key"], i["our_amount"], i["their_amount"], i["diff"]) for i in items] == [
        ("AMOUNT_MISMATCH", "ORD-B2", "100.00", "100.01", "0.01")]
    assert (items[0]["our_fee"], items[0]["their_fee"]) == ("0.60", "0.60")  # the group's fees, summed once
    group = json.loads(recon(ws, "queue", "show", str(items[0]["id"]), "--json").stdout)["sides"]["group"]
    assert (group["size"], group["our_total"], group["their_total"]) == (2, "100.00", "100.01")
    assert sorted(r["txn_id"] for r in group["our_rows"]) == ["T5", "T6"] and len(group["lines"]) == 1

    # layer 2 compares the bill's totals: the 0.01 is there, the batches' unequal row counts are not
    bill_items = json.loads(recon(ws, "queue", "list", "--layer", "2", "--json").stdout)
    assert [i["kind"] for i in bill_items] == ["BILL_AMOUNT_MISMATCH"]
    assert "we have" not in bill_items[0]["reason"]

    # clearing: every member of ours once; the matched batch cleared whole, the open one held whole
    with open(ws / "clearing" / DAY / "settlements.csv", encoding="utf-8") as fh:
        [line] = list(csv.DictReader(fh))
    assert (D(line["gross"]), D(line["held"])) == (D("170.50"), D("100.00"))  # gross counts what is held
    detail = (ws / "clearing" / DAY / "merchant-M1001.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(x for x in detail.splitlines() if not x.startswith("#")))
    assert sorted((r["txn_id"], r["state"]) for r in rows) == [
        ("T1", "CLEARED"), ("T2", "CLEARED"), ("T3", "CLEARED"), ("T4", "CLEARED"), ("T5", "HELD"), ("T6", "HELD")]
    assert sum(D(r["amount"]) for r in rows if r["txn_id"] in ("T2", "T3", "T4")) == D("60.50")

    # the report's group sheet: each batch's rows, then its total with both sums and both counts
    # (Excel cells hold numbers: the exact decimals are in the results file above)
    wb = openpyxl.load_workbook(ws / "reports" / DAY / f"recon-{DAY}.xlsx")
    sheet = list(wb["Combined payments"].iter_rows(values_only=True))
    got = [dict(zip(sheet[0], r)) for r in sheet[1:]]
    totals = {r["Group"]: r for r in got if r["Row"] == "Total"}
    assert (totals["ORD-B1"]["Channel amount"], totals["ORD-B1"]["Our amount"], totals["ORD-B1"]["Difference"],
            totals["ORD-B1"]["Our rows"], totals["ORD-B1"]["Channel lines"]) == (60.5, 60.5, 0, 3, 2)
    assert sum(r["Row"] == "Line" for r in got if r["Group"] == "ORD-B1") == 3
    assert (totals["ORD-B2"]["Channel amount"], totals["ORD-B2"]["Our amount"], totals["ORD-B2"]["Difference"],
            totals["ORD-B2"]["Our rows"], totals["ORD-B2"]["Channel lines"]) == (100.01, 100, 0.01, 2, 1)
