"""WeChat Pay trade bill read in one pass by polars: what that must not change.

The parser decodes only the file's head and tail in Python (up to 64 KiB of tail) and leaves the
lines in between to polars' reader, so these tests put their faults in the middle of a bill larger
than that: a bad byte or a blank line there must be named at its line exactly as in a small file.
Free text keeps its commas, and a NUL byte (the separator polars reads lines with) changes nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo
import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from parsers.base import ParseContext
from parsers.registry import get_parser
from recon.errors import StatementRejected
from tests.synth.wechat import TradeRow, write_bill
from rules.loader import load_rules

PARSER = get_parser("wechatpay.trade")
T0 = dt.datetime(2026, 11, 20, 10, 0, 0)


def ctx() -> ParseContext:
    return ParseContext(channel="wechat", rules=load_rules("wechatpay"), zone=ZoneInfo("Asia/Shanghai"))


def write(tmp_path: Path, data: str | bytes, name: str = "wechat_20261120.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def one_row(body: str) -> str:
    return write_bill([TradeRow(T0, "4200000001202611200000000001", "S001", Decimal("1.00"), Decimal("0.01000"),
                                body=body)], "1900000109")


def rejection(path: Path) -> tuple[str, int | None, str]:
    with pytest.raises(StatementRejected) as info:
        PARSER.parse(path, ctx())
    return info.value.problem.code, info.value.problem.line, str(info.value)


# 600 rows of about 240 bytes: lines 2..601, summary on 602 and 603, 140 KiB in all
BIG_ROWS = [TradeRow(T0 + dt.timedelta(seconds=i), f"42000{i:023d}", f"S{i:05d}", Decimal(i % 500) + Decimal("0.25"),
                     Decimal("0.01500")) for i in range(600)]
BIG = write_bill(BIG_ROWS, "1900000109")


@pytest.mark.parametrize("body", [
    "含,逗号的商品", "WALMART HONG KONG CO.,LIMITED", '{"statement_id":"S1","count":2}', "ends with a comma,", ",",
    "a`b", "`quoted`",  # a backtick is only a separator after a comma
])
def test_free_text_with_commas_or_a_backtick_keeps_its_cell(tmp_path, body):
    bill = PARSER.parse(write(tmp_path, one_row(body)), ctx()).bill
    assert bill.select("memo", "source_line").rows() == [(body, 2)]


def test_a_comma_then_backtick_in_free_text_is_a_cell_too_many(tmp_path):
    code, line, message = rejection(write(tmp_path, one_row("a,`b")))
    assert (code, line) == ("bad_row", 2) and "does not have 27 fields like the header" in message


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("fault, message", [
    (b"\xff", "not valid utf-8: byte 0xff"),
    ("商".encode("gb18030"), "not valid utf-8"),
    ("\ufffd".encode(), "contains U+FFFD"),
])
def test_a_bad_byte_deep_in_a_large_bill_is_named_at_its_line(tmp_path, fault, message, crlf, gzipped):
    lines = (BIG.replace("\n", "\r\n") if crlf else BIG).encode().split(b"\n")
    lines[299] = lines[299].replace(b"`JSAPI", b"`JS" + fault + b"API")
    data = b"\n".join(lines)
    path = write(tmp_path, gzip.compress(data) if gzipped else data, "wechat_20261120.csv" + (".gz" if gzipped else ""))
    code, line, text = rejection(path)
    assert (code, line) == ("encoding", 300) and message in text


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("edit, code, message", [
    (lambda line: b"\r" if line.endswith(b"\r") else b"", "bad_row", "detail row does not start with a backtick"),
    (lambda line: line.replace(b"`CNY", "`RMB元".encode()), "bad_row", "currency 'RMB元' is not an ISO 4217 code"),
    (lambda line: line.replace(b"`0.01500", b"`0.015001"), "bad_amount", "fee '0.015001' is not an amount"),
])
def test_a_faulty_line_deep_in_a_large_bill_is_named_exactly(tmp_path, edit, code, message, crlf):
    lines = (BIG.replace("\n", "\r\n") if crlf else BIG).encode().split(b"\n")
    lines[499] = edit(lines[499])
    got = rejection(write(tmp_path, b"\n".join(lines)))
    assert got[:2] == (code, 500) and message in got[2]


def test_a_nul_byte_in_free_text_reads_as_any_other_character(tmp_path):
    # polars' line reader splits on NUL, so such a file is read from its decoded text instead
    bill = PARSER.parse(write(tmp_path, one_row("a\x00b")), ctx()).bill
    assert bill.select("memo", "source_line").rows() == [("a\x00b", 2)]


def test_blank_lines_after_the_summary_are_ignored_however_many(tmp_path):
    bill = PARSER.parse(write(tmp_path, BIG + "\n" * 70_000 + " \t\r\n"), ctx()).bill
    assert bill.height == 600 and bill["source_line"].to_list() == list(range(2, 602))


def test_a_line_after_many_blank_lines_is_found(tmp_path):
    code, line, message = rejection(write(tmp_path, BIG + "\n" * 70_000 + "x\n"))
    assert (code, line) == ("truncated", 602) and "found 70002" in message
