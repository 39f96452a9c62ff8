"""The native reader (polars on the bytes) and the exact reader (line by line) mean the same thing.

Each case is read both ways: either the native reader proves itself and returns the same rows as
the exact one, or it declines and the exact reader decides (with the same rejections as before).
The cases are the ones where a fast CSV reading and a careful one can differ: quotes, line breaks
inside and between records, blank lines, stray CRs, padding, encodings.
"""

from __future__ import annotations

import gzip

import polars as pl
import pytest

from parsers import csv_common as cc
from parsers import paypal_stl
from parsers.stripe_balance import LAYOUT as STRIPE, USED as STRIPE_USED
from recon.errors import StatementRejected
from tests.parsers_intl.test_paypal import BAL, GOOD, GOOD_SF, HEAD, sb, stl

HEADER = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,description\n"
ROW = "txn_1,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,{}\n"
NATIVE, EXACT = "native", "exact"


def both_ways(path):
    """(which reader decided, its frame) and the exact reader's frame, both on the declared columns used."""
    native = cc._native_table(path.read_bytes())
    _, exact = cc._exact_records(path, "f.csv", STRIPE, None)
    _, frame = cc.read_records(path, "f.csv", STRIPE, STRIPE_USED)
    return (NATIVE if native is not None else EXACT), frame, exact.select(frame.columns)


@pytest.mark.parametrize(("body", "reader"), [
    (ROW.format("web"), NATIVE),
    (ROW.format('"Order 7, web"'), NATIVE),                      # a quoted comma
    (ROW.format("web").replace("\n", "\r\n") * 2, NATIVE),         # CRLF
    (ROW.format(" padded \t"), NATIVE),                          # trimmed like the exact reader
    (ROW.format("\u00a0nbsp\u3000"), NATIVE),                    # Unicode spaces: non-ASCII columns are trimmed
    (ROW.format("web").replace("charge,", "charge\r,"), NATIVE),  # polars drops a CR before a comma; trimming would
    (ROW.format("web").rstrip("\n"), NATIVE),                     # no final newline
    (ROW.format("a\x00b"), NATIVE),                                # a NUL is just a character
    ("", NATIVE),                                                  # header only: no rows
    (ROW.format('"say ""hi"""'), EXACT),                          # a quote inside a value
    (ROW.format('"two\nlines"'), EXACT),                           # a record over two lines
    (ROW.format("a") + "\n" + ROW.format("b"), EXACT),             # a blank line, skipped without shifting lines
    (ROW.format("a") + "   \n", EXACT),                            # a line of spaces
    (ROW.format("web") + "\n\n", EXACT),                           # blank lines at the end
    (ROW.format("mid\rvalue"), EXACT),                             # a CR polars keeps inside a value
])
def test_native_rows_equal_exact_rows(write, body, reader):
    taken, frame, exact = both_ways(write("\ufeff" + HEADER + body))
    assert taken == reader
    assert frame.equals(exact, null_equal=True) and frame.schema == exact.schema


@pytest.mark.parametrize(("body", "line", "words"), [
    # A lost separator next to a CR polars drops: the byte count still sees the missing field.
    (ROW.format("x").replace("USD,", "USD\u00a0").replace("charge,", "charge\r,"), 2, "row has 7 fields"),
    (ROW.format('"open "" quote').rstrip("\n"), 2, "malformed CSV"),  # polars would close it at the end
    (ROW.format("x") + "txn_2,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,x,extra\n", 3, "row has 9 fields"),
])
def test_declined_files_keep_their_rejections(write, body, line, words):
    path = write(HEADER + body)
    assert cc._native_table(path.read_bytes()) is None
    with pytest.raises(StatementRejected) as exc:
        cc.read_records(path, "f.csv", STRIPE, STRIPE_USED)
    assert exc.value.problem.line == line and words in exc.value.problem.message


@pytest.mark.parametrize("bad", [b"\xc0\x80", b"\xed\xa0\x80", b"\xf5\x80\x80\x80", b"\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"])
@pytest.mark.parametrize("quoted", [False, True])
def test_polars_refuses_what_strict_utf8_refuses(write, bad, quoted):
    # The native reader relies on polars refusing invalid UTF-8 in any cell; the exact reader then names the line.
    cell = b'"x' + bad + b'"' if quoted else b"x" + bad
    path = write(HEADER.encode() + ROW.format("ok").encode() + ROW.format("CELL").encode().replace(b"CELL", cell))
    assert cc.native_rows(path.read_bytes(), skip=1, width=8) is None
    with pytest.raises(StatementRejected, match="not valid utf-8") as exc:
        cc.read_records(path, "f.csv", STRIPE, STRIPE_USED)
    assert exc.value.problem.line == 3


def test_replacement_character_is_found_by_a_byte_search(write):
    path = write(HEADER + ROW.format("ok") + ROW.format("damaged \ufffd"))
    with pytest.raises(StatementRejected, match="U\\+FFFD") as exc:
        cc.read_records(path, "f.csv", STRIPE, STRIPE_USED)
    assert exc.value.problem.line == 3


def test_gzip_is_read_natively(tmp_path):
    path = tmp_path / "report.csv.gz"
    path.write_bytes(gzip.compress((HEADER + ROW.format("web")).encode()))
    cols, frame = cc.read_records(path, "f.csv", STRIPE, STRIPE_USED)
    assert frame["description"].to_list() == ["web"] and frame[cc.LINE].to_list() == [2]


def test_trailing_point_amount_is_whole(parse, write):
    # `12.` is an amount in the grammar (recon.money.parse_amount reads it as 12).
    bill = parse(write(HEADER + ROW.format("x").replace("1.00,0,1.00", "12.,0,12.")), "stripe.balance").bill
    assert bill["amount"].to_list() == bill["net_amount"].to_list() == [pl.Series([12]).cast(pl.Decimal(38, 6))[0]]


# --- PayPal: row types classified natively, SB rows proven over their own bytes -----------------


def paypal_both_ways(path):
    data = cc.read_utf8(path, "f.csv", utf16=True)
    native = paypal_stl._read_native(data, "f.csv")
    st, exact = paypal_stl._read_exact(path, "f.csv")
    return native, (st, exact)


@pytest.mark.parametrize(("text", "reader"), [
    (stl(GOOD, GOOD_SF), NATIVE),
    (stl(GOOD, GOOD_SF).replace("\n", "\r\n"), NATIVE),
    ("\ufeff" + stl(GOOD, GOOD_SF), NATIVE),
    (stl(GOOD, GOOD_SF).replace(GOOD[1], GOOD[1] + "not a row at all\n\n"), NATIVE),  # ignored, as before
    (stl(GOOD, GOOD_SF).replace('"P2",', '"P2 ",', 1), NATIVE),                         # trimmed
    (stl(GOOD, GOOD_SF).replace('"INV-P1"', '"INV ""1"""'), EXACT),                   # a quote in a value
    (stl(GOOD, GOOD_SF).replace('"INV-P1"', '"INV\rP1"'), EXACT),                     # a CR in an SB line
])
def test_paypal_native_equals_exact(write, text, reader):
    native, (st, exact) = paypal_both_ways(write(text))
    assert (NATIVE if native is not None else EXACT) == reader
    if native is not None:
        assert native[0] == st
        assert native[1].equals(exact.select(native[1].columns), null_equal=True)


def test_paypal_two_sections_gather_their_rows(parse, write):
    # Body rows in two blocks (not one slice); each keeps its section for the SC/SF checks.
    second = '"SH",2026/01/15 00:00:00 -0800,2026/01/15 23:59:59 -0800,"EZ782AXEUJUW8",""\n' + HEAD.split("\n", 3)[3]
    rows = [sb("P9", "T0006", "CR", 500, "USD")]
    text = stl(GOOD, GOOD_SF, rc=False).rsplit('"FF"', 1)[0]
    text += second + "".join(rows) + f'"SF","USD",500,0,0,0,{BAL},1\n"SC",1\n'
    text += "".join(f'"RF",{s}\n' for s in (f'"JPY",15000,5000,100,500,{BAL},2', f'"USD",2499,1000,0,88,{BAL},3')) + '"RC",5\n"FF",5\n'
    native, (st, exact) = paypal_both_ways(write(text))
    assert native is not None and native[1]["section"].to_list() == [1, 1, 1, 1, 2]
    assert native[1].equals(exact.select(native[1].columns), null_equal=True)
    assert parse(write(text), "paypal.stl").bill["source_line"].to_list() == [5, 6, 7, 8, 14]


def test_paypal_utf16_with_a_second_bom_keeps_its_first_line_unrecognised(parse, write):
    # decode_strict consumes one BOM; the second stays in front of RH, which then is no row type.
    with pytest.raises(StatementRejected, match="lacks its RH"):
        parse(write(("\ufeff" + stl(GOOD, GOOD_SF)).encode("utf-16")), "paypal.stl")
