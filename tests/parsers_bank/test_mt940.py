"""MT940/MT942: tags, year boundaries, signs, :86: structures, dialects, and the rejections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from parsers import mt940_tags as T
from parsers.mt940 import tokenize
from parsers.mt940_statement import parse_details
from recon.errors import StatementRejected
from tests.parsers_bank.conftest import parse, write

STATEMENT = """\
{1:F01ABNANL2AXXXX0000000000}{2:O940ABNANL2AXXXXN}{3:}{4:
:20:STMT1
:25:NL91ABNA0417164300
:28C:00042/1
:60F:C141230EUR1000,00
:61:1412310105C250,50NTRFE2E-1//BANKREF-1
:86:/TRTP/SEPA OVERBOEKING/IBAN/NL02ABNA0123456789/BIC/ABNANL2A/NAME/Acme
 BV/REMI/Invoice 42/EREF/E2E-1
:61:1501050105D10,NCHGNONREF//FEE-1
:86:Monthly account fee
:61:1501050105RC40,50NRTINONREF//RET-1
:86:166?00RUECKLASTSCHRIFT?20EREF+ORIG-77?21SVWZ+Return of?22 order 77?32Jane Doe
:62F:C150105EUR1200,00
-}
"""


# --- year boundaries (FAULTS A21) -----------------------------------------------------------------

@pytest.mark.parametrize("line, value, entry", [
    ("1412310105C1,00NTRFNONREF", dt.date(2014, 12, 31), dt.date(2015, 1, 5)),
    ("2601011230D1,00NTRFNONREF", dt.date(2026, 1, 1), dt.date(2025, 12, 30)),
    ("1901011231C1,00NTRFNONREF", dt.date(2019, 1, 1), dt.date(2018, 12, 31)),
    ("1606300701C1,00NTRFNONREF", dt.date(2016, 6, 30), dt.date(2016, 7, 1)),
    ("160229C1,00NTRFNONREF", dt.date(2016, 2, 29), None),
])
def test_entry_date_takes_the_year_nearest_the_value_date(line: str, value: dt.date, entry: dt.date | None) -> None:
    parsed = T.StatementLine().parse(line)
    assert (parsed.value_date, parsed.entry_date) == (value, entry)


def test_year_boundary_reaches_the_bill(tmp_path: Path) -> None:
    bill = parse("mt940", write(tmp_path, "a.sta", STATEMENT)).bill
    assert bill["value_date"].to_list()[0] == dt.date(2014, 12, 31)
    assert bill["trade_time"].to_list()[0] == dt.datetime(2015, 1, 5, tzinfo=dt.timezone.utc)  # booking date 00:00 UTC
    assert set(bill["bill_date"].to_list()) == {dt.date(2015, 1, 5)}  # the closing balance's date


# --- rows ---------------------------------------------------------------------------------------

def test_rows_signs_types_references_and_details(tmp_path: Path) -> None:
    parsed = parse("mt940", write(tmp_path, "a.sta", STATEMENT))
    rows = parsed.bill.select("record_type", "amount", "channel_txn_id", "merchant_txn_id", "counterparty", "memo", "status").rows()
    assert rows == [
        ("PAYMENT", Decimal("250.50"), "BANKREF-1", "E2E-1", "Acme BV", "Invoice 42", "SUCCESS"),
        ("FEE", Decimal("-10"), "FEE-1", None, None, "Monthly account fee", "SUCCESS"),
        # RC: a credit reversed takes money out; EREF from the German ?20 purpose
        ("ADJUSTMENT", Decimal("-40.50"), "RET-1", "ORIG-77", "Jane Doe", "Return of order 77", "SUCCESS"),
    ]
    assert parsed.checks[-1] == "statement STMT1/00042/1 EUR: opening 1000.00 + entries 200.00 = closing 1200.00"
    assert parsed.balances.select("balance_type", "amount").rows() == [("OPENING", Decimal("1000")), ("CLOSING", Decimal("1200"))]


def test_crlf_and_lf_give_the_same_bill(tmp_path: Path) -> None:
    lf = parse("mt940", write(tmp_path, "lf.sta", STATEMENT)).bill.drop("source_file")
    crlf = parse("mt940", write(tmp_path, "crlf.sta", STATEMENT.replace("\n", "\r\n"))).bill.drop("source_file")
    assert lf.equals(crlf)


def test_junk_lines_soh_and_bank_headers_are_skipped(tmp_path: Path) -> None:
    body = STATEMENT.split("{4:\n", 1)[1].replace("-}", "-")
    text = "\x01\nABNANL2A\n940\nABNANL2A\n" + body + "\x03\n\x1a"
    assert parse("mt940", write(tmp_path, "j.sta", text)).bill.height == 3


def test_german_and_dutch_details() -> None:
    german = parse_details("166?00SEPA-UEBERWEISUNG?109310?20EREF+E2E 9?21SVWZ+Rechnung 1?22234?30DEUTDEFF?31DE02100100100006820101?32Max Muster\n?33mann")
    assert (german.memo, german.counterparty, german.end_to_end) == ("Rechnung 1234", "Max Mustermann", "E2E 9")
    dutch = parse_details("/TRTP/iDEAL/IBAN/NL44RABO0123456789/BIC/RABONL2U/NAME/Shop B.V./REMI/order 9/EREF/NOTPROVIDED")
    assert (dutch.memo, dutch.counterparty, dutch.end_to_end) == ("order 9", "Shop B.V.", None)
    assert parse_details("Free text\nover two lines").memo == "Free text over two lines"


# --- rejections ---------------------------------------------------------------------------------

def test_balance_mismatch_names_statement_and_figures(tmp_path: Path) -> None:
    bad = STATEMENT.replace("C250,50NTRF", "C250,51NTRF")
    with pytest.raises(StatementRejected) as err:
        parse("mt940", write(tmp_path, "bad.sta", bad))
    assert err.value.problem.code == "balance_mismatch"
    assert "STMT1/00042/1 EUR: opening 1000.00 + entries 200.01 = 1200.01" in err.value.problem.message
    assert "closing balance is 1200.00" in err.value.problem.message


def test_truncated_statement_is_rejected(tmp_path: Path) -> None:
    cut = STATEMENT.split(":62F:")[0]
    with pytest.raises(StatementRejected, match=r"STMT1/00042/1 has no :62F:/:62M: closing balance") as err:
        parse("mt940", write(tmp_path, "cut.sta", cut))
    assert err.value.problem.code == "truncated"


def test_invalid_date_and_lossy_bytes_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected, match="2016-02-30 does not exist"):
        parse("mt940", write(tmp_path, "f.sta", STATEMENT.replace(":61:1501050105D10,", ":61:1602300105D10,")))
    # #19: a file that is not UTF-8 is read by its bytes as Windows-1252 with a note (it used to be refused)
    latin = parse("mt940", write(tmp_path, "b.sta", STATEMENT.replace("Monthly", "Monatlich \xe4").encode("latin-1")))
    assert any("Monatlich ä" in (m or "") for m in latin.bill["memo"].to_list())
    assert [w.code for w in latin.warnings] == ["encoding_decided"]
    with pytest.raises(StatementRejected, match="U\\+FFFD"):
        parse("mt940", write(tmp_path, "r.sta", STATEMENT.replace("Monthly", "Monatlich \ufffd")))


def test_chain_break_between_statements_is_a_warning(tmp_path: Path) -> None:
    second = STATEMENT.replace("STMT1", "STMT2").replace(":60F:C141230EUR1000,00", ":60F:C150105EUR1000,00").replace(
        ":62F:C150105EUR1200,00", ":62F:C150106EUR1200,00")
    parsed = parse("mt940", write(tmp_path, "two.sta", STATEMENT + second))
    assert [w.code for w in parsed.warnings] == ["balance_chain"]
    assert "closed at 1200.00" in parsed.warnings[0].message


# --- MT942 and dialects -------------------------------------------------------------------------

def test_mt942_lines_are_intraday_and_sums_checked(tmp_path: Path) -> None:
    text = (":20:R1\n:25:PL29114010810000267002001002\n:28C:1/1\n:34F:PLND0,\n:13D:1701191815+0100\n"
            ":61:1701190119CN0,01NTRFNONREF//MB1\n:61:1701190119DN5,NTRFNONREF//MB2\n:90D:1PLN5,00\n:90C:1PLN0,01\n-")
    parsed = parse("mt942", write(tmp_path, "r.sta", text))
    assert parsed.bill["status"].to_list() == ["UNKNOWN", "UNKNOWN"]  # intraday, not yet booked on a statement
    assert parsed.bill["raw_status"].to_list() == ["INTRADAY", "INTRADAY"]
    with pytest.raises(StatementRejected, match=r":90C: says 1 entries totalling 0.02"):
        parse("mt942", write(tmp_path, "r2.sta", text.replace(":90C:1PLN0,01", ":90C:1PLN0,02")))


def test_dialects_declare_code_page_and_amount_mark(tmp_path: Path) -> None:
    hu = (":20:S\n:25:UBRTHUHB/123456789150ABCDEF002/HUF\n:28C:1\n:60F:C180417HUF10,00\n"
          ":61:180417CF2,00N527\n:86:Csoportos \xe1tutal\xe1s\n:62F:C180417HUF12,00\n-").encode("cp852")
    parsed = parse("mt940", write(tmp_path, "hu.sta", hu))
    assert parsed.bill["memo"].to_list() == ["Csoportos átutalás"]
    assert parsed.checks[0].startswith("dialect raiffeisen-hu")
    rabo = ":940:\n:20:940A\n:25:0800003200000001610722 EUR\n:28:00000/00\n:60F:C030106EUR000000000100.00\n:61:030109C000000000300.00NMSCNONREF\n:62F:C030108EUR000000000400.00\n"
    assert parse("mt940", write(tmp_path, "rabo.sta", rabo)).bill["amount"].to_list() == [Decimal("300")]


# --- the tag fragments of the public corpus parse tag by tag ------------------------------------

FRAGMENTS = ["betterplace__amount_formats", "betterplace__currency_in_25", "betterplace__empty_86", "betterplace__empty_entry_date",
             "betterplace__missing_crlf_at_end", "cmxl__account_balance_credit", "cmxl__account_balance_debit",
             "cmxl__account_identification_iban", "cmxl__account_identification_legacy", "cmxl__available_balance",
             "cmxl__closing_balance", "cmxl__reference", "cmxl__statement_details", "cmxl__statement_line",
             "cmxl__statement_number", "self-provided__empty_non_swift", "self-provided__sparkassen"]


@pytest.mark.parametrize("stem", FRAGMENTS)
def test_fragment_tags_parse(shared_samples: Path, stem: str) -> None:
    path = next((shared_samples / "mt940").glob(f"WoLpH-mt940__{stem}.*"))
    records = list(tokenize(path.read_text(encoding="utf-8")))
    assert records
    for rec in records:
        if rec.tag in T.STANDARD_TAGS:
            T.STANDARD_TAGS[rec.tag].parse(rec.value)


def test_fragment_values() -> None:
    amounts = [T.Balance().parse(v).amount for v in ("C100318EUR380115,12", "C100318EUR380115,", "C100318EUR00,12")]
    assert amounts == [Decimal("380115.12"), Decimal("380115"), Decimal("0.12")]
    assert T.Balance().parse("D140829EUR000000000147,64").amount == Decimal("-147.64")
    assert T.AccountIdentification().parse("70011110/4005287001EUR") == ("70011110/4005287001", "EUR")
    line = T.StatementLine().parse("1409010902DR000000000001,62NTRF0000549855700010//025498557/000001")
    assert (line.mark, line.funds_code, line.amount, line.customer_ref, line.bank_ref) == (
        "D", "R", Decimal("-1.62"), "0000549855700010", "025498557/000001")
    sparkasse = T.StatementLine().parse("1811261126CR\n30,00N062NONREF")
    assert (sparkasse.amount, sparkasse.funds_code) == (Decimal("30.00"), "R")
