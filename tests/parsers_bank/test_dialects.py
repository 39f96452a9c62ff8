"""Real banks' dialects (issue #19): each case is a hand-written file reproducing the dialect from the
specs in FORMATS.md. Faithful first: nothing the file states is dropped; only what is false is refused."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import StatementRejected
from tests.parsers_bank.conftest import parse, write

CAMT_HEAD = ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
             "<GrpHdr><MsgId>M1</MsgId>{grp}</GrpHdr><Stmt><Id>S-1</Id>{cre}"
             "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>{bal}")
CAMT_BAL = ('<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amt}</Amt>'
            "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>")


def camt(entries: str, *, grp: str = "", cre: str = "", balances: bool = True, decl: str = "") -> str:
    bal = (CAMT_BAL.format(code="PRCD", amt="100.00", day="2026-03-04") + CAMT_BAL.format(code="CLBD", amt="150.00", day="2026-03-05")
           if balances else "")
    return decl + CAMT_HEAD.format(grp=grp, cre=cre, bal=bal) + "\n" + entries + "</Stmt></BkToCstmrStmt></Document>\n"


def camt_entry(*, dates: bool = True, memo: str = "Rechnung 7") -> str:
    when = "<BookgDt><Dt>2026-03-05</Dt></BookgDt><ValDt><Dt>2026-03-05</Dt></ValDt>" if dates else ""
    return ('<Ntry><NtryRef>NREF-1</NtryRef><Amt Ccy="EUR">50.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            f"{when}<AcctSvcrRef>BANK-ENTRY-77</AcctSvcrRef><NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-5</AcctSvcrRef>"
            f"<EndToEndId>E2E-5</EndToEndId></Refs><RmtInf><Ustrd>{memo}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")


def test_camt_entry_reference_is_kept_beside_the_transaction_reference(tmp_path: Path) -> None:
    """genkgo/OCA-style entries: TxDtls/Refs/AcctSvcrRef used to replace the entry's own reference."""
    row = parse("camt.053", write(tmp_path, "r.xml", camt(camt_entry()))).bill.row(0, named=True)
    assert (row["channel_txn_id"], row["merchant_txn_id"], row["entry_ref"]) == ("TX-5", "E2E-5", "BANK-ENTRY-77")
    assert row["references"] == ("Ntry/NtryRef=NREF-1; Ntry/AcctSvcrRef=BANK-ENTRY-77; "
                                 "TxDtls/Refs/AcctSvcrRef=TX-5; TxDtls/Refs/EndToEndId=E2E-5")


@pytest.mark.parametrize("grp, balances, day, source", [
    ("<CreDtTm>2026-03-06T07:00:00</CreDtTm>", True, dt.date(2026, 3, 5), "the closing balance date"),
    ("<CreDtTm>2026-03-06T07:00:00</CreDtTm>", False, dt.date(2026, 3, 6), "GrpHdr/CreDtTm"),
])
def test_camt_entries_without_dates_take_the_statement_day(tmp_path: Path, grp: str, balances: bool, day: dt.date,
                                                          source: str) -> None:
    """No BookgDt/ValDt and no Stmt/CreDtTm: the balances or the group header give the day."""
    doc = camt(camt_entry(dates=False), grp=grp, balances=balances)
    parsed = parse("camt.053", write(tmp_path, "d.xml", doc))
    assert parsed.bill["trade_time"].dt.date().to_list() == [day]
    assert f"report S-1: 1 entries without BookgDt/ValDt dated by {source}" in parsed.checks


def test_camt_undated_entry_with_nothing_to_date_it_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected, match=r"d.xml:\d+: .*no BookgDt or ValDt"):
        parse("camt.053", write(tmp_path, "d.xml", camt(camt_entry(dates=False), balances=False)))


@pytest.mark.parametrize("entry", ["<Ntry/>", '<Ntry xmlns="urn:other"><Amt Ccy="EUR">1.00</Amt></Ntry>',
                                   "<Ntry><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>"])
def test_camt_entry_without_an_amount_is_refused_by_file_and_line(tmp_path: Path, entry: str) -> None:
    """An entry with no Amt of the statement's namespace (empty, foreign, or just missing) has nothing to
    book: a refusal naming the file and line, not an AttributeError from deep in the parser."""
    with pytest.raises(StatementRejected, match=r"^e\.xml:3: report S-1: entry has no Amt$"):
        parse("camt.053", write(tmp_path, "e.xml", camt(camt_entry() + entry + "\n")))


def test_camt_latin1_without_declaration_is_read_by_its_bytes(tmp_path: Path) -> None:
    data = camt(camt_entry(memo="Gebühr März")).encode("latin-1")
    parsed = parse("camt.053", write(tmp_path, "l.xml", data))
    assert parsed.bill["memo"].to_list() == ["Gebühr März"]
    assert [w.code for w in parsed.warnings] == ["encoding_decided"]
    assert any("read as ISO-8859-1" in c for c in parsed.checks)
    # a UTF-8 file without a declaration is read as UTF-8 with no note
    plain = parse("camt.053", write(tmp_path, "u.xml", camt(camt_entry(memo="Gebühr März"))))
    assert plain.bill["memo"].to_list() == ["Gebühr März"] and not plain.warnings


OFX_HEAD = ("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\n"
            "COMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n")


def ofx(*, account: str = "<BANKACCTFROM><BANKID>123<ACCTID>987654<ACCTTYPE>CHECKING</BANKACCTFROM>\n",
        balamt: str = "250.00", dtasof: str = "20260305", memo: str = "Cafe", trnamt: str = "-13.00") -> str:
    return (OFX_HEAD + "<OFX>\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1\n<STMTRS><CURDEF>EUR\n" + account
            + "<BANKTRANLIST><DTSTART>20260301\n<DTEND>20260305\n"
            f"<STMTTRN><TRNTYPE>DEBIT\n<DTPOSTED>20260304\n<TRNAMT>{trnamt}\n<FITID>F1\n<NAME>Shop\n<MEMO>{memo}\n</STMTTRN>\n"
            f"</BANKTRANLIST>\n<LEDGERBAL>\n<BALAMT>{balamt}\n<DTASOF>{dtasof}\n</LEDGERBAL>\n</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n")


def test_ofx_charset_1252_over_utf8_bytes_is_read_by_its_bytes(tmp_path: Path) -> None:
    parsed = parse("ofx", write(tmp_path, "c.ofx", ofx(memo="Café Łódź").encode("utf-8")))
    assert parsed.bill["memo"].to_list() == ["Shop / Café Łódź"]
    assert [w.code for w in parsed.warnings] == ["encoding_decided"]
    assert "CHARSET:1252" in parsed.warnings[0].message and "read as UTF-8" in parsed.warnings[0].message
    # a true CP1252 file is still read as CP1252, without a note
    true_1252 = parse("ofx", write(tmp_path, "t.ofx", ofx(memo="Café").encode("cp1252")))
    assert true_1252.bill["memo"].to_list() == ["Shop / Café"] and not true_1252.warnings


def test_ofx_balance_date_zero_keeps_every_transaction(tmp_path: Path) -> None:
    parsed = parse("ofx", write(tmp_path, "z.ofx", ofx(dtasof="00000000")))
    assert parsed.bill["amount"].to_list() == [Decimal("-13")]
    assert parsed.balances.select("balance_date", "amount").rows() == [(dt.date(2026, 3, 5), Decimal("250"))]
    assert [w.code for w in parsed.warnings] == ["balance_date"] and "00000000" in parsed.warnings[0].message


def test_ofx_empty_element_closes_and_messages_name_the_right_element(tmp_path: Path) -> None:
    parsed = parse("ofx", write(tmp_path, "e.ofx", ofx(balamt="")))
    assert parsed.bill.height == 1 and parsed.balances.height == 0
    assert parsed.warnings[0].message.startswith("LEDGERBAL/BALAMT is empty")
    with pytest.raises(StatementRejected) as err:
        parse("ofx", write(tmp_path, "t.ofx", ofx(trnamt="")))
    assert "STMTTRN/TRNAMT" in err.value.problem.message and err.value.problem.line == 19  # the TRNAMT line, not its STMTTRN


def test_ofx_without_account_block_takes_the_channel_account(tmp_path: Path) -> None:
    path = write(tmp_path, "n.ofx", ofx(account=""))
    parsed = parse("ofx", path, account="DE-ACC-1")
    assert parsed.bill["account"].to_list() == ["DE-ACC-1"]
    assert any("account DE-ACC-1 from the channel's configuration" in c for c in parsed.checks)
    with pytest.raises(StatementRejected, match="configures no account"):
        parse("ofx", path)


def mt(body: str, *, closing: str = ":62F:C260305EUR150,00", end: str = "-") -> str:
    return (":20:STMT-1\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n:60F:C260304EUR100,00\r\n"
            f"{body}{closing}\r\n{end}\r\n")


LINE_50 = ":61:2603050305C50,00NTRFNONREF//B-1\r\n:86:Rechnung 7\r\n"


def test_mt940_end_line_with_a_leading_space(tmp_path: Path) -> None:
    two = mt(LINE_50, end=" -") + mt(LINE_50).replace("STMT-1", "STMT-2").replace("C260304EUR100,00", "C260305EUR150,00").replace(
        "C260305EUR150,00\r\n-", "C260305EUR200,00\r\n-")
    parsed = parse("mt940", write(tmp_path, "e.sta", two))
    assert parsed.bill["memo"].to_list() == ["Rechnung 7", "Rechnung 7"]  # no " -" glued onto the memo
    assert len([c for c in parsed.checks if "= closing" in c]) == 2


def test_mt942_older_13_tag_without_offset(tmp_path: Path) -> None:
    text = (":20:FINTS-1\r\n:25:10020030/1234567\r\n:28C:1/1\r\n:34F:EUR0,\r\n:13:2603051430\r\n"
            ":61:2603050305C50,00NTRFNONREF//B-1\r\n:86:Gutschrift\r\n:90D:0EUR0,\r\n:90C:1EUR50,00\r\n-\r\n")
    parsed = parse("mt942", write(tmp_path, "f.sta", text))
    assert parsed.bill["amount"].to_list() == [Decimal("50")]
    bad = text.replace(":13:2603051430", ":13:26030514")
    with pytest.raises(StatementRejected) as err:
        parse("mt942", write(tmp_path, "b.sta", bad))
    assert err.value.problem.message.startswith(":13: ") and err.value.problem.line == 5  # :13:, not :13D:


def test_mt940_messages_name_the_tag_at_fault(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected) as err:
        parse("mt940", write(tmp_path, "t.sta", mt(LINE_50, closing=":62F:C260305EUR15O,00")))
    assert err.value.problem.message.startswith(":62F: ") and err.value.problem.line == 7


def test_mt940_amounts_finer_than_the_currency_or_too_long_are_refused(tmp_path: Path) -> None:
    jpy = mt(":61:2603050305C50,NTRFNONREF//B-1\r\n", closing=":62F:C260305JPY1000,5").replace("EUR100,00", "JPY950,5")
    with pytest.raises(StatementRejected) as err:
        parse("mt940", write(tmp_path, "j.sta", jpy))
    assert err.value.problem.code == "amount_scale" and ":60F: amount 950.5 JPY" in err.value.problem.message
    assert [p.line for p in err.value.problems] == [4, 6]  # every offending balance, not only the first
    whole = jpy.replace("JPY950,5", "JPY950,").replace("JPY1000,5", "JPY1000,00")  # trailing zeros are not finer
    assert parse("mt940", write(tmp_path, "w.sta", whole)).bill["amount"].to_list() == [Decimal("50")]
    huge = mt(":61:2603050305C" + "9" * 38 + ",00NTRFNONREF//B-1\r\n")
    with pytest.raises(StatementRejected) as err:
        parse("mt940", write(tmp_path, "h.sta", huge))
    assert err.value.problem.line == 5 and err.value.problem.message.startswith(":61: ")


def test_mt940_keeps_every_reference_the_line_states(tmp_path: Path) -> None:
    """:61: customer and bank references and the SEPA references of :86: all reach the bill."""
    text = mt(":61:2603050305C50,00NTRFKD-77//B-1\r\n:86:166?00SEPA-GUTSCHRIFT?20EREF+E2E-5?21MREF+M-9?22SVWZ+Rechnung 7\r\n")
    row = parse("mt940", write(tmp_path, "r.sta", text)).bill.row(0, named=True)
    assert (row["channel_txn_id"], row["merchant_txn_id"], row["entry_ref"]) == ("B-1", "KD-77", "B-1")
    assert row["references"] == "61/customer=KD-77; 61/bank=B-1; 86/EREF=E2E-5; 86/MREF=M-9"


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.replace("<BookgDt><Dt>2026-03-05", "<BookgDt><Dt>2026-13-05"), "Ntry: '2026-13-05' is not an ISO date"),
    (lambda d: d.replace("<BookgDt><Dt>2026-03-05</Dt>", "<BookgDt><DtTm>yesterday</DtTm>"), "Ntry: 'yesterday' is not an ISO date-time"),
    (lambda d: d.replace("2026-03-04", "2026-02-30"), "Bal: '2026-02-30' is not an ISO date"),
    (lambda d: d.replace("<Acct>", "<TxsSummry><TtlNtries><NbOfNtries>1.5</NbOfNtries></TtlNtries></TxsSummry><Acct>"), "not a count"),
])
def test_camt_impossible_dates_and_counts_are_one_line_refusals(tmp_path: Path, edit, words: str) -> None:
    with pytest.raises(StatementRejected, match=re.escape(words)):
        parse("camt.053", write(tmp_path, "x.xml", edit(camt(camt_entry()))))


def test_mt940_encoding_is_decided_by_the_bytes(tmp_path: Path) -> None:
    """mBank's dialect says cp1250; a UTF-8 export of it is read as UTF-8, and a standard file in
    Windows-1252 is read as such, each with a note (both used to be refused or garbled)."""
    polish = "\x01" + mt(":61:2603050305C50,00NTRFNONREF//B-1\r\n:86:Zażółć gęślą jaźń\r\n") + "\x03"
    utf8 = parse("mt940", write(tmp_path, "m.sta", polish.encode("utf-8")))
    assert utf8.bill["memo"].to_list() == ["Zażółć gęślą jaźń"] and [w.code for w in utf8.warnings] == ["encoding_decided"]
    assert "cp1250" in utf8.warnings[0].message
    german = parse("mt940", write(tmp_path, "g.sta", mt(":61:2603050305C50,00NTRFNONREF//B-1\r\n:86:Gebühr\r\n").encode("cp1252")))
    assert german.bill["memo"].to_list() == ["Gebühr"] and "cp1252" in german.warnings[0].message


def test_bai2_record_cut_short_is_a_one_line_refusal(tmp_path: Path) -> None:
    text = "01,1111,testcompany,210101,0101,010101010101,,,2/\n02,testcompany,1111,1,210101,2359,,2/\n03,12345"
    with pytest.raises(StatementRejected) as err:
        parse("bai2", write(tmp_path, "t.bai2", text))
    assert (err.value.problem.line, err.value.problem.code) == (3, "truncated")


def test_mt940_refusal_lists_every_faulty_tag_of_every_statement(tmp_path: Path) -> None:
    bad_tags = mt(":61:2603050305C5O,00NTRFNONREF//B-1\r\n", closing=":62F:C2603O5EUR150,00")
    off_by_one = mt(LINE_50, closing=":62F:C260305EUR151,00").replace("STMT-1", "STMT-2")
    with pytest.raises(StatementRejected) as err:
        parse("mt940", write(tmp_path, "m.sta", bad_tags + off_by_one))
    assert [(p.line, p.message.split(" ")[0]) for p in err.value.problems] == [(5, ":61:"), (6, ":62F:"), (14, "statement")]
    assert err.value.problem_count == 3


def test_ofx_utf8_header_over_cp1252_bytes_is_read_as_cp1252_with_a_note(tmp_path: Path) -> None:
    text = ofx(memo="Café").replace("ENCODING:USASCII\r\nCHARSET:1252", "ENCODING:UTF-8\r\nCHARSET:NONE")
    parsed = parse("ofx", write(tmp_path, "u.ofx", text.encode("cp1252")))
    assert parsed.bill["memo"].to_list() == ["Shop / Café"]
    assert "ENCODING:UTF-8" in parsed.warnings[0].message and "cp1252" in parsed.warnings[0].message


def test_camt_latin1_declaration_over_utf8_bytes_is_read_as_utf8(tmp_path: Path) -> None:
    doc = camt(camt_entry(memo="Gebühr März"), decl='<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    parsed = parse("camt.053", write(tmp_path, "d.xml", doc.encode("utf-8")))
    assert parsed.bill["memo"].to_list() == ["Gebühr März"]  # not 'GebÃ¼hr MÃ¤rz'
    assert "says ISO-8859-1" in parsed.warnings[0].message
    honest = parse("camt.053", write(tmp_path, "h.xml", doc.encode("latin-1")))
    assert honest.bill["memo"].to_list() == ["Gebühr März"] and not honest.warnings
