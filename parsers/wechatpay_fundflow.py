"""WeChat Pay fund-flow bill (资金账单): every movement of the merchant's WeChat Pay balance.

Unlike the trade bill, amounts are unsigned: 收支类型 (收入/支出) gives the direction, and the
running balance 账户结余 follows each row. The file is a header line, backtick-prefixed rows, then a
summary header (资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额) and one summary row whose counts may
be printed as floats ("20.0"). Older copies print `（元）` in full width. Text is UTF-8, plain or
gzip. Free-text cells (备注) are not quoted, so a row is split on ",`" (every cell starts with a
backtick) and its cell count is checked against the header: a stray ",`" in free text is a
rejection, not a silently shifted row. A million-line bill is split by polars straight from the
file (see `_native`); only a file off that happy grammar is decoded whole and split line by line.

Sign convention of the bill: income is +, expense is -. A fee row (扣除交易手续费) is `amount` 0
and `fee` = the charge, a returned fee (退还交易手续费) a negative fee, so `net_amount` is always the
balance movement. Summary counts and sums by direction are checked exactly before anything is
returned; the running balance chain is checked in file order and reported as a warning, since the
documentation does not promise the row order.

Accepted and refused (issue #19): counts must be whole numbers (`20.0` yes, `3.9` no); 记账时间 must
match yyyy-MM-dd HH:mm:ss before conversion (no signed years); a gap time in a DST zone is refused
naming the line, the zone and the rule; a GBK copy is recognised and refused saying it is GBK;
收支金额 is unsigned (a sign is refused: 收支类型 gives the direction) and 账户结余 signed, both in
`recon.money.parse_amount`'s grammar with at most 2 decimals (`12.` is 12); an exponent, a third
decimal or more than 18 integer digits is refused. Every failing line is listed (parsers/table.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.cn_common import (
    CNY,
    UTF8_BOM,
    Stages,
    derive,
    mapped,
    native_utf8,
    norm_header,
    payload_buffer,
    read_lines_frame,
    require_columns,
    sniff_text,
    status_expr,
    utf8_clean,
)
from parsers.table import Rule, Verdict, amount, amount_text, compare, count_text, dst_gap, scientific_id, time, to_utc
from parsers.registry import read_payload
from parsers.encoding import utf8_only
from parsers.text import REPLACEMENT
from recon.errors import Problem, StatementRejected
from recon.schema import MONEY
from rules.loader import load_rules

HEADER_MARKS = ("记账时间", "资金流水单号", "收支类型")
REQUIRED = ("记账时间", "微信支付业务单号", "资金流水单号", "业务名称", "业务类型", "收支类型", "收支金额(元)", "账户结余(元)")
OPTIONAL = ("备注", "业务凭证号", "资金变更提交申请人")
SUMMARY = ("资金流水总笔数", "收入笔数", "收入金额", "支出笔数", "支出金额")
IDS = ("微信支付业务单号", "资金流水单号", "业务凭证号")
STATUS_FIELD = "fundflow_business_type"

# 业务类型 -> record type. A type not listed here stays OTHER with its raw value kept (raw_status).
RECORD_TYPES = {
    "交易": "PAYMENT",
    "退款": "REFUND",
    "退款关闭": "REFUND",  # a refund that did not go out: the money comes back in
    "扣除交易手续费": "FEE",
    "退还交易手续费": "FEE",
    "手续费": "FEE",
    "提现": "PAYOUT",
    "提现退票": "PAYOUT",
    "企业付款": "PAYOUT",
    "企业付款退款": "PAYOUT",
    "充值": "ADJUSTMENT",
    "调账": "ADJUSTMENT",
    "分账": "ADJUSTMENT",
    "分账回退": "ADJUSTMENT",
}


def _cells(line: str) -> list[str]:
    return [c[1:] if c.startswith("`") else c for c in line.strip("\r").split(",")]


class WeChatPayFundflowParser:
    kind = "payout"
    rule_family = "wechatpay_fundflow"
    format_id: ClassVar[str] = "wechatpay.fundflow"
    description: ClassVar[str] = "WeChat Pay fund-flow bill (资金账单), UTF-8 CSV, plain or gzip"

    def identify(self, sample: Sample) -> bool:
        if sample.members:
            return False
        first = sniff_text(sample.head).split("\n", 1)[0]
        names = [norm_header(c) for c in first.split(",")]
        return all(m in names for m in HEADER_MARKS) and "交易时间" not in names

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        derived = _derived(ctx.zone.key)
        rows, tail, summary_line = _native(path, derived) or _by_lines(read_payload(path), name, derived)
        summary = self._summary(tail, summary_line, name)
        verdict = _verdict(rows, name, ctx.zone.key)
        checks = self._check(verdict, summary, name)
        bill, warnings = self._bill(rows, verdict, ctx, name)
        return ParsedStatement(bill=bill, checks=tuple(checks), warnings=tuple(warnings))

    def _summary(self, tail: list[str], line: int, name: str) -> dict[str, str]:
        header = [norm_header(c) for c in tail[0].strip("\r").split(",")]
        require_columns(header, SUMMARY, name, line)
        if len(tail) < 2 or not tail[1].strip():
            raise StatementRejected(name, line + 1, "summary row is missing: file truncated", code="truncated")
        extra = [i for i, rest in enumerate(tail[2:], start=line + 2) if rest.strip()]
        if extra:
            raise StatementRejected(name, extra[0], "unexpected content after the summary row", code="invalid_row")
        values = _cells(tail[1])
        if len(values) != len(header) or not tail[1].startswith("`"):
            raise StatementRejected(name, line + 1, f"summary row has {len(values)} cells for {len(header)} names", code="invalid_footer")
        return {"line": str(line + 1), **dict(zip(header, values))}

    def _check(self, verdict: Verdict, summary: dict[str, str], name: str) -> list[str]:
        at = int(summary["line"])
        verdict.refuse("收支类型", "收支金额(元)")
        checks: list[str] = []
        compare(name, at, "资金流水总笔数", count_text(summary["资金流水总笔数"], name, at, "资金流水总笔数"), verdict["rows"], checks)
        compare(name, at, "收入笔数", count_text(summary["收入笔数"], name, at, "收入笔数"), verdict["收入"], checks)
        compare(name, at, "支出笔数", count_text(summary["支出笔数"], name, at, "支出笔数"), verdict["支出"], checks)
        compare(name, at, "收入金额", amount_text(summary["收入金额"], name, at, "收入金额"), verdict.decimal("收入金额", "收入"), checks)
        compare(name, at, "支出金额", amount_text(summary["支出金额"], name, at, "支出金额"), verdict.decimal("支出金额", "支出"), checks)
        return checks

    def _bill(self, rows: pl.DataFrame, verdict: Verdict, ctx: ParseContext, name: str) -> tuple[pl.DataFrame, list[Problem]]:
        verdict.refuse(*IDS, "账户结余(元)", "记账时间")
        verdict.refuse("time gap")
        signed = pl.when(pl.col("收支类型") == "收入").then(pl.col("_amount")).otherwise(-pl.col("_amount"))
        rules = ctx.rules if STATUS_FIELD in ctx.rules.status else load_rules("wechatpay_fundflow")
        is_fee, refund = pl.col("_kind") == "FEE", pl.col("_kind") == "REFUND"
        zero = pl.lit(0).cast(MONEY)
        kind = mapped("业务类型", RECORD_TYPES, "OTHER")
        bill = rows.with_columns(_signed=signed.cast(MONEY), _kind=kind).select(
            channel=pl.lit(ctx.channel),
            account=pl.lit(ctx.account or ""),
            bill_date=pl.lit(ctx.bill_date, dtype=pl.Date) if ctx.bill_date else pl.col("_utc").dt.convert_time_zone(ctx.zone.key).dt.date().min(),
            record_type=pl.col("_kind"),
            channel_txn_id=pl.col("微信支付业务单号"),
            merchant_txn_id=pl.when(~refund & (pl.col("业务凭证号") != "")).then(pl.col("业务凭证号")),
            channel_refund_id=pl.when(refund).then(pl.col("微信支付业务单号")).otherwise(None),
            merchant_refund_id=pl.when(refund & (pl.col("业务凭证号") != "")).then(pl.col("业务凭证号")),
            trade_time=pl.col("_utc"),
            currency=pl.lit(CNY),
            amount=pl.when(is_fee).then(zero).otherwise(pl.col("_signed")).cast(MONEY),
            fee=pl.when(is_fee).then(-pl.col("_signed")).otherwise(zero).cast(MONEY),
            net_amount=pl.col("_signed").cast(MONEY),
            status=status_expr(rows, "业务类型", rules, STATUS_FIELD),
            source_file=pl.lit(name),
            source_line=pl.col("line"),
            raw_status=pl.col("业务类型"),
            memo=pl.when(pl.col("备注") != "").then(pl.col("备注")),
            fund_flow_id=pl.col("资金流水单号"),
            business_name=pl.col("业务名称"),
            balance=pl.col("_balance"),
        )
        return bill, _balance_chain(bill, name)


# 收支金额 carries no sign: 收支类型 gives the direction
AMOUNT, AMOUNT_RULE = amount("收支金额(元)", "收支金额(元)", 2, signed=False, code="invalid_row")
BALANCE, BALANCE_RULE = amount("账户结余(元)", "账户结余(元)", 2, code="invalid_row")
WHEN, WHEN_RULE = time("记账时间", "记账时间", blank="null")


def _derived(zone: str) -> Stages:
    """The typed columns, computed in the pass that reads the table. A local time the zone skips
    is null here and raised by `_bill`, after every rule, where the conversion always was."""
    return [[AMOUNT.alias("_amount"), BALANCE.alias("_balance"), WHEN.alias("_time")], [to_utc(pl.col("_time"), zone).alias("_utc")]]


def _verdict(rows: pl.DataFrame, name: str, zone: str) -> Verdict:
    """Every row rule and summary sum in one query over the rows; raised in file order."""
    income, expense = pl.col("收支类型") == "收入", pl.col("收支类型") == "支出"
    rules = {"收支类型": Rule(~pl.col("收支类型").is_in(["收入", "支出"]), "收支类型 must be 收入 or 支出"),
             "收支金额(元)": AMOUNT_RULE, **{c: scientific_id(c, c) for c in IDS}, "账户结余(元)": BALANCE_RULE,
             "记账时间": WHEN_RULE, "time gap": dst_gap(pl.col("_time"), "记账时间", zone)}
    sums = {"收入": income, "支出": expense, "收入金额": pl.when(income).then(pl.col("_amount")),
            "支出金额": pl.when(expense).then(pl.col("_amount"))}
    return Verdict(rows, rules, name, sums=sums)


def _native(path: Path, derived: Stages) -> tuple[pl.DataFrame, list[str], int] | None:
    """(rows, summary lines, summary line number) read natively, or None when anything is off the
    happy grammar; `_by_lines` then reads the file and names the fault.

    Every cell starts with a backtick, so polars splits on the backtick itself: a line is an empty
    cell, then one cell per column each ending in the comma before the next backtick, the last one
    without. A comma inside free text is simply part of its cell; a backtick inside one is not on
    this grammar and declines."""
    with payload_buffer(path) as (buf, source):
        start = 3 if buf[:3] == UTF8_BOM else 0
        head_end = buf.find(b"\n", start)
        # The last summary mark, found from the end; an earlier one would be a line without its
        # backtick inside the table, which declines.
        summary_at = buf.rfind(f"\n{SUMMARY[0]}".encode(), head_end - 1) if head_end > start else -1
        if summary_at < 0:
            return None
        header, tail = buf[start:head_end], buf[summary_at + 1 :]
        clean, crs = utf8_clean(buf, head_end + 1, summary_at + 1, "`")
    try:
        header, tail = header.decode("utf-8"), tail.decode("utf-8")
        columns = [norm_header(c) for c in header.strip("\r").split(",")]
        require_columns(columns, REQUIRED, "", 1)
    except (UnicodeDecodeError, StatementRejected):
        return None
    if not clean or REPLACEMENT in header or REPLACEMENT in tail:
        return None
    last = len(columns)
    cells = {c: pl.col(f"f{i}").str.head(-1) if i < last else pl.col(f"f{i}") for i, c in enumerate(columns, start=1) if c}
    grammar = pl.all_horizontal(pl.col("f0") == "", *(pl.col(f"f{i}").str.ends_with(",") for i in range(1, last)))
    rows = native_utf8(source, 1, summary_at - head_end, tail, crs, "`", last + 1, cells, grammar, derived)
    if rows is None:
        return None
    return _with_optional(rows), tail.split("\n"), 2 + rows.height


def _by_lines(data: bytes, name: str, derived: Stages) -> tuple[pl.DataFrame, list[str], int]:
    """The whole file decoded, the table split line by line: slower, and exact about every fault."""
    text = utf8_only(data, name, "WeChat Pay fund-flow bills")
    head_end = text.find("\n")
    if head_end < 0:
        raise StatementRejected(name, 1, "no detail header line (file truncated?)", code="truncated")
    columns = [norm_header(c) for c in text[:head_end].strip("\r").split(",")]
    require_columns(columns, REQUIRED, name, 1)
    summary_at = text.find(f"\n{SUMMARY[0]}", head_end - 1)
    if summary_at < 0:
        raise StatementRejected(name, None, "summary block (资金流水总笔数…) is missing: file truncated", code="truncated")
    body = text[head_end + 1 : summary_at + 1]
    rows = _rows(read_lines_frame(body, 2, name), columns, name)
    return derive(rows, derived), text[summary_at + 1 :].split("\n"), 2 + body.count("\n")


def _rows(lines: pl.DataFrame, columns: list[str], name: str) -> pl.DataFrame:
    """Split backtick-prefixed rows by header name; optional columns missing from the header are ''."""
    Verdict(lines, [Rule(~pl.col("l").str.starts_with("`"), "detail row does not start with a backtick (blank or foreign line)")],
            name).refuse()
    parts = lines.with_columns(pl.col("l").str.slice(1).str.split(",`").alias("cells"))
    Verdict(parts, [Rule(pl.col("cells").list.len() != len(columns),
                         f"row does not have {len(columns)} backtick cells (unquoted ',`' in free text, or a cut line)")], name).refuse()
    frame = parts.select(
        *[pl.col("cells").list.get(i).alias(c) for i, c in enumerate(columns) if c], pl.col("line")
    )
    return _with_optional(frame)


def _with_optional(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit("").alias(c) for c in OPTIONAL if c not in frame.columns]
    return frame.with_columns(missing) if missing else frame


def _balance_chain(bill: pl.DataFrame, name: str) -> list[Problem]:
    broken = bill.with_columns(prev=pl.col("balance").shift(1)).filter(
        pl.col("prev").is_not_null() & (pl.col("prev") + pl.col("net_amount") != pl.col("balance"))
    )
    if broken.height == 0:
        return []
    line = int(broken["source_line"][0])
    return [Problem(name, line, f"running balance 账户结余 does not follow the previous row ({broken.height} rows)", code="balance_chain")]
