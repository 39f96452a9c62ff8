"""Alipay bills: 业务明细 (trade, `alipay.trade`) and 账务明细 (account/signcustomer, `alipay.account`).

The zip, the `#` frame and the footers are shared (parsers/alipay_layout.py); this module declares
each bill's columns and turns its rows into the standardized bill after the control totals agree.

业务明细: one row per payment (交易) or refund (退款); refunds are negative and repeat the original
支付宝交易号/商户订单号 with the refund request number. The footers total 商家实收 per direction; the
汇总 file's 合计 row totals counts, 商家实收, 服务费 and 实收净额. The sign of 服务费 differs between
exports, so when the 汇总 file is present it decides: 实收净额 = Σ实收 − Σ服务费 means "positive is a
charge", = Σ实收 + Σ服务费 means "negative is a charge"; anything else is a rejection.

账务明细: one row per balance movement, with separate income and expense columns whose header text
varies (`收入金额（+元）`, `收入金额(+元)`, `收入金额`): headers are matched with `（）()+-元` removed.
The expense column may hold 0.00, a positive or a negative number; it always means money out.

Accepted and refused, and why (issue #19; cells judged by parsers/table.py, every failing line listed):
* GBK/GB18030 originals and UTF-8 re-exports (with or without BOM), decided by the bytes, strictly;
* amounts in `recon.money.parse_amount`'s grammar with at most 2 decimals (the fen): `12.` is 12,
  `+1.50` is 1.50; an exponent (`1e5`), a third decimal or more than 18 integer digits is refused;
  a blank 账户余额 states no balance and is not checked;
* times must match yyyy-MM-dd HH:mm:ss digit for digit before conversion (a signed year is refused);
  in a channel zone with daylight saving a gap time is refused, a repeated hour read as its first
  occurrence (table.DST_RULE); a blank 完成时间 falls back to 创建时间;
* ids in scientific notation (Excel damage) are refused: their digits are gone;
* footer and 汇总 counts must be whole numbers (`20.0` is 20, `3.9` is refused, never truncated).
"""

from __future__ import annotations

import unicodedata
from typing import ClassVar

import polars as pl

from parsers.alipay_layout import (
    AlipayBillParser,
    Section,
    bill_date_of,
    footer_total,
    preamble_value,
    split_detail,
    summary_total,
)
from parsers.base import ParseContext
from parsers.cn_common import CNY, mapped, status_expr
from parsers.table import Rule, Verdict, amount, amount_text, compare, count_text, dst_gap, scientific_id, time, to_utc
from recon.errors import Problem, StatementRejected
from recon.schema import MONEY

ZERO = pl.lit(0).cast(MONEY)


def _with_defaults(rows: pl.DataFrame, required: tuple[str, ...], optional: dict[str, str]) -> pl.DataFrame:
    """An empty day has no header row; optional columns absent from the header get their default."""
    for col in (*required, *optional, "line"):
        if col not in rows.columns:
            default = optional.get(col, "")
            rows = rows.with_columns(pl.lit(default if rows.height else None, dtype=pl.Int64 if col == "line" else pl.String).alias(col))
    return rows.with_columns(pl.col(c).replace("", d) for c, d in optional.items() if d)


def _account(section: Section, ctx: ParseContext, name: str) -> str:
    """The file names its account; a channel configured for another account must not take it."""
    stated = preamble_value(section, "账号")
    if stated and ctx.account and not stated.startswith(ctx.account):
        raise StatementRejected(name, None, f"file is for account {stated}, channel {ctx.channel} is {ctx.account}", code="wrong_account")
    return stated or ctx.account or ""


def _frame(rows: pl.DataFrame, ctx: ParseContext, name: str, account: str, bill_date, **cols: pl.Expr) -> pl.DataFrame:
    bill = rows.select(
        channel=pl.lit(ctx.channel, dtype=pl.String),
        account=pl.lit(account, dtype=pl.String),
        bill_date=pl.lit(bill_date, dtype=pl.Date),
        **cols,
        source_file=pl.lit(name, dtype=pl.String),
        source_line=pl.col("line"),
    )
    return bill.with_columns(net_amount=(pl.col("amount") - pl.col("fee")).cast(MONEY))


class AlipayTradeParser(AlipayBillParser):
    kind = "channel"
    format_id: ClassVar[str] = "alipay.trade"
    description: ClassVar[str] = "Alipay 业务明细 (trade bill): GBK CSV or the downloaded csv.zip"
    bill_kind: ClassVar[str] = "业务明细"
    title: ClassVar[str] = "#支付宝业务明细查询"
    marks: ClassVar[tuple[str, ...]] = ("支付宝交易号", "商家实收(元)")

    REQUIRED = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "商家实收(元)")
    OPTIONAL = {"创建时间": "", "订单金额(元)": "0.00", "服务费(元)": "0.00", "退款批次号/请求号": "",
                "对方账户": "", "备注": ""}
    RECORD_TYPES = {"交易": "PAYMENT", "退款": "REFUND"}

    IDS = ("支付宝交易号", "商户订单号", "退款批次号/请求号")

    def parse_detail(self, data, name, summary, ctx):
        section = split_detail(data, name, self.title, self.norm, self.REQUIRED, (*self.REQUIRED, *self.OPTIONAL))
        rows, verdict = self._verdict(_with_defaults(section.rows, self.REQUIRED, self.OPTIONAL), name, ctx.zone.key)
        verdict.refuse(*self.IDS, "商家实收(元)", "服务费(元)", "订单金额(元)", "refund")
        checks: list[str] = []
        t_line, t_count, t_sum = footer_total(section, "交易合计", "商家实收", name)
        r_line, r_count, r_sum = footer_total(section, "退款合计", "商家实收退款", name)
        compare(name, t_line, "行数 (交易合计 + 退款合计)", t_count + r_count, verdict["rows"], checks)
        compare(name, t_line, "交易合计 笔数", t_count, verdict["交易"], checks)
        compare(name, r_line, "退款合计 笔数", r_count, verdict["退款"], checks)
        compare(name, t_line, "交易合计 商家实收", amount_text(t_sum, name, t_line, "交易合计"), verdict.decimal("交易 商家实收", "交易"), checks)
        compare(name, r_line, "退款合计 商家实收退款", amount_text(r_sum, name, r_line, "退款合计"), verdict.decimal("退款 商家实收", "退款"), checks)
        fee_sign, warnings = 1, []
        if summary is not None:
            fee_sign = self._check_summary(verdict, summary, checks)
        elif verdict["negative fee"]:
            warnings.append(Problem(name, None, "服务费 is negative on payment rows and no 汇总 file tells its sign; taken as printed", code="fee_sign"))
        account, bill_date = _account(section, ctx, name), bill_date_of(section, ctx)
        verdict.refuse("完成时间", "创建时间")
        verdict.refuse("完成时间 gap")
        verdict.refuse("创建时间 gap")
        refund = pl.col("业务类型") == "退款"
        bill = _frame(
            rows, ctx, name, account, bill_date,
            record_type=mapped("业务类型", self.RECORD_TYPES, "OTHER"),
            channel_txn_id=pl.col("支付宝交易号"),
            merchant_txn_id=pl.col("商户订单号").replace("", None),
            channel_refund_id=pl.lit(None, dtype=pl.String),
            merchant_refund_id=pl.when(refund).then(pl.col("退款批次号/请求号").replace("", None)).otherwise(None),
            trade_time=to_utc(pl.col("_done"), ctx.zone.key).fill_null(to_utc(pl.col("_created"), ctx.zone.key)),
            currency=pl.lit(CNY),
            amount=pl.col("_amt"),
            fee=(pl.col("_fee") * fee_sign).cast(MONEY),
            status=status_expr(rows, "业务类型", ctx.rules, "trade_business_type"),
            raw_status=pl.col("业务类型"),
            counterparty=pl.col("对方账户").replace("", None),
            memo=pl.col("备注").replace("", None),
            order_amount=pl.col("_order"),
        )
        return bill, checks, warnings

    def _verdict(self, rows: pl.DataFrame, name: str, zone: str) -> tuple[pl.DataFrame, Verdict]:
        """Typed columns, and every row rule and control sum in one query; raised in file order."""
        amt, amt_rule = amount("商家实收(元)", "商家实收(元)", 2, code="invalid_row")
        fee, fee_rule = amount("服务费(元)", "服务费(元)", 2, code="invalid_row")
        order, order_rule = amount("订单金额(元)", "订单金额(元)", 2, code="invalid_row")
        done, done_rule = time("完成时间", "完成时间", blank="null")
        created, created_rule = time("创建时间", "创建时间", blank="null")
        rows = rows.with_columns(amt.alias("_amt"), fee.alias("_fee"), order.alias("_order"), done.alias("_done"), created.alias("_created"))
        trade, refund = pl.col("业务类型") == "交易", pl.col("业务类型") == "退款"
        rules = {**{c: scientific_id(c, c) for c in self.IDS}, "商家实收(元)": amt_rule, "服务费(元)": fee_rule, "订单金额(元)": order_rule,
                 "refund": Rule(refund & (pl.col("_amt") > 0), "refund row with a positive 商家实收 (refunds are negative)"),
                 "完成时间": done_rule, "创建时间": created_rule,
                 "完成时间 gap": dst_gap(pl.col("_done"), "完成时间", zone), "创建时间 gap": dst_gap(pl.col("_created"), "创建时间", zone)}
        sums = {"交易": trade, "退款": refund, "交易 商家实收": pl.when(trade).then(pl.col("_amt")),
                "退款 商家实收": pl.when(refund).then(pl.col("_amt")), "商家实收": pl.col("_amt"), "服务费": pl.col("_fee"),
                "negative fee": trade & (pl.col("_fee") < 0)}
        return rows, Verdict(rows, rules, name, sums=sums)

    def _check_summary(self, verdict: Verdict, summary: tuple[str, str], checks: list[str]) -> int:
        """Check the 汇总 合计 row; return the sign that makes 服务费 a positive charge."""
        file, line, total = summary_total(summary, "门店编号", ("交易订单总笔数", "退款订单总笔数", "商家实收(元)", "服务费(元)", "实收净额(元)"))
        compare(file, line, "汇总 交易订单总笔数", count_text(total["交易订单总笔数"], file, line, "交易订单总笔数"), verdict["交易"], checks)
        compare(file, line, "汇总 退款订单总笔数", count_text(total["退款订单总笔数"], file, line, "退款订单总笔数"), verdict["退款"], checks)
        received = verdict.decimal("商家实收", "rows")
        compare(file, line, "汇总 商家实收", amount_text(total["商家实收(元)"], file, line, "商家实收"), received, checks)
        fees = verdict.decimal("服务费", "rows")
        compare(file, line, "汇总 服务费", amount_text(total["服务费(元)"], file, line, "服务费"), fees, checks)
        net = amount_text(total["实收净额(元)"], file, line, "实收净额")
        if net == received - fees:
            checks.append(f"汇总 实收净额 {net} = 商家实收 - 服务费")
            return 1
        if net == received + fees:
            checks.append(f"汇总 实收净额 {net} = 商家实收 + 服务费 (服务费 printed negative)")
            return -1
        raise StatementRejected(file, line, f"totals mismatch: 实收净额 says {net}, lines give {received - fees}", code="totals_mismatch")


class AlipayAccountParser(AlipayBillParser):
    kind = "payout"
    format_id: ClassVar[str] = "alipay.account"
    description: ClassVar[str] = "Alipay 账务明细 (account bill): GBK CSV or the downloaded csv.zip"
    bill_kind: ClassVar[str] = "账务明细"
    title: ClassVar[str] = "#支付宝账务明细查询"
    marks: ClassVar[tuple[str, ...]] = ("账务流水号", "收入金额", "支出金额")

    REQUIRED = ("账务流水号", "业务流水号", "商户订单号", "发生时间", "收入金额", "支出金额", "业务类型")
    OPTIONAL = {"账户余额": "", "商品名称": "", "对方账号": "", "备注": "", "交易渠道": ""}
    RECORD_TYPES = {
        "在线支付": "PAYMENT", "交易付款": "PAYMENT", "交易": "PAYMENT",
        "交易退款": "REFUND", "退款": "REFUND",
        "收费": "FEE", "服务费": "FEE",
        "提现": "PAYOUT",
        "充值": "ADJUSTMENT", "转账": "ADJUSTMENT",
    }

    @staticmethod
    def norm(name: str) -> str:
        """`收入金额（+元）`, `收入金额(+元)` and `收入金额` are one column; 入账时间 is 发生时间."""
        text = unicodedata.normalize("NFKC", name).strip(" \t\r")
        text = text.translate(str.maketrans("", "", "()+-元 "))
        return "发生时间" if text == "入账时间" else text

    IDS = ("账务流水号", "业务流水号", "商户订单号")

    def parse_detail(self, data, name, summary, ctx):
        section = split_detail(data, name, self.title, self.norm, self.REQUIRED, (*self.REQUIRED, *self.OPTIONAL))
        rows, verdict = self._verdict(_with_defaults(section.rows, self.REQUIRED, {**self.OPTIONAL, "收入金额": "0.00", "支出金额": "0.00"}),
                                      name, ctx.zone.key)
        verdict.refuse(*self.IDS, "收入金额", "支出金额", "both", "账户余额")
        checks: list[str] = []
        o_line, o_count, o_sum = footer_total(section, "支出合计", "", name)
        i_line, i_count, i_sum = footer_total(section, "收入合计", "", name)
        compare(name, i_line, "收入合计 笔数", i_count, verdict["收入"], checks)
        compare(name, o_line, "支出合计 笔数", o_count, verdict["支出"], checks)
        compare(name, i_line, "收入合计 金额", amount_text(i_sum, name, i_line, "收入合计"), verdict.decimal("收入金额", "rows"), checks)
        compare(name, o_line, "支出合计 金额", abs(amount_text(o_sum, name, o_line, "支出合计")), verdict.decimal("支出金额", "rows"), checks)
        warnings = [] if summary is None else [Problem(summary[0], None, "汇总 file not checked: its layout is not specified for 账务明细; footers were checked", code="summary_unchecked")]
        account, bill_date = _account(section, ctx, name), bill_date_of(section, ctx)
        verdict.refuse("发生时间")
        verdict.refuse("发生时间 gap")
        kind = mapped("业务类型", self.RECORD_TYPES, "OTHER")
        signed = (pl.col("_in") - pl.col("_out")).cast(MONEY)
        bill = _frame(
            rows, ctx, name, account, bill_date,
            record_type=kind,
            channel_txn_id=pl.when(pl.col("业务流水号") != "").then(pl.col("业务流水号")).otherwise(pl.col("账务流水号")),
            merchant_txn_id=pl.col("商户订单号").replace("", None),
            channel_refund_id=pl.lit(None, dtype=pl.String),
            merchant_refund_id=pl.lit(None, dtype=pl.String),
            trade_time=to_utc(pl.col("_time"), ctx.zone.key),
            currency=pl.lit(CNY),
            amount=pl.when(kind == "FEE").then(ZERO).otherwise(signed).cast(MONEY),
            fee=pl.when(kind == "FEE").then(-signed).otherwise(ZERO).cast(MONEY),
            status=status_expr(rows, "业务类型", ctx.rules, "account_business_type"),
            raw_status=pl.col("业务类型"),
            counterparty=pl.col("对方账号").replace("", None),
            memo=pl.col("备注").replace("", None),
            ledger_id=pl.col("账务流水号"),
            balance=pl.col("_balance"),
        )
        return bill, checks, warnings

    def _verdict(self, rows: pl.DataFrame, name: str, zone: str) -> tuple[pl.DataFrame, Verdict]:
        """Typed columns, and every row rule and control sum in one query; raised in file order."""
        income, in_rule = amount("收入金额", "收入金额", 2, code="invalid_row")
        expense, out_rule = amount("支出金额", "支出金额", 2, code="invalid_row")
        # the balance column may be blank; only a printed one is checked
        balance, balance_rule = amount("账户余额", "账户余额", 2, blank="null", code="invalid_row")
        when, time_rule = time("发生时间", "发生时间", blank="null")
        rows = rows.with_columns(income.alias("_in"), expense.abs().alias("_out"), balance.alias("_balance"), when.alias("_time"))
        rules = {**{c: scientific_id(c, c) for c in self.IDS}, "收入金额": in_rule, "支出金额": out_rule,
                 "both": Rule((pl.col("_in") != 0) & (pl.col("_out") != 0), "row has both 收入金额 and 支出金额"),
                 "账户余额": balance_rule, "发生时间": time_rule, "发生时间 gap": dst_gap(pl.col("_time"), "发生时间", zone)}
        sums = {"收入": pl.col("_in") != 0, "支出": pl.col("_out") != 0, "收入金额": pl.col("_in"), "支出金额": pl.col("_out")}
        return rows, Verdict(rows, rules, name, sums=sums)


__all__ = ["AlipayAccountParser", "AlipayTradeParser"]
