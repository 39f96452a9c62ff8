"""Signing our requests and verifying the channel's answers: WeChat Pay API v3 and Alipay open API.

Both the bill download (jobs.transports.wechatpay_v3 / alipay_api) and the order re-query
(jobs.requery) talk to the same two APIs with the same keys, so the cryptography lives here once.
Both use SHA256withRSA (PKCS#1 v1.5) with base64 signatures:

- WeChat Pay v3: every request carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",
  nonce_str="..",signature="..",timestamp="..",serial_no=".."`, signed by the merchant's key over
  `METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`. WeChat signs each answer with its platform
  key over `TIMESTAMP\\nNONCE\\nBODY\\n` (headers `Wechatpay-Timestamp`, `-Nonce`, `-Signature`).
  An answer without a signature or older than five minutes is not believed (a replay), and one
  whose signature does not verify is refused.
- Alipay: the request's parameters except `sign`, non-empty, sorted by name and joined as
  `k=v&k=v` with raw values, signed by the app's key (`sign_type=RSA2`). Alipay signs the exact
  JSON text of the answer's `<method>_response` node, carried beside it as `sign`.

Refusals are fetch faults, so a bill download retries an unsigned or stale answer and stops on a
forged one, and a re-query records any of them as "no answer" (UNKNOWN).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jobs.transports.base import PermanentFault, TransientFault
from recon.errors import ConfigError

WECHAT_SCHEME = "WECHATPAY2-SHA256-RSA2048"
WECHAT_MAX_SKEW = 300  # seconds an answer's Wechatpay-Timestamp may be off (WeChat's own rule)
BEIJING = ZoneInfo("Asia/Shanghai")  # Alipay's gateway reads request timestamps in Beijing time


class AnswerNotSigned(TransientFault):
    """The answer carries no signature, or an old one: not believed, asked again."""


class AnswerForged(PermanentFault):
    """The answer's signature does not verify with the channel's public key."""


# --- keys --------------------------------------------------------------------------------------
def load_private_key(path: Path, setting: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{setting}: {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{setting}: {path} is not an RSA key")
    return key


def load_public_key(path: Path, setting: str) -> rsa.RSAPublicKey:
    data = path.read_bytes()
    try:
        if b"CERTIFICATE" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ConfigError(f"{setting}: {path} is not a PEM public key or certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(f"{setting}: {path} is not an RSA key")
    return key


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verifies(key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- WeChat Pay v3 ------------------------------------------------------------------------------
def wechat_authorization(key: rsa.RSAPrivateKey, mchid: str, serial_no: str, method: str, url: str,
                         body: str = "", *, timestamp: int | None = None, nonce: str | None = None) -> str:
    """The v3 `Authorization` header for one request (url: absolute or path+query)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or secrets.token_hex(16).upper()
    signature = rsa_sign(key, f"{method}\n{target}\n{ts}\n{nonce}\n{body}\n".encode())
    return (f'{WECHAT_SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{ts}",serial_no="{serial_no}"')


def verify_wechat_answer(key: rsa.RSAPublicKey, headers: Mapping[str, str], body: str, where: str,
                         *, now: float | None = None) -> None:
    """Raise unless the answer is signed by WeChat's platform key within the last five minutes."""
    ts, nonce, sig = (headers.get(f"wechatpay-{h}") for h in ("timestamp", "nonce", "signature"))
    if not (ts and nonce and sig):
        raise AnswerNotSigned(f"{where}: answer is not signed (no Wechatpay-Signature); not trusting it")
    if not ts.isdigit() or abs((time.time() if now is None else now) - int(ts)) > WECHAT_MAX_SKEW:
        raise AnswerNotSigned(f"{where}: answer's Wechatpay-Timestamp is more than 5 minutes off; not trusting it")
    if not rsa_verifies(key, f"{ts}\n{nonce}\n{body}\n".encode(), sig):
        raise AnswerForged(f"{where}: answer's signature does not verify with platform_public_key_file")


# --- Alipay ---------------------------------------------------------------------------------------
def alipay_sign_content(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] not in (None, ""))


def alipay_sign(key: rsa.RSAPrivateKey, params: Mapping[str, str]) -> str:
    return rsa_sign(key, alipay_sign_content(params).encode("utf-8"))


def alipay_params(key: rsa.RSAPrivateKey, app_id: str, method: str, biz: Mapping[str, str],
                  *, now: dt.datetime | None = None) -> dict[str, str]:
    """The gateway's form for one call: the common parameters (timestamp in Beijing time), signed."""
    params = {
        "app_id": app_id, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
        "version": "1.0",
        "timestamp": (now or dt.datetime.now(BEIJING)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        "biz_content": json.dumps(dict(biz), separators=(",", ":"), ensure_ascii=False),
    }
    params["sign"] = alipay_sign(key, params)
    return params


def alipay_node(method: str) -> str:
    """`alipay.trade.query` answers in `alipay_trade_query_response`."""
    return method.replace(".", "_") + "_response"


def alipay_node_text(text: str, node: str) -> str | None:
    """The exact JSON text of the response node, which is what Alipay signs."""
    match = re.search(rf'"{re.escape(node)}"\s*:\s*', text)
    if not match:
        return None
    start, depth, in_str, escape = match.end(), 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def verify_alipay_answer(key: rsa.RSAPublicKey, text: str, sign: object, node: str, where: str) -> None:
    """Raise unless `sign` is Alipay's signature of the answer's response node."""
    signed = alipay_node_text(text, node)
    if not (signed and isinstance(sign, str)):
        raise AnswerForged(f"{where}: answer is not signed; not trusting it")
    if not rsa_verifies(key, signed.encode("utf-8"), sign):
        raise AnswerForged(f"{where}: answer's sign does not verify with platform_public_key_file")
