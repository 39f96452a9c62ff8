"""WeChat's trade bill has two ways to its lines: polars scans the file (`Source.scan`, what every
bill goes through) or, when a NUL byte stops that reader, the decoded text is split in Python
(`text_lines`). Both feed the same one-pass verdict, so they must reach the same outcome: the same
bill, or the same refusal at the same line with the same words. Hypothesis damages a valid bill
(cells, separators, backticks, line ends, a BOM, U+FFFD) and reads it both ways.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import example, given
from hypothesis import strategies as st

from parsers import wechatpay_trade
from parsers.base import ParseContext
from parsers.wechatpay_trade import WeChatPayTradeParser
from parsers.wechatpay_trade_source import text_lines
from recon.errors import StatementRejected
from rules.loader import load_rules
from tests.synth.wechat import TradeRow, write_bill

from .budget import parser_settings

AT = dt.datetime(2026, 3, 1, 10, 0, 0)
ROWS = [
    TradeRow(AT, "4200000001202603010000000001", "ORDER-1", Decimal("100.00"), Decimal("0.60000")),
    TradeRow(AT + dt.timedelta(minutes=5), "4200000001202603010000000002", "ORDER-2", Decimal("0.00"), Decimal("-0.06000"),
             state="REFUND", refund_id="50000001", out_refund_no="R-1", refund_amount=Decimal("10.00"), refund_status="SUCCESS"),
    TradeRow(AT + dt.timedelta(hours=1), "4200000001202603010000000003", "ORDER-3", Decimal("12.34"), Decimal("0.07000")),
]
BILL = write_bill(ROWS, "1900000109")
EDITS = ["", ",", "`", ",`", "\n", "\r", "\r\n", "\n\n", "\ufeff", "\ufffd", " ", "-", "e", "0", ".", "+", "：", "3.9", "总交易单数"]


@st.composite
def damaged(draw) -> bytes:
    text = BILL.replace("\n", "\r\n") if draw(st.booleans()) else BILL
    for _ in range(draw(st.integers(1, 4))):
        at, cut = draw(st.integers(0, len(text))), draw(st.integers(0, 3))
        text = text[:at] + draw(st.sampled_from(EDITS)) + text[at + cut :]
    return text.encode()


def _outcome(data: bytes) -> tuple:
    context = ParseContext(channel="wechat", rules=load_rules("wechatpay"), zone=ZoneInfo("Asia/Shanghai"),
                           bill_date=dt.date(2026, 3, 1))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bill.csv"
        path.write_bytes(data)
        try:
            parsed = WeChatPayTradeParser().parse(path, context)
        except StatementRejected as exc:
            return ("rejected", exc.problem.code, exc.problem.line, exc.problem.message.replace(tmp, ""),
                    tuple((p.code, p.line) for p in exc.problems), exc.problem_count)
        except pl.exceptions.PolarsError as exc:  # pragma: no cover - a finding, shown by the assertion
            return ("polars", type(exc).__name__)
        return ("parsed", parsed.bill.with_columns(pl.col("source_file").str.replace(tmp, "", literal=True)).rows(), parsed.checks)


def _by_text(source):
    return text_lines(Path(source.data).read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff"))


@parser_settings(100)
@example(BILL.encode())
@example(BILL.replace("`0.60000", "`0.6000001").encode())
@example(BILL.replace("2026-03-01 10:00:00", "-2026-03-01 10:00:00").encode())
@given(damaged())
def test_scan_and_text_reads_reach_the_same_outcome(data: bytes) -> None:
    scanned = _outcome(data)
    with mock.patch.object(wechatpay_trade.Source, "scan", _by_text):
        by_text = _outcome(data)
    assert scanned == by_text
