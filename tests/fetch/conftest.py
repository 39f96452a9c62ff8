"""Fixtures for the fetch tests: keys generated per session, real servers per test, workspaces.

`make_ws` (fetch_support) writes a recon.toml and opens it the way `Workspace.open` does, except
that fetch keys not yet declared by `recon.config.FetchSettings` (signing keys, timeouts, retry
budget) are left to `jobs.transports.options.FetchOptions`, which reads them from the same table.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import paramiko
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fetch_servers import HttpServer, SftpConfig, SftpServer  # noqa: E402
from fetch_support import FAST, pem, rsa_key  # noqa: E402


@pytest.fixture(scope="session")
def keys() -> dict:
    """host (server), other_host (an impostor), client (SSH user key), merchant, platform (channel API)."""
    made = {name: rsa_key() for name in ("host", "other_host", "client", "merchant", "platform")}
    made["host_pkey"] = paramiko.RSAKey.from_private_key(io.StringIO(pem(made["host"]).decode()))
    made["other_pkey"] = paramiko.RSAKey.from_private_key(io.StringIO(pem(made["other_host"]).decode()))
    made["client_pkey"] = paramiko.RSAKey.from_private_key(io.StringIO(pem(made["client"]).decode()))
    return made


@pytest.fixture()
def sftp(tmp_path: Path, keys: dict):
    root = tmp_path / "server"
    root.mkdir()
    server = SftpServer(SftpConfig(root=root, host_key=keys["host_pkey"], password="s3cret-sftp-pw",
                                   public_keys=[keys["client_pkey"]]))
    yield server
    server.close()


@pytest.fixture()
def http():
    server = HttpServer()
    yield server
    server.close()


@pytest.fixture()
def sftp_channel(tmp_path: Path, sftp: SftpServer, monkeypatch):
    """Fetch settings for the test SFTP server, password auth, host key pinned."""
    ws_root = tmp_path / "ws"
    ws_root.mkdir()
    (ws_root / "known_hosts").write_text(sftp.known_hosts_line())
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "s3cret-sftp-pw")
    return ws_root, {"transport": "sftp", "host": "127.0.0.1", "port": sftp.port, "username": "recon",
                     "password_env": "TEST_SFTP_PASSWORD", "known_hosts": "known_hosts",
                     "remote_path": "/outgoing/{date:%Y%m%d}/wechat_{date:%Y%m%d}.csv", **FAST}


