"""Alipay bills: `alipay.data.dataservice.bill.downloadurl.query` (FORMATS.md §2.1).

Step 1 calls the open-API gateway with the common parameters (`app_id`, `method`, `format=JSON`,
`charset=utf-8`, `sign_type=RSA2`, `timestamp` in Beijing time, `version=1.0`, `biz_content`)
signed RSA2 (jobs.transports.signing). The answer's `bill_download_url` must be used **within
30 seconds**, so step 2 follows at once, and a URL older than `URL_LIFETIME` is never used: the
try fails as transient and the next one asks again.

The download is a zip of GBK-named CSVs with no hash; zip CRCs and `jobs.transports.archive`'s
checks are the integrity evidence. When `platform_public_key_file` (Alipay's public key) is set,
the answer's `sign` is verified over the exact JSON text of the response node before it is used.

Answers: code 10000 is data; `isp.bill_not_exist` is NOT_READY (Alipay answers the same before
the bill is generated as for a day without activity, so it cannot be proof of an empty day:
past the deadline a person looks, MANUAL); 20000 (service unavailable) is transient; auth and
argument errors (40001, 40002, 40006) are permanent.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx

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
from jobs.transports.signing import (
    alipay_node,
    alipay_params,
    load_private_key,
    load_public_key,
    verify_alipay_answer,
)

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
NODE = alipay_node(METHOD)
URL_LIFETIME = 25.0  # seconds; Alipay allows 30
NOT_YET = {"isp.bill_not_exist", "isp.bill_not_ready"}


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
        return alipay_params(self.key, self.options.app_id, METHOD, biz, now=now)

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
        if self.alipay_key is not None:
            verify_alipay_answer(self.alipay_key, text, body.get("sign"), NODE, where)
