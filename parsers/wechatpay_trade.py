"""WeChat Pay trade bill (交易账单): bill types ALL, SUCCESS, REFUND, current and legacy layouts.

Grammar (FORMATS.md §1.2): a plain header line, detail rows whose every cell starts with a backtick
(so Excel keeps long ids as text), then a plain summary header and one backtick summary row. UTF-8,
LF or CRLF, optionally gzip. There is no quoting, and free-text cells (商品名称, 商户数据包) may hold
commas, so a row is split on `,` followed by a backtick, and the cell count must equal the header's.
WeChat says its column order is not fixed: every column is found by header name.

Semantics: a 交易状态=SUCCESS row is a payment of 应结订单金额 (legacy: 总金额) with fee 手续费 (5
decimals); a REFUND row is a refund of 退款金额 (made negative here) whose 手续费 is the returned fee
(already negative in the file, which is our sign convention too); REVOKED is a payment reversed
after success. The summary row is checked against the lines before anything is emitted: its count
and every total it carries. Times are Beijing local time (the channel's zone) converted to UTC.
Full-width colons in times (seen in WxJava's legacy test data) are normalised: the intent is
unambiguous and nothing else in a time cell may be full-width.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.columns import blank_to_null, ids_not_mangled, local_time_to_utc, money, require
from parsers.registry import read_payload
from parsers.text import decode_strict
from recon.errors import Problem, StatementRejected
from recon.money import MoneyError, parse_amount
from recon.schema import MONEY

# canonical name -> header names that carry it (current format first, legacy after)
COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_time": ("交易时间",),
    "mch_id": ("商户号",),
    "sub_mch_id": ("特约商户号", "子商户号"),
    "transaction_id": ("微信订单号",),
    "out_trade_no": ("商户订单号",),
    "openid": ("用户标识",),
    "trade_state": ("交易状态",),
    "currency": ("货币种类",),
    "settlement_amount": ("应结订单金额", "总金额"),
    "refund_id": ("微信退款单号",),
    "out_refund_no": ("商户退款单号",),
    "refund_amount": ("退款金额",),
    "refund_status": ("退款状态",),
    "body": ("商品名称",),
    "fee": ("手续费",),
}
REQUIRED = ("trade_time", "mch_id", "transaction_id", "out_trade_no", "trade_state", "currency",
            "settlement_amount", "fee")

# summary header -> the detail header whose column sum it states
SUMMARY_SUMS: dict[str, str] = {
    "应结订单总金额": "应结订单金额",
    "退款总金额": "退款金额",
    "充值券退款总金额": "充值券退款金额",
    "手续费总金额": "手续费",
    "订单总金额": "订单金额",
    "申请退款总金额": "申请退款金额",
    "总交易额": "总金额",
    "总退款金额": "退款金额",
    "总代金券或立减优惠退款金额": "代金券或立减优惠退款金额",
}
SUMMARY_COUNT = "总交易单数"
FIVE_DECIMALS = {"手续费"}
ROW_SPLIT = ",`"
_DATE_IN_NAME = re.compile(r"(20\d{2})-?(\d{2})-?(\d{2})")


class WeChatPayTradeParser:
    format_id = "wechatpay.trade"
    description = "WeChat Pay trade bill (交易账单) ALL / SUCCESS / REFUND, current and legacy layouts, plain or gzip"

    def identify(self, sample: Sample) -> bool:
        first = sample.head.split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf")
        try:
            header = first.decode("utf-8").rstrip("\r").split(",")
        except UnicodeDecodeError:
            return False
        return header[:1] == ["交易时间"] and "微信订单号" in header and "商户订单号" in header

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        text = decode_strict(read_payload(path), "utf-8", name)
        header, rows, summary_header, summary = _split_sections(text, name)
        frame = _cells(header, rows, name)
        bill = _standardize(frame, header, ctx, name, path)
        checks = _check_summary(frame, summary_header, summary, name)
        warnings = tuple(
            Problem(name, 1, f"summary column {c!r} is not known; not checked", code="unchecked_total")
            for c in summary_header if c != SUMMARY_COUNT and c not in SUMMARY_SUMS
        )
        return ParsedStatement(bill=bill, checks=checks, warnings=warnings)


def _split_sections(text: str, name: str) -> tuple[list[str], list[tuple[int, str]], list[str], list[str]]:
    lines = text.split("\n")
    while lines and lines[-1].strip() == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if not lines:
        raise StatementRejected(name, None, "file is empty", code="truncated")
    header = lines[0].split(",")
    summary_at = next((i for i, ln in enumerate(lines) if ln.startswith(SUMMARY_COUNT)), None)
    if summary_at is None:
        raise StatementRejected(name, len(lines), "no summary block (总交易单数...): the file is truncated", code="truncated")
    if summary_at != len(lines) - 2:
        found = len(lines) - summary_at - 1
        raise StatementRejected(name, summary_at + 1, f"summary header must be followed by exactly one summary row, found {found}", code="truncated")
    rows = [(i + 1, ln) for i, ln in enumerate(lines[1:summary_at], start=1)]
    for line_no, line in rows:
        if not line.startswith("`"):
            raise StatementRejected(name, line_no, "detail row does not start with a backtick (not a bill row)", code="bad_row")
    summary_header = lines[summary_at].split(",")
    summary = _strip_prefix(lines[summary_at + 1].split(","), name, summary_at + 2)
    if len(summary) != len(summary_header):
        raise StatementRejected(name, summary_at + 2, f"summary row has {len(summary)} fields, its header {len(summary_header)}", code="truncated")
    return header, rows, summary_header, summary


def _strip_prefix(cells: Sequence[str], name: str, line: int) -> list[str]:
    out = []
    for cell in cells:
        if not cell.startswith("`"):
            raise StatementRejected(name, line, f"cell {cell!r} lacks the backtick prefix", code="bad_row")
        out.append(cell[1:])
    return out


def _cells(header: list[str], rows: list[tuple[int, str]], name: str) -> pl.DataFrame:
    """One string column per header name; each row split on `,` + backtick and counted."""
    raw = pl.DataFrame(
        {"source_line": [r[0] for r in rows], "line": [r[1][1:] for r in rows]},
        schema={"source_line": pl.Int64, "line": pl.String},
    ).with_columns(pl.col("line").str.split(ROW_SPLIT).alias("cells"))
    require(raw, pl.col("cells").list.len() == len(header), "line", name,
            f"does not have {len(header)} fields like the header (an unescaped comma or backtick?)",
            code="bad_row")
    return raw.select(
        "source_line",
        *[pl.col("cells").list.get(i).alias(h) for i, h in enumerate(header)],
    )


def _col(header: list[str], canonical: str) -> str | None:
    return next((h for h in COLUMNS[canonical] if h in header), None)


def _standardize(frame: pl.DataFrame, header: list[str], ctx: ParseContext, name: str, path: Path) -> pl.DataFrame:
    src = {c: _col(header, c) for c in COLUMNS}
    missing = [COLUMNS[c][0] for c in REQUIRED if src[c] is None]
    if missing:
        raise StatementRejected(name, 1, f"header lacks required column(s) {', '.join(missing)}", code="missing_column")
    # Every optional column that is absent becomes a null text column, so expressions stay uniform.
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c, h in src.items() if h is None
    ).rename({h: c for c, h in src.items() if h is not None})
    frame = frame.with_columns(
        pl.col("trade_time").str.replace_all("：", ":"),
        *[blank_to_null(c, "0") for c in ("refund_id", "out_refund_no")],
        *[blank_to_null(c) for c in ("transaction_id", "out_trade_no", "sub_mch_id", "refund_status", "body")],
    )
    ids_not_mangled(frame, ["transaction_id", "out_trade_no", "refund_id", "out_refund_no"], name)
    require(frame, pl.col("transaction_id").is_not_null(), "transaction_id", name, "is empty (微信订单号 is required)", code="bad_row")
    require(frame, pl.col("trade_state").is_in(["SUCCESS", "REFUND", "REVOKED"]), "trade_state", name,
            "is not SUCCESS, REFUND or REVOKED", code="bad_row")
    require(frame, pl.col("currency").str.contains(r"^[A-Z]{3}$"), "currency", name, "is not an ISO 4217 code", code="bad_row")
    is_refund = pl.col("trade_state") == "REFUND"
    settle = money(frame, "settlement_amount", name)
    refund = money(frame, "refund_amount", name, blank_as_zero=True)
    fee = money(frame, "fee", name, max_scale=5)
    amount = pl.when(is_refund).then(-refund).otherwise(settle).cast(MONEY)
    status = pl.when(is_refund).then(
        pl.col("refund_status").fill_null("").replace_strict(ctx.rules.status.get("refund", {}), default="UNKNOWN")
    ).otherwise(
        pl.col("trade_state").replace_strict(ctx.rules.status.get("trade", {}), default="UNKNOWN")
    )
    out = frame.with_columns(
        trade_time=local_time_to_utc(frame, "trade_time", name, ctx.zone),
        amount=amount,
        fee=fee.cast(MONEY),
    )
    bill_date = ctx.bill_date or _bill_date(path, out, ctx)
    return out.select(
        pl.lit(ctx.channel).alias("channel"),
        (pl.lit(ctx.account) if ctx.account else pl.col("mch_id").str.strip_chars()).cast(pl.String).alias("account"),
        pl.lit(bill_date, dtype=pl.Date).alias("bill_date"),
        pl.when(is_refund).then(pl.lit("REFUND")).otherwise(pl.lit("PAYMENT")).alias("record_type"),
        pl.col("transaction_id").alias("channel_txn_id"),
        pl.col("out_trade_no").alias("merchant_txn_id"),
        pl.col("refund_id").alias("channel_refund_id"),
        pl.col("out_refund_no").alias("merchant_refund_id"),
        "trade_time",
        "currency",
        "amount",
        "fee",
        (pl.col("amount") - pl.col("fee")).cast(MONEY).alias("net_amount"),
        status.cast(pl.String).alias("status"),
        pl.lit(name).alias("source_file"),
        "source_line",
        pl.when(is_refund).then(pl.concat_str(pl.lit("REFUND/"), pl.col("refund_status").fill_null("")))
        .otherwise(pl.col("trade_state")).alias("raw_status"),
        pl.col("sub_mch_id").alias("counterparty"),
        pl.col("body").alias("memo"),
    )


def _bill_date(path: Path, bill: pl.DataFrame, ctx: ParseContext) -> dt.date:
    """The bill's business date: from the file name, else the most common local trade date."""
    if m := _DATE_IN_NAME.search(path.name):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    if bill.height:
        local = bill.select(pl.col("trade_time").dt.convert_time_zone(ctx.zone.key).dt.date().mode().min())
        return local.item()
    raise StatementRejected(str(path), None, "cannot tell the bill date of an empty bill; pass --date", code="no_date")


def _check_summary(frame: pl.DataFrame, summary_header: list[str], summary: list[str], name: str) -> tuple[str, ...]:
    line = frame.height + 3  # header, rows, summary header, then this row
    values = dict(zip(summary_header, summary))
    checks = []
    try:
        stated_count = int(parse_amount(values.get(SUMMARY_COUNT, "")))
    except MoneyError:
        raise StatementRejected(name, line, f"summary {SUMMARY_COUNT} {values.get(SUMMARY_COUNT)!r} is not a count", code="bad_summary") from None
    if stated_count != frame.height:
        raise StatementRejected(name, line, f"summary says {stated_count} rows, the file has {frame.height}: truncated or edited", code="totals_mismatch")
    checks.append(f"{SUMMARY_COUNT} {stated_count} = {frame.height} rows")
    for total_name, detail in SUMMARY_SUMS.items():
        if total_name not in values or detail not in frame.columns:
            continue
        scale = 5 if detail in FIVE_DECIMALS else 2
        try:
            stated = parse_amount(values[total_name])
        except MoneyError:
            raise StatementRejected(name, line, f"summary {total_name} {values[total_name]!r} is not an amount", code="bad_summary") from None
        summed = frame.select(money(frame, detail, name, max_scale=scale, blank_as_zero=True).sum()).item()
        summed = Decimal(0) if summed is None else Decimal(summed)
        if summed != stated:
            raise StatementRejected(name, line, f"summary {total_name} is {stated}, the rows add up to {summed.normalize():f}", code="totals_mismatch")
        checks.append(f"{total_name} {stated} = sum of {detail}")
    return tuple(checks)
