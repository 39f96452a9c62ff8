"""Header and label text of the report in English and Chinese (`[report] language = "en" | "zh"`).

Columns are named by their data name everywhere in code; only the workbook shows these words. A
column without a translation shows its data name, so a new results column never breaks the report.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

_TEXT: dict[str, tuple[str, str]] = {
    # sheets
    "sheet.summary": ("Summary", "汇总"),
    "sheet.layer0": ("Internal checks", "内部核对"),
    "sheet.layer1": ("Layer 1 discrepancies", "信息流差错"),
    "sheet.layer2": ("Layer 2 bill", "账单对账"),
    "sheet.layer3": ("Layer 3 cash", "账实对账"),
    "sheet.groups": ("Combined payments", "合并支付"),
    "sheet.pending": ("Pending cross-day", "跨日挂账"),
    "sheet.clearing": ("Clearing", "清分结算"),
    "sheet.runinfo": ("Run info", "运行信息"),
    "sheet.queue": ("Queue", "差错队列"),
    "sheet.requery": ("Re-queries", "主动查询"),
    # summary labels
    "title": ("Reconciliation report", "对账报告"),
    "business_date": ("Business date", "业务日期"),
    "per_channel": ("Per channel", "分渠道"),
    "by_kind": ("Discrepancies by kind and layer", "差错类型与层级"),
    "open_by_age": ("Open queue by age (days)", "未结差错账龄(天)"),
    "trend": ("Matched % over the last 30 days", "近30天匹配率"),
    "chart.kind": ("Discrepancies by kind", "差错类型分布"),
    "chart.trend": ("Matched %", "匹配率"),
    "total": ("Total", "合计"),
    "lines": ("Lines", "笔数"),
    "matched": ("Matched", "已匹配"),
    "matched_pct": ("Matched %", "匹配率"),
    "discrepancies": ("Discrepancies", "差错"),
    "pending": ("Pending", "挂账"),
    "at_stake": ("Amount at stake", "涉及金额"),
    "bucket": ("Age bucket", "账龄"),
    "count": ("Count", "数量"),
    "date": ("Date", "日期"),
    "layer": ("Layer", "层级"),
    "kind": ("Kind", "类型"),
    "none": ("No rows.", "无数据。"),
    "group.line": ("Line", "明细"),
    # run info
    "item": ("Item", "项目"),
    "attempt": ("Attempt", "次数"),
    "asked_at": ("Asked at", "查询时间"),
    "answer": ("Channel's answer", "渠道应答"),
    "channel_time": ("Channel's time", "渠道时间"),
    "response_sha256": ("Answer SHA-256", "应答SHA-256"),
    "value": ("Value", "值"),
    "file": ("File", "文件"),
    "sha256": ("SHA-256", "SHA-256"),
    "source": ("Source", "来源"),
    "recon_version": ("recon version", "recon 版本"),
    # columns
    "channel": ("Channel", "渠道"),
    "account": ("Account", "商户号"),
    "currency": ("Currency", "币种"),
    "outcome": ("Outcome", "结果"),
    "pass_name": ("Rule pass", "匹配规则"),
    "match_key": ("Match key", "匹配键"),
    "key": ("Key", "键"),
    "reason": ("Reason", "原因"),
    "confidence": ("Confidence", "置信度"),
    "carried_from": ("Carried from", "挂账起始日"),
    "our_txn_id": ("Our txn id", "平台交易号"),
    "our_merchant_id": ("Our merchant", "平台商户"),
    "our_merchant_txn_id": ("Our merchant txn id", "平台商户流水号"),
    "our_channel_txn_id": ("Our channel txn id", "平台记录渠道流水号"),
    "our_merchant_refund_id": ("Our refund id", "平台退款单号"),
    "our_record_type": ("Our type", "平台类型"),
    "our_currency": ("Our currency", "平台币种"),
    "our_amount": ("Our amount", "平台金额"),
    "our_fee": ("Our fee", "平台手续费"),
    "our_status": ("Our status", "平台状态"),
    "our_trade_time": ("Our time (UTC)", "平台交易时间(UTC)"),
    "our_source_file": ("Our file", "平台文件"),
    "our_source_line": ("Our line", "平台行号"),
    "their_channel_txn_id": ("Channel txn id", "渠道流水号"),
    "their_merchant_txn_id": ("Channel's merchant txn id", "渠道商户订单号"),
    "their_channel_refund_id": ("Channel refund id", "渠道退款单号"),
    "their_merchant_refund_id": ("Channel's merchant refund id", "渠道商户退款单号"),
    "their_record_type": ("Channel type", "渠道类型"),
    "their_currency": ("Channel currency", "渠道币种"),
    "their_amount": ("Channel amount", "渠道金额"),
    "their_fee": ("Channel fee", "渠道手续费"),
    "their_status": ("Channel status", "渠道状态"),
    "their_trade_time": ("Channel time (UTC)", "渠道交易时间(UTC)"),
    "their_source_file": ("Channel file", "渠道文件"),
    "their_source_line": ("Channel line", "渠道行号"),
    "group_id": ("Group", "合并支付组"),
    "group_row": ("Row", "行类型"),
    "group_size": ("Lines in group", "组内笔数"),
    "diff_amount": ("Amount diff", "金额差异"),
    "diff_fee": ("Fee diff", "手续费差异"),
    "diff": ("Difference", "差异"),
    "amount": ("Amount", "金额"),
    "merchant_id": ("Merchant", "商户"),
    "gross": ("Gross", "交易总额"),
    "refunds": ("Refunds", "退款"),
    "fees": ("Fees", "手续费"),
    "splits": ("Splits", "分账"),
    "held": ("Held", "暂扣"),
    "net_payable": ("Net payable", "应结净额"),
    # queue export
    "id": ("Id", "编号"),
    "version": ("Version", "版本"),
    "status": ("Status", "状态"),
    "age_days": ("Age (days)", "账龄(天)"),
    "severity": ("Severity", "严重度"),
    "assignee": ("Assignee", "处理人"),
    "resolution": ("Resolution", "处理方式"),
    "write_off_account": ("Write-off account", "核销科目"),
    "assign_to": ("Assign to", "指派给"),
    "note": ("Note", "备注"),
}


def t(key: str, language: str = "en") -> str:
    """The label for `key` in `language`; the key itself when there is no translation."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if language == "zh" else pair[0]
