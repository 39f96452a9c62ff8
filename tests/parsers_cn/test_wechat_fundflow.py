"""WeChat Pay fund-flow bill: golden rows, gzip, the real samples, and every rejection cause."""

from __future__ import annotations

import gzip

import pytest

from parsers.wechatpay_fundflow import WeChatPayFundflowParser

from .cn_helpers import ctx, golden, rejected

P = WeChatPayFundflowParser()
HEADER = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\n"
ROWS = (
    "`2021-02-01 13:54:01,`4200000920202101197964319284,`50300806962021020105978994968,`交易,`交易,`收入,`100.00,`100.00,`system,`,`ORDER1\n"
    "`2021-02-01 13:54:01,`4200000920202101197964319284,`50300806962021020105978994969,`交易,`扣除交易手续费,`支出,`0.60,`99.40,`system,`,`ORDER1\n"
    "`2021-02-01 14:00:45,`50300907032021020105978998710,`4200000846202101197461830397,`退款,`退款,`支出,`10.00,`89.40,`1601959334API,`退款总金额10.00元;含手续费0.06元,`R1\n"
    "`2021-02-01 15:00:00,`1000000001,`1000000002,`其他,`神秘类型,`收入,`0.01,`89.41,`system,`,`X1\n"
)
SUMMARY = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n`4.0,`2.0,`100.01,`2.0,`10.60\n"
GOLDEN = [
    "2 PAYMENT 4200000920202101197964319284/ORDER1/-/- 2021-02-01T05:54:01Z CNY 100 0 100 SUCCESS",
    "3 FEE 4200000920202101197964319284/ORDER1/-/- 2021-02-01T05:54:01Z CNY 0 0.6 -0.6 SUCCESS",
    "4 REFUND 50300907032021020105978998710/-/50300907032021020105978998710/R1 2021-02-01T06:00:45Z CNY -10 0 -10 SUCCESS",
    "5 OTHER 1000000001/X1/-/- 2021-02-01T07:00:00Z CNY 0.01 0 0.01 UNKNOWN",
]


def write(tmp_path, text: str, name: str = "ff.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_golden_rows_signs_fee_refund_and_unknown_type(tmp_path):
    parsed = P.parse(write(tmp_path, HEADER + ROWS + SUMMARY), ctx("wechatpay_fundflow", account="1601959334"))
    assert golden(parsed.bill) == GOLDEN
    assert parsed.bill["raw_status"][3] == "神秘类型"
    assert "资金流水总笔数 4 = lines" in parsed.checks and not parsed.warnings


def test_gzip_and_crlf_parse_to_the_same_rows(tmp_path):
    path = tmp_path / "ff.csv.gz"
    path.write_bytes(gzip.compress((HEADER + ROWS + SUMMARY).replace("\n", "\r\n").encode()))
    assert golden(P.parse(path, ctx("wechatpay_fundflow")).bill) == GOLDEN


def test_falls_back_to_builtin_statuses_when_channel_rules_lack_them(tmp_path):
    bill = P.parse(write(tmp_path, HEADER + ROWS + SUMMARY), ctx("alipay")).bill
    assert bill["status"].to_list() == ["SUCCESS", "SUCCESS", "SUCCESS", "UNKNOWN"]


@pytest.mark.parametrize("name", ["unresolvedGoSDK__fundflowbill_BASIC_v3.csv", "unresolvedGoSDK__fundflowbill_BASIC_v3.csv.gz",
                                  "wxpay-doc__fundflow_doc_example_float_counts.csv"])
def test_real_samples_are_truncated_excerpts_and_fail_their_totals(shared_samples, name):
    err = rejected(P, shared_samples / "wechat" / name, ctx("wechatpay_fundflow"))
    assert err.problem.code == "totals_mismatch" and "资金流水总笔数" in err.problem.message


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        (HEADER + ROWS + SUMMARY.replace("`100.01", "`100.02"), "totals_mismatch", 7),
        (HEADER + ROWS, "truncated", None),
        (HEADER + ROWS + SUMMARY.splitlines()[0] + "\n", "truncated", 7),
        (HEADER.replace("收支类型,", "") + ROWS + SUMMARY, "missing_column", 1),
        (HEADER + ROWS.replace("`10.00,", "`10.0x,", 1) + SUMMARY, "invalid_row", 4),
        (HEADER + ROWS.replace("`1000000001", "`4.2E+27") + SUMMARY, "id_mangled", 5),
        (HEADER + ROWS.replace(",`R1", ",`x,`R1") + SUMMARY, "invalid_row", 4),
        (HEADER + ROWS.replace("`收入,`0.01", "`进账,`0.01") + SUMMARY, "invalid_row", 5),
        (HEADER + ROWS + "\n" + SUMMARY, "invalid_row", 6),
    ],
    ids=["totals", "no-summary", "cut-summary", "missing-column", "bad-amount", "e-notation", "extra-cell", "bad-direction", "blank-line"],
)
def test_rejections_name_the_line(tmp_path, text, code, line):
    err = rejected(P, write(tmp_path, text), ctx("wechatpay_fundflow"))
    assert (err.problem.code, err.problem.line) == (code, line), err.problem


def test_gbk_bytes_are_not_utf8_and_are_rejected(tmp_path):
    err = rejected(P, write(tmp_path, HEADER + ROWS + SUMMARY, encoding="gb18030"), ctx("wechatpay_fundflow"))
    assert err.problem.code == "encoding" and err.problem.line == 1


def test_truncated_gzip_is_rejected(tmp_path):
    path = tmp_path / "ff.csv.gz"
    path.write_bytes(gzip.compress((HEADER + ROWS + SUMMARY).encode())[:-20])
    assert rejected(P, path, ctx("wechatpay_fundflow")).problem.code == "truncated"


def test_broken_balance_chain_is_a_warning(tmp_path):
    parsed = P.parse(write(tmp_path, HEADER + ROWS.replace("`89.40,", "`89.39,") + SUMMARY), ctx("wechatpay_fundflow"))
    assert [w.code for w in parsed.warnings] == ["balance_chain"] and parsed.warnings[0].line == 4
