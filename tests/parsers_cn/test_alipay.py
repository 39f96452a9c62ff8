"""Alipay 业务明细 and 账务明细: golden rows, zip + 汇总, empty day, samples, every rejection cause."""

from __future__ import annotations

import io
import zipfile

import pytest

from parsers.alipay import AlipayAccountParser, AlipayTradeParser
from tests.synth.cn import alipay_summary, write_alipay_trade

from .cn_helpers import ctx, golden, rejected

TRADE, ACCOUNT = AlipayTradeParser(), AlipayAccountParser()
SAMPLE = "unresolvedJava__20880211096256330156_20190916_业务明细"
GOLDEN_HEAD = [
    "6 PAYMENT 2019091622001458860515315453/service_1568601259302/-/- 2019-09-16T02:55:23Z CNY 0.01 0 0.01 SUCCESS",
    "7 REFUND 2019091622001458860515315453/service_1568601259302/-/re_test_1568602607356 2019-09-16T02:56:48Z CNY -0.01 0 -0.01 SUCCESS",
]
HEAD = ("#支付宝业务明细查询\n#账号：[20880211096256330156]\n#起始日期：[2019年09月16日 00:00:00]   终止日期：[2019年09月17日 00:00:00]\n"
        "#-----------------------------------------业务明细列表----------------------------------------\n")
COLS = "支付宝交易号,商户订单号,业务类型,商品名称,完成时间,商家实收（元）,服务费（元）,退款批次号/请求号\n"
ROWS = ("2019091622001458860515315453\t,S1\t,交易\t,书,2019-09-16 10:55:23,10.00,0.06,\t\n"
        "2019091622001458860515315453\t,S1\t,退款\t,书,2019-09-16 11:00:00,-4.00,-0.02,RF1\t\n")
END = "#-----------------------------------------业务明细列表结束------------------------------------\n"
FOOT = "#交易合计：1笔，商家实收共10.00元，商家优惠共0.00元\n#退款合计：1笔，商家实收退款共-4.00元，商家优惠退款共0.00元\n#导出时间：[2019年09月17日 05:46:49]\n"


def write(tmp_path, text: str, name: str = "bill.csv", encoding: str = "gb18030"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("suffix", [".GBK.csv", ".csv"])
def test_real_trade_sample_passes_its_footers_in_gbk_and_utf8(shared_samples, suffix):
    parsed = TRADE.parse(shared_samples / "alipay" / f"{SAMPLE}{suffix}", ctx("alipay"))
    assert golden(parsed.bill)[:2] == GOLDEN_HEAD
    assert parsed.bill.height == 10 and parsed.bill["amount"].sum() == parsed.bill["amount"].sum().__class__("0.02")
    assert "交易合计 商家实收 0.06 = lines" in parsed.checks
    assert set(parsed.bill["account"]) == {"20880211096256330156"} and str(parsed.bill["bill_date"][0]) == "2019-09-16"


@pytest.mark.parametrize("suffix", [".GBK.csv", ".csv"])
def test_real_account_excerpt_is_rejected_by_its_footer(shared_samples, suffix):
    path = shared_samples / "alipay" / f"unresolvedJava__20888011365400330156_20121229_账务明细_2012layout_excerpt{suffix}"
    err = rejected(ACCOUNT, path, ctx("alipay"))
    assert err.problem.code == "totals_mismatch" and "收入合计 笔数 says 18, lines give 3" in err.problem.message


def test_inline_bill_golden_refund_negative_and_fee(tmp_path):
    bill = TRADE.parse(write(tmp_path, HEAD + COLS + ROWS + END + FOOT), ctx("alipay", channel="alipay")).bill
    assert golden(bill) == [
        "6 PAYMENT 2019091622001458860515315453/S1/-/- 2019-09-16T02:55:23Z CNY 10 0.06 9.94 SUCCESS",
        "7 REFUND 2019091622001458860515315453/S1/-/RF1 2019-09-16T03:00:00Z CNY -4 -0.02 -3.98 SUCCESS",
    ]


def _zip(tmp_path, detail: bytes, summary: bytes | None, name="2088_20240301.csv.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("20880211096256330156_20240301_业务明细.csv", detail)
        if summary is not None:
            zf.writestr("20880211096256330156_20240301_业务明细(汇总).csv", summary)
    return path


def test_zip_with_summary_checks_both_and_names_members(tmp_path):
    import datetime as dt

    buf = io.BytesIO()
    tot = write_alipay_trade(buf, 7, dt.date(2024, 3, 1))
    parsed = TRADE.parse(_zip(tmp_path, buf.getvalue(), alipay_summary(tot, dt.date(2024, 3, 1))), ctx("alipay"))
    assert parsed.bill.height == 7 and parsed.bill["source_file"][0].endswith(".csv.zip!20880211096256330156_20240301_业务明细.csv")
    assert any(c.startswith("汇总 实收净额") for c in parsed.checks)
    wrong = alipay_summary({**tot, "fee_fen": tot["fee_fen"] + 1}, dt.date(2024, 3, 1))
    err = rejected(TRADE, _zip(tmp_path, buf.getvalue(), wrong, "bad.zip"), ctx("alipay"))
    assert err.problem.code == "totals_mismatch" and "汇总 服务费" in err.problem.message and "!" in err.problem.file


def test_committed_sample_zips_parse(tmp_path):
    from pathlib import Path

    for path in sorted((Path(__file__).parents[2] / "sample_statements" / "alipay").glob("*.zip")):
        assert TRADE.parse(path, ctx("alipay")).bill.height == 12


@pytest.mark.parametrize("body", ["", COLS, "本日无收支\n"], ids=["no-header", "header-only", "no-activity-line"])
def test_day_without_activity_is_an_empty_bill(tmp_path, body):
    foot = "#交易合计：0笔，商家实收共0.00元，商家优惠共0.00元\n#退款合计：0笔，商家实收退款共0.00元，商家优惠退款共0.00元\n"
    parsed = TRADE.parse(write(tmp_path, HEAD + body + END + foot), ctx("alipay"))
    assert parsed.bill.height == 0 and "行数 (交易合计 + 退款合计) 0 = lines" in parsed.checks


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        (HEAD + COLS + ROWS + END + FOOT.replace("共10.00元", "共10.01元"), "totals_mismatch", 9),
        (HEAD + COLS + ROWS + END + FOOT.replace("1笔", "2笔", 1), "totals_mismatch", 9),
        (HEAD + COLS + ROWS, "truncated", None),
        (HEAD + COLS + ROWS + END, "truncated", None),
        (HEAD + COLS.replace("商户订单号,", "") + ROWS + END + FOOT, "missing_column", 5),
        (HEAD + COLS + ROWS.replace("-4.00", "-4,00") + END + FOOT, "invalid_row", 7),
        (HEAD + COLS + ROWS.replace("-4.00", "-4.0O") + END + FOOT, "invalid_row", 7),
        (HEAD + COLS + ROWS.replace("2019091622001458860515315453\t,S1\t,交易", "2.01909E+27\t,S1\t,交易") + END + FOOT, "id_mangled", 6),
        (HEAD + COLS + ROWS.replace("\n2019", "\n#注入\n2019") + END + FOOT, "invalid_row", 7),
        (HEAD + COLS + ROWS.replace("-4.00", "4.00") + END + FOOT, "invalid_row", 7),
    ],
    ids=["footer-sum", "footer-count", "no-end-marker", "no-footer", "missing-column", "cell-count", "bad-amount",
         "e-notation", "comment-mid-table", "positive-refund"],
)
def test_rejections_name_the_line(tmp_path, text, code, line):
    err = rejected(TRADE, write(tmp_path, text), ctx("alipay"))
    assert (err.problem.code, err.problem.line) == (code, line), err.problem


def test_invalid_gb18030_bytes_are_rejected_with_the_line(tmp_path):
    data = (HEAD + COLS + ROWS + END + FOOT).encode("gb18030").replace("书".encode("gb18030"), b"\xff\xfe", 1)
    path = tmp_path / "bill.csv"
    path.write_bytes(data)
    err = rejected(TRADE, path, ctx("alipay"))
    assert (err.problem.code, err.problem.line) == ("encoding", 6)


def test_wrong_account_for_channel_is_rejected(tmp_path):
    err = rejected(TRADE, write(tmp_path, HEAD + COLS + ROWS + END + FOOT), ctx("alipay", account="2088999"))
    assert err.problem.code == "wrong_account"


ACC_HEAD = ("#支付宝账务明细查询\n#账号：[20888011365400330156]\n#起始日期：[2012年12月29日 00:00:00]   终止日期：[2012年12月30日 00:00:00]\n"
            "#-----------------------------------------账务明细列表----------------------------------------\n"
            "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额(+元),支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\n")
ACC_ROWS = ("54632446537371\t,2012122923922029\t,3226563\t,机票\t,2012-12-29 21:02:06,陈 (a@b.com)\t,2274.00,0.00,14533.03,支付宝,在线支付,\n"
            "54632446537372\t,2012122923922029\t,3226563\t,机票\t,2012-12-29 21:05:00,\t,0.00,-13.64,14519.39,支付宝,收费,服务费\n"
            "54632446537373\t,2012122923922030\t,3226564\t,机票\t,2012-12-29 22:00:00,\t,0.00,100.00,14419.39,支付宝,交易退款,\n")
ACC_FOOT = ("#----------------------------------------账务明细列表结束-------------------------------------\n"
            "#支出合计：2笔，共-113.64元,,,,\n#收入合计：1笔，共2274.00元\n#导出时间：[2012年12月31日 13:19:01]\n")


def test_account_bill_golden_with_header_variants_and_expense_signs(tmp_path):
    bill = ACCOUNT.parse(write(tmp_path, ACC_HEAD + ACC_ROWS + ACC_FOOT), ctx("alipay")).bill
    assert golden(bill) == [
        "6 PAYMENT 2012122923922029/3226563/-/- 2012-12-29T13:02:06Z CNY 2274 0 2274 SUCCESS",
        "7 FEE 2012122923922029/3226563/-/- 2012-12-29T13:05:00Z CNY 0 13.64 -13.64 SUCCESS",
        "8 REFUND 2012122923922030/3226564/-/- 2012-12-29T14:00:00Z CNY -100 0 -100 SUCCESS",
    ]


def test_account_bill_footer_mismatch(tmp_path):
    err = rejected(ACCOUNT, write(tmp_path, ACC_HEAD + ACC_ROWS + ACC_FOOT.replace("-113.64", "-113.65")), ctx("alipay"))
    assert err.problem.code == "totals_mismatch" and err.problem.line == 10
