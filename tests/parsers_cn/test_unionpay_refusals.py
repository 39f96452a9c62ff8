"""A refused UnionPay file lists every faulty record, whichever reader read it (issue #19).

Each problem names its line and the field by the spec's Chinese name; the headline is the first
faulty line (and on it the first check), as the record-by-record reading used to stop there. The
CLI prints them (ten and the count), `--json` and the quarantine reason hold them all.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from parsers import unionpay
from parsers.unionpay import UnionPayZmeParser, UnionPayZmParser
from parsers.unionpay_layout import ZM
from recon.errors import PROBLEM_CAP
from tests.jobs.conftest import make_workspace
from tests.synth.cn import _zm_line

from .cn_helpers import ctx, rejected
from .test_unionpay import _zme_line

DAY = dt.date(2024, 3, 1)
NAME = "INN24030188ZM_802310048993424"
SPANS = {field: (start, end) for field, start, end in ZM.spans()}


def _set(line: bytes, field: str, value: bytes) -> bytes:
    start, end = SPANS[field]
    return line[:start] + value.ljust(end - start) + line[end:]


def _lines(n: int = 8) -> list[bytes]:
    return [_zm_line(i, DAY, refund=i % 6 == 5)[0] for i in range(n)]


def three_bad_records(tmp_path: Path) -> Path:
    """Line 2: an amount with letters; line 4: a query id a spreadsheet turned into E-notation;
    line 6: a settlement one fen off 交易金额 - 手续费."""
    lines = _lines()
    lines[1] = _set(lines[1], "交易金额", b"0000004768OO")
    lines[3] = _set(lines[3], "查询流水号", b"2.01509061122031E+20")
    start, end = SPANS["结算金额"]
    settle = lines[5][start:end]
    lines[5] = _set(lines[5], "结算金额", settle[:1] + b"%012d" % (int(settle[1:]) + 1))
    path = tmp_path / NAME
    path.write_bytes(b"".join(lines))
    return path


@pytest.fixture(params=[True, False], ids=["column-wise", "record-by-record"])
def reader(request, monkeypatch):
    if not request.param:
        monkeypatch.setattr(unionpay._UnionPayParser, "_native", lambda *a, **k: None)
    return request.param


def test_every_bad_record_is_listed_with_its_line_and_field(tmp_path, reader):
    err = rejected(UnionPayZmParser(), three_bad_records(tmp_path), ctx("unionpay"))
    assert err.problem_count == 3
    assert [(p.line, p.code) for p in err.problems] == [(2, "invalid_row"), (4, "id_mangled"), (6, "invalid_row")]
    amount, query, row = (p.message for p in err.problems)
    assert amount == "交易金额: '0000004768OO' is not 12 digits of fen"
    assert query.startswith("查询流水号 '2.01509061122031E+20' is in scientific notation")
    assert row.startswith("row inconsistent: 交易金额 -") and "结算金额" in row


def test_unreadable_records_are_listed_with_the_readable_ones_faults(tmp_path, reader):
    """A cut record is listed first (as the reader stops there), then every other fault."""
    lines = _lines()
    lines[2] = lines[2][:100] + lines[2][101:]
    lines[4] = _set(lines[4], "商户手续费", b"000000000012")
    lines[6] = _set(lines[6], "交易传输时间", b"1332120000")
    path = tmp_path / NAME
    path.write_bytes(b"".join(lines))
    err = rejected(UnionPayZmParser(), path, ctx("unionpay"))
    assert [(p.line, p.code) for p in err.problems] == [(3, "truncated"), (5, "invalid_row"), (7, "invalid_row")]
    assert err.problems[1].message == "商户手续费: '000000000012' has no C/D sign"
    assert err.problems[2].message == "交易传输时间 '1332120000' is not a date"


def test_headline_is_the_first_faulty_line_and_its_first_check(tmp_path, reader):
    """One record can break several checks: each is listed; the earliest line heads the list."""
    lines = _lines()
    lines[3] = _set(_set(lines[3], "结算金额", b"X"), "交易传输时间", b"99")
    lines[5] = _set(lines[5], "交易金额", b"-1")
    path = tmp_path / NAME
    path.write_bytes(b"".join(lines))
    err = rejected(UnionPayZmParser(), path, ctx("unionpay"))
    assert [(p.line, p.message) for p in err.problems] == [
        (4, "结算金额: 'X' is not C/D + 12 digits"), (4, "交易传输时间 '99' is not MMDDhhmmss"),
        (6, "交易金额: '-1' is not 12 digits of fen")]


def test_zme_lists_every_bad_record(tmp_path, reader):
    path = tmp_path / "INN15090588ZME_802310048993424"
    path.write_bytes(b"".join(_zme_line(f"1906{i:02d}", "D000000009940" if i % 2 else "D00000000994?", "C000000000060")
                              for i in range(6)))
    err = rejected(UnionPayZmeParser(), path, ctx("unionpay"))
    assert [p.line for p in err.problems] == [1, 3, 5] and err.problem_count == 3
    assert all(p.message == "结算金额: 'D00000000994?' is not C/D + 12 digits" for p in err.problems)


def test_the_list_is_capped_by_the_toolkit_and_counted_in_full(tmp_path, reader):
    lines = _lines(PROBLEM_CAP + 20)
    lines = [_set(line, "交易金额", b"x") for line in lines]
    path = tmp_path / NAME
    path.write_bytes(b"".join(lines))
    err = rejected(UnionPayZmParser(), path, ctx("unionpay"))
    assert len(err.problems) == PROBLEM_CAP and err.problem_count == PROBLEM_CAP + 20
    assert [p.line for p in err.problems[:3]] == [1, 2, 3]


def test_recon_parse_prints_them_and_json_and_quarantine_hold_all(tmp_path):
    ws = make_workspace(tmp_path / "ws", drop=False)
    bill = three_bad_records(tmp_path)
    args = ["parse", str(bill), "--format", "unionpay.zm", "--out", str(tmp_path / "b.parquet"), "-w", str(ws)]
    runner = CliRunner()
    done = runner.invoke(app, args)
    assert done.exit_code == 4, done.output
    text = done.output
    assert f"{NAME}:2: 交易金额: '0000004768OO' is not 12 digits of fen" in text
    assert f"{NAME}:4: 查询流水号 '2.01509061122031E+20'" in text and f"{NAME}:6: row inconsistent" in text
    assert "3 problems in all" in text
    reason = next((ws / "quarantine").glob("*/reason.json"))
    data = json.loads(reason.read_text(encoding="utf-8"))
    assert data["problem_count"] == 3 and [p["line"] for p in data["problems"]] == [2, 4, 6]
    listed = runner.invoke(app, [*args, "--json"])
    assert listed.exit_code == 4
    body = json.loads(listed.stdout[listed.stdout.index("{"):])
    assert body["problem_count"] == 3
    assert [(p["line"], p["code"]) for p in body["problems"]] == [(2, "invalid_row"), (4, "id_mangled"), (6, "invalid_row")]


def test_every_rd_total_that_disagrees_is_listed(shared_samples, tmp_path):
    from .test_unionpay import SAMPLE_ZIP, _rezip

    def change(name, data):
        return data.replace(b"13227.00", b"13227.01").replace(b"79.36", b"79.35").replace(b"13147.64", b"13147.66") if name.startswith("RD") else data

    err = rejected(UnionPayZmParser(), _rezip(tmp_path, shared_samples / "unionpay" / SAMPLE_ZIP, change), ctx("unionpay"))
    assert [(p.line, p.code) for p in err.problems] == [(13, "totals_mismatch")] * 3 and err.problem_count == 3
    assert [p.message.split(" says")[0] for p in err.problems] == [
        "totals mismatch: RD 总计 交易金额 (贷 - 借)", "totals mismatch: RD 总计 费用 (借 - 贷)",
        "totals mismatch: RD 总计 资金清算差额 (贷 - 借)"]
