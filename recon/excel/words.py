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
    "sheet.layers023": ("Bill, cash, internal", "账单与资金核对"),
    "sheet.details": ("Details", "明细数据"),
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
    "rows_cut": ("{count} more rows not shown: a sheet holds at most {limit} rows. The results files "
                 "(results/<date>/) and `recon queue list --format csv` have every row.",
                 "另有 {count} 行未显示:一张工作表最多 {limit} 行。结果文件(results/<日期>/)和 "
                 "`recon queue list --format csv` 含全部行。"),
    "group.line": ("Line", "明细"),
    "as_of": ("Ages as of", "账龄计算至"),
    "clearing_per_merchant": ("Clearing per merchant", "分商户清分"),
    "zone.channel": ("channel's zone", "渠道时区"),
    "day.footer_page": ("page {page} of {pages}", "第 {page} 页，共 {pages} 页"),
    "our_time": ("Our time", "平台交易时间"),
    "their_time": ("Channel time", "渠道交易时间"),
    "queue_id": ("Queue id", "差错编号"),
    "queue_status": ("Queue status", "处理状态"),
    "queue_note": ("Queue note", "处理备注"),
    "section": ("Section", "核对项"),
    "period_start": ("Period start", "周期起"),
    "period_end": ("Period end", "周期止"),
    "due_date": ("Due", "应付日"),
    "payout_ids": ("Payouts", "结算款"),
    "their_ref": ("Bank line", "银行流水"),
    "their_date": ("Value date", "起息日"),
    "is_discrepancy": ("Discrepancy?", "是否差错"),
    "source.raw": ("raw", "原始文件"),
    "source.bill": ("bill", "账单"),
    "source.results": ("results", "对账结果"),
    "source.rules": ("rules", "规则"),
    "note.manifest ok": ("manifest ok", "清单校验一致"),
    "note.MANIFEST MISMATCH": ("MANIFEST MISMATCH", "清单校验不符"),
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
    "our_count": ("Our rows", "我方笔数"),
    "their_count": ("Channel lines", "渠道笔数"),
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
    # period report (`recon report --since D1 --until D2`) and the queue export
    "period.title": ("Reconciliation report for a period", "期间对账报告"),
    "period": ("Period", "期间"),
    "workspace": ("Workspace", "工作区"),
    "language": ("Language", "语言"),
    "sheet.period_summary": ("Period summary", "期间汇总"),
    "sheet.daily_trend": ("Daily trend", "每日趋势"),
    "sheet.channel_trend": ("Channel trend", "分渠道趋势"),
    "sheet.kind_trend": ("Discrepancies by day", "每日差错"),
    "sheet.charts": ("Charts", "趋势图"),
    "sheet.open_at_end": ("Open at period end", "期末未结差错"),
    "sheet.merchant_clearing": ("Clearing by merchant", "商户清分汇总"),
    "period.per_channel": ("Every channel and layer over the period", "各渠道各层级期间汇总"),
    "period.by_kind": ("Discrepancies by kind over the period", "期间差错类型汇总"),
    "period.open_by_age": ("Open at the period's end by age (days)", "期末未结差错账龄(天)"),
    "period.clearing": ("Clearing totals per merchant over the period", "期间商户清分合计"),
    "period.days_stored": ("Days with results", "有结果的日期数"),
    "period.days_missing": ("Days without results", "无结果的日期"),
    "period.clearing_days": ("Days with clearing", "有清分的日期数"),
    "period.channel_matched": ("{channel} matched %", "{channel} 匹配率"),
    "chart.period_matched": ("Layer-1 matched % per day", "每日信息流匹配率"),
    "chart.period_kinds": ("Discrepancies per day by kind", "每日差错笔数(按类型)"),
    "chart.channel_matched": ("Matched % per day and channel", "分渠道每日匹配率"),
    "ok_checked": ("Checked, OK", "核对无误"),
    "waiting": ("Waiting", "待定"),
    "disc_amount": ("Discrepancy amount", "差错金额"),
    "business_date_col": ("Business date", "业务日期"),
    "footer.page": ("Page &[Page] of &[Pages]", "第 &[Page] 页,共 &[Pages] 页"),
    "status.OPEN": ("Open", "未处理"),
    "status.PENDING": ("Pending", "挂起"),
    "status.RESOLVED": ("Resolved", "已处理"),
    "status.WRITTEN_OFF": ("Written off", "已核销"),
    "status.AUTO_RESOLVED": ("Auto-resolved", "自动核销"),
    "severity.LOW": ("Low", "低"),
    "severity.MEDIUM": ("Medium", "中"),
    "severity.HIGH": ("High", "高"),
    "severity.CRITICAL": ("Critical", "严重"),
    "updated_at": ("Updated at (UTC)", "更新时间(UTC)"),
    "choice.accept_ours": ("Accept ours", "以平台为准"),
    "choice.accept_channel": ("Accept channel", "以渠道为准"),
    "choice.write_off": ("Write off", "核销"),
    "choice.reopen": ("Reopen", "重新打开"),
    "queue.editable_note": ("Fill in: choose from the list", "请填写:从下拉列表选择"),
    "queue.editable": ("Fill in", "请填写"),
}


# Outcomes and kinds of every layer: the ONE table of their labels (report, queue export, its
# drop-downs and import). Keys are the data values; `kind_label` shows them, `kind_from_label` reads
# either language back.
KINDS: dict[str, tuple[str, str]] = {
    # layer 1 (DOMAIN.md, "Discrepancy kinds")
    "MATCHED": ("Matched", "已匹配"),
    "AMOUNT_MISMATCH": ("Amount mismatch", "金额不符"),
    "FEE_MISMATCH": ("Fee mismatch", "手续费不符"),
    "STATUS_MISMATCH": ("Status mismatch", "状态不符"),
    "CURRENCY_MISMATCH": ("Currency mismatch", "币种不符"),
    "FX_MISMATCH": ("FX mismatch", "汇率不符"),
    "CHANNEL_ONLY": ("Channel only", "长款(渠道有我方无)"),
    "LOCAL_ONLY": ("Local only", "短款(我方有渠道无)"),
    "DUPLICATE": ("Duplicate", "重复"),
    "PENDING": ("Pending cross-day", "跨日挂账"),
    "SUGGESTED": ("Suggested match", "建议匹配"),
    "AUTO_RESOLVED": ("Auto-resolved", "自动核销"),
    # layer 0 (internal checks)
    "LEDGER_MISSING": ("Ledger entry missing", "缺少记账"),
    "LEDGER_ORPHAN": ("Orphan ledger entry", "多余记账"),
    "LEDGER_AMOUNT_MISMATCH": ("Ledger amount mismatch", "记账金额不符"),
    # layer 2 (bill, settlement)
    "BILL_OK": ("Bill agrees", "账单相符"),
    "BILL_AMOUNT_MISMATCH": ("Bill amount mismatch", "账单金额不符"),
    "BILL_COUNT_MISMATCH": ("Bill count mismatch", "账单笔数不符"),
    "BILL_FEE_MISMATCH": ("Bill fee mismatch", "账单手续费不符"),
    "SETTLED": ("Settled", "已结算"),
    "SETTLEMENT_PENDING": ("Settlement pending", "待结算"),
    "SETTLEMENT_MISSING": ("Settlement missing", "结算缺失"),
    "SETTLEMENT_SHORT": ("Settlement short", "结算少付"),
    "SETTLEMENT_OVER": ("Settlement over", "结算多付"),
    "SETTLEMENT_NOT_CHECKED": ("Settlement not checked", "结算未核对"),
    # layer 3 (cash)
    "CASH_OK": ("Cash agrees", "账实相符"),
    "CASH_MISMATCH": ("Cash mismatch", "账实不符"),
    "CASH_NO_STATEMENT": ("No bank statement", "缺少银行对账单"),
    "CASH_UNBOOKED": ("Unbooked bank line", "银行未入账款项"),
    "PAYOUT_RECEIVED": ("Payout received", "结算款已到账"),
    "PAYOUT_IN_TRANSIT": ("Payout in transit", "结算款在途"),
    "PAYOUT_NOT_RECEIVED": ("Payout not received", "结算款未到账"),
    "PAYOUT_AMOUNT_MISMATCH": ("Payout amount mismatch", "到账金额不符"),
    "UNEXPECTED_CREDIT": ("Unexpected credit", "不明来账"),
}
# Checked and found in order: shown as "checked, OK" counts, never counted as discrepancies.
OK_OUTCOMES = frozenset({"MATCHED", "AUTO_RESOLVED", "BILL_OK", "SETTLED", "CASH_OK", "PAYOUT_RECEIVED",
                         "SETTLEMENT_NOT_CHECKED"})
# Not yet decidable (a window still open): neither OK nor a discrepancy.
WAITING_OUTCOMES = frozenset({"PENDING", "SETTLEMENT_PENDING", "PAYOUT_IN_TRANSIT"})
_KIND_BY_LABEL = {label.casefold(): key for key, pair in KINDS.items() for label in (key, *pair)}


def kind_label(kind: str | None, language: str = "en") -> str | None:
    """The shown label of an outcome/kind; an unknown kind shows as it is."""
    if kind is None:
        return None
    pair = KINDS.get(kind)
    return kind if pair is None else (pair[1] if language == "zh" else pair[0])


def kind_from_label(label: str) -> str | None:
    """The kind a label (English, Chinese or the data value itself) names; None when none does."""
    return _KIND_BY_LABEL.get(label.strip().casefold())


def t(key: str, language: str = "en") -> str:
    """The label for `key` in `language`; the key itself when there is no translation."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if language == "zh" else pair[0]
