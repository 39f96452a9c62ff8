"""WeChat Pay API v3 bills: `/v3/bill/tradebill` and `/v3/bill/fundflowbill` (FORMATS.md §1.1).

Two steps. (1) Apply: `GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL&tar_type=GZIP`
(or `fundflowbill` with `account_type`), signed, answering `{hash_type, hash_value, download_url}`.
(2) `GET download_url`, signed too; the answer is the gzipped bill and is *not* signed. The hash
is the SHA1 of the **decompressed** bill (hashing the gzip gives false mismatches, the
wechatpay-java#384 symptom), so `jobs.fetch` verifies it after unpacking. Download URLs expire
(30 s to 5 min), so a failed download is retried from step 1 with a fresh URL.

Every request is signed (`WECHATPAY2-SHA256-RSA2048`, jobs.transports.signing). When
`platform_public_key_file` is set, answers to step 1 are verified against WeChat's signature
before their URL or hash is believed.

Error codes: `STATEMENT_CREATING` (not generated yet) is NOT_READY; `NO_STATEMENT_EXIST` (no
activity that day) is EMPTY with the answer as proof; `SIGN_ERROR` and other 4xx are permanent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlencode

import httpx

from jobs.transports.base import Availability, Discovery, Downloaded, PermanentFault, RemoteFile
from jobs.transports.http import DEFAULT_URLS, check_status, get_json, proof_of, stream_to
from jobs.transports.options import FetchOptions
from jobs.transports.signing import load_private_key, load_public_key, verify_wechat_answer, wechat_authorization

NOT_YET = {"STATEMENT_CREATING"}
NO_ACTIVITY = {"NO_STATEMENT_EXIST"}


class WeChatPayV3Flow:
    def __init__(self, options: FetchOptions) -> None:
        options.require("mchid", "serial_no", "private_key_file")
        self.options = options
        self.base = (options.url or DEFAULT_URLS["wechatpay_v3"]).rstrip("/")
        self.key = load_private_key(options.file("private_key_file", private=True), options.setting("private_key_file"))
        self.platform = (load_public_key(options.file("platform_public_key_file"),
                                         options.setting("platform_public_key_file"))
                         if options.platform_public_key_file else None)
        self.bill = "fundflowbill" if options.account_type else "tradebill"

    def _signed(self, client: httpx.Client, url: str) -> httpx.Request:
        auth = wechat_authorization(self.key, self.options.mchid, self.options.serial_no, "GET", url)
        return client.build_request("GET", url, headers={"Authorization": auth, "Accept": "application/json"})

    def apply_url(self, date: dt.date) -> str:
        query = {"bill_date": date.isoformat(), "tar_type": "GZIP"}
        if self.bill == "fundflowbill":
            query["account_type"] = self.options.account_type
        else:
            query["bill_type"] = self.options.bill_type or "ALL"
        return f"{self.base}/v3/bill/{self.bill}?{urlencode(query)}"

    def discover(self, client: httpx.Client, date: dt.date) -> Discovery:
        url = self.apply_url(date)
        where = f"{self.base}/v3/bill/{self.bill} ({date})"
        resp, body = get_json(client, self._signed(client, url))
        self._verify_answer(resp, where)
        code = body.get("code")
        if code in NOT_YET:
            return Discovery(Availability.NOT_READY, detail=f"{where}: {code} {body.get('message', '')}".strip())
        if code in NO_ACTIVITY:
            return Discovery(Availability.EMPTY, detail=f"{where}: {code}", proof=proof_of(resp))
        if code and resp.status_code < 500 and resp.status_code != 429:
            raise PermanentFault(f"{where}: HTTP {resp.status_code} {code}: {body.get('message', '')}".strip())
        check_status(resp, where)
        link, hash_type, hash_value = body.get("download_url"), body.get("hash_type"), body.get("hash_value")
        if not (isinstance(link, str) and hash_type and hash_value):
            raise PermanentFault(f"{where}: answer lacks download_url/hash_type/hash_value")
        name = f"{self.options.channel}_{self.bill}_{date:%Y%m%d}.csv"
        return Discovery(Availability.READY, files=(RemoteFile(
            name=name, source=f"{self.base}/v3/bill/{self.bill}?bill_date={date.isoformat()}",
            hash_type=str(hash_type).upper(), hash_value=str(hash_value).lower(), handle=link),))

    def download(self, client: httpx.Client, remote: RemoteFile, dest: Path) -> Downloaded:
        link = str(remote.handle)
        auth = wechat_authorization(self.key, self.options.mchid, self.options.serial_no, "GET", link)
        return stream_to(client, link, dest, headers={"Authorization": auth}, expired=(400, 403, 404, 410),
                         limit=self.options.max_unpacked_bytes)

    def _verify_answer(self, resp: httpx.Response, where: str) -> None:
        if self.platform is not None and resp.status_code < 500:
            verify_wechat_answer(self.platform, resp.headers, resp.text, where)
