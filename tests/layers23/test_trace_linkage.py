"""Layer 3 payout linkage: a payout's trace in the bank line beats a credit of the same amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from layers23_helpers import D, internal, layer_settings, line, rows_of, workspace, write_bill
from recon.matching.layer2_settlement import Payout
from recon.matching.layers23 import run_layers23
from recon.matching.payout_trace import link_payouts, trace_pattern, traced_in

MON = D(2024, 3, 4)
IBAN = "DE89370400440532013000"
NONE = internal([])


def payouts_of(ws, day=MON):
    return {r["key"]: r for r in rows_of(ws.results_dir(day) / "layer3.parquet", section="payout")}


def test_trace_link_beats_amount_link_when_two_bank_lines_have_the_same_amount(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [
        line("PAYOUT", "tr_a", "-500.00", payout_id="po_first_aaa"),   # no trace in any bank line
        line("PAYOUT", "tr_b", "-500.00", payout_id="po_second_bbb"),  # named by B1
    ])
    write_bill(ws, "bank", MON, [
        line("PAYMENT", "B1", "500.00", memo="STRIPE TRANSFER PO_SECOND_BBB"),
        line("PAYMENT", "B2", "500.00", memo="STRIPE TRANSFER"),
    ], account=IBAN)
    run_layers23(ws, MON, internal=NONE, settings=layer_settings())
    got = payouts_of(ws)
    # Amount first would give po_first_aaa the first 500.00 (B1), which names the other payout.
    assert got["payout:po_second_bbb"]["their_ref"] == "bank:B1"
    assert got["payout:po_first_aaa"]["their_ref"] == "bank:B2"
    assert got["payout:po_second_bbb"]["reason"].endswith(
        "linked by payout id po_second_bbb in remittance info")
    assert got["payout:po_first_aaa"]["reason"].endswith("linked by amount and date")
    assert {r["kind"] for r in got.values()} == {"PAYOUT_RECEIVED"}


def test_traced_line_with_another_amount_is_a_discrepancy_not_an_amount_match_elsewhere(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [line("PAYOUT", "tr_c", "-800.00", payout_id="po_short_ccc")])
    write_bill(ws, "bank", MON, [
        line("PAYMENT", "B1", "800.00", memo="ACME LTD INVOICE 17"),  # same amount, no trace
        line("PAYMENT", "B2", "780.00", memo="STRIPE po_short_ccc"),
    ], account=IBAN)
    run_layers23(ws, MON, internal=NONE, settings=layer_settings())
    got = payouts_of(ws)
    row = got["payout:po_short_ccc"]
    assert (row["kind"], row["their_ref"]) == ("PAYOUT_AMOUNT_MISMATCH", "bank:B2")
    assert (row["our_amount"], row["their_amount"]) == (Decimal("800"), Decimal("780"))
    assert "800.00 EUR" in row["reason"] and "as 780.00 EUR" in row["reason"]
    assert "difference of -20.00 EUR" in row["reason"]
    assert "linked by payout id po_short_ccc in remittance info" in row["reason"]
    # the 800.00 without a trace is left for what it is: no payout explains it
    assert got["credit:B1@2"]["kind"] == "UNEXPECTED_CREDIT"


def test_bank_reference_and_adyen_batch_number(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [
        line("PAYOUT", "tr_d", "-120.00", payout_id="380"),  # an Adyen-style batch number
        line("PAYOUT", "tr_e", "-120.00", payout_id="po_ref_in_id"),
    ])
    write_bill(ws, "bank", MON, [
        line("PAYMENT", "po_ref_in_id", "120.00", memo="TRANSFER"),
        line("PAYMENT", "B9", "120.00", memo="ADYEN BV BATCH 380 ACME"),
    ], account=IBAN)
    run_layers23(ws, MON, internal=NONE, settings=layer_settings())
    got = payouts_of(ws)
    assert got["payout:380"]["their_ref"] == "bank:B9"
    assert got["payout:380"]["reason"].endswith("linked by payout id 380 in remittance info")
    assert got["payout:po_ref_in_id"]["reason"].endswith("linked by payout id po_ref_in_id in bank reference")


@pytest.mark.parametrize(("ref", "text", "found"), [
    ("po_123456", "STRIPE PO_123456 X", True),
    ("po_123456", "STRIPE po_1234567", False),   # a longer id is another payout
    ("po_123456", "xpo_123456", False),
    ("380", "BATCH 380", True),
    ("380", "batch-0380", True),
    ("380", "INVOICE 380", False),               # a bare short number is anywhere
    ("380", "BATCH 3801", False),
    ("AB", "AB", None),                           # too short to trust at all
])
def test_trace_pattern_finds_whole_tokens_only(ref, text, found):
    pattern = trace_pattern(ref)
    if found is None:
        assert pattern is None
    else:
        assert bool(pattern.search(text)) is found


def test_one_credit_named_by_two_payouts_goes_to_one_only():
    day = dt.date(2024, 3, 4)

    def mk(ref: str, amt: str) -> Payout:
        return Payout("stripe", "a", "EUR", ref, ref, day, day, Decimal(amt), Decimal(amt), "f", 1)

    credits = [{"channel_txn_id": "B1", "memo": "po_aaaaaa po_bbbbbb", "currency": "EUR",
                "amount": Decimal("5"), "value_date": day}]
    links = link_payouts([mk("po_aaaaaa", "5"), mk("po_bbbbbb", "5")], credits, lambda p: day)
    assert list(links) == [0] and links[0].by_trace


def _naive_trace_links(payouts, credits):
    """The first round as its definition says it: each payout's regex over every untaken credit."""
    taken, found = set(), {}
    for i, p in enumerate(payouts):
        pattern = trace_pattern(p.ref)
        if pattern is None:
            continue
        for j, c in enumerate(credits):
            if j not in taken and traced_in(c, pattern) is not None:
                taken.add(j)
                found[i] = j
                break
    return found


WORDS = ["po_aaaaaa", "PO_AAAAAA", "po_aaaaaab", "xpo_aaaaaa", "batch", "BATCH", "380", "0380", "3801", "-", " ",
         "#", "_", "po_bbbbbb", "stripe", "x"]


@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=6).map("".join), min_size=1, max_size=8),
       st.lists(st.sampled_from(["po_aaaaaa", "po_bbbbbb", "380", "po_aaaaaa b", "ab"]), min_size=1, max_size=4,
                unique=True))
def test_indexed_lookup_links_exactly_what_the_regex_scan_would(texts, refs):
    day = dt.date(2024, 3, 4)
    payouts = [Payout("s", "a", "EUR", r, r, day, day, Decimal(1), Decimal(1), "f", 1) for r in refs]
    credits = [{"channel_txn_id": f"B{j}", "memo": t, "currency": "USD", "amount": Decimal(j + 7),
                "value_date": day} for j, t in enumerate(texts)]
    links = link_payouts(payouts, credits, lambda p: day)
    got = {i: credits.index(link.credit) for i, link in links.items()}
    assert got == _naive_trace_links(payouts, credits)


def test_layer2_says_whether_a_payout_was_linked_by_its_id_or_by_amount(tmp_path):
    ws = workspace(tmp_path)
    tue, wed = D(2024, 3, 5), D(2024, 3, 6)
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "300.00", payout_id="po_named_1"),
                                   line("PAYMENT", "ch_2", "80.00")])
    write_bill(ws, "stripe", tue, [line("PAYOUT", "tr_1", "-300.00", payout_id="po_named_1"),
                                   line("PAYOUT", "tr_2", "-80.00")])
    write_bill(ws, "stripe", wed, [])
    run_layers23(ws, tue, internal=NONE, settings=layer_settings())
    rows = {r["key"]: r for r in rows_of(ws.results_dir(tue) / "layer2.parquet", section="settlement")}
    assert rows["payout:po_named_1"]["kind"] == "SETTLED"
    assert rows["payout:po_named_1"]["reason"].endswith("; linked by payout id on the trade lines")
    [period] = [r for k, r in rows.items() if k.startswith("period:")]
    assert period["kind"] == "SETTLED" and period["payout_ids"] == "tr_2"
    assert period["reason"].endswith("; linked by amount and date (the trade lines name no payout)")
