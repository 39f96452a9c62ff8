"""UnionPay 全渠道 merchant reconciliation files: ZM (cleared detail, `unionpay.zm`) and ZME (errors).

UnionPay delivers a zip per merchant and clearing day holding `INN<yymmdd>88ZM_<merId>` (fixed-width
detail), an `RD…` GBK summary report and, on some days, `INN<yymmdd>88ZME_<merId>` (error and
adjustment detail). Widths are counted in GBK *bytes* (a merchant name in Chinese is two bytes a
character), so each line is sliced as bytes and each field decoded on its own, strictly. Amounts are
fen (n12); signed fields are `C`/`D` + n12, where the sign may be a space on a zero. Times are
`MMDDhhmmss` without a year: the year is the one that puts the time nearest the clearing date in the
file name (a 12-31 transaction on a 01-01 clearing date is last year's). Layouts: FORMATS.md §3.3.

Checks before anything is returned: every line has the exact record length with a space between
fields (a cut line is truncation), each row's amount − fee equals its signed settlement amount, and,
when the zip carries the RD report, its 总计 row (count, amounts, fees, net, 借/贷) equals the lines.
A bare ZM file has no control totals; that gap is stated as a warning, not hidden.

Each record is read one of two ways, to the same frame of text fields: column-wise from the raw
bytes (`Layout.read_fields`, what a file normally goes through) or, when that cannot take the file
exactly, record by record (`Layout.records`, which names every record it cannot read: cut, shifted
or not GB18030). Either way the fields go through one set of parsers/table.py rules (`rules()` and
the 交易传输时间 rules), so a refusal lists every faulty record with its line and the field's name
in the spec, capped and counted by the toolkit, headed by the first faulty line (on it, the first
check); the equivalence proof is tests/parsers_toolkit/test_native_reads_unionpay.py.

Accepted and refused, and why (issue #19): GBK bytes only, each field decoded strictly (a byte that
is not GBK is refused naming its line); fen amounts are digits only, signed ones `C`/`D` (or a space
on a zero), ASCII digits only (a full-width digit is refused; the record-by-record reader used
to take it); an id in scientific notation is refused. Local times follow the toolkit's one policy
(parsers/table.py DST_RULE) on both readers: in a zone with daylight saving a time the clocks skip
is refused naming line, zone and rule (the record-by-record reader used to shift it an hour), a
repeated hour is its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.cn_common import CNY, decode_cn, zip_members
from parsers.registry import open_member_bytes
from parsers.table import Rule, Verdict, compare, dst_gap, quoted, scientific_id, to_utc
from parsers.unionpay_layout import (
    RD_TOTAL,
    ZM,
    ZME,
    Layout,
    clearing_time,
    fen_column,
    fen_reason,
    time_date_bad,
    time_shape_bad,
    yuan,
)
from recon.errors import Problem, StatementRejected
from recon.money import from_minor
from recon.schema import MONEY, UTC_TIME

MEMBER_LIMIT = 1 << 30
# 交易类型 (txnType) of the 全渠道 API: what the merchant's money did. Unlisted types are OTHER.
RECORD_TYPES = {"01": "PAYMENT", "03": "PAYMENT", "11": "PAYMENT", "04": "REFUND", "31": "REFUND",
                "33": "REFUND", "12": "PAYOUT"}
_NAME = re.compile(r"INN(\d{6})\d{2}(ZME?)_(\w+)")


class _UnionPayParser(ABC):
    kind = "channel"
    rule_family = "unionpay"
    layout: ClassVar[Layout]
    tag: ClassVar[str]

    def identify(self, sample: Sample) -> bool:
        if sample.members:
            tags = {m.group(2) for m in map(_NAME.search, sample.members) if m}
            return self.tag in tags and (self.tag == "ZM" or "ZM" not in tags)
        first = sample.head.split(b"\n", 1)[0].rstrip(b"\r")
        return self.layout.fits(first)

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        with open(path, "rb") as fh:
            zipped = fh.read(4) == b"PK\x03\x04"
        if not zipped:
            bill, checks = self.parse_member(path.read_bytes(), name, path.name, ctx)
            return ParsedStatement(bill=bill, checks=tuple(checks), warnings=(Problem(name, None, "bare file: no RD report to check totals against", code="no_control_totals"),))
        members = zip_members(path)
        ours = [m for m in members if (hit := _NAME.search(m)) and hit.group(2) == self.tag]
        if len(ours) != 1:
            raise StatementRejected(name, None, f"expected one {self.tag} member, found {len(ours)} ({', '.join(members)})", code="unknown_layout")
        member = ours[0]
        bill, checks = self.parse_member(open_member_bytes(path, members[member], limit=MEMBER_LIMIT), f"{name}!{member}", member, ctx)
        warnings: list[Problem] = []
        reports = [m for m in members if re.match(r"RD\d+_", m)]
        if self.tag == "ZM" and reports:
            rd = f"{name}!{reports[0]}"
            self.check_report(decode_cn(open_member_bytes(path, members[reports[0]], limit=MEMBER_LIMIT), rd, allow_utf8=False), rd, bill, checks)
        elif self.tag == "ZM":
            warnings.append(Problem(name, None, "zip has no RD report: totals not checked", code="no_control_totals"))
        if self.tag == "ZM" and any((h := _NAME.search(m)) and h.group(2) == "ZME" for m in members):
            warnings.append(Problem(name, None, "zip also holds a ZME error file: parse it with --format unionpay.zme", code="zme_present"))
        return ParsedStatement(bill=bill, checks=tuple(checks), warnings=tuple(warnings))

    def parse_member(self, data: bytes, name: str, member: str, ctx: ParseContext) -> tuple[pl.DataFrame, list[str]]:
        hit = _NAME.search(member)
        file_date = dt.datetime.strptime(hit.group(1), "%y%m%d").date() if hit else None
        clearing = file_date or ctx.bill_date
        if clearing is None:
            raise StatementRejected(name, None, "no clearing date: the file name is not INN<yymmdd>… and none was given", code="no_date")
        fields = self._native(data)
        if fields is None:  # the record-by-record reader: every record it cannot read is a problem
            records, faults = self.layout.records(data, name)
            schema = dict.fromkeys(self.used, pl.String)
            fields = pl.DataFrame([{f: rec[f] for f in self.used} for _, rec in records], schema=schema).with_columns(
                line=pl.Series([line for line, _ in records], dtype=pl.Int64))
        else:
            faults = []
        frame = self._checked(fields, faults, name, clearing, ctx)
        account = ctx.account or (hit.group(3) if hit else "")
        bill = frame.with_columns(
            channel=pl.lit(ctx.channel), account=pl.col("account").fill_null(account),
            bill_date=pl.lit(ctx.bill_date or clearing, dtype=pl.Date),
            status=pl.lit(ctx.rules.status_of("record_file", self.tag)), currency=pl.lit(CNY), source_file=pl.lit(name),
        )
        return bill, [f"{frame.height} records of {self.layout.length} bytes, every field boundary a space"]

    def _native(self, data: bytes) -> pl.DataFrame | None:
        """The `used` fields of every record read column-wise, or None to read record by record."""
        return self.layout.read_fields(data, self.used)

    def _checked(self, fields: pl.DataFrame, faults: list[Problem], name: str, clearing: dt.date,
                 ctx: ParseContext) -> pl.DataFrame:
        """The bill's rows from the records' text, by the same rules whichever reader read it. A
        refusal lists every faulty record (the reader's, then each broken rule's: capped and
        counted by the toolkit), headed as a record-by-record reading would stop: at the first
        unreadable record, else at the first faulty line and its first broken rule in `rules()`."""
        frame = fields.with_columns(_local=clearing_time("交易传输时间", clearing))
        frame = frame.with_columns(_utc=to_utc(pl.col("_local"), ctx.zone))
        columns, values = self.columns()
        frame = frame.with_columns(**values)
        rules = [*self.rules(), *_time_rules(ctx)]
        problems, count = list(faults), len(faults)
        try:
            Verdict(frame, rules, name).refuse()
        except StatementRejected as exc:
            found = list(exc.problems)
            head = min(found, key=lambda p: p.line or 0)  # the first faulty line; on it, the first rule
            found.remove(head)
            problems += [head, *found]
            count += exc.problem_count
        if problems:
            raise StatementRejected.of(problems, count, by_line=True)
        return frame.select(**{col: expr.cast(dtype) for (col, dtype), expr in zip(self.schema().items(), columns)})

    def schema(self) -> dict[str, pl.DataType]:
        return {"record_type": pl.String, "channel_txn_id": pl.String, "merchant_txn_id": pl.String,
                "channel_refund_id": pl.String, "merchant_refund_id": pl.String, "trade_time": UTC_TIME,
                "amount": MONEY, "fee": MONEY, "net_amount": MONEY, "source_line": pl.Int64, "account": pl.String,
                "raw_status": pl.String, "txn_code": pl.String, "trace_no": pl.String}

    used: ClassVar[tuple[str, ...]]

    @abstractmethod
    def columns(self) -> tuple[list[pl.Expr], dict[str, pl.Expr]]:
        """The bill as expressions over the `used` fields, `line`, the trade time `_utc` and the
        named values (each null where its field is bad): one per `schema()` column."""

    @abstractmethod
    def rules(self) -> list[Rule]:
        """Every check of a record's fields, in the order a record is checked (the time aside)."""


def _time_rules(ctx: ParseContext) -> list[Rule]:
    """交易传输时间: MMDDhhmmss, a date in the year `infer_year` picks, a time the zone has."""
    col = pl.col("交易传输时间")
    return [
        Rule(time_shape_bad("交易传输时间"), quoted("交易传输时间", "is not MMDDhhmmss"), "invalid_row", quote=col),
        Rule(time_date_bad("交易传输时间", pl.col("_local")), quoted("交易传输时间", "is not a date"), "invalid_row", quote=col),
        dst_gap(pl.col("_local"), "交易传输时间", ctx.zone),
    ]


def _fen_rule(col: str, value: str, *, signed: bool) -> Rule:
    """The field `col` is fen; `value` is the column `columns()` read it into (null exactly where
    the field is not fen), so the grammar is evaluated once."""
    return Rule(pl.col(value).is_null(), lambda r: fen_reason(col, r[col], signed=signed), "invalid_row")


def _inconsistent(row: dict) -> str:
    amount = from_minor(row["_amount"], CNY)
    amount = -amount if RECORD_TYPES.get(row["交易类型"]) == "REFUND" else amount
    fee, settle = -from_minor(row["_fee"], CNY), from_minor(row["_settle"], CNY)
    return f"row inconsistent: 交易金额 {amount} - 手续费 {fee} != 结算金额 {settle}"


class UnionPayZmParser(_UnionPayParser):
    format_id: ClassVar[str] = "unionpay.zm"
    description: ClassVar[str] = "UnionPay 全渠道 ZM merchant detail (INN…ZM_…), bare or in the daily zip with its RD report"
    layout = ZM
    tag = "ZM"
    used = ("交易代码", "系统跟踪号", "交易传输时间", "交易金额", "查询流水号", "商户订单号", "商户手续费", "结算金额",
            "交易类型", "交易子类", "原交易查询流水号", "商户代码", "优惠金额", "原始交易订单号")

    def columns(self):
        kind = pl.col("交易类型").replace_strict(RECORD_TYPES, default="OTHER", return_dtype=pl.String)
        refund = kind == "REFUND"
        amount = pl.col("_amount")
        amount = pl.when(refund).then(-amount).otherwise(amount)
        fee = -pl.col("_fee")  # D (debit to the merchant) is a charge: positive fee
        query, orig_query = pl.col("查询流水号").replace("", None), pl.col("原交易查询流水号").replace("", None)
        values = {f"_{key}": fen_column(col, signed=key != "amount")
                  for key, col in (("amount", "交易金额"), ("fee", "商户手续费"), ("settle", "结算金额"), ("discount", "优惠金额"))}
        return [
            kind, pl.when(refund).then(orig_query.fill_null(query)).otherwise(query),
            pl.when(refund).then(pl.col("原始交易订单号").replace("", None)).otherwise(pl.col("商户订单号").replace("", None)),
            pl.when(refund).then(query), pl.when(refund).then(pl.col("商户订单号")),
            pl.col("_utc"), yuan(amount), yuan(fee), yuan(amount - fee), pl.col("line"), pl.col("商户代码").replace("", None),
            pl.concat_str(pl.col("交易类型"), pl.lit("/"), pl.col("交易子类")), pl.col("交易代码"), pl.col("系统跟踪号"),
        ], values

    def rules(self):
        refund = pl.col("交易类型").replace_strict(RECORD_TYPES, default="OTHER", return_dtype=pl.String) == "REFUND"
        amount = pl.when(refund).then(-pl.col("_amount")).otherwise(pl.col("_amount"))
        # A discount moves the settlement away from 交易金额 - 手续费, so the row is checked only without one.
        inconsistent = (pl.col("_discount") == 0) & (amount + pl.col("_fee") != pl.col("_settle"))
        return [
            _fen_rule("交易金额", "_amount", signed=False), _fen_rule("商户手续费", "_fee", signed=True),
            _fen_rule("结算金额", "_settle", signed=True), _fen_rule("优惠金额", "_discount", signed=True),
            Rule(inconsistent, _inconsistent, "invalid_row"),
            scientific_id("查询流水号", "查询流水号"), scientific_id("原交易查询流水号", "原交易查询流水号"),
        ]

    def check_report(self, text: str, file: str, bill: pl.DataFrame, checks: list[str]) -> None:
        """The RD report's first 总计 row: count, 交易金额/费用/清算差额 as 借 (debit) and 贷 (credit)."""
        for number, line in enumerate(text.splitlines(), start=1):
            hit = RD_TOTAL.match(line.strip())
            if not hit:
                continue
            count, *money = hit.groups()
            amt_d, amt_c, fee_d, fee_c, net_d, net_c = (from_minor(m.replace(".", ""), CNY) for m in money)
            total = lambda col: bill.get_column(col).sum() if bill.height else 0  # noqa: E731
            mismatches: list[Problem] = []
            for what, stated, computed in (
                ("RD 总计 交易笔数", int(count), bill.height),
                ("RD 总计 交易金额 (贷 - 借)", amt_c - amt_d, total("amount")),
                ("RD 总计 费用 (借 - 贷)", fee_d - fee_c, total("fee")),
                ("RD 总计 资金清算差额 (贷 - 借)", net_c - net_d, total("net_amount")),
            ):
                try:
                    compare(file, number, what, stated, computed, checks)
                except StatementRejected as exc:  # every total that disagrees is listed, the count first
                    mismatches.append(exc.problem)
            if mismatches:
                raise StatementRejected.of(mismatches)
            return
        raise StatementRejected(file, None, "RD report has no 总计 row: file truncated", code="truncated")


class UnionPayZmeParser(_UnionPayParser):
    format_id: ClassVar[str] = "unionpay.zme"
    description: ClassVar[str] = "UnionPay 全渠道 ZME error/adjustment detail (INN…ZME_…)"
    layout = ZME
    tag = "ZME"
    used = ("交易代码", "系统跟踪号", "交易传输时间", "商户手续费", "结算金额", "商户代码", "差错原因")

    def columns(self):
        # An error row moves money by its signed settlement amount; the amount is the disputed one.
        fee, settle = -pl.col("_fee"), pl.col("_settle")
        values = {"_fee": fen_column("商户手续费", signed=True), "_settle": fen_column("结算金额", signed=True)}
        none = pl.lit(None, dtype=pl.String)
        return [  # ZME carries no queryId: time + trace is the key
            pl.lit("ADJUSTMENT"), pl.concat_str(pl.col("交易传输时间"), pl.col("系统跟踪号")), none, none, none,
            pl.col("_utc"), yuan(settle + fee), yuan(fee), yuan(settle), pl.col("line"), pl.col("商户代码").replace("", None),
            pl.col("差错原因").replace("", None), pl.col("交易代码"), pl.col("系统跟踪号"),
        ], values

    def rules(self):
        return [_fen_rule("商户手续费", "_fee", signed=True), _fen_rule("结算金额", "_settle", signed=True)]
