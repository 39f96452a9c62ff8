"""SFTP fetches against a real SSH server on 127.0.0.1 (paramiko server; OpenSSH when installed)."""

from __future__ import annotations

import hashlib
import json

import pytest
from fetch_support import BILL, DAY, MORNING, make_ws, pem, publish, raw_files, write_private

from jobs.fetch import FetchState, fetch_day
from recon.errors import ExitCode


def test_fetch_by_password_writes_the_file_and_a_manifest(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501.csv", BILL)
    ws = make_ws(root, {"wechat": fetch})

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED and outcome.exit_code == ExitCode.OK
    assert outcome.files == ("wechat_20240501.csv",)
    assert raw_files(ws) == ["manifest.json", "wechat_20240501.csv"]  # no .tmp- or .part left
    assert (ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes() == BILL
    manifest = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())
    entry = manifest["files"][0]
    assert manifest["state"] == "FETCHED"
    assert entry["sha256"] == hashlib.sha256(BILL).hexdigest() and entry["size"] == len(BILL)
    assert entry["source"] == f"sftp://recon@127.0.0.1:{sftp.port}/outgoing/20240501/wechat_20240501.csv"
    assert entry["fetched_at"] == MORNING.isoformat()


def test_fetch_by_private_key_with_passphrase(sftp, sftp_channel, keys, monkeypatch):
    root, fetch = sftp_channel
    write_private(root / "id_rsa", pem(keys["client"], b"key-passphrase-xyz"))
    monkeypatch.setenv("TEST_KEY_PASSPHRASE", "key-passphrase-xyz")
    fetch = {k: v for k, v in fetch.items() if k != "password_env"}
    fetch.update(key_file="id_rsa", key_passphrase_env="TEST_KEY_PASSPHRASE")
    publish(sftp, "wechat_20240501.csv", BILL)

    outcome = fetch_day(make_ws(root, {"wechat": fetch}), "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED


def test_a_private_key_readable_by_others_is_refused(sftp, sftp_channel, keys):
    root, fetch = sftp_channel
    (root / "id_rsa").write_bytes(pem(keys["client"]))
    (root / "id_rsa").chmod(0o644)
    fetch = {k: v for k, v in fetch.items() if k != "password_env"} | {"key_file": "id_rsa"}

    outcome = fetch_day(make_ws(root, {"wechat": fetch}), "wechat", DAY, now=MORNING)

    assert outcome.exit_code == ExitCode.USAGE and "readable by group or others" in outcome.message


@pytest.mark.parametrize("known", ["other", "none"])
def test_unknown_or_changed_host_key_is_refused_before_any_credential(sftp, sftp_channel, keys, known):
    root, fetch = sftp_channel
    (root / "known_hosts").write_text(sftp.known_hosts_line(keys["other_pkey"]) if known == "other" else "")
    publish(sftp, "wechat_20240501.csv", BILL)

    outcome = fetch_day(make_ws(root, {"wechat": fetch}), "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and outcome.exit_code == ExitCode.USAGE
    assert ("CHANGED" if known == "other" else "UNKNOWN") in outcome.message
    assert "\n" not in outcome.message
    assert sftp.cfg.auth_attempts == 0  # the password never left the client
    assert raw_files(make_ws(root, {"wechat": fetch})) == []


def test_wrong_password_fails_at_once_without_retrying(sftp, sftp_channel, monkeypatch):
    root, fetch = sftp_channel
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "wrong")
    publish(sftp, "wechat_20240501.csv", BILL)

    outcome = fetch_day(make_ws(root, {"wechat": fetch | {"transient_attempts": 4}}), "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and outcome.exit_code == ExitCode.STAGE_FAILED
    assert "authentication failed" in outcome.message and sftp.cfg.connections == 1


def test_dropped_connection_leaves_no_file_and_the_retry_succeeds(sftp, sftp_channel):
    root, fetch = sftp_channel
    big = BILL * 40  # ~600 KB: several SFTP reads
    publish(sftp, "wechat_20240501.csv", big)
    sftp.cfg.drop_after, sftp.cfg.drops_left = 100_000, 1
    ws = make_ws(root, {"wechat": fetch | {"transient_attempts": 1}})

    first = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert first.state is FetchState.WAITING and "interrupted" in first.message
    assert raw_files(ws) == []  # nothing promoted, no temporary left behind

    second = fetch_day(ws, "wechat", DAY, now=first.next_attempt_at)
    assert second.state is FetchState.FETCHED
    assert hashlib.sha256((ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes()).digest() == \
        hashlib.sha256(big).digest()


def test_dropped_connection_is_retried_within_the_attempt(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501.csv", BILL * 40)
    sftp.cfg.drop_after, sftp.cfg.drops_left = 50_000, 1

    outcome = fetch_day(make_ws(root, {"wechat": fetch | {"transient_attempts": 3}}), "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED and outcome.attempts == 1
    assert sftp.cfg.connections == 2


def test_a_file_still_growing_is_not_taken(sftp, sftp_channel):
    root, fetch = sftp_channel
    path = publish(sftp, "wechat_20240501.csv", BILL)
    sftp.cfg.on_stat = lambda real: real.open("ab").write(b"more,") if real == path else None

    outcome = fetch_day(make_ws(root, {"wechat": fetch}), "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.WAITING and "still being written" in outcome.message


def test_glob_with_done_markers_takes_only_finished_files(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501_0001.csv", BILL)
    publish(sftp, "wechat_20240501_0001.csv.done", b"")
    publish(sftp, "wechat_20240501_0002.csv", b"half a fi")  # no marker yet: still uploading
    publish(sftp, "wechat_20240501_0003.csv.part", b"partial")
    fetch |= {"remote_path": "/outgoing/{date:%Y%m%d}/wechat_{date:%Y%m%d}_*.csv", "done_marker": "{name}.done"}

    outcome = fetch_day(make_ws(root, {"wechat": fetch}), "wechat", DAY, now=MORNING)

    assert outcome.files == ("wechat_20240501_0001.csv",)


def test_a_day_marker_without_a_file_is_an_empty_day_with_proof(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "READY_20240501", b"no transactions on 2024-05-01\n")
    fetch |= {"done_marker": "READY_{date:%Y%m%d}"}
    ws = make_ws(root, {"wechat": fetch})

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.EMPTY and outcome.exit_code == ExitCode.OK
    manifest = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())
    assert manifest["state"] == "EMPTY" and manifest["files"] == []
    assert manifest["proof"]["answer"]["content"] == "no transactions on 2024-05-01\n"


def test_a_remote_name_that_is_not_a_plain_file_name_is_refused(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501_x\nevil.csv", BILL)
    fetch |= {"remote_path": "/outgoing/{date:%Y%m%d}/wechat_*.csv"}
    ws = make_ws(root, {"wechat": fetch})

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and "not a plain file name" in outcome.message
    assert raw_files(ws) == []
