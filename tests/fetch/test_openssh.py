"""SFTP fetches against a real OpenSSH `sshd` on 127.0.0.1 (the paramiko server is in test_sftp.py).

One sshd runs for the session, started by the test with its own config: a host key generated here,
public-key auth only, the client key from the `keys` fixture in a temporary authorized_keys file,
and `internal-sftp` without a chroot, so every test serves a folder of its own by absolute path.
It needs the privilege-separation directory /run/sshd, created if missing (and left in place:
another sshd may be using it by the time we finish).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pwd
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fetch_support import BILL, DAY, FAST, MORNING, make_ws, pem, publish, raw_files, write_private

from jobs.fetch import FetchState, fetch_day
from recon.errors import ExitCode

SSHD = Path("/usr/sbin/sshd")
pytestmark = pytest.mark.skipif(not os.access(SSHD, os.X_OK),
                                reason=f"OpenSSH sshd is not installed here ({SSHD} missing); "
                                       "test_sftp.py's paramiko server covers SSH")

USER = pwd.getpwuid(os.getuid()).pw_name  # sshd logs in as whoever runs the tests (root in CI)
PASSPHRASE = "key-passphrase-openssh"


def ed25519_pair() -> tuple[bytes, str]:
    """(private key in OpenSSH format, "ssh-ed25519 AAAA...")."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sshd:
    port: int
    host_public: str  # "ssh-ed25519 AAAA..."
    log: Path  # sshd's stderr (-e)

    def known_hosts_line(self, public: str | None = None) -> str:
        return f"[127.0.0.1]:{self.port} {public or self.host_public}\n"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Served:
    root: Path  # the folder this test publishes into; an absolute path on the server


@dataclass
class Site:
    """One test's view of the session's sshd; `cfg.root` is what fetch_support.publish writes under."""
    sshd: Sshd
    cfg: Served

    @property
    def port(self) -> int:
        return self.sshd.port


def _wait_for_banner(proc: subprocess.Popen, port: int, log: Path, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                if s.recv(64).startswith(b"SSH-2.0-OpenSSH"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"sshd did not answer on 127.0.0.1:{port} within {limit:.0f}s: "
                f"{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory, keys) -> Sshd:
    home = tmp_path_factory.mktemp("sshd")
    private, public = ed25519_pair()
    host_key = write_private(home / "ssh_host_ed25519_key", private)
    client = keys["client_pkey"]
    authorized = home / "authorized_keys"
    authorized.write_text(f"{client.get_name()} {client.get_base64()} recon-test-client\n")
    config = home / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1",
        f"HostKey {host_key}",
        f"PidFile {home / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized}",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        "PrintMotd no",
        "LoginGraceTime 10",
        "Subsystem sftp internal-sftp",
        "ChrootDirectory none",
        "",
    ]))
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    port = free_port()
    log = home / "sshd.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config), "-p", str(port)],
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        _wait_for_banner(proc, port, log)
        yield Sshd(port=port, host_public=public, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture()
def openssh(tmp_path: Path, sshd: Sshd) -> Site:
    root = tmp_path / "server"
    root.mkdir()
    return Site(sshd, Served(root))


@pytest.fixture()
def openssh_channel(tmp_path: Path, openssh: Site, keys, monkeypatch):
    """Fetch settings for the sshd: an encrypted private key, its passphrase from the environment,
    the host key pinned in the workspace's known_hosts."""
    ws_root = tmp_path / "ws"
    ws_root.mkdir()
    (ws_root / "known_hosts").write_text(openssh.sshd.known_hosts_line())
    write_private(ws_root / "id_rsa", pem(keys["client"], PASSPHRASE.encode()))
    monkeypatch.setenv("TEST_KEY_PASSPHRASE", PASSPHRASE)
    served = openssh.cfg.root
    return ws_root, {"transport": "sftp", "host": "127.0.0.1", "port": openssh.port, "username": USER,
                     "key_file": "id_rsa", "key_passphrase_env": "TEST_KEY_PASSPHRASE", "known_hosts": "known_hosts",
                     "remote_path": f"{served}/outgoing/{{date:%Y%m%d}}/wechat_{{date:%Y%m%d}}.csv", **FAST}


def test_fetch_by_private_key_writes_the_file_and_a_manifest(openssh, openssh_channel):
    root, fetch = openssh_channel
    source = publish(openssh, "wechat_20240501.csv", BILL)
    ws = make_ws(root, {"wechat": fetch})
    log_from = len(openssh.sshd.log_text())

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED and outcome.exit_code == ExitCode.OK, outcome.message
    assert outcome.files == ("wechat_20240501.csv",)
    assert raw_files(ws) == ["manifest.json", "wechat_20240501.csv"]
    assert (ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes() == BILL
    manifest = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())
    entry = manifest["files"][0]
    assert manifest["state"] == "FETCHED"
    assert entry["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest() and entry["size"] == len(BILL)
    assert entry["source"] == f"sftp://{USER}@127.0.0.1:{openssh.port}{source}"
    assert f"Accepted publickey for {USER} from 127.0.0.1" in openssh.sshd.log_text()[log_from:]


@pytest.mark.parametrize("known", ["other", "none"])
def test_a_changed_or_unknown_host_key_is_refused_before_any_credential(openssh, openssh_channel, known):
    root, fetch = openssh_channel
    other = openssh.sshd.known_hosts_line(ed25519_pair()[1])  # same host and key type, another key
    (root / "known_hosts").write_text(other if known == "other" else "")
    publish(openssh, "wechat_20240501.csv", BILL)
    ws = make_ws(root, {"wechat": fetch})
    log_from = len(openssh.sshd.log_text())

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and outcome.exit_code == ExitCode.USAGE
    assert ("CHANGED" if known == "other" else "UNKNOWN") in outcome.message
    assert "\n" not in outcome.message
    assert raw_files(ws) == []
    # Once the client hangs up, sshd logs how the connection ended: before authentication
    # ("[preauth]"), and not as an "authenticating user": no key was offered.
    deadline = time.monotonic() + 3
    while "[preauth]" not in openssh.sshd.log_text()[log_from:] and time.monotonic() < deadline:
        time.sleep(0.05)
    ended = openssh.sshd.log_text()[log_from:]
    assert "by 127.0.0.1 port" in ended and "[preauth]" in ended, ended
    assert "authenticating user" not in ended and "Accepted" not in ended, ended


def test_a_file_published_late_is_fetched_by_a_later_attempt(openssh, openssh_channel):
    root, fetch = openssh_channel
    ws = make_ws(root, {"wechat": fetch})

    first = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert first.state is FetchState.WAITING and first.exit_code == ExitCode.NOT_READY, first.message
    assert "not published yet" in first.message and first.next_attempt_at > MORNING
    assert raw_files(ws) == []

    source = publish(openssh, "wechat_20240501.csv", BILL)
    early = fetch_day(ws, "wechat", DAY, now=first.next_attempt_at - dt.timedelta(minutes=1))
    assert early.state is FetchState.WAITING and early.attempts == 1  # not due: nobody contacted

    later = fetch_day(ws, "wechat", DAY, now=first.next_attempt_at + dt.timedelta(seconds=1))

    assert later.state is FetchState.FETCHED and later.attempts == 2, later.message
    assert (ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes() == source.read_bytes()
    manifest = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())
    assert manifest["files"][0]["sha256"] == hashlib.sha256(BILL).hexdigest()
