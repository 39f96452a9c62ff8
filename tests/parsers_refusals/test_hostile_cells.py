"""Hostile cells (#18 items 6 and 12) and the standardized-bill rules every parser holds (#19):
each is one line naming the file and line, never a traceback, and nothing is read around."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from parsers.base import ParseContext
from jobs.catalog import format_rule_set
from parsers.registry import identify, parse_file
from recon.errors import ReconError
from recon.errors import StatementRejected
from recon.money import exponent
from recon.schema import BILL_COLUMNS, conform, standard_problems
from rules.loader import load_rules
from tests.jobs.conftest import REPO

DEMO = (REPO / "sample_statements" / "wechat" / "wechat_20261120.csv").read_text(encoding="utf-8")


def edited(tmp_path: Path, edit=None, *, text: str | None = None) -> Path:
    lines = DEMO.split("\n")
    if edit:
        edit(lines)
    path = tmp_path / "wechat_20261120.csv"
    path.write_bytes((text if text is not None else "\n".join(lines)).encode("utf-8"))
    return path


def cell(i: int, col: int, value: str):
    def edit(lines: list[str]) -> None:
        cells = lines[i].split(",`")
        cells[col] = value
        lines[i] = ",`".join(cells)
    return edit


def when(i: int, stamp: str):
    return lambda lines: lines.__setitem__(i, f"`{stamp}" + lines[i][20:])


def parsed(path: Path, zone: str = "Asia/Shanghai"):
    ctx = ParseContext(channel="wechat", rules=load_rules("wechatpay"), zone=ZoneInfo(zone), source_name=path.name)
    return parse_file(path, ctx, "wechatpay.trade")[1]


@pytest.mark.parametrize("edit, line, code, words", [
    (cell(1, 6, "\ufeffS2026112000030"), 2, "invisible_char", "merchant_txn_id"),  # BOM inside an order number
    (cell(3, 5, "4200020261120\u200b000000000028"), 4, "invisible_char", "channel_txn_id"),  # zero-width space
    (cell(2, 12, "1" * 32 + ".00"), 3, "bad_amount", "18 digits"),  # a 32-digit amount
    (lambda ls: ls.__setitem__(0, ls[0].replace("设备号", "商户号")), 1, "missing_column", "duplicate header"),
    (lambda ls: ls.__setitem__(4, ls[4].replace("商品", "商\x00品")), 5, "nul_byte", "NUL byte"),
])
def test_hostile_cells_are_one_line_refusals(tmp_path: Path, edit, line: int, code: str, words: str) -> None:
    with pytest.raises(StatementRejected) as err:
        parsed(edited(tmp_path, edit))
    assert (err.value.problem.line, err.value.problem.code) == (line, code)
    assert words in err.value.problem.message and "\n" not in err.value.problem.message


def test_cr_only_line_endings_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected) as err:
        parsed(edited(tmp_path, text=DEMO.replace("\n", "\r")))
    assert (err.value.problem.line, err.value.problem.code) == (1, "line_endings")


def test_dst_gap_is_refused_naming_zone_and_rule_and_fold_reads_first_occurrence(tmp_path: Path) -> None:
    with pytest.raises(StatementRejected) as err:
        parsed(edited(tmp_path, when(1, "2026-03-29 02:30:00")), "Europe/Berlin")
    msg = err.value.problem.message
    assert err.value.problem.line == 2 and "Europe/Berlin" in msg and "2026-03-29 02:30:00" in msg and "rule:" in msg
    bill = parsed(edited(tmp_path, when(1, "2026-10-25 02:30:00")), "Europe/Berlin").bill
    first = bill.filter(pl.col("source_line") == 2)["trade_time"][0]
    assert first == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.timezone.utc)  # 02:30 CEST, the first of the two


def test_every_parser_output_is_held_to_the_bill_rules() -> None:
    """What a plugin returns is checked too: the rules run on the frame, not inside any one parser."""
    rows = {
        "channel": ["c"] * 3, "account": ["a"] * 3, "bill_date": [dt.date(2026, 3, 5)] * 3,
        "record_type": ["PAYMENT"] * 3, "channel_txn_id": ["T1", "T2", "T3"], "merchant_txn_id": [None, None, None],
        "channel_refund_id": [None] * 3, "merchant_refund_id": [None] * 3,
        "trade_time": [dt.datetime(2026, 3, 5, tzinfo=dt.timezone.utc), dt.datetime(1, 3, 5, tzinfo=dt.timezone.utc),
                       dt.datetime(2026, 3, 5, tzinfo=dt.timezone.utc)],
        "currency": ["JPY", "JPY", "CNY"], "amount": [Decimal("100.5"), Decimal("100"), Decimal("1.00001")],
        "fee": [Decimal(0)] * 2 + [Decimal("0.00001")], "net_amount": [Decimal("100.5"), Decimal("100"), Decimal("1.00000")],
        "status": ["SUCCESS"] * 3, "source_file": ["f"] * 3, "source_line": [2, 3, 4],
    }
    bill = conform(pl.DataFrame(rows, schema=BILL_COLUMNS))
    problems, count = standard_problems(bill, "f", exponent=exponent)
    assert [(p.line, p.message.split()[0]) for p in problems] == [
        (2, "amount"), (2, "net_amount"), (3, "trade_time"), (4, "amount"), (4, "fee")]  # JPY 100.5, year 1, CNY 1.00001
    assert count == 5
    # WeChat documents fees to 5 decimals: the same CNY row passes its fee, not its amount
    allowed, _ = standard_problems(bill, "f", exponent=exponent, max_decimals={"fee": 5, "net_amount": 5})
    assert [(p.line, p.code, p.message.split()[0]) for p in allowed] == [(2, "amount_scale", "amount"), (3, "implausible_time", "trade_time"),
                                                                        (4, "amount_scale", "amount")]


SAMPLES = sorted(p for d in ("adyen", "alipay", "bank", "paypal", "stripe", "unionpay", "wechat")
                 for p in (REPO / "sample_statements" / d).iterdir() if p.is_file())


def _mutations(data: bytes):
    """Damage real statements the ways #18's tester did: a 32-digit amount, a signed year, a DST-gap
    time, a duplicated header column, CR-only line endings, the file cut in half."""
    first, _, rest = data.partition(b"\n")
    if first.count(b",") > 1:
        yield "duplicate header", first + b"," + first.split(b",")[1] + b"\n" + rest
    if m := re.search(rb"\d+\.\d\d", rest):
        yield "32-digit amount", data.replace(m.group(0), b"9" * 32 + b".00", 1)
    if m := re.search(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", data):
        yield "signed year", data.replace(m.group(0), b"-" + m.group(0), 1)
        yield "DST gap", data.replace(m.group(0), b"2026-03-29 02:30:00", 1)
    yield "CR-only", data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    yield "cut in half", data[: len(data) // 2]


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_damaged_real_statements_are_refused_in_one_line_never_a_traceback(tmp_path: Path, sample: Path) -> None:
    fid = identify(sample)
    ctx = ParseContext(channel="x", rules=format_rule_set(fid, None), zone=ZoneInfo("Europe/Berlin"), source_name=sample.name)
    for what, data in _mutations(sample.read_bytes()):
        damaged = tmp_path / sample.name
        damaged.write_bytes(data)
        try:
            parse_file(damaged, ctx, fid)
        except ReconError as exc:
            assert "\n" not in str(exc) and sample.name in str(exc).split(": ")[0], (what, str(exc))
