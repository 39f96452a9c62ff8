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

Accepted and refused, and why (issue #19; tests in tests/parsers_refusals/):
* a time cell must match yyyy-MM-dd HH:mm:ss digit for digit before it is converted (a signed
  year `-2024-03-01` is refused, not read as a negative-year timestamp); in a channel zone with
  daylight saving a gap time is refused and a repeated hour read as its first occurrence;
* amounts in `recon.money.parse_amount`'s grammar (a sign, `12.` is 12; no exponent, at most 18
  integer digits) with at most 2 decimals, except 手续费 and its total, which WeChat quotes to 5;
* the summary count must be a whole number (`30.0` is 30, `3.9` is refused, never truncated);
* a GBK/GB18030 copy is recognised as a WeChat bill and refused saying so: WeChat bills are UTF-8,
  and a re-saved copy may have lost what the original said;
* a refusal lists every failing line (capped), the first in the order above as its headline;
  a message names our column and the file's (`trade_time ... (column 交易时间)`).

Reading: a day's bill can run to millions of lines, so no Python touches a row, and the file is
read in one streaming pass (its lines, their cells and the bill never all in memory at once).
* polars reads the lines natively, one field per line: the separator is NUL, which a bill never
  holds. Its reader keeps blank lines and drops one CR before LF, which is exactly how lines are
  numbered here, and it refuses bytes that are not UTF-8, so the rows need no Python decode. The
  header line and the summary block come from the file's head and tail, decoded strictly in Python.
  A file that polars refuses is decoded whole by `decode_strict`, which names the bad byte; if it
  decodes, the refusal was a NUL byte, and the lines are taken from the decoded text instead.
* A line is then split on ",`" as a string, rather than read with the backtick as the separator:
  polars pads a short row with empty strings, so a row one cell short would look like a row whose
  last cell (费率备注) is empty, and a backtick inside free text would split the cell in two.
* Every check is a boolean column of the pass that builds the bill; only when one is false do we
  look again, for the first failing line. The checks are listed in the order they apply, so a file
  with several faults is rejected for the first of them, at the same line, as it always was.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import ClassVar
from decimal import Decimal
from pathlib import Path

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.table import Rule, Step, Verdict, amount_text, blank_to_null, count_text, dst_gap, quoted, scientific_id, time, to_utc
from parsers import table
from parsers.registry import read_payload
from parsers.encoding import utf8_only
from parsers.text import REPLACEMENT
from parsers.wechatpay_trade_source import LINE, Source, blank_at_end, text_lines, undecodable
from recon.errors import Problem, StatementRejected
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
# The raw line and its cells; no header name can clash with them, as none can hold a comma.
_CELLS = "cells,"


class WeChatPayTradeParser:
    kind = "channel"
    rule_family = "wechatpay"
    format_id = "wechatpay.trade"
    # 手续费 is quoted to 5 decimals (FORMATS §1.2), so the net is too
    max_decimals: ClassVar[dict[str, int]] = {"fee": 5, "net_amount": 5}
    description = "WeChat Pay trade bill (交易账单) ALL / SUCCESS / REFUND, current and legacy layouts, plain or gzip"

    def identify(self, sample: Sample) -> bool:
        first = sample.head.split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf")
        try:
            header = first.decode("utf-8").rstrip("\r").split(",")
        except UnicodeDecodeError:
            try:  # a GBK copy is still a WeChat bill: claimed, so that parse() can say what is wrong with it
                header = first.decode("gb18030").rstrip("\r").split(",")
            except UnicodeDecodeError:
                return False
        return header[:1] == ["交易时间"] and "微信订单号" in header and "商户订单号" in header

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        source = Source.read(path, name)
        try:
            return _parse(source, source.scan(), ctx, name, path)
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
            # polars' reader refuses a byte that is not UTF-8, and a line with NUL (a second field)
            text = utf8_only(read_payload(path), name, "WeChat Pay bills")  # raises, naming the first bad byte
            if "\x00" not in text:
                raise
            return _parse(source, text_lines(text), ctx, name, path)


def _line_rule(bad: pl.Expr, reason: Callable[[int], str], code: str) -> Rule:
    return Rule(bad, lambda row: reason(row["source_line"]), code)


def _parse(source: Source, lines: pl.LazyFrame, ctx: ParseContext, name: str, path: Path) -> ParsedStatement:
    """Lay out every step in the order it applies, then run them all in one pass over `lines`."""
    # lines as str.split("\n") counts them: polars has no row after a final newline
    total = lines.select(pl.len()).collect(engine="streaming").item() + 1 + source.ends_with_newline
    n = total - blank_at_end(source.tail)  # the last line that is not blank: the summary row, if well-formed
    height = max(n - 3, 0)  # the detail rows are lines 2 .. n-2
    header = source.header.split(",")
    frame = lines.head(height)
    steps: list[Step] = [_line_rule(pl.col(LINE).str.contains(REPLACEMENT, literal=True).fill_null(True), lambda _: undecodable(path, name),
                                    "undecodable")]
    columns: dict[str, pl.Expr] = {}
    sums: dict[str, pl.Expr] = {}
    checks: tuple[str, ...] = ()
    summary = _sections(steps, source, total, n, name)
    if summary is not None:
        # Today's grammar: drop the line's first backtick and split on ",`", so that free text may
        # hold commas, and a row has as many cells as the header.
        frame = frame.with_columns(pl.col(LINE).str.slice(1).str.split(ROW_SPLIT).alias(_CELLS))
        steps.append(Rule((pl.col(_CELLS).list.len() != len(header)).fill_null(True),
                          quoted("line", f"does not have {len(header)} fields like the header (an unescaped comma or backtick?)"),
                          "bad_row", quote=pl.col(LINE).str.slice(1)))
        if len({*header, "source_line"}) <= len(header):
            steps.append(_duplicate_names(header, name))
        else:
            # one column per header name; the lazy plan computes only those that something reads
            frame = frame.with_columns(pl.col(_CELLS).list.get(i, null_on_oob=True).alias(h)
                                       for i, h in enumerate(header))
            stages, columns, checked = _standardize(steps, header, ctx, name, path, height)
            for stage in stages:
                frame = frame.with_columns(**stage)
            if columns:
                checks = _check_summary(steps, sums, checked, header, *summary, n, height, name)
    if any(isinstance(s, Exception) for s in steps):
        columns = {}  # rejected: the pass only has to find out which step fails first
    verdict = Verdict(frame, [s for s in steps if isinstance(s, Rule)], name, sums=sums, columns=columns, line="source_line")
    verdict.run(steps)
    bill = verdict.built
    bill_date = ctx.bill_date or _date_in_name(path) or _most_common_date(bill, ctx)
    bill = bill.select_seq("channel", "account", pl.lit(bill_date, dtype=pl.Date).alias("bill_date"), *list(columns)[2:])
    warnings = tuple(
        Problem(name, 1, f"summary column {c!r} is not known; not checked", code="unchecked_total")
        for c in summary[0] if c != SUMMARY_COUNT and c not in SUMMARY_SUMS
    )
    return ParsedStatement(bill=bill, checks=checks, warnings=warnings)


def _duplicate_names(header: list[str], name: str) -> StatementRejected:
    """A header that names a column twice is ambiguous (which 商户号 is the merchant?): refused on
    line 1, one line, never polars' DuplicateError."""
    repeated = sorted({h for h in header if header.count(h) > 1 or h == "source_line"})
    return StatementRejected(name, 1, f"duplicate header column(s) {', '.join(map(repr, repeated))}: ambiguous which to read",
                             code="missing_column")


def _sections(steps: list[Step], source: Source, total: int, n: int, name: str) -> tuple[list[str], list[str]] | None:
    """Steps for the file's shape; the summary header and its row without backticks, or None if misshapen."""
    def line(number: int) -> str:
        return source.header if number == 1 else source.tail[number - 1 - total + len(source.tail)]

    def misplaced(at: int) -> str:
        return f"summary header must be followed by exactly one summary row, found {n - at}"

    if n == 0:
        steps.append(StatementRejected(name, None, "file is empty", code="truncated"))
        return None
    # The summary header is the first line that starts with 总交易单数, wherever it is.
    if source.header.startswith(SUMMARY_COUNT):
        summary_at = 1
    else:
        steps.append(_line_rule(pl.col(LINE).str.starts_with(SUMMARY_COUNT).fill_null(True), misplaced, "truncated"))
        summary_at = next((k for k in range(max(n - 1, 2), n + 1) if line(k).startswith(SUMMARY_COUNT)), None)
    if summary_at is None:
        steps.append(StatementRejected(name, n, "no summary block (总交易单数...): the file is truncated", code="truncated"))
        return None
    if summary_at != n - 1:
        steps.append(StatementRejected(name, summary_at, misplaced(summary_at), code="truncated"))
        return None
    steps.append(Rule((~pl.col(LINE).str.starts_with("`")).fill_null(True), "detail row does not start with a backtick (not a bill row)", "bad_row"))
    summary_header, summary = line(n - 1).split(","), []
    for cell in line(n).split(","):
        if not cell.startswith("`"):
            steps.append(StatementRejected(name, n, f"cell {cell!r} lacks the backtick prefix", code="bad_row"))
            return None
        summary.append(cell[1:])
    if len(summary) != len(summary_header):
        steps.append(StatementRejected(name, n, f"summary row has {len(summary)} fields, its header {len(summary_header)}",
                                       code="truncated"))
        return None
    return summary_header, summary


def _standardize(steps: list[Step], header: list[str], ctx: ParseContext, name: str, path: Path,
                 height: int) -> tuple[list[dict[str, pl.Expr]], dict[str, pl.Expr], dict[str, pl.Expr]]:
    """Steps for the detail cells. Returns the derived columns (in stages, each reading the last),
    the bill's columns (bill_date is added after the pass), and each amount column already checked."""
    src = {c: next((h for h in COLUMNS[c] if h in header), None) for c in COLUMNS}
    missing = [COLUMNS[c][0] for c in REQUIRED if src[c] is None]
    if missing:
        steps.append(StatementRejected(name, 1, f"header lacks required column(s) {', '.join(missing)}", code="missing_column"))
        return [], {}, {}
    # Every optional column that is absent is null text, so expressions stay uniform.
    raw = {c: pl.col(h) if h is not None else pl.lit(None, dtype=pl.String) for c, h in src.items()}
    trade_time = raw["trade_time"].str.replace_all("：", ":", literal=True)
    # What several checks and columns read is derived once, into columns of its own (named with
    # a comma, which no header name holds).
    derived = {f"{c},": blank_to_null(raw[c], "0") for c in ("refund_id", "out_refund_no")}
    derived |= {f"{c},": blank_to_null(raw[c]) for c in ("transaction_id", "out_trade_no", "sub_mch_id", "refund_status", "body")}
    def at(c: str) -> str:  # messages name our column, then the file's own header
        return f" (column {src[c]})" if src.get(c) else ""

    # WeChat quotes its fees to 5 decimals (FORMATS §1.2), the other amounts to the fen
    settlement = table.amount(raw["settlement_amount"], "settlement_amount", 2, where=at("settlement_amount"))
    refund = table.amount(raw["refund_amount"], "refund_amount", 2, blank="zero", where=at("refund_amount"))
    fee_amount = table.amount(raw["fee"], "fee", 5, where=at("fee"))
    local, local_rule = time(trade_time, "trade_time", where=at("trade_time"))
    derived |= {"local_time,": local, "is_refund,": raw["trade_state"] == "REFUND",
                "settlement_amount,": settlement[0], "refund_amount,": refund[0], "fee,": fee_amount[0]}
    txt = raw | {c[:-1]: pl.col(c) for c in derived}

    steps.extend(scientific_id(txt[c], c, at(c)) for c in ("transaction_id", "out_trade_no", "refund_id", "out_refund_no"))
    steps.append(Rule(txt["transaction_id"].is_null(), quoted("transaction_id", "is empty (微信订单号 is required)"), "bad_row",
                      quote=txt["transaction_id"]))
    steps.append(Rule((~raw["trade_state"].is_in(["SUCCESS", "REFUND", "REVOKED"])).fill_null(True),
                      quoted("trade_state", "is not SUCCESS, REFUND or REVOKED", at("trade_state")), "bad_row", quote=raw["trade_state"]))
    steps.append(Rule((~raw["currency"].str.contains(r"^[A-Z]{3}$")).fill_null(True), quoted("currency", "is not an ISO 4217 code", at("currency")),
                      "bad_row", quote=raw["currency"]))
    steps.extend((settlement[1], refund[1], fee_amount[1], local_rule, dst_gap(txt["local_time"], "trade_time", ctx.zone)))
    if not ctx.bill_date and _date_in_name(path) is None and height == 0:
        steps.append(StatementRejected(name, None, "cannot tell the bill date of an empty bill; pass --date",
                                       code="no_date"))
        return [derived], {}, {}
    is_refund = txt["is_refund"]
    amount = pl.when(is_refund).then(-txt["refund_amount"]).otherwise(txt["settlement_amount"]).cast(MONEY)
    fee = txt["fee"].cast(MONEY)
    status = pl.when(is_refund).then(_status(txt["refund_status"].fill_null(""), ctx.rules.status.get("refund", {}))
                                     ).otherwise(_status(raw["trade_state"], ctx.rules.status.get("trade", {})))
    columns = {
        "channel": pl.lit(ctx.channel),
        "account": (pl.lit(ctx.account) if ctx.account else raw["mch_id"].str.strip_chars()).cast(pl.String),
        "record_type": pl.when(is_refund).then(pl.lit("REFUND")).otherwise(pl.lit("PAYMENT")),
        "channel_txn_id": txt["transaction_id"],
        "merchant_txn_id": txt["out_trade_no"],
        "channel_refund_id": txt["refund_id"],
        "merchant_refund_id": txt["out_refund_no"],
        "trade_time": to_utc(txt["local_time"], ctx.zone),
        "currency": raw["currency"],
        "amount": pl.col("amount,"),
        "fee": fee,
        "net_amount": (pl.col("amount,") - fee).cast(MONEY),
        "status": status.cast(pl.String),
        "source_file": pl.lit(name),
        "source_line": pl.col("source_line"),
        "raw_status": pl.when(is_refund).then(pl.concat_str(pl.lit("REFUND/"), txt["refund_status"].fill_null("")))
        .otherwise(raw["trade_state"]),
        "counterparty": txt["sub_mch_id"],
        "memo": txt["body"],
    }
    # The summary's totals over these columns need no second check: the one above is as strict
    # (same scale, and a blank fails it), and it fails first.
    checked = {src[c]: txt[c] for c in ("settlement_amount", "refund_amount", "fee") if src[c] is not None}
    return [derived, {"amount,": amount}], columns, checked


def _status(code: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    """The rules' status for each code, UNKNOWN for a code they do not list. A chain of whens, not
    replace_strict, which would make polars' streaming engine gather the whole frame first."""
    chain = None
    for raw, status in mapping.items():
        chain = (pl.when if chain is None else chain.when)(code == raw).then(pl.lit(status))
    return pl.lit("UNKNOWN") if chain is None else chain.otherwise(pl.lit("UNKNOWN"))


def _check_summary(steps: list[Step], sums: dict[str, pl.Expr], checked: dict[str, pl.Expr], header: list[str],
                   summary_header: list[str], summary: list[str], line: int, height: int, name: str) -> tuple[str, ...]:
    """Steps for the summary row (line `line`): its count, then each total it states; what they verify."""
    values = dict(zip(summary_header, summary))
    checks = []
    try:
        stated_count = count_text(values.get(SUMMARY_COUNT, ""), name, line, f"summary {SUMMARY_COUNT}", "bad_summary")
    except StatementRejected as refusal:
        steps.append(refusal)
        return ()
    if stated_count != height:
        steps.append(StatementRejected(name, line, f"summary says {stated_count} rows, the file has {height}: truncated or edited",
                                       code="totals_mismatch"))
        return ()
    checks.append(f"{SUMMARY_COUNT} {stated_count} = {height} rows")
    for total_name, detail in SUMMARY_SUMS.items():
        if total_name not in values or detail not in header:
            continue
        try:
            stated = amount_text(values[total_name], name, line, f"summary {total_name}", "bad_summary")
        except StatementRejected as refusal:
            steps.append(refusal)
            return ()
        key = f"_sum{len(sums)}"
        if detail in checked:
            sums[key] = checked[detail]
        else:
            value, rule = table.amount(pl.col(detail), detail, 5 if detail in FIVE_DECIMALS else 2, blank="zero")
            steps.append(rule)
            sums[key] = value
        steps.append(_total_check(key, total_name, stated, name, line))
        checks.append(f"{total_name} {stated} = sum of {detail}")
    return tuple(checks)


def _total_check(key: str, total_name: str, stated: Decimal, name: str, line: int) -> Callable[[dict[str, object]], None]:
    def check(totals: dict[str, object]) -> None:
        summed = Decimal(0) if totals[key] is None else Decimal(totals[key])
        if summed != stated:
            raise StatementRejected(name, line, f"summary {total_name} is {stated}, the rows add up to {summed.normalize():f}",
                                    code="totals_mismatch")
    return check


def _date_in_name(path: Path) -> dt.date | None:
    if m := _DATE_IN_NAME.search(path.name):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    return None


def _most_common_date(bill: pl.DataFrame, ctx: ParseContext) -> dt.date:
    """The bill's business date when no one says: the most common local trade date."""
    return bill.select(pl.col("trade_time").dt.convert_time_zone(ctx.zone.key).dt.date().mode().min()).item()
