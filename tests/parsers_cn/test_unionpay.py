"""UnionPay ZM/ZME: the official sample against its RD report, byte widths, years, rejections."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from tests.synth.cn import _zm_line, unionpay_zip
from parsers.unionpay import UnionPayZmeParser, UnionPayZmParser
from parsers.unionpay_layout import ZME, ZME_FIELDS, infer_year

from .cn_helpers import ctx, golden, rejected

ZM = UnionPayZmParser()
SAMPLE_ZIP = "PaySharp__802310048993424_20150905.zip"
BARE = "PaySharp__INN15090588ZM_802310048993424"
FIRST = "1 PAYMENT 201509061122031906248/10078087/-/- 2015-09-06T03:22:03Z CNY 4768 28.61 4739.39 SUCCESS"


def test_official_zip_matches_its_rd_report(shared_samples):
    parsed = ZM.parse(shared_samples / "unionpay" / SAMPLE_ZIP, ctx("unionpay"))
    assert golden(parsed.bill)[0] == FIRST and parsed.bill.height == 8
    assert "RD 总计 交易金额 (贷 - 借) 13227.00 = lines" in parsed.checks
    assert "RD 总计 费用 (借 - 贷) 79.36 = lines" in parsed.checks and not parsed.warnings
    assert set(parsed.bill["account"]) == {"802310048993424"} and str(parsed.bill["bill_date"][0]) == "2015-09-05"


def test_bare_zm_parses_and_says_it_has_no_control_totals(shared_samples):
    parsed = ZM.parse(shared_samples / "unionpay" / BARE, ctx("unionpay"))
    assert golden(parsed.bill)[0] == FIRST and [w.code for w in parsed.warnings] == ["no_control_totals"]


def test_rd_report_is_not_a_statement(shared_samples):
    err = rejected(ZM, shared_samples / "unionpay" / "PaySharp__RD201015090501_802310048993424", ctx("unionpay"))
    assert err.problem.code in ("no_date", "truncated")


def test_refunds_negative_chinese_names_counted_in_bytes_and_day_crossing(tmp_path):
    path = tmp_path / "802310048993424_20241231.zip"
    unionpay_zip(path, 6, dt.date(2024, 12, 31))
    bill = ZM.parse(path, ctx("unionpay")).bill
    refund = bill.row(5, named=True)
    assert refund["record_type"] == "REFUND" and refund["amount"] < 0 and refund["fee"] < 0
    assert refund["channel_refund_id"] and refund["merchant_refund_id"] == "R000000005"
    assert str(bill["trade_time"].max().date()) == "2024-12-31"  # 2025-01-01 local after 00:00 Beijing
    assert infer_year("0101000500", dt.date(2024, 12, 31), "f", 1).year == 2025
    assert infer_year("1231235900", dt.date(2025, 1, 1), "f", 1).year == 2024


def _rezip(tmp_path, src, change):
    out = tmp_path / "802310048993424_20150905.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(info.filename, data))
    return out


@pytest.mark.parametrize(
    ("change", "code", "line"),
    [
        (lambda n, d: d.replace(b"13227.00", b"13227.01") if n.startswith("RD") else d, "totals_mismatch", 13),
        (lambda n, d: d[:-300] if "ZM" in n else d, "truncated", 8),
        (lambda n, d: d[:-3] + b"\r\n" if "ZM" in n else d, "truncated", 8),
        (lambda n, d: d.replace(b"000000476800", b"0000004768OO", 1) if "ZM" in n else d, "invalid_row", 1),
        (lambda n, d: d.replace(b"C000000473939", b"C000000473938", 1) if "ZM" in n else d, "invalid_row", 1),
        (lambda n, d: d.replace(b"10078087       ", b"\xff\xfe078087       ", 1) if "ZM" in n else d, "encoding", 1),
        (lambda n, d: d.replace(b"201509061122031906248", b"2.01509061122031E+20 ", 1) if "ZM" in n else d, "id_mangled", 1),
        (lambda n, d: d.replace("总计".encode("gbk"), b"XX") if n.startswith("RD") else d, "truncated", None),
    ],
    ids=["rd-mismatch", "cut-line", "short-line", "bad-amount", "row-inconsistent", "bad-gbk", "e-notation", "rd-no-total"],
)
def test_rejections(shared_samples, tmp_path, change, code, line):
    path = _rezip(tmp_path, shared_samples / "unionpay" / SAMPLE_ZIP, change)
    err = rejected(ZM, path, ctx("unionpay"))
    assert (err.problem.code, err.problem.line) == (code, line), err.problem


def _zme_line(trace: str, settle: str, fee: str) -> bytes:
    values = {"交易代码": "E74", "系统跟踪号": trace, "交易传输时间": "0906112203", "交易金额": "000000010000",
              "差错原因": "4502", "商户手续费": fee, "结算金额": settle, "商户代码": "802310048993424"}
    return b" ".join(values.get(n, "").encode().ljust(w) for n, w in ZME_FIELDS) + b"\r\n"


def test_zme_error_file_rows_are_adjustments_with_unknown_status(tmp_path):
    path = tmp_path / "INN15090588ZME_802310048993424"
    path.write_bytes(_zme_line("190624", "D000000009940", "C000000000060") + _zme_line("190625", "C000000001000", "000000000000"))
    assert len(_zme_line("1", "D000000000001", "000000000000")) == ZME.length + 2
    parser = UnionPayZmeParser()
    assert parser.identify(__import__("parsers.registry", fromlist=["sample"]).sample(path))
    assert golden(parser.parse(path, ctx("unionpay")).bill) == [
        "1 ADJUSTMENT 0906112203190624/-/-/- 2015-09-06T03:22:03Z CNY -100 -0.6 -99.4 UNKNOWN",
        "2 ADJUSTMENT 0906112203190625/-/-/- 2015-09-06T03:22:03Z CNY 10 0 10 UNKNOWN",
    ]


def test_synthetic_line_has_the_spec_length():
    line, _, _ = _zm_line(1, dt.date(2024, 3, 1), refund=False)
    assert len(line) == 607 + 2


@pytest.mark.parametrize("native", [True, False], ids=["column-wise", "record-by-record"])
def test_local_times_follow_the_toolkits_one_policy(tmp_path, native, monkeypatch):
    """A time the clocks skip is refused naming its line, the zone and the rule (it used to be
    shifted an hour on the record-by-record path); a repeated hour is its first occurrence."""
    from zoneinfo import ZoneInfo

    from parsers import unionpay

    if not native:
        monkeypatch.setattr(unionpay._UnionPayParser, "_native", lambda *a, **k: None)
    berlin = ctx("unionpay", zone=ZoneInfo("Europe/Berlin"))
    gap = tmp_path / "INN26032988ZME_802310048993424"
    gap.write_bytes(_zme_line("190624", "D000000009940", "C000000000060").replace(b"0906112203", b"0329023000"))
    err = rejected(UnionPayZmeParser(), gap, berlin)
    assert (err.problem.code, err.problem.line) == ("bad_time", 1)
    assert "'2026-03-29 02:30:00' does not exist in Europe/Berlin" in err.problem.message and "rule:" in err.problem.message
    fold = tmp_path / "INN26102588ZME_802310048993424"
    fold.write_bytes(_zme_line("190624", "D000000009940", "C000000000060").replace(b"0906112203", b"1025023000"))
    assert str(UnionPayZmeParser().parse(fold, berlin).bill["trade_time"][0]) == "2026-10-25 00:30:00+00:00"
