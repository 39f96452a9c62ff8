"""Helpers for the fetch tests: dates, keys, workspaces, publishing files on the test servers."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fetch_servers import SftpServer
from recon.workspace import Workspace
from jobs.catalog import open_workspace

DAY = dt.date(2024, 5, 1)
UTC = dt.timezone.utc
# 2024-05-02 02:00 UTC = 10:00 Asia/Shanghai on D+1: the bill is due, the deadline (12:00) not yet.
MORNING = dt.datetime(2024, 5, 2, 2, 0, tzinfo=UTC)
FAST = {"stable_wait": 0.05, "backoff": 0.01, "backoff_max": 2.0, "timeout": 5.0}


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey, passphrase: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, enc)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def make_ws(root: Path, channels: dict[str, dict], *, fmt: str = "wechatpay.trade") -> Workspace:
    """A workspace with one [channels.<name>.fetch] table per entry of `channels`."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ['[defaults]', 'timezone = "Asia/Shanghai"', '']
    for name, fetch in channels.items():
        if fetch.get("transport") == "http":  # a folder's settings are unknown keys to http
            fetch = {k: v for k, v in fetch.items() if k not in ("stable_wait", "done_marker")}
        lines += [f"[channels.{name}]", f'format = "{fmt}"', "", f"[channels.{name}.fetch]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in fetch.items()] + [""]
    (root / "recon.toml").write_text("\n".join(lines), encoding="utf-8")
    return open_workspace(root)


def publish(sftp: SftpServer, name: str, data: bytes, date: dt.date = DAY) -> Path:
    folder = sftp.cfg.root / "outgoing" / f"{date:%Y%m%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def raw_files(ws: Workspace, channel: str = "wechat", date: dt.date = DAY) -> list[str]:
    folder = ws.raw_dir(channel, date)
    return sorted(os.listdir(folder)) if folder.exists() else []


BILL = ("交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,应结订单金额\n"
        "`2024-05-01 10:00:00,`wx01,`1900000109,`4200000001,`M0001,`SUCCESS,`1.00\n").encode("utf-8") * 50
