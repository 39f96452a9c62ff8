"""WeChat Pay API v3 bills: `/v3/bill/tradebill` and `/v3/bill/fundflowbill` (FORMATS.md §1.1).

Two steps. (1) Apply: `GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL&tar_type=GZIP`
(or `fundflowbill` with `account_type`), signed, answering `{hash_type, hash_value, download_url}`.
(2) `GET download_url`, signed too; the answer is the gzipped bill and is *not* signed. The hash
is the SHA1 of the **decompressed** bill (hashing the gzip gives false mismatches, the
wechatpay-java#384 symptom), so `jobs.fetch` verifies it after unpacking. Download URLs expire
(30 s to 5 min), so a failed download is retried from step 1 with a fresh URL.

Every request carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
signature="..",timestamp="..",serial_no=".."`, the signature being SHA256withRSA (PKCS#1 v1.5) by
the merchant's private key over `METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`. When
`platform_public_key_file` is set, answers to step 1 are verified against WeChat's signature
(`Wechatpay-Signature` over `TIMESTAMP\\nNONCE\\nBODY\\n`) before their URL or hash is believed.

Error codes: `STATEMENT_CREATING` (not generated yet) is NOT_READY; `NO_STATEMENT_EXIST` (no
activity that day) is EMPTY with the answer as proof; `SIGN_ERROR` and other 4xx are permanent.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jobs.transports.base import Availability, Discovery, Downloaded, PermanentFault, RemoteFile, TransientFault
from jobs.transports.http import DEFAULT_URLS, check_status, get_json, proof_of, stream_to
from jobs.transports.options import FetchOptions
from recon.errors import ConfigError

SCHEME = "WECHATPAY2-SHA256-RSA2048"
NOT_YET = {"STATEMENT_CREATING"}
NO_ACTIVITY = {"NO_STATEMENT_EXIST"}


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


def authorization(key: rsa.RSAPrivateKey, mchid: str, serial_no: str, method: str, url: str, body: str = "",
                  *, timestamp: int | None = None, nonce: str | None = None) -> str:
    """The v3 `Authorization` header for one request (url: absolute or path+query)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or secrets.token_hex(16).upper()
    message = f"{method}\n{target}\n{ts}\n{nonce}\n{body}\n".encode()
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return (f'{SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{ts}",serial_no="{serial_no}"')


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
        auth = authorization(self.key, self.options.mchid, self.options.serial_no, "GET", url)
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
        auth = authorization(self.key, self.options.mchid, self.options.serial_no, "GET", link)
        return stream_to(client, link, dest, headers={"Authorization": auth}, expired=(400, 403, 404, 410),
                         limit=self.options.max_unpacked_bytes)

    def _verify_answer(self, resp: httpx.Response, where: str) -> None:
        if self.platform is None or resp.status_code >= 500:
            return
        h = resp.headers
        ts, nonce, sig = h.get("wechatpay-timestamp"), h.get("wechatpay-nonce"), h.get("wechatpay-signature")
        if not (ts and nonce and sig):
            raise TransientFault(f"{where}: answer is not signed (no Wechatpay-Signature); not trusting it")
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            raise TransientFault(f"{where}: answer's Wechatpay-Timestamp is more than 5 minutes off")
        message = f"{ts}\n{nonce}\n{resp.text}\n".encode()
        try:
            self.platform.verify(base64.b64decode(sig), message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise PermanentFault(f"{where}: answer's signature does not verify with platform_public_key_file") from None
