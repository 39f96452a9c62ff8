"""Safe cells: formulas never, card numbers masked, numbers stay numbers (FAULTS.md D3, D8)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from recon.excel.cells import is_risky, luhn_ok, mask_pans, put, safe_text

TRIGGERED = st.builds(lambda p, s: p + s, st.sampled_from(["=", "+", "-", "@", "\t", "\r", " =", "\r\n="]),
                      st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))


@settings(max_examples=20, deadline=None)
@given(values=st.lists(TRIGGERED, min_size=1, max_size=8))
def test_untrusted_text_reads_back_as_the_same_text(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("safe") / "t.xlsx"
    wb = Workbook()
    for i, v in enumerate(values, 1):
        put(wb.active.cell(i, 1), v)
    wb.save(path)
    back = load_workbook(path).active
    for i, v in enumerate(values, 1):
        cell = back.cell(i, 1)
        assert cell.data_type != "f"
        assert cell.value == safe_text(v)


def test_negative_numbers_stay_numbers_and_error_codes_stay_text(tmp_path):
    wb = Workbook()
    put(wb.active["A1"], Decimal("-50.25"), "#,##0.00")
    put(wb.active["A2"], "#N/A")
    put(wb.active["A3"], '=HYPERLINK("x")')
    wb.save(tmp_path / "t.xlsx")
    back = load_workbook(tmp_path / "t.xlsx").active
    assert back["A1"].data_type == "n" and Decimal(str(back["A1"].value)) == Decimal("-50.25")
    assert back["A2"].data_type == "s" and back["A2"].value == "#N/A"
    assert back["A3"].data_type == "s" and back["A3"].value == '=HYPERLINK("x")' and back["A3"].quotePrefix


def test_card_numbers_are_masked_and_other_ids_are_not():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert mask_pans("paid with 4111 1111 1111 1111 ok") == "paid with 411111******1111 ok"
    assert mask_pans("5555-5555-5555-4444") == "555555******4444"
    assert mask_pans("4111111111111112") == "4111111111111112"  # not Luhn-valid: an order number
    wechat_id = "4200001234202503140123456789"  # 28 digits: a channel serial, not a card
    assert mask_pans(wechat_id) == wechat_id
    assert safe_text("a\x00b") == "a\ufffdb"
    assert is_risky("  =1+1") and is_risky("\tx") and not is_risky("plain 1-2")
