"""The escalating schedule across separate invocations, the deadline, and re-fetching a finished day."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from fetch_support import BILL, DAY, MORNING, make_ws, publish, raw_files

from jobs import fetch_state, schedule
from jobs.fetch import FetchState, fetch_day
from recon.errors import ConfigError, ExitCode

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIN = dt.timedelta(minutes=1)


def test_durations_and_deadlines_parse_as_written():
    assert schedule.parse_duration("10m") == 10 * MIN
    assert schedule.parse_duration("1.5h") == 90 * MIN
    assert schedule.parse_duration("250ms") == dt.timedelta(milliseconds=250)
    assert schedule.deadline_at("D+1 12:00", DAY, SHANGHAI) == dt.datetime(2024, 5, 2, 4, 0, tzinfo=dt.timezone.utc)
    for bad in ("10 minutes", "D+1 25:00", "tomorrow"):
        with pytest.raises(ConfigError):
            schedule.parse_duration(bad) if "minutes" in bad else schedule.deadline_at(bad, DAY, SHANGHAI)


def test_waits_escalate_repeat_the_last_and_never_pass_the_deadline():
    waits = schedule.waits(("10m", "20m", "40m", "80m"))
    deadline = MORNING + 200 * MIN
    got = [schedule.next_attempt(MORNING, n, waits, deadline) - MORNING for n in range(1, 6)]
    assert got == [10 * MIN, 20 * MIN, 40 * MIN, 80 * MIN, 80 * MIN]
    assert schedule.next_attempt(deadline - MIN, 5, waits, deadline) == deadline
    assert schedule.next_attempt(deadline, 5, waits, deadline) is None


def test_late_file_waits_across_invocations_then_is_fetched(sftp, sftp_channel):
    root, fetch = sftp_channel
    ws = make_ws(root, {"wechat": fetch})

    first = fetch_day(ws, "wechat", DAY, now=MORNING)  # cron run 1: nothing published
    assert first.state is FetchState.WAITING and first.exit_code == ExitCode.NOT_READY
    assert first.next_attempt_at == MORNING + 10 * MIN
    connections = sftp.cfg.connections

    early = fetch_day(make_ws(root, {"wechat": fetch}), "wechat", DAY, now=MORNING + 5 * MIN)  # cron run 2
    assert early.state is FetchState.WAITING and early.next_attempt_at == MORNING + 10 * MIN
    assert sftp.cfg.connections == connections  # not due: the server was not asked

    second = fetch_day(ws, "wechat", DAY, now=MORNING + 11 * MIN)  # due, still nothing: wait 20m
    assert second.state is FetchState.WAITING and second.next_attempt_at == MORNING + 31 * MIN

    publish(sftp, "wechat_20240501.csv", BILL)
    third = fetch_day(ws, "wechat", DAY, now=MORNING + 31 * MIN)
    assert third.state is FetchState.FETCHED and third.attempts == 3
    row = fetch_state.load(fetch_state.engine(ws), "wechat", DAY)
    assert (row.state, row.attempts, row.next_attempt_at, row.last_error) == ("FETCHED", 3, None, None)


def test_past_the_deadline_the_day_is_manual_and_recovers_when_the_file_arrives(sftp, sftp_channel):
    root, fetch = sftp_channel
    ws = make_ws(root, {"wechat": fetch})
    deadline = dt.datetime(2024, 5, 2, 4, 0, tzinfo=dt.timezone.utc)  # D+1 12:00 Shanghai

    outcome = fetch_day(ws, "wechat", DAY, now=deadline + MIN)

    assert outcome.state is FetchState.MANUAL and outcome.exit_code == ExitCode.MANUAL
    assert "no statement by the deadline 2024-05-02 12:00 Asia/Shanghai" in outcome.message
    assert "channels.wechat.fetch.remote_path" in outcome.message and "next recon run" in outcome.message
    again = fetch_day(ws, "wechat", DAY, now=deadline + 30 * MIN)  # looked at again: still nothing
    assert again.state is FetchState.MANUAL

    publish(sftp, "wechat_20240501.csv", BILL)  # the channel finally publishes: no flag needed
    assert fetch_day(ws, "wechat", DAY, now=deadline + 60 * MIN).state is FetchState.FETCHED


def test_refetching_an_unchanged_file_changes_nothing(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501.csv", BILL)
    ws = make_ws(root, {"wechat": fetch})
    fetch_day(ws, "wechat", DAY, now=MORNING)
    manifest = (ws.raw_dir("wechat", DAY) / "manifest.json").read_bytes()

    assert fetch_day(ws, "wechat", DAY, now=MORNING + MIN).message.startswith("already fetched")
    again = fetch_day(ws, "wechat", DAY, now=MORNING + 2 * MIN, force=True)

    assert again.state is FetchState.FETCHED and again.flags == ()
    assert (ws.raw_dir("wechat", DAY) / "manifest.json").read_bytes() == manifest
    assert raw_files(ws) == ["manifest.json", "wechat_20240501.csv"]


def test_a_changed_remote_file_is_kept_beside_the_first_and_flagged(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501.csv", BILL)
    ws = make_ws(root, {"wechat": fetch})
    fetch_day(ws, "wechat", DAY, now=MORNING)

    publish(sftp, "wechat_20240501.csv", BILL + b"`2024-05-01 23:59:59,late row\n")
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING + 60 * MIN, force=True)

    assert outcome.state is FetchState.FETCHED and "changed_after_fetch" in outcome.flags[0]
    assert raw_files(ws) == ["manifest.json", "wechat_20240501.csv", "wechat_20240501.rev2.csv"]
    assert (ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes() == BILL  # never overwritten
    manifest = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())
    assert manifest["flags"] == ["changed_after_fetch"]
    assert [(e["name"], e["revision"]) for e in manifest["files"]] == [
        ("wechat_20240501.csv", 1), ("wechat_20240501.rev2.csv", 2)]


def test_local_drop_folder(tmp_path):
    drop = tmp_path / "ws" / "drop"
    drop.mkdir(parents=True)
    ws = make_ws(tmp_path / "ws", {"wechat": {"transport": "local", "path": "drop/wechat_{date:%Y%m%d}.csv",
                                              "stable_wait": 0.05}})
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.WAITING
    (drop / "wechat_20240501.csv").write_bytes(BILL)

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING + 10 * MIN)

    assert outcome.state is FetchState.FETCHED
    assert (ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes() == BILL


def test_a_bank_statement_is_not_awaited_on_a_weekend(tmp_path):
    """Banks publish nothing on closed days: a missing statement then is EMPTY, with the calendar as proof."""
    saturday = dt.date(2024, 5, 4)
    ws = make_ws(tmp_path / "ws", {"bank": {"transport": "local", "path": "drop/stmt_{date:%Y%m%d}.mt940",
                                            "stable_wait": 0.05}}, fmt="mt940")
    (tmp_path / "ws" / "drop").mkdir()
    monday = fetch_day(ws, "bank", dt.date(2024, 5, 6), now=dt.datetime(2024, 5, 7, 2, tzinfo=dt.timezone.utc))
    assert monday.state is FetchState.WAITING  # a business day: the statement is late, not absent
    outcome = fetch_day(ws, "bank", saturday, now=dt.datetime(2024, 5, 5, 2, tzinfo=dt.timezone.utc))
    assert outcome.state is FetchState.EMPTY and outcome.exit_code == 0
    assert "not a business day" in outcome.message
    manifest = json.loads((ws.raw_dir("bank", saturday) / "manifest.json").read_text())
    assert manifest["state"] == "EMPTY" and "calendar" in manifest["proof"]["answer"]
    from jobs.ingest import ingest_day

    assert ingest_day(ws, "bank", saturday).rows == 0  # an empty bill: layer 3 reports nothing for the day
