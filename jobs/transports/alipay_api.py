"""Alipay bills: `alipay.data.dataservice.bill.downloadurl.query` (FORMATS.md §2.1).

Step 1 calls the open-API gateway with the common parameters (`app_id`, `method`, `format=JSON`,
`charset=utf-8`, `sign_type=RSA2`, `timestamp` in Beijing time, `version=1.0`, `biz_content`)
signed RSA2: SHA256withRSA (PKCS#1 v1.5) by the app's private key over every non-empty parameter
except `sign`, sorted by name and joined as `k=v&k=v` with raw (unencoded) values. The answer's
`bill_download_url` must be used **within 30 seconds**, so step 2 follows at once, and a URL older
than `URL_LIFETIME` is never used: the try fails as transient and the next one asks again.

The download is a zip of GBK-named CSVs with no hash; zip CRCs and `jobs.transports.archive`'s
checks are the integrity evidence. When `platform_public_key_file` (Alipay's public key) is set,
the answer's `sign` is verified over the exact JSON text of the response node before it is used.

Answers: code 10000 is data; `isp.bill_not_exist` is NOT_READY (Alipay answers the same before
the bill is generated as for a day without activity, so it cannot be proof of an empty day:
past the deadline a person looks, MANUAL); 20000 (service unavailable) is transient; auth and
argument errors (40001, 40002, 40006) are permanent.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jobs.transports.base import (
    Availability,
    Discovery,
    Downloaded,
    PermanentFault,
    RemoteFile,
    TransientFault,
    public_url,
)
from jobs.transports.http import DEFAULT_URLS, check_status, get_json, stream_to
from jobs.transports.options import FetchOptions
from jobs.transports.wechatpay_v3 import load_private_key, load_public_key

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
NODE = METHOD.replace(".", "_") + "_response"
URL_LIFETIME = 25.0  # seconds; Alipay allows 30
NOT_YET = {"isp.bill_not_exist", "isp.bill_not_ready"}
BEIJING = ZoneInfo("Asia/Shanghai")


def sign_content(params: dict[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] not in (None, ""))


def sign_params(key: rsa.RSAPrivateKey, params: dict[str, str]) -> str:
    digest = key.sign(sign_content(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(digest).decode()


def response_node_text(text: str) -> str | None:
    """The exact JSON text of the response node, which is what Alipay signs."""
    match = re.search(rf'"{NODE}"\s*:\s*', text)
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


class AlipayFlow:
    def __init__(self, options: FetchOptions) -> None:
        options.require("app_id", "private_key_file")
        self.options = options
        self.gateway = options.url or DEFAULT_URLS["alipay"]
        self.key = load_private_key(options.file("private_key_file", private=True), options.setting("private_key_file"))
        self.alipay_key = (load_public_key(options.file("platform_public_key_file"),
                                           options.setting("platform_public_key_file"))
                           if options.platform_public_key_file else None)

    def params(self, date: dt.date, now: dt.datetime | None = None) -> dict[str, str]:
        biz = {"bill_type": self.options.bill_type or "trade", "bill_date": date.isoformat()}
        params = {
            "app_id": self.options.app_id, "method": METHOD, "format": "JSON", "charset": "utf-8",
            "sign_type": "RSA2", "version": "1.0",
            "timestamp": (now or dt.datetime.now(BEIJING)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "biz_content": json.dumps(biz, separators=(",", ":")),
        }
        params["sign"] = sign_params(self.key, params)
        return params

    def discover(self, client: httpx.Client, date: dt.date) -> Discovery:
        where = f"{public_url(self.gateway)} {METHOD} ({date})"
        request = client.build_request("POST", self.gateway, data=self.params(date))
        resp, body = get_json(client, request)
        check_status(resp, where)
        self._verify_answer(resp.text, body, where)
        node = body.get(NODE) or {}
        code, sub = str(node.get("code", "")), str(node.get("sub_code", ""))
        said = f"{code} {sub} {node.get('sub_msg') or node.get('msg') or ''}".strip()
        if code == "10000" and isinstance(node.get("bill_download_url"), str):
            name = f"{self.options.channel}_{date:%Y%m%d}.csv.zip"
            return Discovery(Availability.READY, files=(RemoteFile(
                name=name, source=public_url(node["bill_download_url"]),
                handle=(node["bill_download_url"], time.monotonic())),))
        if sub in NOT_YET:
            return Discovery(Availability.NOT_READY, detail=f"{where}: {said}")
        if code in ("20000", "20001") or sub.startswith("isp.unknow"):
            raise TransientFault(f"{where}: {said}")
        raise PermanentFault(f"{where}: {said or 'unexpected answer'}")

    def download(self, client: httpx.Client, remote: RemoteFile, dest: Path) -> Downloaded:
        url, issued = remote.handle
        if time.monotonic() - issued > URL_LIFETIME:
            raise TransientFault(f"{remote.source}: download URL is older than {URL_LIFETIME:.0f}s; asking for a new one")
        return stream_to(client, url, dest, expired=(403, 404, 410), limit=self.options.max_unpacked_bytes)

    def _verify_answer(self, text: str, body: dict, where: str) -> None:
        if self.alipay_key is None:
            return
        signed, sign = response_node_text(text), body.get("sign")
        if not (signed and isinstance(sign, str)):
            raise PermanentFault(f"{where}: answer is not signed; not trusting it")
        try:
            self.alipay_key.verify(base64.b64decode(sign), signed.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise PermanentFault(f"{where}: answer's sign does not verify with platform_public_key_file") from None
