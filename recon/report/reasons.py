"""Reasons in Chinese: the fixed sentence templates the matchers write, translated for the report.

Reasons are built in English where the rows are made (recon.matching.explain, layer2_bills,
layer3_cash, layer2_settlement) and stored in results; they are data, not labels, so they are
translated where they are shown. Each template below is a pattern over one fixed phrase with its
figures, ids and dates as groups, which are carried over unchanged (never reformatted: the money
text is the matcher's exact text). A phrase no pattern knows stays English, so a new template
never garbles a reason; tests/report keep the demo's reasons fully covered.
"""

from __future__ import annotations

import re

from recon.excel.words import kind_label


def _kind(kind: str) -> str:
    return kind_label(kind, "zh") or kind

_AMOUNT = r"(-?[\d,]+(?:\.\d+)?(?: [A-Z]{3})?)"
_DATE = r"(\d{4}-\d{2}-\d{2})"

# Order matters: longer, more specific sentences first.
_TEMPLATES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), zh) for p, zh in (
    # layer 1 (recon.matching.explain)
    (rf"(amount|fee) {_AMOUNT} here, {_AMOUNT} at the channel", r"\1 我方 \2，渠道 \3"),
    (rf"(amount|fee) {_AMOUNT} here, {_AMOUNT} over the (\d+) channel lines", r"\1 我方 \2，渠道 \4 笔合计 \3"),
    (r"status (\S+) here, (\S+) at the channel", r"状态 我方 \1，渠道 \2"),
    (r"status (\S+) here, (\S+) over the (\d+) channel lines", r"状态 我方 \1，渠道 \3 笔为 \2"),
    (r"currency (\S+) here, (\S+) at the channel", r"币种 我方 \1，渠道 \2"),
    (r"no record of ours", "我方无记录"),
    (r"not in the channel's bill", "渠道账单中没有"),
    (r"(\S+) appears again in the channel's bill; the first copy is (\S+)", r"\1 在渠道账单中重复出现；首次出现于 \2"),
    (r"(\S+) appears again in our records; the first copy is (\S+)", r"\1 在我方记录中重复出现；首次出现于 \2"),
    (r"within (\S+) of the day's end and (.+?): expected in the next day's data", r"距日终 \1 以内且\2：预计出现在次日数据中"),
    (rf"pending since {_DATE}, found on {_DATE}", r"自 \1 起挂账，\2 找到"),
    (rf"pending since {_DATE}, still ", r"自 \1 起挂账，仍然"),
    (rf"pending since {_DATE}; ", r"自 \1 起挂账；"),
    (r"; closest: channel line ", "；最接近的渠道记录："),
    (r"; closest: our record ", "；最接近的我方记录："),
    (r"same amount and currency", "金额与币种相同"),
    (r"different id", "单号不同"),
    (r"across midnight: ", "跨零点："),
    (r"(\d+(?:\.\d+)?) (s|min|h) later at the channel", r"渠道晚 \1 \2"),
    (r"(\d+(?:\.\d+)?) (s|min|h) earlier at the channel", r"渠道早 \1 \2"),
    (r"(\d+(?:\.\d+)?) (s|min|h) later", r"晚 \1 \2"),
    (r"(\d+(?:\.\d+)?) (s|min|h) earlier", r"早 \1 \2"),
    (r"same time", "同一时间"),
    (r"confirm or reject", "请确认或拒绝"),
    # layer 2 bill (recon.matching.layer2_bills)
    (r"we have (\d+) rows, the channel's bill has (\d+)", r"我方 \1 笔，渠道账单 \2 笔"),
    (rf"our total is {_AMOUNT}, the channel's is {_AMOUNT}", r"我方合计 \1，渠道合计 \2"),
    (rf"we expect fees of {_AMOUNT}, the channel charged {_AMOUNT}", r"我方应计手续费 \1，渠道实收 \2"),
    (rf"(\d+) rows, net {_AMOUNT} on both sides", r"\1 笔，双方净额均为 \2"),
    (rf"([A-Z]+) ([A-Z]{{3}}) on {_DATE}: ", r"\3 \1 \2："),
    (r"counting (\d+) row\(s\) layer 1 found across midnight on the day the channel bills them: ",
     r"计入信息流跨零点匹配的 \1 笔（按渠道记账日）："),
    (r"(\d+) combined payment\(s\) counted once: ", r"\1 笔合并支付按一笔计："),
    # layer 3 cash (recon.matching.layer3_cash)
    (rf"(\S+): books and bank both hold {_AMOUNT} at the end of {_DATE}", r"\1：\3 日终账面与银行余额均为 \2"),
    (rf"(\S+): books say {_AMOUNT}, the bank says {_AMOUNT} at the end of {_DATE}, a difference of {_AMOUNT}",
     r"\1：\4 日终账面 \2，银行 \3，差额 \5"),
    (rf"books hold {_AMOUNT} in (\S+) but no closing balance for {_DATE} arrived", r"\2 账面余额 \1，但未收到 \3 的银行日终余额"),
    (rf"the bank shows {_AMOUNT} in (\S+); our books have no position for it", r"银行显示 \2 余额 \1；我方账面无对应头寸"),
    (rf"payout (\S+) of {_AMOUNT} paid {_DATE}", r"结算款 \1（\2，\3 付出）"),
    (rf" arrived on {_DATE} as {_AMOUNT} ", r" 于 \1 到账，金额 \2 "),
    (rf" arrived on {_DATE} ", r" 于 \1 到账 "),
    (rf": not on a bank statement yet; expected by {_DATE}", r"：尚未出现在银行对账单上；预计 \1 前到账"),
    (rf": no matching bank credit by {_DATE}", r"：截至 \1 无对应银行入账"),
    (rf"bank credit of {_AMOUNT} on {_DATE} \((\S+)\) matches no payout a channel reported",
     r"\2 银行入账 \1（\3）与任何渠道结算款都不对应"),
    # layer 2 settlement (recon.matching.layer2_settlement)
    (rf"settlement of {_DATE}\.\.{_DATE} \(due {_DATE}\)", r"\1 至 \2 的结算（应付日 \3）"),
    (rf"; over by {_AMOUNT}", r"；多付 \1"),
    (rf"; short by {_AMOUNT}", r"；少付 \1"),
    # queue notes written by recon itself (recon.queue.sync, jobs.requery)
    (rf"^([A-Z_]+) in the results of {_DATE}: ", lambda m: f"{_kind(m.group(1))}（{m.group(2)} 结果）："),
    (rf"^([A-Z_]+) in the results of {_DATE}$", lambda m: f"{_kind(m.group(1))}（{m.group(2)} 结果）"),
    (rf"no longer reported by layer (\d) when {_DATE} was re-run", r"重跑 \2 时第 \1 层不再报告此项"),
    (r"auto-accepted on the channel's answer \(attempt (\d+)\): ", r"按渠道应答自动接受（第 \1 次查询）："),
    (r"the channel confirms its bill line", "渠道确认其账单记录"),
    (r"the channel confirms our record: its bill line is wrong", "渠道确认我方记录：其账单记录有误"),
    (r"; proposes (\w+)", r"；建议 \1"),
    (r"paid by ", "付款："),
    # layer 0 (recon.core.check)
    (r"(payment|refund) is (\S+); no (\S+) entry", r"\1 状态为 \2；缺少 \3 记账"),
    (r"(payment|refund) is (\S+) but (\S+) is posted", r"\1 状态为 \2，但已记 \3"),
    (rf"(\S+) entry posts {_AMOUNT}, the transaction demands {_AMOUNT}", r"\1 记账金额 \2，交易应为 \3"),
))
_WORDS = {"amount": "金额", "fee": "手续费", "payment": "付款", "refund": "退款", "nothing": "无"}
_WORD = re.compile(r"(?<![A-Za-z_])(amount|fee|payment|refund)(?= )")


def reason_text(reason: str | None, language: str = "en") -> str | None:
    """`reason` as shown in `language`: the English text, or its fixed phrases in Chinese."""
    if reason is None or language != "zh":
        return reason
    text = reason
    for pattern, zh in _TEMPLATES:
        text = pattern.sub(zh, text)
    return _WORD.sub(lambda m: _WORDS[m.group(1)], text)
