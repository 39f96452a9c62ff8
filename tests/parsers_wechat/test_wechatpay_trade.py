"""WeChat Pay trade bill: golden rows, layout variants, and every reason to reject a file."""

from __future__ import annotations

from zoneinfo import ZoneInfo
import datetime as dt
import gzip
import random
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from parsers.base import ParseContext
from parsers.registry import get_parser
from recon.errors import StatementRejected
from recon.schema import conform, validate_bill
from tests.synth.wechat import TradeRow, write_bill
from rules.loader import load_rules
from tests.golden import assert_golden, render

HERE = Path(__file__).parent
REPO = HERE.parent.parent
DEMO_BILL = REPO / "sample_statements" / "wechat" / "wechat_20261120.csv"
PARSER = get_parser("wechatpay.trade")
T0 = dt.datetime(2026, 11, 20, 10, 0, 0)


def ctx(**kw) -> ParseContext:
    return ParseContext(channel="wechat", rules=load_rules("wechatpay"), **{"zone": ZoneInfo("Asia/Shanghai"), **kw})


def parse(path: Path, **kw) -> pl.DataFrame:
    bill = PARSER.parse(path, ctx(**kw)).bill
    return validate_bill(conform(bill), str(path))


def write(tmp_path: Path, text: str | bytes, name: str = "wechat_20261120.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


ROWS = [
    TradeRow(T0, "4200000001202611200000000001", "S001", Decimal("100.00"), Decimal("0.60000")),
    TradeRow(T0.replace(hour=23, minute=59, second=58), "4200000001202611200000000002", "S002",
             Decimal("0.01"), Decimal("0.00000"), body="含,逗号的商品"),
    TradeRow(T0.replace(hour=11), "4200000001202611200000000001", "S001", Decimal("0.00"), Decimal("-0.18000"),
             state="REFUND", refund_id="50300000012026112000000001", out_refund_no="R001",
             refund_amount=Decimal("30.00"), refund_status="SUCCESS"),
    TradeRow(T0.replace(hour=12), "4200000001202611200000000003", "S003", Decimal("5.00"), Decimal("0.03000"),
             state="REVOKED"),
    TradeRow(T0.replace(hour=13), "4200000001202611200000000004", "S004", Decimal("0.00"), Decimal("0.00000"),
             state="REFUND", refund_id="50300000012026112000000002", out_refund_no="R002",
             refund_amount=Decimal("1.00"), refund_status="PROCESSING"),
]


def test_rows_are_standardized(tmp_path):
    bill = parse(write(tmp_path, write_bill(ROWS, "1900000109")))
    by_line = {r["source_line"]: r for r in bill.to_dicts()}
    pay, comma, refund, revoked, processing = (by_line[i] for i in range(2, 7))
    assert (pay["record_type"], pay["amount"], pay["fee"], pay["net_amount"], pay["status"]) == (
        "PAYMENT", Decimal("100.00"), Decimal("0.6"), Decimal("99.4"), "SUCCESS")
    # Beijing 23:59:58 is 15:59:58 UTC the same day
    assert comma["trade_time"] == dt.datetime(2026, 11, 20, 15, 59, 58, tzinfo=dt.timezone.utc)
    assert comma["memo"] == "含,逗号的商品"  # a comma in free text does not split the row
    assert (refund["record_type"], refund["amount"], refund["fee"], refund["net_amount"]) == (
        "REFUND", Decimal("-30.00"), Decimal("-0.18"), Decimal("-29.82"))
    assert refund["merchant_refund_id"] == "R001" and refund["channel_refund_id"] == "50300000012026112000000001"
    assert revoked["status"] == "FAILED"  # only explicit success is success
    assert processing["status"] == "UNKNOWN"
    assert pay["bill_date"] == dt.date(2026, 11, 20) and pay["account"] == "1900000109"


def test_golden_demo_bill():
    assert_golden(render(parse(DEMO_BILL)), HERE / "golden" / "wechat_20261120.txt")


@pytest.mark.parametrize("sample, rows", [
    ("unresolvedGoSDK__tradebill_ALL_v3.csv", 3),
    ("unresolvedGoSDK__tradebill_ALL_v3.csv.gz", 3),
    ("wxpay-v2-doc__trade_ALL_legacy_doc_example.csv", 2),
    ("WxJava__trade_ALL_legacy24col_fullwidth_colons.csv", 2),
])
def test_complete_public_samples_parse_and_pass_their_totals(shared_samples, sample, rows):
    path = shared_samples / "wechat" / sample
    parsed = PARSER.parse(path, ctx())
    assert parsed.bill.height == rows
    assert any(c.startswith("总交易单数") for c in parsed.checks)
    assert_golden(render(validate_bill(conform(parsed.bill), sample)), HERE / "golden" / f"{sample}.txt")


@pytest.mark.parametrize("sample", [
    "WxJava__trade_ALL_2019.csv", "WxJava__trade_SUCCESS_2019.csv", "WxJava__trade_REFUND_2019_negative_fee_total.csv",
    "unresolvedPHP__trade_ALL_2024_excerpt_json_attach_negative_fee.csv", "wxdoc-cloudbase__trade_ALL_submch_example.csv",
])
def test_truncated_public_excerpts_are_rejected_by_their_summary(shared_samples, sample):
    with pytest.raises(StatementRejected, match="summary says .* rows"):
        PARSER.parse(shared_samples / "wechat" / sample, ctx())


def test_gzip_crlf_bom_and_column_order_do_not_change_the_rows(tmp_path):
    text = write_bill(ROWS, "1900000109")
    base = parse(write(tmp_path, text, "a.csv"), bill_date=dt.date(2026, 11, 20))
    variants = {
        "gz.csv.gz": gzip.compress(text.encode()),
        "crlf.csv": text.replace("\n", "\r\n").encode(),
        "bom.csv": b"\xef\xbb\xbf" + text.encode(),
        "perm.csv": _permute(text, random.Random(7)).encode(),
    }
    cols = ["record_type", "channel_txn_id", "merchant_refund_id", "trade_time", "amount", "fee", "status", "source_line"]
    for name, data in variants.items():
        got = parse(write(tmp_path, data, name), bill_date=dt.date(2026, 11, 20))
        assert got.select(cols).equals(base.select(cols)), name


def _permute(text: str, rng: random.Random) -> str:
    """Shuffle the detail columns (WeChat says the order is not fixed), keeping the summary."""
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split(",")
    order = list(range(len(header)))
    rng.shuffle(order)
    out = [",".join(header[i] for i in order)]
    for line in lines[1:-2]:
        cells = line.split(",`")
        cells[0] = cells[0][1:]
        out.append(",".join("`" + cells[i] for i in order))
    return "\n".join(out + lines[-2:]) + "\n"


def _edit(text: str, line: int, old: str, new: str) -> str:
    lines = text.split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines)


BASE = write_bill(ROWS, "1900000109")


@pytest.mark.parametrize("mutate, code, line", [
    (lambda t: _edit(t, 2, "`100.00", "`100.01"), "totals_mismatch", 8),  # one amount by the smallest unit
    (lambda t: "\n".join(l for i, l in enumerate(t.split("\n")) if i != 2), "totals_mismatch", 7),  # a row deleted
    (lambda t: "\n".join(t.split("\n")[:3] + t.split("\n")[2:]), "totals_mismatch", 9),  # a row duplicated
    (lambda t: _edit(t, 8, "`5,", "`6,"), "totals_mismatch", 8),  # only the footer edited
    (lambda t: "\n".join(t.split("\n")[:5]), "truncated", 5),  # cut before the summary
    (lambda t: _edit(t, 2, "`4200000001202611200000000001", "`4.2000001E+27"), "id_mangled", 2),
    (lambda t: _edit(t, 2, "`2026-11-20 10:00:00", "`2026/11/20 10:00"), "bad_time", 2),
    (lambda t: _edit(t, 2, "`100.00", "`1.5E+2"), "bad_amount", 2),
    (lambda t: _edit(t, 2, "`0.60%", "`0.60%,`extra"), "bad_row", 2),
    (lambda t: _edit(t, 1, "微信订单号", "WeChat订单号"), "missing_column", 1),
    (lambda t: _edit(t, 2, "`CNY", "`RMB元"), "bad_row", 2),
    (lambda t: _edit(t, 3, "`SUCCESS", "`PAID"), "bad_row", 3),
])
def test_every_rejection_names_the_line(tmp_path, mutate, code, line):
    with pytest.raises(StatementRejected) as info:
        PARSER.parse(write(tmp_path, mutate(BASE)), ctx())
    assert (info.value.problem.code, info.value.problem.line) == (code, line), str(info.value)
    assert "wechat_20261120.csv" in str(info.value)


def test_wrong_encoding_is_rejected_with_the_line(tmp_path):
    data = BASE.encode("utf-8").replace("含,逗号的商品".encode(), "含,逗号的商品".encode("gb18030"))
    with pytest.raises(StatementRejected, match="not valid utf-8") as info:
        PARSER.parse(write(tmp_path, data), ctx())
    assert info.value.problem.line == 3


def test_replacement_character_is_rejected(tmp_path):
    with pytest.raises(StatementRejected, match="U\\+FFFD"):
        PARSER.parse(write(tmp_path, BASE.replace("含", "\ufffd")), ctx())


def test_truncation_at_any_line_or_byte_is_rejected(tmp_path):
    data = DEMO_BILL.read_bytes()
    cuts = [i + 1 for i, b in enumerate(data[:-1]) if b == 0x0A]
    cuts += random.Random(11).sample(range(1, len(data) - 1), 50)
    for cut in cuts:
        with pytest.raises(StatementRejected):
            PARSER.parse(write(tmp_path, data[:cut]), ctx())


def test_truncated_gzip_is_rejected(tmp_path):
    data = gzip.compress(BASE.encode())
    with pytest.raises(StatementRejected, match="gzip"):
        PARSER.parse(write(tmp_path, data[:-10], "cut.csv.gz"), ctx())


def test_identify_claims_trade_bills_only(shared_samples):
    from parsers.registry import sample

    assert PARSER.identify(sample(DEMO_BILL))
    assert not PARSER.identify(sample(shared_samples / "wechat" / "unresolvedGoSDK__fundflowbill_BASIC_v3.csv"))
