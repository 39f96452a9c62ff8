"""The demo's money after the trades: WeChat Pay fund-flow bills, bank statements and treasury bookings.

Layer 1 pairs the demo's trades (tests.synth.demo_scenario); this module writes what layers 2 and 3
compare, derived from the same trades so the three layers tell one story:

- WeChat Pay settles each day's net (its own bill: amounts - fees) T+1, on calendar days, and reports
  the withdrawal (提现) in its fund-flow bill (资金账单) at 09:00 the next day. The demo merchant
  account starts on 11-20, so 11-20's fund flow has no withdrawal.
- The bank (MT940 from ICBC, one statement a day, weekends too) credits each withdrawal the day it is made,
  naming the payout id. On 11-22 a customer also pays 3,000.00 straight to the account: a credit no
  channel reported (UNEXPECTED_CREDIT).
- The treasury books an opening balance and, each morning, SETTLE of the net *our* records expect
  for the day before. Our records and WeChat's differ by exactly the layer-1 discrepancies (and the
  23:59:58 payment WeChat books on the next day), so from 11-21 the book position and the bank's
  closing balance differ (CASH_MISMATCH) by figures worked out in `EXPECTED_CASH`.

Everything is deterministic; sample_statements/generate.py writes the files and the expectations.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal

from tests.synth.bank import SynthLine, SynthStatement
from tests.synth.demo_scenario import DAYS, MCH_ID
from tests.synth.wechat import TradeRow

BANK_ACCOUNT = "0200001509000123456"
CURRENCY = "CNY"
OPENING = Decimal("500000.00")
DIRECT_CREDIT = Decimal("3000.00")  # a customer's bank transfer on the last day: no channel reported it
FUNDFLOW_HEADER = ("记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),"
                   "资金变更提交申请人,备注,业务凭证号")
FUNDFLOW_SUMMARY = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额"
PAYOUT_TIME = dt.time(9, 0, 0)


def channel_net(rows: Iterable[TradeRow]) -> Decimal:
    """What WeChat owes for a day's bill: payments minus refunds, minus fees (refund fees come back)."""
    return sum(((r.amount - r.refund_amount) - r.fee for r in rows), Decimal("0"))


def our_net(internal: Iterable[dict[str, str]]) -> Decimal:
    """What our records expect WeChat to pay for the day: successful rows, amount - fee."""
    return sum((Decimal(r["amount"]) - Decimal(r["fee"]) for r in internal if r["status"] == "SUCCESS"), Decimal("0"))


def payout_id(day: dt.date) -> str:
    """The withdrawal's 微信支付业务单号 on `day` (WeChat's own serial; the bank line quotes it)."""
    return f"1330000{day:%Y%m%d}0000000001"


def _movements(day: dt.date, bill: list[TradeRow], payout: Decimal | None) -> list[tuple[dt.datetime, str, str, str, str, Decimal, str]]:
    """(local time, business id, 业务名称, 业务类型, 收支类型, amount, voucher) in booking order."""
    out = []
    if payout is not None:
        out.append((dt.datetime.combine(day, PAYOUT_TIME), payout_id(day), "提现", "提现", "支出", payout, ""))
    for r in bill:
        when = r.local_time.replace(tzinfo=None)
        if r.state == "REFUND":
            out.append((when, r.refund_id, "退款", "退款", "支出", r.refund_amount, r.out_refund_no))
            if r.fee:  # a refund's fee is returned: negative in the trade bill
                out.append((when, r.refund_id, "退款", "退还交易手续费", "收入", -r.fee, r.out_refund_no))
        else:
            out.append((when, r.transaction_id, "交易", "交易", "收入", r.amount, r.out_trade_no))
            if r.fee:
                out.append((when, r.transaction_id, "交易", "扣除交易手续费", "支出", r.fee, r.out_trade_no))
    return sorted(out, key=lambda m: m[0])  # stable: a trade's fee stays right after the trade


def fundflow_text(day: dt.date, bill: list[TradeRow], opening: Decimal, payout: Decimal | None) -> tuple[str, Decimal]:
    """The day's fund-flow bill (UTF-8, LF) and the WeChat balance it ends with."""
    lines, balance = [FUNDFLOW_HEADER], opening
    counts = {"收入": [0, Decimal("0")], "支出": [0, Decimal("0")]}
    for n, (when, biz, name, kind, sign, amount, voucher) in enumerate(_movements(day, bill, payout)):
        balance += amount if sign == "收入" else -amount
        counts[sign][0] += 1
        counts[sign][1] += amount
        who = "system" if kind == "提现" else f"{MCH_ID}API"
        cells = (f"{when:%Y-%m-%d %H:%M:%S}", biz, f"{day:%Y%m%d}{n:021d}", name, kind, sign, f"{amount:.2f}",
                 f"{balance:.2f}", who, "", voucher)
        lines.append(",".join("`" + c for c in cells))
    income, expense = counts["收入"], counts["支出"]
    lines.append(FUNDFLOW_SUMMARY)
    lines.append(",".join("`" + c for c in (f"{income[0] + expense[0]}.0", f"{income[0]}.0", f"{income[1]:.2f}",
                                             f"{expense[0]}.0", f"{expense[1]:.2f}")))
    return "\n".join(lines) + "\n", balance


def build(days: dict[dt.date, tuple[list[TradeRow], list[dict[str, str]]]]):
    """Fund-flow texts, bank statements, bookings and the expected layer-3 results, per demo day."""
    fundflow: dict[dt.date, str] = {}
    statements: dict[dt.date, SynthStatement] = {}
    bookings: list[dict[str, str]] = [{
        "type": "post", "event": "OPENING", "bank": "bank", "currency": CURRENCY, "gross": f"{OPENING:.2f}",
        "key": "OPENING:bank", "business_date": (DAYS[0] - dt.timedelta(days=1)).isoformat(),
        "memo": "bank balance when the demo's books start"}]
    expected: list[tuple[str, str, str, str, str]] = []
    wechat_balance, bank_balance, books = Decimal("0.00"), OPENING, OPENING
    previous: dt.date | None = None
    for seq, day in enumerate(DAYS, start=1):
        bill, _ = days[day]
        payout = channel_net(days[previous][0]) if previous else None
        fundflow[day], wechat_balance = fundflow_text(day, bill, wechat_balance, payout)
        lines = []
        if payout is not None:
            lines.append(SynthLine(day, day, payout, "TRF", False, payout_id(day), f"ICBC{day:%y%m%d}{seq:06d}",
                                   "Tenpay Payment Technology Co", f"WeChat Pay settlement {previous} {payout_id(day)}"))
            expected_net = our_net(days[previous][1])
            books += expected_net
            bookings.append({
                "type": "post", "event": "SETTLE", "channel": "wechat", "bank": "bank", "currency": CURRENCY,
                "gross": f"{expected_net:.2f}", "key": f"SETTLE:wechat:{previous}",
                "business_date": day.isoformat(), "memo": f"WeChat Pay settlement of {previous}, as our records expect"})
            expected.append((day.isoformat(), "PAYOUT_RECEIVED", f"payout:{payout_id(day)}", f"{payout:.2f}", f"{payout:.2f}"))
        if day == DAYS[-1]:
            lines.append(SynthLine(day, day, DIRECT_CREDIT, "TRF", False, None, f"ICBC{day:%y%m%d}{seq:06d}9",
                                   "Shanghai Example Trading Co", "Invoice 2026-118 paid by transfer"))
            expected.append((day.isoformat(), "UNEXPECTED_CREDIT", "", "0.00", f"{DIRECT_CREDIT:.2f}"))
        statement = SynthStatement(f"STMT{day:%Y%m%d}", seq, BANK_ACCOUNT, CURRENCY, day, bank_balance, tuple(lines))
        statements[day] = statement
        bank_balance = statement.closing
        kind = "CASH_OK" if books == bank_balance else "CASH_MISMATCH"
        expected.append((day.isoformat(), kind, f"{BANK_ACCOUNT}:{CURRENCY}", f"{books:.2f}", f"{bank_balance:.2f}"))
        previous = day
    return fundflow, statements, bookings, sorted(expected)


def mt940_text(st: SynthStatement) -> str:
    """One MT940 statement as a Chinese bank sends it: SWIFT envelope, free-text :86:, CRLF."""
    def amount(value: Decimal) -> str:
        return f"{abs(value):.2f}".replace(".", ",")

    def balance(tag: str, day: dt.date, value: Decimal) -> str:
        return f":{tag}:{'D' if value < 0 else 'C'}{day:%y%m%d}{st.currency}{amount(value)}"

    out = ["{1:F01ICBKCNBJAXXX0000000000}{2:O940ICBKCNBJXXXXN}{3:}{4:", f":20:{st.reference}",
           f":25:{st.account}", f":28C:{st.number:05d}/1", balance("60F", st.opening_date, st.opening)]
    for ln in st.lines:
        out.append(f":61:{ln.value_date:%y%m%d}{ln.entry_date:%m%d}{'D' if ln.amount < 0 else 'C'}{amount(ln.amount)}"
                   f"N{ln.type_code}{ln.customer_ref or 'NONREF'}//{ln.bank_ref}")
        out.append(f":86:{ln.counterparty}\r\n{ln.remittance}")
    out += [balance("62F", st.closing_date, st.closing), "-}"]
    return "\r\n".join(out) + "\r\n"


def bookings_jsonl(bookings: list[dict[str, str]]) -> str:
    return "".join(json.dumps(b, ensure_ascii=False, sort_keys=True) + "\n" for b in bookings)

