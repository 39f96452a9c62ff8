"""Cells the toolkit used to let through (issue #19), and WeChat bills in GBK recognised and said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.registry import get_parser, identify
from recon.errors import StatementRejected
from recon.money import MoneyError, parse_count
from tests.parsers_cn.cn_helpers import ctx
from tests.parsers_cn.test_wechat_fundflow import HEADER as FF_HEADER
from tests.parsers_cn.test_wechat_fundflow import ROWS as FF_ROWS
from tests.parsers_cn.test_wechat_fundflow import SUMMARY as FF_SUMMARY
from tests.jobs.conftest import REPO

DEMO = REPO / "sample_statements" / "wechat" / "wechat_20261120.csv"


def _write(tmp_path: Path, text: str, name: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_negative_year_time_is_refused_by_both_wechat_parsers(tmp_path: Path) -> None:
    lines = DEMO.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].replace("`2026-11-20", "`-2026-11-20", 1)
    with pytest.raises(StatementRejected) as err:
        get_parser("wechatpay.trade").parse(_write(tmp_path, "\n".join(lines), "wechat_20261120.csv"), ctx("wechatpay"))
    assert (err.value.problem.line, err.value.problem.code) == (2, "bad_time")
    fund = FF_HEADER + FF_ROWS.replace("`2021-02-01 14:00:45", "`-2021-02-01 14:00:45") + FF_SUMMARY
    with pytest.raises(StatementRejected) as err:
        get_parser("wechatpay.fundflow").parse(_write(tmp_path, fund, "ff.csv"), ctx("wechatpay_fundflow"))
    assert err.value.problem.line == 4 and "记账时间" in err.value.problem.message


def test_fractional_summary_count_is_refused_not_truncated(tmp_path: Path) -> None:
    assert parse_count("20.0") == 20
    with pytest.raises(MoneyError):
        parse_count("3.9")
    fund = FF_HEADER + FF_ROWS + FF_SUMMARY.replace("`4.0,", "`4.9,")
    with pytest.raises(StatementRejected, match="'4.9' is not a count"):
        get_parser("wechatpay.fundflow").parse(_write(tmp_path, fund, "ff.csv"), ctx("wechatpay_fundflow"))
    lines = DEMO.read_text(encoding="utf-8").rstrip("\n").split("\n")
    cells = lines[-1].split(",")
    cells[0] = cells[0] + ".9"  # 总交易单数 30 -> 30.9
    lines[-1] = ",".join(cells)
    with pytest.raises(StatementRejected, match="is not a count"):
        get_parser("wechatpay.trade").parse(_write(tmp_path, "\n".join(lines) + "\n", "wechat_20261120.csv"), ctx("wechatpay"))


@pytest.mark.parametrize("fmt, text, name", [
    ("wechatpay.trade", None, "wechat_20261120.csv"),
    ("wechatpay.fundflow", FF_HEADER + FF_ROWS + FF_SUMMARY, "ff.csv"),
])
def test_wechat_bill_in_gbk_is_recognised_and_said_so(tmp_path: Path, fmt: str, text: str | None, name: str) -> None:
    path = _write(tmp_path, text or DEMO.read_text(encoding="utf-8"), name, encoding="gbk")
    assert identify(path) == fmt  # not "unknown statement format"
    with pytest.raises(StatementRejected) as err:
        get_parser(fmt).parse(path, ctx("wechatpay" if fmt == "wechatpay.trade" else "wechatpay_fundflow"))
    assert err.value.problem.code == "encoding" and err.value.problem.line == 1
    assert "looks like GBK" in err.value.problem.message and "are UTF-8" in err.value.problem.message
