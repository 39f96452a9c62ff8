"""The README's "Running from cron" and "Exit codes" sections, sentence by sentence, over several days.

Each test plays the cron line (`recon run --quiet -w WS`, stdout and stderr kept apart as a cron
log would merge them) against a workspace whose days are taken from the workspace's business date,
never the host's, so the look-back window of the plain cron line covers them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from recon.clock import business_today
from tests.jobs.conftest import REPO, make_workspace, recon

SAMPLE = REPO / "sample_statements" / "wechat" / "wechat_20261120.csv"
INTERNAL = REPO / "sample_statements" / "internal" / "wechat_2026-11-20.csv"


def yesterday() -> dt.date:
    return business_today(ZoneInfo("Asia/Shanghai")) - dt.timedelta(days=1)


def cron_workspace(root: Path, *, deadline: str = "D+3650 12:00") -> Path:
    """A workspace whose cron look-back is one day (yesterday), with our side for it but no statement."""
    ws = make_workspace(root, drop=False)
    text = (ws / "recon.toml").read_text()
    text = text.replace("lease_seconds = 60", "lease_seconds = 60\nlookback_days = 1")
    (ws / "recon.toml").write_text(text.replace('deadline = "D+3650 12:00"', f'deadline = "{deadline}"'))
    day = yesterday()
    (ws / "internal" / f"wechat_{day:%Y-%m-%d}.csv").write_text(
        INTERNAL.read_text().replace("2026-11-20", day.isoformat()))
    return ws


def drop_statement(ws: Path, text: str | None = None) -> Path:
    target = ws / "drop" / f"wechat_{yesterday():%Y%m%d}.csv"
    target.write_text(text if text is not None else SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def cron(ws: Path, *extra: str):
    return recon(ws, "run", "--quiet", *extra)


def states(ws: Path) -> dict[tuple[str, str], str]:
    rows = json.loads(recon(ws, "status", "--json", "--since", yesterday().isoformat()).stdout)
    return {(r["channel"], r["stage"]): r["state"] for r in rows}


def test_a_statement_not_published_yet_exits_3_with_the_reason_on_stderr(tmp_path):
    ws = cron_workspace(tmp_path / "ws")
    done = cron(ws)
    assert done.returncode == 3
    assert done.stdout == ""  # --quiet: no progress, no table
    [line] = done.stderr.splitlines()
    assert line.startswith(f"WAITING {yesterday()} wechat fetch: not published yet")
    assert "Asia/Shanghai" in line and "next:" in line


def test_a_manual_day_exits_6_then_recovers_when_the_file_arrives_and_cron_runs_again(tmp_path):
    ws = cron_workspace(tmp_path / "ws", deadline="D+0 00:00")
    manual = cron(ws)
    assert manual.returncode == 6, manual.stderr
    [line] = manual.stderr.splitlines()
    assert line.startswith(f"MANUAL {yesterday()} wechat fetch: no statement by the deadline")
    assert "setting channels.wechat.fetch.path" in line and "next recon run" in line
    assert cron(ws).returncode == 6  # still nothing: still MANUAL, said again

    drop_statement(ws)  # a person got the statement into the folder; no flag, no other command
    done = cron(ws)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and set(states(ws).values()) == {"SUCCEEDED"}


def test_a_quarantined_statement_exits_4_and_the_corrected_one_is_used_by_rerun(tmp_path):
    ws = cron_workspace(tmp_path / "ws")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(True)
    drop_statement(ws, "".join(lines[:5] + lines[6:]))  # one row lost in transfer
    rejected = cron(ws)
    assert rejected.returncode == 4
    [line] = rejected.stderr.splitlines()
    assert line.startswith(f"FAILED {yesterday()} wechat parse: raw/wechat/{yesterday()}/")
    assert "truncated or edited" in line and "quarantined in quarantine/" in line
    assert f"recon rerun --date {yesterday()} --channel wechat" in line

    drop_statement(ws)  # the channel re-publishes the whole file
    rerun = recon(ws, "rerun", "--date", yesterday().isoformat(), "--quiet")
    assert rerun.returncode == 0, rerun.stderr
    raw = ws / "raw" / "wechat" / yesterday().isoformat()
    revised = f"wechat_{yesterday():%Y%m%d}.rev2.csv"
    assert (raw / f"wechat_{yesterday():%Y%m%d}.csv").exists() and (raw / revised).exists()  # the old one kept
    import polars as pl

    bill = pl.read_parquet(ws / "bills" / "wechat" / f"{yesterday()}.parquet")
    assert set(bill["source_file"]) == {f"raw/wechat/{yesterday()}/{revised}"}


def test_the_next_cron_run_notices_a_statement_changed_at_the_source(tmp_path):
    ws = cron_workspace(tmp_path / "ws")
    drop = drop_statement(ws)
    assert cron(ws).returncode == 0
    before = (ws / "reports" / yesterday().isoformat() / f"recon-{yesterday()}.xlsx").stat().st_mtime_ns
    again = cron(ws)  # nothing changed: nothing is redone
    assert again.returncode == 0 and again.stderr == ""
    assert (ws / "reports" / yesterday().isoformat() / f"recon-{yesterday()}.xlsx").stat().st_mtime_ns == before

    drop.write_text(drop.read_text(encoding="utf-8").replace("`商品,", "`商品(更正),", 1), encoding="utf-8")
    changed = cron(ws)
    assert changed.returncode == 0, changed.stderr
    bill = (ws / "bills" / "wechat" / f"{yesterday()}.parquet").read_bytes()
    assert f"wechat_{yesterday():%Y%m%d}.rev2.csv".encode() in bill


def test_a_missing_internal_export_exits_4_naming_the_setting(tmp_path):
    ws = cron_workspace(tmp_path / "ws")
    drop_statement(ws)
    (ws / "internal" / f"wechat_{yesterday():%Y-%m-%d}.csv").unlink()
    done = cron(ws)
    assert done.returncode == 4
    [line] = done.stderr.splitlines()
    assert line.startswith(f"FAILED {yesterday()} day match: internal export ")
    assert "setting channels.wechat.internal.path" in line
    assert f"recon rerun --date {yesterday()} --from-stage match" in line
    (ws / "internal" / f"wechat_{yesterday():%Y-%m-%d}.csv").write_text(
        INTERNAL.read_text().replace("2026-11-20", yesterday().isoformat()))
    assert recon(ws, "rerun", "--date", yesterday().isoformat(), "--from-stage", "match", "--quiet").returncode == 0


def test_with_json_each_failure_is_one_json_object_on_stderr(tmp_path):
    ws = cron_workspace(tmp_path / "ws", deadline="D+0 00:00")
    done = recon(ws, "run", "--json")
    assert done.returncode == 6
    [failure] = [json.loads(line) for line in done.stderr.splitlines()]
    assert failure["state"] == "MANUAL" and failure["channel"] == "wechat" and failure["stage"] == "fetch"
    assert failure["exit_code"] == 6 and "channels.wechat.fetch.path" in failure["error"]
    assert json.loads(done.stdout)[0]["exit_code"] == 6


def test_a_date_far_ahead_is_refused_with_exit_2(tmp_path):
    ws = cron_workspace(tmp_path / "ws")
    done = recon(ws, "run", "--date", "9999-12-31")
    assert done.returncode == 2 and "at most one day after the business today" in done.stderr
    assert not (ws / "raw" / "wechat" / "9999-12-31").exists()


def test_each_stage_that_failed_is_said_once(tmp_path):
    ws = cron_workspace(tmp_path / "ws", deadline="D+0 00:00")
    done = recon(ws, "run")  # not quiet: the table on stdout, the failure on stderr only
    assert done.returncode == 6
    assert len(done.stderr.splitlines()) == 1 and "no statement by the deadline" not in done.stdout


def test_report_and_clear_of_a_day_never_reconciled_exit_4_with_the_command_to_run(tmp_path):
    ws = cron_workspace(tmp_path / "ws")
    for command in ("report", "clear"):
        done = recon(ws, command, "--date", yesterday().isoformat())
        assert done.returncode == 4, done.stdout
        assert "reconciled" in done.stderr and f"--date {yesterday()}" in done.stderr
    assert not (ws / "reports" / yesterday().isoformat()).exists()  # no empty workbook


def test_a_tolerance_change_rematches_on_the_next_run_and_the_queue_follows(tmp_path):
    import polars as pl

    ws = cron_workspace(tmp_path / "ws")
    drop_statement(ws)
    assert cron(ws).returncode == 0
    results = ws / "results" / yesterday().isoformat() / "layer1.parquet"
    assert pl.read_parquet(results).filter(pl.col("outcome") == "FEE_MISMATCH").height > 0

    def open_fee_items() -> list[dict]:
        items = json.loads(recon(ws, "queue", "list", "--json").stdout)
        return [i for i in items if i["kind"] == "FEE_MISMATCH" and i["business_date"] == yesterday().isoformat()]

    assert open_fee_items()
    (ws / "rules" / "wechatpay.toml").parent.mkdir(exist_ok=True)
    (ws / "rules" / "wechatpay.toml").write_text('[match]\nfee_tolerance = "1000.00"\n', encoding="utf-8")
    done = cron(ws)
    assert done.returncode == 0, done.stderr
    attempts = {r["stage"]: r["attempts"] for r in json.loads(
        recon(ws, "status", "--json", "--since", yesterday().isoformat()).stdout)}
    assert attempts["match"] == 2 and attempts["parse"] == 2  # the rule set also feeds the parser
    assert pl.read_parquet(results).filter(pl.col("outcome") == "FEE_MISMATCH").height == 0
    assert open_fee_items() == []
    again = cron(ws)  # nothing changed since: nothing re-runs
    assert again.returncode == 0
    after = {r["stage"]: r["attempts"] for r in json.loads(
        recon(ws, "status", "--json", "--since", yesterday().isoformat()).stdout)}
    assert after == attempts


def test_a_manual_day_is_recovered_at_once_by_rerun_date_and_failed_days_by_rerun_failed(tmp_path):
    ws = cron_workspace(tmp_path / "ws", deadline="D+0 00:00")
    assert cron(ws).returncode == 6
    drop_statement(ws)
    rerun = recon(ws, "rerun", "--date", yesterday().isoformat(), "--channel", "wechat", "--quiet")
    assert rerun.returncode == 0, rerun.stderr
    assert set(states(ws).values()) == {"SUCCEEDED"}

    other = cron_workspace(tmp_path / "other", deadline="D+0 00:00")
    assert cron(other).returncode == 6
    drop_statement(other)
    failed = recon(other, "rerun", "--failed", "--since", yesterday().isoformat(), "--quiet")
    assert failed.returncode == 0, failed.stderr
    assert set(states(other).values()) == {"SUCCEEDED"}
