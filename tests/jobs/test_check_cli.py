"""`recon check [--connect]`: each class of misconfiguration is one line and exit 2, before any fetch."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

from tests.jobs.conftest import RECON, make_workspace, recon


def closed_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def edit(ws: Path, old: str, new: str) -> None:
    text = (ws / "recon.toml").read_text()
    assert old in text, old
    (ws / "recon.toml").write_text(text.replace(old, new))


SFTP = '''transport = "sftp"
host = "127.0.0.1"
port = {port}
username = "recon"
password_env = "RECON_TEST_UNSET_PASSWORD"
known_hosts = "keys/known_hosts"
key_file = "keys/id_missing"
remote_path = "/out/wechat_{{date:%Y%m%d}}.csv"'''

CASES = {
    "format": (('format = "wechatpay.trade"', 'format = "wechatpay.trades"'), "channels.wechat.format: unknown format"),
    "rules": (('account = "1900000109"', 'account = "1900000109"\nrules = "wechat"'), "channels.wechat.rules:"),
    "path": (('path = "drop/wechat_', 'path = "dorp/wechat_'), "channels.wechat.fetch.path: folder"),
    "deadline": (('deadline = "D+3650 12:00"', 'deadline = "tomorrow noon"'), "channels.wechat.fetch.deadline:"),
    "internal": (('path = "internal/wechat_', 'path = "internals/wechat_'), "channels.wechat.internal.path: folder"),
    "store": (('url = "sqlite:///recon.db"', 'url = "postgresql+psycopg://recon@127.0.0.1:{port}/test"'),
              "store.url: cannot open the store"),
    "sql": (('source = "file"', 'source = "sql"\nurl = "postgresql+psycopg://x@127.0.0.1:{port}/test"\nquery = "SELECT 1"'),
            "channels.wechat.internal.url: cannot connect"),
    "env": (("[channels.wechat]", '[alerts]\nwebhook_env = "RECON_TEST_UNSET_HOOK"\n\n[channels.wechat]'),
            "alerts.webhook_env names environment variable RECON_TEST_UNSET_HOOK, which is not set"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_misconfiguration_is_one_line_and_exit_2_and_run_fetches_nothing(tmp_path, case):
    ws = make_workspace(tmp_path / "ws")
    (old, new), expected = CASES[case]
    edit(ws, old, new.format(port=closed_port()))
    if case == "sql":  # keep our side's path out of the way: only the connection is wrong
        edit(ws, 'path = "internal/wechat_{date:%Y-%m-%d}.csv"\n', "")
    done = recon(ws, "check")
    assert done.returncode == 2, done.stdout + done.stderr
    assert [line for line in done.stderr.splitlines() if expected in line], done.stderr
    assert all(line.startswith("error: ") for line in done.stderr.splitlines())

    run = recon(ws, "run", "--date", "2026-11-20", "--quiet")
    assert run.returncode == 2 and expected in run.stderr
    assert not (ws / "raw" / "wechat").exists(), "something was fetched before the check"


def test_sftp_keys_known_hosts_and_environment_are_each_named(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    text = (ws / "recon.toml").read_text()
    block = re.search(r'transport = "local"\npath = "[^"]+"', text).group(0)
    (ws / "recon.toml").write_text(text.replace(block, SFTP.format(port=closed_port())))
    done = recon(ws, "check")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert any("channels.wechat.fetch.password_env names environment variable RECON_TEST_UNSET_PASSWORD" in ln for ln in lines)
    assert any("channels.wechat.fetch.known_hosts:" in ln and "does not exist" in ln for ln in lines)
    assert any("channels.wechat.fetch.key_file:" in ln and "does not exist" in ln for ln in lines)


def test_connect_opens_each_transport_without_downloading(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    ok = recon(ws, "check", "--connect")
    assert ok.returncode == 0 and ok.stdout.startswith("OK "), ok.stderr
    assert not (ws / "raw" / "wechat").exists()

    text = (ws / "recon.toml").read_text()
    block = re.search(r'transport = "local"\npath = "[^"]+"', text).group(0)
    port = closed_port()
    (ws / "recon.toml").write_text(text.replace(
        block, f'transport = "http"\nurl = "http://127.0.0.1:{port}/bills/{{date:%Y%m%d}}.csv"\ntransient_attempts = 1'))
    assert recon(ws, "check").returncode == 0  # statically fine: only a connection finds it
    refused = recon(ws, "check", "--connect")
    assert refused.returncode == 2
    assert "channels.wechat.fetch: http connection failed" in refused.stderr


def test_the_init_template_runs_when_uncommented(tmp_path):
    ws = tmp_path / "new"
    assert subprocess.run([RECON, "init", str(ws)], capture_output=True).returncode == 0
    text = (ws / "recon.toml").read_text()
    uncommented = re.sub(r"^# (\[channels|format|account|rules|transport|path|source)", r"\1", text, flags=re.M)
    assert uncommented != text
    (ws / "recon.toml").write_text(uncommented)
    done = recon(ws, "check")
    assert done.returncode == 0, done.stderr
    assert recon(ws, "run", "--date", "2026-11-20", "--quiet").returncode in (3, 6)  # waits for its statement
