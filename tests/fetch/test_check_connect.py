"""`recon check --connect` against a real SFTP server: the handshake and host-key check, no download."""

from __future__ import annotations

from fetch_support import DAY, make_ws, publish

from jobs.check import problems


def test_connect_passes_on_the_pinned_host_key_and_downloads_nothing(sftp, sftp_channel):
    root, fetch = sftp_channel
    publish(sftp, "wechat_20240501.csv", b"not read by a check")
    ws = make_ws(root, {"wechat": fetch})
    assert problems(ws, connect=True, day=DAY) == []
    assert not ws.raw_dir("wechat", DAY).exists()


def test_connect_refuses_a_changed_host_key_in_one_line(sftp, sftp_channel, keys):
    root, fetch = sftp_channel
    line = sftp.known_hosts_line()
    host, kind, _ = line.split(None, 2)
    (root / "known_hosts").write_text(f"{host} {kind} {keys['other_pkey'].get_base64()}\n")
    ws = make_ws(root, {"wechat": fetch})
    assert problems(ws, day=DAY) == []  # statically fine: the file is there
    [problem] = problems(ws, connect=True, day=DAY)
    assert problem.startswith("channels.wechat.fetch: sftp connection failed") and "host key" in problem.lower()


def test_a_missing_password_variable_is_named_before_connecting(sftp, sftp_channel, monkeypatch):
    root, fetch = sftp_channel
    monkeypatch.delenv("TEST_SFTP_PASSWORD")
    ws = make_ws(root, {"wechat": fetch})
    assert problems(ws, connect=True, day=DAY) == [
        "channels.wechat.fetch.password_env names environment variable TEST_SFTP_PASSWORD, which is not set"]
