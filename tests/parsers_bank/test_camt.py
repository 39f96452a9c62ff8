"""camt.052/053/054: versions, batches, reversals, charges, copies, control sums and XML safety."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import StatementRejected
from tests.parsers_bank.conftest import parse, write


def doc(entries: str, *, version: str = "08", msg: str = "053", extra_bal: str = "", summary: str = "", cpy: str = "",
        opening: str = "100.00", closing: str = "150.00") -> str:
    root, rep = {"052": ("BkToCstmrAcctRpt", "Rpt"), "053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}[msg]
    bal = "".join(
        f"<Bal><Tp><CdOrPrtry><Cd>{c}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{a}</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
        f"<Dt><Dt>2026-01-0{d}</Dt></Dt></Bal>" for c, a, d in (("PRCD", opening, 1), ("CLBD", closing, 2)))
    return (f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{msg}.001.{version}">'
            f"<{root}><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-02T06:00:00Z</CreDtTm></GrpHdr><{rep}><Id>S-1</Id>"
            f"<CreDtTm>2026-01-02T06:00:00Z</CreDtTm>{cpy}<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            f"{bal}{extra_bal}{summary}\n{entries}</{rep}></{root}></Document>")


def ntry(amount: str, ind: str = "CRDT", *, sts: str = "<Sts><Cd>BOOK</Cd></Sts>", ref: str = "REF-1", rvsl: str = "",
         details: str = "", charges: str = "", fam: str = "RCDT", sub: str = "ESCT") -> str:
    return (f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{rvsl}{sts}"
            f"<BookgDt><DtTm>2026-01-02T10:30:00+01:00</DtTm></BookgDt><ValDt><Dt>2026-01-02</Dt></ValDt>"
            f"<AcctSvcrRef>{ref}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{fam}</Cd><SubFmlyCd>{sub}</SubFmlyCd>"
            f"</Fmly></Domn></BkTxCd>{charges}<NtryDtls>{details}</NtryDtls></Ntry>\n")


def tx(amount: str | None, e2e: str, name: str, text: str) -> str:
    amt = f"<Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>" if amount else ""
    return (f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amt}<RltdPties><Dbtr><Pty><Nm>{name}</Nm></Pty></Dbtr>"
            f"</RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>")


def test_entry_fields_time_and_balance_check(tmp_path: Path) -> None:
    parsed = parse("camt.053", write(tmp_path, "s.xml", doc(ntry("50.00", details=tx(None, "E2E-9", "Acme", "inv 9")))))
    row = parsed.bill.row(0, named=True)
    assert (row["record_type"], row["amount"], row["channel_txn_id"], row["merchant_txn_id"], row["counterparty"], row["memo"]) == (
        "PAYMENT", Decimal("50"), "REF-1", "E2E-9", "Acme", "inv 9")
    assert row["trade_time"] == dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.timezone.utc)  # the offset honoured
    assert row["bank_code"] == "PMNT/RCDT/ESCT"
    assert "opening 100.00 + entries 50.00 = closing 150.00" in parsed.checks[-1]


@pytest.mark.parametrize("version, sts", [("02", "<Sts>BOOK</Sts>"), ("04", "<Sts>BOOK</Sts>"), ("08", "<Sts><Cd>BOOK</Cd></Sts>")])
def test_versions_share_one_reader(tmp_path: Path, version: str, sts: str) -> None:
    parsed = parse("camt.053", write(tmp_path, "v.xml", doc(ntry("50.00", sts=sts), version=version)))
    assert parsed.bill["status"].to_list() == ["SUCCESS"]


def test_batch_is_split_only_when_amounts_add_up(tmp_path: Path) -> None:
    batch = tx("30.00", "A", "Ann", "one") + tx("20.00", "B", "Bob", "two")
    parsed = parse("camt.053", write(tmp_path, "b.xml", doc(ntry("50.00", details=batch))))
    assert parsed.bill.select("amount", "channel_txn_id", "merchant_txn_id").rows() == [
        (Decimal("30"), "REF-1/1", "A"), (Decimal("20"), "REF-1/2", "B")]
    wrong = tx("50.00", "A", "Ann", "one") + tx("50.00", "B", "Bob", "two")  # OCA#157: entry amount copied
    kept = parse("camt.053", write(tmp_path, "w.xml", doc(ntry("50.00", details=wrong))))
    assert kept.bill["amount"].to_list() == [Decimal("50")]
    assert [w.code for w in kept.warnings] == ["batch"]


def test_reversal_fee_and_pending(tmp_path: Path) -> None:
    entries = (ntry("60.00", rvsl="<RvslInd>true</RvslInd>", ref="R") + ntry("10.00", "DBIT", ref="F", fam="ACCB", sub="CHRG")
               + ntry("999.00", sts="<Sts><Cd>PDNG</Cd></Sts>", ref="P") + ntry("120.00", ref="C"))
    parsed = parse("camt.053", write(tmp_path, "r.xml", doc(entries, closing="270.00")))
    assert parsed.bill.select("channel_txn_id", "record_type", "amount", "status").rows() == [
        ("R", "ADJUSTMENT", Decimal("60"), "SUCCESS"), ("F", "FEE", Decimal("-10"), "SUCCESS"),
        ("P", "PAYMENT", Decimal("999"), "UNKNOWN"), ("C", "PAYMENT", Decimal("120"), "SUCCESS")]
    # the pending 999 does not move the booked balance: 60 - 10 + 120
    assert parsed.checks[-1] == "statement S-1 EUR: opening 100.00 + entries 170.00 = closing 270.00"


def test_included_charges_become_the_fee(tmp_path: Path) -> None:
    charges = ("<Chrgs><Rcrd><Amt Ccy=\"EUR\">0.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd></Rcrd>"
               "<Rcrd><Amt Ccy=\"EUR\">9.99</Amt><CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>false</ChrgInclInd></Rcrd></Chrgs>")
    parsed = parse("camt.053", write(tmp_path, "c.xml", doc(ntry("50.00", charges=charges))))
    assert parsed.bill.select("amount", "fee", "net_amount").rows() == [(Decimal("50.50"), Decimal("0.50"), Decimal("50"))]


def test_five_decimals_and_copy_indicator(tmp_path: Path) -> None:
    parsed = parse("camt.053", write(tmp_path, "f.xml", doc(ntry("0.12345"), closing="100.12345", cpy="<CpyDplctInd>DUPL</CpyDplctInd>")))
    assert parsed.bill["amount"].to_list() == [Decimal("0.12345")]
    assert any("marked DUPL" in c for c in parsed.checks)
    assert [w.code for w in parsed.warnings] == ["copy_duplicate"]


def test_mismatch_and_summary_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected, match=r"S-1 EUR: opening 100.00 \+ entries 49.99 = 149.99, but the bank's closing balance is 150.00") as err:
        parse("camt.053", write(tmp_path, "m.xml", doc(ntry("49.99"))))
    assert err.value.problem.line is not None and err.value.problem.line >= 1
    summary = "<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries><Sum>50.00</Sum></TtlNtries></TxsSummry>"
    with pytest.raises(StatementRejected, match="TtlNtries says 2 entries"):
        parse("camt.053", write(tmp_path, "t.xml", doc(ntry("50.00"), summary=summary)))


def test_intraday_and_notification(tmp_path: Path) -> None:
    rpt = doc(ntry("50.00"), msg="052")
    assert parse("camt.052", write(tmp_path, "r.xml", rpt)).bill.height == 1
    with pytest.raises(StatementRejected, match="this is camt.052"):
        parse("camt.053", write(tmp_path, "r2.xml", rpt))
    note = doc(ntry("50.00"), msg="054").replace("<Bal>", "<X>").replace("</Bal>", "</X>")
    assert parse("camt.054", write(tmp_path, "n.xml", note)).balances.height == 0


def test_truncated_xml_is_rejected(tmp_path: Path) -> None:
    text = doc(ntry("50.00"))
    with pytest.raises(StatementRejected, match="not a well-formed") as err:
        parse("camt.053", write(tmp_path, "cut.xml", text[: len(text) // 2 + 40]))
    assert err.value.problem.code == "xml"


@pytest.mark.parametrize("attack", [
    '<!DOCTYPE d [<!ENTITY x "boom">]>',
    '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
])
def test_dtds_and_entities_are_refused(tmp_path: Path, attack: str) -> None:
    text = doc(ntry("50.00", details=tx(None, "E", "&x;" if "x" in attack else "&b;", "t")))
    text = text.replace("?>", "?>" + attack, 1)
    with pytest.raises(StatementRejected) as err:
        parse("camt.053", write(tmp_path, "x.xml", text))
    assert err.value.problem.code == "xml"
