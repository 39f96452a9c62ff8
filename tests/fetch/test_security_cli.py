"""Secrets never leak (logs, errors, manifest, store, CLI output), and `recon fetch` as cron sees it."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import pytest
from fetch_servers import send
from fetch_support import BILL, DAY, FAST, MORNING, make_ws, publish
from typer.testing import CliRunner

from cli import app
from jobs import fetch_state
from jobs.fetch import FetchState, fetch_day
from jobs.transports.base import UnsafeInput, safe_name

CANARY_PW = "CANARY-pw-7f3a91"
CANARY_TOKEN = "CANARY-token-c0ffee"


def _everything_written(root) -> str:
    text = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                text.append(fh.read().decode("utf-8", "replace"))
    return "\n".join(text)


def test_credentials_never_appear_in_logs_errors_manifest_or_store(tmp_path, sftp, sftp_channel, http,
                                                                    monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)  # paramiko and httpx debug logs included
    root, fetch = sftp_channel
    sftp.cfg.password = CANARY_PW
    monkeypatch.setenv("TEST_SFTP_PASSWORD", CANARY_PW)
    monkeypatch.setenv("TEST_HEADERS", json.dumps({"Authorization": f"Bearer {CANARY_TOKEN}"}))
    http.route("/bills/20240501.csv", lambda h: send(h, 200 if CANARY_TOKEN in h.headers.get("Authorization", "")
                                                     else 401, BILL))
    http.route("/bills/20240502.csv", lambda h: send(h, 401, b"denied"))
    publish(sftp, "wechat_20240501.csv", BILL)
    ws = make_ws(root, {"wechat": fetch, "bank": {"transport": "http", "headers_env": "TEST_HEADERS",
                                                   "url": http.url("/bills/{date:%Y%m%d}.csv"), **FAST}})
    outcomes = [fetch_day(ws, "wechat", DAY, now=MORNING), fetch_day(ws, "bank", DAY, now=MORNING),
                fetch_day(ws, "bank", DAY.replace(day=2), now=MORNING)]
    monkeypatch.setenv("TEST_SFTP_PASSWORD", CANARY_PW + "-wrong")  # an auth failure's message too
    outcomes.append(fetch_day(ws, "wechat", DAY.replace(day=3), now=MORNING))
    result = CliRunner().invoke(app, ["fetch", "--date", "2024-05-04", "--workspace", str(root), "--json"])

    assert [o.state for o in outcomes] == [FetchState.FETCHED, FetchState.FETCHED, FetchState.FAILED,
                                           FetchState.FAILED]
    haystack = "\n".join([caplog.text, result.output, repr(outcomes), _everything_written(root)])
    assert CANARY_PW not in haystack and CANARY_TOKEN not in haystack


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/../../b", "a\\b", "x\x00y", "line\nbreak", "..", ""])
def test_remote_names_are_never_paths(name):
    with pytest.raises(UnsafeInput):
        safe_name(name)


def _local_ws(tmp_path):
    root = tmp_path / "ws"
    (root / "drop").mkdir(parents=True)
    make_ws(root, {"wechat": {"transport": "local", "path": "drop/wechat_{date:%Y%m%d}.csv",
                              "deadline": "D+3650 12:00"}})  # the real clock is used: keep the deadline ahead
    return root


def _drop(root) -> None:
    path = root / "drop" / "wechat_20240501.csv"
    path.write_bytes(BILL)
    os.utime(path, (time.time() - 60, time.time() - 60))  # written a minute ago: settled


def _drop_after_first_attempt(ws) -> None:
    """The statement arrives once the first attempt has found nothing, however slow the machine."""
    def later():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = fetch_state.load(fetch_state.engine(ws), "wechat", DAY)
            if state is not None and state.state == "WAITING":
                _drop(ws.root)
                return
            time.sleep(0.05)
    threading.Thread(target=later, daemon=True).start()


def test_cli_fetch_exit_codes_for_cron(tmp_path):
    root = _local_ws(tmp_path)
    runner = CliRunner()
    waiting = runner.invoke(app, ["fetch", "--date", "2024-05-01", "--workspace", str(root)])
    assert waiting.exit_code == 3 and "WAITING wechat 2024-05-01" in waiting.output

    _drop(root)
    done = runner.invoke(app, ["fetch", "--date", "2024-05-01", "--workspace", str(root), "--json", "--force"])
    assert done.exit_code == 0
    [item] = json.loads(done.stdout)
    assert item["state"] == "FETCHED" and item["files"] == ["wechat_20240501.csv"]

    unknown = runner.invoke(app, ["fetch", "--date", "2024-05-01", "--channel", "nope", "--workspace", str(root)])
    assert unknown.exit_code == 2 and unknown.stderr.count("\n") == 1 and "nope" in unknown.stderr


def test_cli_host_key_refusal_is_exit_2_with_one_line(sftp, sftp_channel, keys):
    root, fetch = sftp_channel
    (root / "known_hosts").write_text(sftp.known_hosts_line(keys["other_pkey"]))
    make_ws(root, {"wechat": {k: v for k, v in fetch.items() if k not in FAST}})

    result = CliRunner().invoke(app, ["fetch", "--date", "2024-05-01", "--workspace", str(root)])

    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "host key CHANGED" in result.stderr


def test_cli_wait_follows_the_schedule_until_the_file_arrives(tmp_path):
    root = tmp_path / "ws"
    (root / "drop").mkdir(parents=True)
    ws = make_ws(root, {"wechat": {"transport": "local", "path": "drop/wechat_{date:%Y%m%d}.csv",
                                   "retry": ["0.3s"], "deadline": "D+3650 12:00"}})
    _drop_after_first_attempt(ws)

    result = CliRunner().invoke(app, ["fetch", "--date", "2024-05-01", "--workspace", str(root), "--wait"])

    assert result.exit_code == 0, result.output
    assert "WAITING" in result.output and "OK wechat 2024-05-01 FETCHED" in result.output


def test_no_fetcher_ever_auto_accepts_host_keys():
    import pathlib

    source = "\n".join(p.read_text() for p in (pathlib.Path(__file__).resolve().parents[2] / "jobs").rglob("*.py"))
    assert "AutoAddPolicy" not in source and "WarningPolicy" not in source and "RejectPolicy()" in source
