"""A refused statement lists every failing line, not only the first (issue #19).

The quarantine reason files hold all of them (capped, with the count), the CLI prints the first ten
and the count, and `--json` prints all. Each of the three row-check frameworks reports them all.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parsers.base import ParseContext
from parsers.registry import get_parser
from recon.errors import PROBLEM_CAP, Problem, StatementRejected
from recon.quarantine import quarantine
from rules.loader import load_rules
from tests.jobs.conftest import REPO, make_workspace, recon

DEMO = REPO / "sample_statements" / "wechat" / "wechat_20261120.csv"
BAD = 12


def broken_bill(tmp_path: Path) -> Path:
    """The demo bill with the trade time of its first 12 rows made impossible (month 13)."""
    lines = DEMO.read_text(encoding="utf-8").split("\n")
    for i in range(1, BAD + 1):
        lines[i] = lines[i].replace("`2026-11-20", "`2026-13-20", 1)
    path = tmp_path / "wechat_20261120.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_parser_refusal_names_every_failing_line(tmp_path: Path) -> None:
    ctx = ParseContext(channel="wechat", rules=load_rules("wechatpay"), zone=ZoneInfo("Asia/Shanghai"))
    with pytest.raises(StatementRejected) as err:
        get_parser("wechatpay.trade").parse(broken_bill(tmp_path), ctx)
    assert err.value.problem_count == BAD
    assert [p.line for p in err.value.problems] == list(range(2, BAD + 2))
    assert all(p.message.startswith("trade_time ") and p.message.endswith("(column 交易时间)") for p in err.value.problems)


def test_cli_prints_ten_and_the_count_json_and_quarantine_hold_all(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", drop=False)
    bill = broken_bill(tmp_path)
    out = recon(ws, "parse", str(bill), "--format", "wechatpay.trade", "--out", str(tmp_path / "b.parquet"))
    assert out.returncode == 4
    err = out.stderr.strip().splitlines()
    assert err[0].startswith("error: ") and ":2: " in err[0]
    assert len([x for x in err if x.startswith("  also: ")]) == 9
    assert err[-1].startswith(f"  {BAD} problems in all")
    reason = next((ws / "quarantine").glob("*/reason.json"))
    data = json.loads(reason.read_text(encoding="utf-8"))
    assert data["problem_count"] == BAD and [p["line"] for p in data["problems"]] == list(range(2, BAD + 2))
    assert len(reason.with_name("reason.txt").read_text(encoding="utf-8").splitlines()) == 1 + BAD
    as_json = recon(ws, "parse", str(bill), "--format", "wechatpay.trade", "--out", str(tmp_path / "b.parquet"), "--json")
    assert as_json.returncode == 4
    listed = json.loads(as_json.stdout)
    assert listed["problem_count"] == BAD and len(listed["problems"]) == BAD


def test_refusal_and_quarantine_cap_the_list_but_keep_the_count(tmp_path: Path) -> None:
    problems = [Problem("f.csv", n, "bad amount", "bad_amount") for n in range(2, PROBLEM_CAP + 502)]
    exc = StatementRejected.of(problems, count=len(problems))
    assert len(exc.problems) == PROBLEM_CAP and exc.problem_count == PROBLEM_CAP + 500
    source = tmp_path / "f.csv"
    source.write_text("x\n", encoding="utf-8")
    folder = quarantine(tmp_path / "q", source, exc.problem, problems=exc.problems, count=exc.problem_count)
    data = json.loads((folder / "reason.json").read_text(encoding="utf-8"))
    assert data["problem_count"] == PROBLEM_CAP + 500 and len(data["problems"]) == PROBLEM_CAP
    text = (folder / "reason.txt").read_text(encoding="utf-8").splitlines()
    assert text[-1] == f"  ... and 500 more ({PROBLEM_CAP + 500} problems in all)"
