"""Merchant ids with `#`, `/`, quotes clear and re-clear (issue 18, defect 7); text that a spreadsheet
would run reaches no CSV unescaped (defect 8: the OWASP rule the workbooks follow)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from clearing_support import detail, make_ws, settlements, txn, write_layer1

from recon.clearing import clear_day
from recon.clearing.output import detail_name
from recon.core.ledger import balances, trial_balance
from recon.formula import csv_text, csv_untext, is_risky
from recon.store.engine import open_store

D = dt.date(2025, 3, 4)
HOSTILE = ["M#1", "a/b", "O'Neil \"q\"", "100%_x", '=HYPERLINK("http://evil")', "\uff0bcmd", "@SUM(A1)"]


def test_the_owasp_triggers_and_their_full_width_forms():
    for text in ("=1", "+1", "-1", "@x", "\tx", "\rx", " =1", "\uff1d1", "\uff0b1", "\uff0d1", "\uff201"):
        assert is_risky(text) and csv_text(text) == "'" + text and csv_untext(csv_text(text)) == text
    for text in ("plain", "1-2", "M#1", "'quoted"):
        assert csv_text(text) == text and csv_untext(text) == text


def test_hostile_merchant_ids_clear_and_re_clear(tmp_path):
    ws = make_ws(tmp_path / "ws")
    write_layer1(ws, D, [txn(f"t{i}", m, "100.00", day=D, minute=i) for i, m in enumerate(HOSTILE)])
    first = clear_day(ws, D)
    assert len(first.posted) == len(HOSTILE)
    # matching is corrected: every merchant has a second payment; re-clearing reverses and re-posts
    write_layer1(ws, D, [txn(f"{k}{i}", m, "100.00", day=D, minute=i) for i, m in enumerate(HOSTILE)
                         for k in ("t", "u")])
    second = clear_day(ws, D)
    assert sorted(second.reversed) == sorted(first.posted) and len(second.posted) == len(HOSTILE)
    assert all(key.endswith("#2") for key in second.posted)
    third = clear_day(ws, D)  # a retry changes nothing
    assert third.posted == () and third.reversed == ()

    engine = open_store(ws.store_url())
    assert trial_balance(engine).balanced
    for merchant in HOSTILE:
        (bal,) = balances(engine, f"liabilities:settlement:{merchant}")
        assert bal.balance < 0 and bal.balance.as_tuple().exponent >= -6
    rows = settlements(ws, D)
    assert {r["merchant_id"] for r in rows} == {csv_text(m) for m in HOSTILE}
    assert {csv_untext(r["merchant_id"]) for r in rows} == set(HOSTILE)
    assert all((ws.clearing_dir(D) / detail_name(m)).is_file() for m in HOSTILE)


def test_formula_text_is_escaped_in_the_clearing_csvs_and_numbers_are_not(tmp_path):
    ws = make_ws(tmp_path / "ws")
    write_layer1(ws, D, [txn("=cmd|' /C calc'!A0", "=M", "100.00", day=D),
                         txn("-r1", "=M", "-20.00", day=D, minute=1, record_type="REFUND")])
    clear_day(ws, D)
    text = (ws.clearing_dir(D) / "settlements.csv").read_text(encoding="utf-8")
    assert "\n=M," not in text and "\n'=M," in text
    (row,) = settlements(ws, D)
    assert row["refunds"] == "-20.00" and Decimal(row["gross"]) == Decimal("80.00")  # gross is net of refunds
    lines = detail(ws, D, "%3DM")
    assert set(lines) == {"'=cmd|' /C calc'!A0", "'-r1"}
    assert lines["'-r1"]["amount"] == "-20.00"  # a number stays a number
