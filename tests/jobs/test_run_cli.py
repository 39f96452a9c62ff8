"""`recon run` / `rerun` / `status` through the real CLI in subprocesses (issue 10's acceptance)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from recon.clock import business_today
from tests.jobs.conftest import DAYS, REPO, make_workspace, recon

CRASH_POINTS = ("start-fetch", "end-fetch", "start-parse", "end-parse", "start-match", "end-match", "end-clear",
                "start-report", "before-replace", "end-report")


def outputs(ws: Path, day: str) -> dict[str, str]:
    """sha256 of every canonical output of a day (bills, results, report)."""
    paths = [ws / "bills" / "wechat" / f"{day}.parquet", ws / "results" / day / "layer1.parquet",
             ws / "reports" / day / f"recon-{day}.xlsx"]
    paths += sorted((ws / "results" / day).glob("layer*.parquet"))
    return {str(p.relative_to(ws)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()}


def status(ws: Path) -> list[dict]:
    done = recon(ws, "status", "--json", "--since", "2026-11-01")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_day_runs_end_to_end_and_a_second_run_does_nothing(ws):
    first = recon(ws, "run", "--date", DAYS[0], "--quiet")
    assert first.returncode == 0, first.stderr
    before = outputs(ws, DAYS[0])
    assert {"bills/wechat/2026-11-20.parquet", "results/2026-11-20/layer1.parquet"} <= set(before)
    rows = {(r["channel"], r["stage"]): r for r in status(ws)}
    assert {r["state"] for r in rows.values()} == {"SUCCEEDED"}
    second = recon(ws, "run", "--date", DAYS[0], "--json")
    assert second.returncode == 0, second.stderr
    assert outputs(ws, DAYS[0]) == before
    assert all(r["attempts"] == 1 for r in status(ws)), "a finished stage ran again"
    digest = (ws / "logs" / "digest.log").read_text()
    assert "|fetch " in digest and "|match " in digest


def test_our_side_changing_re_matches_the_day_and_rewriting_the_same_bytes_does_not(ws):
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0

    def match_attempts() -> int:
        return next(r["attempts"] for r in status(ws) if r["date"] == DAYS[0] and r["stage"] == "match")

    ours = ws / "internal" / f"wechat_{DAYS[0]}.csv"
    ours.write_bytes(ours.read_bytes())  # a fresh export with the same content: nothing to do
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0
    assert match_attempts() == 1
    ours.write_text(ours.read_text(encoding="utf-8").replace(",723.88,", ",723.80,", 1), encoding="utf-8")
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0
    assert match_attempts() == 2
    row = pl.read_parquet(ws / "results" / DAYS[0] / "layer1.parquet").filter(
        pl.col("our_txn_id") == "T2026112000030")
    assert row["outcome"].to_list() == ["AMOUNT_MISMATCH"]


def test_a_second_concurrent_run_of_the_day_exits_5_naming_the_holder(ws):
    from jobs.lease import hold
    from recon.store.engine import open_store

    engine = open_store(f"sqlite:///{ws / 'recon.db'}")
    with hold(engine, dt.date(2026, 11, 20), ["wechat"]):
        done = recon(ws, "run", "--date", DAYS[0], "--quiet")
    assert done.returncode == 5, done.stderr
    assert "locked by" in done.stderr and done.stderr.count("\n") == 1
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0  # released: the next run works


def test_statement_missing_then_appearing_waits_then_succeeds(tmp_path):
    ws = make_workspace(tmp_path / "ws", drop=False)
    waiting = recon(ws, "run", "--date", DAYS[0])
    assert waiting.returncode == 3, waiting.stdout + waiting.stderr
    fetch = next(r for r in status(ws) if r["stage"] == "fetch")
    assert fetch["state"] == "WAITING" and fetch["next_attempt_at"]
    shutil.copy(REPO / "sample_statements" / "wechat" / "wechat_20261120.csv", ws / "drop")
    time.sleep(1.2)  # the channel's retry schedule is ["1s", ...]
    done = recon(ws, "run", "--date", DAYS[0], "--quiet")
    assert done.returncode == 0, done.stderr
    assert {r["state"] for r in status(ws)} == {"SUCCEEDED"}


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_9_anywhere_then_rerun_gives_identical_outputs(tmp_path, point):
    # Same folder name for both: the report prints its workspace's name in every page footer (issue 20).
    clean = make_workspace(tmp_path / "clean" / "ws")
    assert recon(clean, "run", "--date", DAYS[0], "--quiet").returncode == 0
    crashed = make_workspace(tmp_path / "crashed" / "ws")
    killed = recon(crashed, "run", "--date", DAYS[0], "--quiet", env={"RECON_CRASHPOINT": point})
    assert killed.returncode == -9, (point, killed.returncode, killed.stderr)
    again = recon(crashed, "run", "--date", DAYS[0], "--quiet")
    assert again.returncode == 0, again.stderr
    assert outputs(crashed, DAYS[0]) == outputs(clean, DAYS[0])
    assert not list(crashed.rglob(".tmp-*")), "a temp file survived the re-run"


def test_corrected_statement_reruns_only_that_day_and_keeps_resolutions(ws):
    for day in DAYS[:2]:
        assert recon(ws, "run", "--date", day, "--quiet").returncode == 0
    items = json.loads(recon(ws, "queue", "list", "--json").stdout)
    target = next(i for i in items if i["business_date"] == DAYS[0] and i["kind"] == "FEE_MISMATCH")
    resolved = recon(ws, "queue", "resolve", str(target["id"]), "--note", "channel fee confirmed by phone")
    assert resolved.returncode == 0, resolved.stderr
    other_day = outputs(ws, DAYS[1])
    attempts = {(r["date"], r["stage"]): r["attempts"] for r in status(ws)}
    # the channel re-publishes day 1 with one product name corrected (the totals are unchanged)
    drop = ws / "drop" / "wechat_20261120.csv"
    drop.write_text(drop.read_text(encoding="utf-8").replace("`商品,", "`商品(更正),", 1), encoding="utf-8")
    assert recon(ws, "rerun", "--date", DAYS[0], "--from-stage", "fetch", "--quiet").returncode == 0
    after = {(r["date"], r["stage"]): r["attempts"] for r in status(ws)}
    assert after[(DAYS[0], "parse")] == attempts[(DAYS[0], "parse")] + 1
    assert all(after[k] == v for k, v in attempts.items() if k[0] == DAYS[1]), "another day was re-run"
    assert outputs(ws, DAYS[1]) == other_day
    items = json.loads(recon(ws, "queue", "list", "--json", "--state", "all").stdout)
    assert next(i for i in items if i["id"] == target["id"])["status"] == "RESOLVED"


def test_catch_up_runs_every_missed_day(tmp_path):
    ws = make_workspace(tmp_path / "ws", drop=False)
    text = (ws / "recon.toml").read_text().replace("lease_seconds = 60", "lease_seconds = 60\nlookback_days = 5")
    (ws / "recon.toml").write_text(text)
    today = business_today(ZoneInfo("Asia/Shanghai"))  # the workspace's date, not the host's
    days = [today - dt.timedelta(days=n) for n in range(5, 0, -1)]
    for i, day in enumerate(days):  # five missed days, each with the demo's first day's content
        sample = REPO / "sample_statements" / "wechat" / "wechat_20261120.csv"
        (ws / "drop" / f"wechat_{day:%Y%m%d}.csv").write_bytes(sample.read_bytes())
        internal = (REPO / "sample_statements" / "internal" / "wechat_2026-11-20.csv").read_text()
        (ws / "internal" / f"wechat_{day:%Y-%m-%d}.csv").write_text(internal.replace("2026-11-20", day.isoformat()))
    done = recon(ws, "run", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert [row["date"] for row in summary] == [d.isoformat() for d in days]
    assert all(row["exit_code"] == 0 for row in summary)
