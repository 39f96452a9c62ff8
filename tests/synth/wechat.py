"""Writing WeChat Pay trade bills (ALL layout) from rows: for sample statements, tests and benchmarks.

Follows the generator notes of FORMATS.md §1.4: amounts in yuan with 2 decimals, 手续费 with 5,
refund rows carrying the original order's ids plus refund ids, 应结订单金额 and 订单金额 0.00 on
refunds and a negative (returned) fee; the summary row computed from the rows, so a written bill
passes its own checks unless a test edits it afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
          "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
          "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
APPID = "wx2421b1c4370ec43b"


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One bill line. `local_time` is Beijing time; `refund_amount` > 0 makes it a refund row."""

    local_time: dt.datetime
    transaction_id: str
    out_trade_no: str
    amount: Decimal
    fee: Decimal
    state: str = "SUCCESS"  # SUCCESS | REFUND | REVOKED
    refund_id: str = ""
    out_refund_no: str = ""
    refund_amount: Decimal = Decimal("0.00")
    refund_status: str = ""
    body: str = "商品"
    currency: str = "CNY"


def _y(value: Decimal) -> str:
    return f"{value:.2f}"


def _fee(value: Decimal) -> str:
    return f"{value:.5f}"


def _line(row: TradeRow, mch_id: str) -> str:
    refund = row.state == "REFUND"
    cells = [
        row.local_time.strftime("%Y-%m-%d %H:%M:%S"), APPID, mch_id, "0", "", row.transaction_id,
        row.out_trade_no, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "JSAPI", row.state, "OTHERS", row.currency,
        "0.00" if refund else _y(row.amount), "0.00",
        row.refund_id or "0", row.out_refund_no or "0",
        _y(row.refund_amount), "0.00", "ORIGINAL" if refund else "", row.refund_status,
        row.body, "", _fee(row.fee), "0.60%",
        "0.00" if refund else _y(row.amount), _y(row.refund_amount), "",
    ]
    return ",".join("`" + c for c in cells)


def bill_lines(rows: Iterable[TradeRow], mch_id: str) -> Iterator[str]:
    """The bill's lines (no line endings), summary last, totals computed while streaming."""
    count, settle, refund, fee, order = 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)
    yield HEADER
    for row in rows:
        count += 1
        if row.state != "REFUND":
            settle += row.amount
            order += row.amount
        refund += row.refund_amount
        fee += row.fee
        yield _line(row, mch_id)
    yield SUMMARY_HEADER
    yield ",".join("`" + c for c in (str(count), _y(settle), _y(refund), "0.00", _fee(fee), _y(order), _y(refund)))


def write_bill(rows: Iterable[TradeRow], mch_id: str, *, crlf: bool = False) -> str:
    eol = "\r\n" if crlf else "\n"
    return eol.join(bill_lines(rows, mch_id)) + eol
