"""BAI2: implied decimals, signs from type codes, continuations, and the 49/98/99 controls."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import StatementRejected
from tests.parsers_bank.conftest import parse, write

FILE = """\
01,BANKID,CUST,260105,0800,1,80,,2/
02,CUST,BANKID,1,260104,2400,USD,2/
03,12345,USD,010,100000,,,015,110050,,/
88,100,12500,2,,400,2450,2,/
16,195,12000,Z,BR-1,CR-1,WIRE FROM ACME, INV 7/
16,142,500,V,260104,1200,BR-2,,ACH CREDIT
88,CONTINUED TEXT
16,698,450,0,BR-3,,SERVICE FEE/
16,495,2000,S,1000,500,500,BR-4,CR-4,OUTGOING WIRE/
49,239950,8/
98,239950,1,10/
99,239950,1,12/
"""


def test_rows_and_balances(tmp_path: Path) -> None:
    parsed = parse("bai2", write(tmp_path, "f.bai", FILE))
    assert parsed.bill.select("record_type", "amount", "channel_txn_id", "merchant_txn_id", "memo").rows() == [
        ("PAYMENT", Decimal("120.00"), "BR-1", "CR-1", "WIRE FROM ACME, INV 7"),
        ("PAYMENT", Decimal("5.00"), "BR-2", None, "ACH CREDIT CONTINUED TEXT"),
        ("FEE", Decimal("-4.50"), "BR-3", None, "SERVICE FEE"),
        ("PAYOUT", Decimal("-20.00"), "BR-4", "CR-4", "OUTGOING WIRE"),
    ]
    assert parsed.bill["settle_date"].to_list()[1].isoformat() == "2026-01-04"  # funds type V value date
    assert parsed.balances.select("balance_type", "amount").rows() == [("OPENING", Decimal("1000.00")), ("CLOSING", Decimal("1100.50"))]
    assert "99 file: control total 239950, 12 records" in parsed.checks


def test_jpy_has_no_implied_decimals(tmp_path: Path) -> None:
    text = FILE.replace(",USD,", ",JPY,")
    assert parse("bai2", write(tmp_path, "j.bai", text)).bill["amount"].to_list()[0] == Decimal("12000")


@pytest.mark.parametrize("change, message", [
    (("49,239950,8/", "49,239951,8/"), "49 account 12345 control total 239951, but the records beneath sum to 239950"),
    (("49,239950,8/", "49,239950,7/"), "49 account 12345 says 7 records, the file has 8"),
    (("98,239950,1,10/", "98,239950,2,10/"), "98 group says 2 accounts, the file has 1"),
    (("99,239950,1,12/\n", ""), "no 99 file trailer"),
    (("16,195,12000", "16,195,12001"), "control total"),
    (("16,698,450", "16,798,450"), "type code '798' has no defined direction"),
])
def test_controls_reject(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(StatementRejected, match=message):
        parse("bai2", write(tmp_path, "bad.bai", FILE.replace(*change)))


def test_balance_mismatch(tmp_path: Path) -> None:
    text = FILE.replace("015,110050", "015,110051").replace("239950", "239951")
    with pytest.raises(StatementRejected, match=r"12345@2026-01-04 USD: opening 1000.00 \+ entries 100.50 = 1100.50"):
        parse("bai2", write(tmp_path, "m.bai", text))
