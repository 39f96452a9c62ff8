"""OFX 1.x SGML and 2.x XML: one reader, dates with offsets, signed and decimal-comma amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from parsers.ofx import ofx_datetime
from recon.errors import StatementRejected
from tests.parsers_bank.conftest import parse, write

SGML = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>999988<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260101<DTEND>20260105
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260102120000.000[-5:EST]<TRNAMT>200.00<FITID>F1<NAME>ACME &amp; CO<MEMO>Caf\xe9 invoice</STMTTRN>
<STMTTRN><TRNTYPE>SRVCHG<DTPOSTED>20260103<TRNAMT>-5,00<FITID>F2<NAME>BANK</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1195.00<DTASOF>20260105</LEDGERBAL><AVAILBAL><BALAMT>1100.00<DTASOF>20260105</AVAILBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def test_sgml_rows_and_balances(tmp_path: Path) -> None:
    parsed = parse("ofx", write(tmp_path, "a.ofx", SGML.encode("cp1252")))
    assert parsed.bill.select("record_type", "amount", "channel_txn_id", "counterparty", "memo").rows() == [
        ("PAYMENT", Decimal("200.00"), "F1", "ACME & CO", "ACME & CO / Café invoice"),
        ("FEE", Decimal("-5.00"), "F2", "BANK", "BANK"),
    ]
    assert parsed.bill["trade_time"].to_list()[0] == dt.datetime(2026, 1, 2, 17, 0, tzinfo=dt.timezone.utc)
    assert parsed.balances.select("balance_type", "amount").rows() == [("CLOSING", Decimal("1195")), ("AVAILABLE", Decimal("1100"))]


def test_xml_form_gives_the_same_rows(tmp_path: Path) -> None:
    body = SGML.split("\n\n", 1)[1]
    for leaf in ("TRNUID", "CODE", "SEVERITY", "CURDEF", "BANKID", "ACCTID", "ACCTTYPE", "DTSTART", "DTEND", "TRNTYPE",
                 "DTPOSTED", "TRNAMT", "FITID", "NAME", "MEMO", "BALAMT", "DTASOF"):
        body = __import__("re").sub(rf"<{leaf}>([^<\n]*)", rf"<{leaf}>\1</{leaf}>", body)
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE"?>\n' + body
    a = parse("ofx", write(tmp_path, "a.ofx", SGML.encode("cp1252"))).bill.drop("source_file", "source_line")
    b = parse("ofx", write(tmp_path, "b.ofx", xml)).bill.drop("source_file", "source_line")
    assert a.equals(b)


@pytest.mark.parametrize("text, day, utc", [
    ("20240323000000[-3:GMT]", dt.date(2024, 3, 23), dt.datetime(2024, 3, 23, 3, tzinfo=dt.timezone.utc)),
    ("20181227152201.530[-5:EST]", dt.date(2018, 12, 27), dt.datetime(2018, 12, 27, 20, 22, 1, tzinfo=dt.timezone.utc)),
    ("20221028120000.000 GMT", dt.date(2022, 10, 28), dt.datetime(2022, 10, 28, 12, tzinfo=dt.timezone.utc)),
    ("20240101093000[+9:JST]", dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone.utc)),
    ("20240101", dt.date(2024, 1, 1), None),  # date only: the day as written, never shifted through UTC
])
def test_dates(text: str, day: dt.date, utc: dt.datetime | None) -> None:
    assert ofx_datetime(text, "DTPOSTED", "f", 1) == (day, utc)


def test_malformed_amount_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected, match="TRNAMT: not an amount"):
        parse("ofx", write(tmp_path, "b.ofx", SGML.replace("200.00", "2O0.00").encode("cp1252")))
