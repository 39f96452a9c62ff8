"""The native reads are an optimisation only: they take the same files to the same bills and the
same rejections as the line-by-line readers, and they are what a clean file actually goes through.

Hypothesis damages valid bills (separators dropped or added, stray CRs, BOMs, blank lines, CRLF,
cut lines, odd bytes) and each is parsed twice, natively and with the native read switched off;
the outcomes must be identical. The polars reader behaviours the byte accounting relies on are
pinned here too, so an upgrade that changes them fails a test instead of a reconciliation.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from parsers import alipay_layout, unionpay_layout, wechatpay_fundflow
from parsers.alipay import AlipayAccountParser, AlipayTradeParser
from tests.synth.cn import write_alipay_trade, write_unionpay_zm, write_wechat_fundflow
from parsers.unionpay import UnionPayZmParser
from parsers.wechatpay_fundflow import WeChatPayFundflowParser
from recon.errors import StatementRejected

from tests.parsers_cn.cn_helpers import ctx, rejected
from tests.parsers_cn.test_alipay import ACC_FOOT, ACC_HEAD, ACC_ROWS, COLS, END, FOOT, HEAD, ROWS
from tests.parsers_cn.test_wechat_fundflow import HEADER, ROWS as FF_ROWS, SUMMARY

from .budget import parser_settings

DAY = dt.date(2024, 3, 1)
FAST = parser_settings(150, suppress_health_check=[HealthCheck.too_slow])


def _synth(writer, n: int) -> bytes:
    buf = io.BytesIO()
    writer(buf, n, DAY)
    return buf.getvalue()


FUNDFLOW = [(HEADER + FF_ROWS + SUMMARY).encode(), _synth(write_wechat_fundflow, 12)]
TRADE = [(HEAD + COLS + ROWS + END + FOOT).encode("gb18030"), (HEAD + COLS + ROWS + END + FOOT).encode(), _synth(write_alipay_trade, 12)]
ACCOUNT = [(ACC_HEAD + ACC_ROWS + ACC_FOOT).encode("gb18030"), (ACC_HEAD + ACC_ROWS + ACC_FOOT).encode()]
ZM_BILL = _synth(write_unionpay_zm, 8)
EDITS = ["", ",", "`", "\n", "\r", "\r\n", "\n\n", "\ufeff", "\ufffd", "\x1f", "#", " ", "\t", "e", "0", "-", "\r,", "\r`", "收入"]


def _outcome(parser, data: bytes, name: str, context) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            parsed = parser.parse(path, context)
        except StatementRejected as exc:
            return ("rejected", exc.problem.code, exc.problem.line, exc.problem.message)
        return ("parsed", parsed.bill.with_columns(pl.col("source_file").str.replace(tmp, "", literal=True)).rows(), parsed.checks,
                tuple((w.code, w.line) for w in parsed.warnings))


def _same_both_ways(parser, data: bytes, name: str, switch_off, context) -> None:
    native = _outcome(parser, data, name, context)
    with switch_off:
        by_lines = _outcome(parser, data, name, context)
    assert native == by_lines


@st.composite
def damaged(draw, bases: list[bytes], encoding: str) -> bytes:
    """A valid bill with 1-4 edits to its text, encoded back in its own encoding."""
    text = draw(st.sampled_from(bases)).decode(encoding)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        if draw(st.booleans()) and "\n" in text:
            text = text.replace("\n", "\r\n") if draw(st.booleans()) else text
        text = text[:at] + draw(st.sampled_from(EDITS)) + text[at + cut :]
    return text.encode(encoding, errors="replace")


# polars drops a CR before a separator, the line reader keeps it: alone, and hiding a missing one.
# In a CRLF file, a line ending in LF alone and a CR before a backtick make up the count of CRs.
CR_BEFORE_BACKTICK = FUNDFLOW[0].replace(b"\n", b"\r\n").replace(b",`100.00,", b",\r`100.00,", 1).replace(b"`X1\r\n", b"`X1\n")
CR_HIDES_SHORT_ROW = TRADE[0].replace("书,".encode("gb18030"), "书\r,".encode("gb18030"), 1).replace(b"S1\t,", b"S1\t", 2)


@FAST
@example(CR_BEFORE_BACKTICK)
@example(FUNDFLOW[1].replace(b"\n`", b"\n\xef\xbb\xbf`", 1))
@given(damaged(FUNDFLOW, "utf-8"))
def test_fundflow_native_read_changes_no_outcome(data):
    switch_off = mock.patch.object(wechatpay_fundflow, "_native", lambda *args: None)
    _same_both_ways(WeChatPayFundflowParser(), data, "ff.csv", switch_off, ctx("wechatpay_fundflow"))


@FAST
@example(CR_HIDES_SHORT_ROW)
@example(TRADE[1].replace("书,".encode(), "书\r,".encode(), 1).replace(b"S1\t,", b"S1\t", 2))
@given(st.one_of(damaged(TRADE[:1] + TRADE[2:], "gb18030"), damaged(TRADE[1:2], "utf-8")))
def test_alipay_trade_native_read_changes_no_outcome(data):
    switch_off = mock.patch.object(alipay_layout, "_native_detail", lambda *args: None)
    _same_both_ways(AlipayTradeParser(), data, "bill.csv", switch_off, ctx("alipay"))


@FAST
@given(st.one_of(damaged(ACCOUNT[:1], "gb18030"), damaged(ACCOUNT[1:], "utf-8")))
def test_alipay_account_native_read_changes_no_outcome(data):
    switch_off = mock.patch.object(alipay_layout, "_native_detail", lambda *args: None)
    _same_both_ways(AlipayAccountParser(), data, "bill.csv", switch_off, ctx("alipay"))


@FAST
@given(st.data())
def test_unionpay_column_wise_read_changes_no_outcome(data):
    """Overwrite bytes in the records (lengths kept, so most damage reaches the field checks)."""
    bill = bytearray(ZM_BILL)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(bill) - 1))
        patch = data.draw(st.sampled_from([b"0", b"9", b"C", b"D", b" ", b"E", b"\xff", "中".encode("gb18030"), b"\r", b"1231235960"]))
        bill[at : at + len(patch)] = patch
    switch_off = mock.patch.object(UnionPayZmParser, "_native", lambda self, *args: None)
    _same_both_ways(UnionPayZmParser(), bytes(bill), "INN24030188ZM_802310048993424", switch_off, ctx("unionpay"))


@pytest.mark.parametrize(
    ("parser", "data", "name", "rules", "reader"),
    [
        (WeChatPayFundflowParser(), FUNDFLOW[1], "ff.csv", "wechatpay_fundflow", (wechatpay_fundflow, "_by_lines")),
        (WeChatPayFundflowParser(), FUNDFLOW[1].replace(b"\n", b"\r\n"), "ff.csv", "wechatpay_fundflow", (wechatpay_fundflow, "_by_lines")),
        (AlipayTradeParser(), TRADE[2], "bill.csv", "alipay", (alipay_layout, "_split_by_lines")),
        (AlipayTradeParser(), TRADE[1], "bill.csv", "alipay", (alipay_layout, "_split_by_lines")),
        (AlipayAccountParser(), ACCOUNT[0], "bill.csv", "alipay", (alipay_layout, "_split_by_lines")),
        (UnionPayZmParser(), ZM_BILL, "INN24030188ZM_802310048993424", "unionpay", (unionpay_layout.Layout, "records")),
    ],
    ids=["fundflow", "fundflow-crlf", "alipay-gbk", "alipay-utf8", "alipay-account", "unionpay-zm"],
)
def test_clean_bills_never_reach_the_line_reader(tmp_path, parser, data, name, rules, reader):
    path = tmp_path / name
    path.write_bytes(data)
    with mock.patch.object(*reader, side_effect=AssertionError("took the line-by-line path")):
        assert parser.parse(path, ctx(rules)).bill.height > 0


@pytest.mark.parametrize(
    ("parser", "text", "encoding", "rules", "line"),
    [
        (WeChatPayFundflowParser(), HEADER + FF_ROWS.replace("`10.00,", f"`1{'0' * 40}.00,", 1) + SUMMARY, "utf-8", "wechatpay_fundflow", 4),
        (AlipayTradeParser(), HEAD + COLS + ROWS.replace("-4.00", f"-1{'0' * 40}.00") + END + FOOT, "gb18030", "alipay", 7),
    ],
    ids=["fundflow", "alipay"],
)
def test_amount_too_large_for_money_is_a_rejection_naming_its_line(tmp_path, parser, text, encoding, rules, line):
    """A grammatical amount beyond Decimal(38, 6) is refused with its line, not a polars error."""
    path = tmp_path / "bill.csv"
    path.write_bytes(text.encode(encoding))
    err = rejected(parser, path, ctx(rules))
    assert (err.problem.code, err.problem.line) == ("invalid_row", line) and "not an amount" in err.problem.message


def _read(data: bytes, fields: int = 3) -> pl.DataFrame:
    schema = {f"f{i}": pl.String for i in range(fields)}
    return pl.read_csv(data, has_header=False, separator=",", quote_char=None, schema=schema, empty_string_is_null=False)


def test_polars_reader_behaviour_the_byte_accounting_relies_on():
    assert _read(b"a,b,c\n\nd,e,f\n").rows() == [("a", "b", "c"), ("", "", ""), ("d", "e", "f")]  # a blank line is a row
    assert _read(b"a,b,c\nd,e\n").rows() == [("a", "b", "c"), ("d", "e", "")]  # a short line is padded, not refused
    assert _read(b"a,b\r,c\r\nd,e\rx,f\r\r\n").rows() == [("a", "b", "c"), ("d", "e\rx", "f\r")]  # one CR dropped before , or LF only
    assert _read(b"\xef\xbb\xbfa,b,c\n").rows() == [("a", "b", "c")]  # a BOM that starts the input is dropped
    assert _read(b"a,\x00,c\n").rows() == [("a", "\x00", "c")]
    for refused in (b"a,b,c,d\n", b"a,b,c\nd,e,f,g\n", b"a,b\n", b"a,\xff,c\n", b"a,\xed\xa0\x80,c\n"):
        with pytest.raises(pl.exceptions.PolarsError):
            _read(refused)
