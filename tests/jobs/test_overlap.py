"""Overlapping runs on one workspace: each sweeps only what it holds, and a run taken over stops."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time

import sqlalchemy as sa

from tests.jobs.conftest import DAYS, RECON, recon


def test_two_runs_on_different_days_at_once_both_succeed(ws):
    env = {k: v for k, v in os.environ.items() if k != "RECON_WORKSPACE"}
    runs = [subprocess.Popen([RECON, "run", "--date", day, "--quiet", "--workspace", str(ws)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for day in DAYS[:2]]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    for day in DAYS[:2]:
        assert (ws / "reports" / day / f"recon-{day}.xlsx").exists()


def test_a_run_sweeps_temp_files_only_where_it_holds_the_lease_or_when_older_than_the_lease(ws):
    other_day = ws / "results" / DAYS[1]
    other_day.mkdir(parents=True)
    in_flight = other_day / ".tmp-layer1.parquet.live"  # another live run's file, being written
    in_flight.write_bytes(b"half")
    abandoned = ws / "results" / DAYS[2] / ".tmp-layer1.parquet.dead"
    abandoned.parent.mkdir(parents=True)
    abandoned.write_bytes(b"left by a run killed an hour ago")
    hour_ago = time.time() - 3600  # lease_seconds is 60 in this workspace
    os.utime(abandoned, (hour_ago, hour_ago))
    mine = ws / "results" / DAYS[0] / ".tmp-layer1.parquet.crashed"  # the day this run holds
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"a crashed run's, on the day this run takes")

    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0
    assert in_flight.exists(), "a live run's temp file on another day was deleted"
    assert not abandoned.exists() and not mine.exists()


def test_a_run_whose_lease_is_taken_over_stops_without_writing(ws, tmp_path):
    pause = tmp_path / "paused"
    env = {**{k: v for k, v in os.environ.items() if k != "RECON_WORKSPACE"},
           "RECON_PAUSEPOINT": "start-match", "RECON_PAUSEFILE": str(pause)}
    run = subprocess.Popen([RECON, "run", "--date", DAYS[0], "--quiet", "--workspace", str(ws)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not pause.exists():  # wait for the run to reach the match stage (a handshake, not a timing)
        assert run.poll() is None and time.monotonic() < deadline, run.stderr.read() if run.poll() is not None else ""
        time.sleep(0.05)
    engine = sa.create_engine(f"sqlite:///{ws / 'recon.db'}")
    with engine.begin() as conn:  # its lease expired and another run took the day over
        taken = conn.execute(sa.text(
            "UPDATE leases SET holder = 'elsewhere:1:thief', expires_at = :later WHERE business_date = :day"),
            {"later": dt.datetime(2100, 1, 1), "day": DAYS[0]}).rowcount
    engine.dispose()
    assert taken
    pause.unlink()
    _, err = run.communicate(timeout=600)
    assert run.returncode == 5, err
    assert "taken over by elsewhere:1:thief" in err and len(err.splitlines()) == 1
    assert not (ws / "results" / DAYS[0] / "layer1.parquet").exists(), "a run taken over wrote its results"
    assert not list(ws.rglob(".tmp-*"))


def test_the_heartbeat_renews_a_held_lease_and_a_write_after_a_takeover_raises(tmp_path):
    import pytest

    from jobs.lease import LeaseLost, hold
    from recon.files import write_text
    from recon.store.engine import open_store
    from recon.store.tables.runs import leases

    engine = open_store(f"sqlite:///{tmp_path / 'recon.db'}")
    day = dt.date(2026, 11, 20)

    def expiry():
        with engine.connect() as conn:
            return conn.execute(sa.select(leases.c.expires_at).where(leases.c.channel == "wechat")).scalar_one()

    with hold(engine, day, ["wechat"], ttl=dt.timedelta(seconds=0.3)):
        first = expiry()
        deadline = time.monotonic() + 60
        while expiry() == first:  # renewed by the heartbeat while this thread does nothing
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.02)
        write_text(tmp_path / "mine.txt", "written while the lease is held")
        with engine.begin() as conn:
            conn.execute(leases.update().values(holder="elsewhere:1:thief"))
        with pytest.raises(LeaseLost, match="taken over by elsewhere:1:thief"):
            write_text(tmp_path / "late.txt", "must not land")
    assert (tmp_path / "mine.txt").exists() and not (tmp_path / "late.txt").exists()
    assert not list(tmp_path.glob(".tmp-*"))
