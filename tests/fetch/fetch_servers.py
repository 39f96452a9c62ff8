"""Real servers on 127.0.0.1 for the fetch tests: a paramiko SFTP server and a stdlib HTTP server.

The SFTP server speaks real SSH (key exchange, host key, password and public-key auth) and serves a
folder, with fault hooks: drop the connection after N bytes of a read, change a file when it is
stat'ed. The HTTP server dispatches each path to a handler function the test writes inline.

The channel APIs' side of their signatures (WeChat Pay v3, Alipay) is at the end: handlers verify
the merchant's request signature and sign their answers the way the real servers do, written
from the channels' documentation with `cryptography` directly, not with the code under test.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import time
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import paramiko
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface


@dataclass
class SftpConfig:
    root: Path
    host_key: paramiko.PKey
    username: str = "recon"
    password: str | None = None
    public_keys: list = field(default_factory=list)
    drop_after: int | None = None  # close the connection once a read passes this offset ...
    drops_left: int = 0  # ... this many times
    on_stat: Callable[[Path], None] | None = None
    connections: int = 0
    auth_attempts: int = 0


class _Server(paramiko.ServerInterface):
    def __init__(self, cfg: SftpConfig, transport: paramiko.Transport) -> None:
        self.cfg, self.transport = cfg, transport

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        self.cfg.auth_attempts += 1
        ok = self.cfg.password is not None and username == self.cfg.username and password == self.cfg.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        self.cfg.auth_attempts += 1
        ok = username == self.cfg.username and any(key == k for k in self.cfg.public_keys)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(SFTPHandle):
    def read(self, offset: int, length: int):
        cfg = self.server_ref.cfg
        if cfg.drop_after is not None and cfg.drops_left > 0 and offset + length > cfg.drop_after:
            cfg.drops_left -= 1
            self.server_ref.transport.close()
            return SFTPServer.convert_errno(5)
        return super().read(offset, length)


class _SFTP(SFTPServerInterface):
    def __init__(self, server: _Server, *args, **kwargs) -> None:
        super().__init__(server, *args, **kwargs)
        self.server_ref = server

    def _real(self, path: str) -> Path:
        real = (self.server_ref.cfg.root / path.lstrip("/")).resolve()
        if not str(real).startswith(str(self.server_ref.cfg.root.resolve())):
            raise PermissionError(path)
        return real

    def _attrs(self, path: str):
        try:
            real = self._real(path)
            if self.server_ref.cfg.on_stat:
                self.server_ref.cfg.on_stat(real)
            return SFTPAttributes.from_stat(os.stat(real))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno or 2)

    stat = lstat = _attrs

    def list_folder(self, path: str):
        try:
            real = self._real(path)
            return [SFTPAttributes.from_stat(os.stat(real / n), filename=n) for n in os.listdir(real)]
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno or 2)

    def open(self, path: str, flags: int, attr):
        try:
            fh = open(self._real(path), "rb")
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno or 2)
        handle = _Handle(flags)
        handle.readfile, handle.filename, handle.server_ref = fh, path, self.server_ref
        return handle


class SftpServer:
    def __init__(self, cfg: SftpConfig) -> None:
        self.cfg = cfg
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.cfg.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.cfg.host_key)
        transport.set_subsystem_handler("sftp", SFTPServer, _SFTP)
        try:
            transport.start_server(server=_Server(self.cfg, transport))
        except (paramiko.SSHException, EOFError, OSError):
            transport.close()

    def known_hosts_line(self, key: paramiko.PKey | None = None) -> str:
        key = key or self.cfg.host_key
        return f"[127.0.0.1]:{self.port} {key.get_name()} {key.get_base64()}\n"

    def close(self) -> None:
        self._stop = True
        self.sock.close()


# --- HTTP -----------------------------------------------------------------------------------------
Route = Callable[[BaseHTTPRequestHandler], None]


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; don't wait 40 ms between them

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        route = self.server.routes.get(path)
        if route is None:  # a route ending in "/" serves every path below it (an API's resources)
            below = [p for p in self.server.routes if p.endswith("/") and path.startswith(p)]
            route = self.server.routes[max(below, key=len)] if below else None
        if route is None:
            send(self, 404, b"not found")
        else:
            route(self)

    do_GET = do_POST = _dispatch

    def log_message(self, *args) -> None:  # keep test output quiet
        return


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict | None = None) -> None:
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def read_body(h: BaseHTTPRequestHandler) -> bytes:
    return h.rfile.read(int(h.headers.get("Content-Length") or 0))


class HttpServer:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HttpHandler)
        self.httpd.daemon_threads = True
        self.httpd.routes, self.httpd.requests = {}, []
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def requests(self) -> list:
        return self.httpd.requests

    def route(self, path: str, fn: Route) -> str:
        self.httpd.routes[path] = fn
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- channel APIs: the server's side of their signatures -------------------------------------------
def signed_by(public_key, message: bytes, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


def sign_b64(private_key, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def wechat_request_ok(h: BaseHTTPRequestHandler, merchant_public, mchid: str, serial: str, body: str = "") -> bool:
    """Does the request carry a valid WECHATPAY2-SHA256-RSA2048 header of this merchant (5-minute window)?"""
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
        return False
    fields = dict(re.findall(r'(\w+)="([^"]*)"', auth))
    if fields.get("mchid") != mchid or fields.get("serial_no") != serial:
        return False
    if abs(time.time() - int(fields.get("timestamp", "0"))) > 300:
        return False
    message = f"{h.command}\n{h.path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n".encode()
    return signed_by(merchant_public, message, fields.get("signature", ""))


def wechat_reply(h: BaseHTTPRequestHandler, status: int, body: dict, platform_key, *,
                 timestamp: int | None = None, text: str | None = None) -> None:
    """Answer as WeChat does: JSON signed by the platform key over timestamp, nonce and body.

    `timestamp` fakes a stale answer; `text` sends a body other than the one signed (a forgery).
    """
    signed = json.dumps(body, ensure_ascii=False)
    ts, nonce = str(timestamp if timestamp is not None else int(time.time())), secrets.token_hex(8)
    signature = sign_b64(platform_key, f"{ts}\n{nonce}\n{signed}\n".encode())
    send(h, status, (text if text is not None else signed).encode(), {
        "Content-Type": "application/json", "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature, "Wechatpay-Serial": "PLATFORM1"})


def alipay_request(h: BaseHTTPRequestHandler, app_public, app_id: str) -> tuple[dict[str, str], bool]:
    """The gateway form and whether its RSA2 `sign` verifies (all non-empty params but sign, sorted)."""
    params = dict(parse_qsl(read_body(h).decode("utf-8"), keep_blank_values=True))
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v)
    ok = (params.get("sign_type") == "RSA2" and params.get("app_id") == app_id
          and signed_by(app_public, content.encode("utf-8"), params.get("sign", "")))
    return params, ok


def alipay_reply(h: BaseHTTPRequestHandler, node_name: str, node: dict, platform_key, *,
                 sign_key=None) -> None:
    """Answer as Alipay does: `{"<node_name>": {...}, "sign": "..."}`, the node's exact text signed."""
    text = json.dumps(node, ensure_ascii=False)
    sign = sign_b64(sign_key or platform_key, text.encode("utf-8"))
    send(h, 200, f'{{"{node_name}":{text},"sign":"{sign}"}}'.encode("utf-8"), {"Content-Type": "application/json"})
