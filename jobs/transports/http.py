"""HTTP statements (httpx): a plain GET, or the two-step "ask for a URL, download, verify" flow.

`flow = "direct"`: GET `url` (a date template) with headers from `headers_env` (a JSON object in
that variable, e.g. an API token). `flow = "two_step"`: GET `url` for a JSON answer
`{"download_url", "hash_type", "hash_value"}`, download that URL, and verify the hash on the bill
as stored (decompressed) — the WeChat Pay v3 pattern. `api = "wechatpay_v3"` / `"alipay"` select
the signed channel APIs (jobs.transports.wechatpay_v3 / alipay_api), registered as `recon.fetchers`
plugins named `http.<api>` so a third party adds another channel's API the same way; they reuse
this module's status table and streaming download.

Status table (FAULTS.md B4): 200 data; 204 EMPTY (the answer is kept as proof); 404 NOT_READY;
429 and 5xx transient, honouring `Retry-After`; 401/403 permanent (credentials); other 4xx
permanent. Timeouts and dropped or short bodies are transient. The body is read raw
(`Accept-Encoding: identity`), so httpx never inflates a gzip bomb behind our back: unpacking is
`jobs.transports.archive`'s, with a bound. Credential headers never follow a redirect to another
origin and every body has an overall deadline, `download_timeout` (jobs.transports.http_guard). The
two-step answer must name a hash recon can check (SHA-256, SHA1 or MD5, as the channels write them):
a bill nobody can verify is refused, never taken on trust.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx

from jobs.transports.base import (
    Availability,
    Discovery,
    Downloaded,
    PermanentFault,
    RemoteFile,
    TransientFault,
    Unavailable,
    copy_hashed,
    hash_algorithm,
    public_url,
    safe_name,
)
from jobs.transports.http_guard import GuardedClient, deadline_of, within
from jobs.transports.options import FetchOptions
from jobs.transports.plugins import load_plugin
from recon.errors import ConfigError
from recon.internal import expand

DEFAULT_URLS = {"wechatpay_v3": "https://api.mch.weixin.qq.com", "alipay": "https://openapi.alipay.com/gateway.do"}


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def check_status(response: httpx.Response, what: str) -> None:
    """Raise the fault a non-2xx status means; 404/204 are the caller's (they are answers)."""
    code = response.status_code
    if code < 300:
        return
    if code == 429 or code >= 500:
        raise TransientFault(f"{what}: HTTP {code}", retry_after=retry_after(response))
    if code in (401, 403):
        raise PermanentFault(f"{what}: HTTP {code} (credentials refused)", hint="check the channel's keys and headers_env")
    raise PermanentFault(f"{what}: HTTP {code}")


def stream_to(client: httpx.Client, url: str, dest: Path, *, headers: dict | None = None,
              expired: tuple[int, ...] = (), limit: int | None = None) -> Downloaded:
    """GET `url` into `dest` with a sha256; short bodies, drops and timeouts are transient."""
    where = public_url(url)
    try:
        with client.stream("GET", url, headers={**(headers or {}), "Accept-Encoding": "identity"}) as resp:
            if resp.status_code in expired:
                raise TransientFault(f"{where}: HTTP {resp.status_code}, the download URL expired; asking for a new one")
            if resp.status_code == 404:
                raise Unavailable(Discovery(Availability.NOT_READY, detail=f"{where}: HTTP 404 (not published yet)"))
            if resp.status_code == 204:
                resp.read()
                raise Unavailable(Discovery(Availability.EMPTY, detail=f"{where}: HTTP 204 (no statement for the day)",
                                            proof=proof_of(resp)))
            check_status(resp, where)
            # Chunks as the socket gives them (a fixed chunk size would wait for it to fill, and a drip
            # would never reach the deadline check).
            size, sha = copy_hashed(within(resp.iter_raw(), deadline_of(client), where), dest, limit=limit)
            expected = resp.headers.get("content-length")
    except httpx.TimeoutException as exc:
        raise TransientFault(f"{where}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:  # connection refused/reset, truncated body (h11 checks lengths)
        raise TransientFault(f"{where}: transfer failed ({type(exc).__name__})") from None
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise TransientFault(f"{where}: got {size} bytes, Content-Length said {expected}")
    return Downloaded(dest, size, sha, remote_size=int(expected) if expected and expected.isdigit() else None)


def get_json(client: httpx.Client, request: httpx.Request) -> tuple[httpx.Response, dict]:
    where = public_url(str(request.url))
    try:
        streamed = client.send(request, stream=True)
        try:
            content = b"".join(within(streamed.iter_bytes(), deadline_of(client), where))
        finally:
            streamed.close()
        headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() != "content-encoding"]
        resp = httpx.Response(streamed.status_code, headers=headers, content=content, request=streamed.request)
    except httpx.TimeoutException as exc:
        raise TransientFault(f"{where}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise TransientFault(f"{where}: request failed ({type(exc).__name__})") from None
    try:
        body = resp.json() if resp.content else {}
    except ValueError:
        if resp.status_code >= 500 or resp.status_code == 429:
            check_status(resp, where)
        raise PermanentFault(f"{where}: HTTP {resp.status_code}, answer is not JSON") from None
    return resp, body if isinstance(body, dict) else {"value": body}


def proof_of(resp: httpx.Response) -> dict:
    keep = ("date", "content-type", "request-id", "x-request-id")
    return {"status": resp.status_code, "headers": {k: v for k, v in resp.headers.items() if k.lower() in keep},
            "body": resp.text[:2000] if resp.content else ""}


class HttpTransport:
    def __init__(self, options: FetchOptions) -> None:
        self.options = options
        self.client: httpx.Client | None = None
        if options.api == "generic":
            options.require("url")
            self.flow = (TwoStepFlow if options.flow == "two_step" else DirectFlow)(options)
        else:  # a channel's signed API: a plugin like any other (`recon.fetchers` "http.<api>")
            self.flow = load_plugin(f"http.{options.api}", options.setting("api"))(options)

    def __enter__(self) -> HttpTransport:
        o = self.options
        timeout = httpx.Timeout(o.idle_timeout, connect=o.timeout)
        headers = self._headers()
        self.client = GuardedClient(timeout=timeout, headers=headers, follow_redirects=True,
                                    secret_headers=headers, download_timeout=o.download_timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    def _headers(self) -> dict[str, str]:
        secret = self.options.secret("headers_env")
        if secret is None:
            return {}
        try:
            headers = json.loads(secret.reveal())
        except ValueError:
            headers = None
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ConfigError(f"{self.options.setting('headers_env')}: {secret.name} must hold a JSON object of strings")
        return headers

    def discover(self, date: dt.date) -> Discovery:
        return self.flow.discover(self.client, date)

    def download(self, remote: RemoteFile, dest: Path) -> Downloaded:
        return self.flow.download(self.client, remote, dest)


def url_name(url: str, fallback: str) -> str:
    name = PurePosixPath(urlsplit(url).path).name
    try:
        return safe_name(name) if name else fallback
    except PermanentFault:
        return fallback


class DirectFlow:
    def __init__(self, options: FetchOptions) -> None:
        self.options = options

    def discover(self, client: httpx.Client, date: dt.date) -> Discovery:
        url = expand(self.options.url, date)
        name = url_name(url, f"{self.options.channel}_{date:%Y%m%d}.csv")
        return Discovery(Availability.READY, files=(RemoteFile(name=name, source=public_url(url), handle=url),))

    def download(self, client: httpx.Client, remote: RemoteFile, dest: Path) -> Downloaded:
        return stream_to(client, str(remote.handle), dest, limit=self.options.max_unpacked_bytes)


class TwoStepFlow(DirectFlow):
    def discover(self, client: httpx.Client, date: dt.date) -> Discovery:
        url = expand(self.options.url, date)
        resp, body = get_json(client, client.build_request("GET", url))
        if resp.status_code == 404:
            return Discovery(Availability.NOT_READY, detail=f"{public_url(url)}: HTTP 404 (not published yet)")
        if resp.status_code == 204:
            return Discovery(Availability.EMPTY, detail=f"{public_url(url)}: HTTP 204", proof=proof_of(resp))
        check_status(resp, public_url(url))
        link = body.get("download_url")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            raise PermanentFault(f"{public_url(url)}: answer has no download_url")
        hash_type, hash_value = body.get("hash_type"), body.get("hash_value")
        if not (isinstance(hash_type, str) and isinstance(hash_value, str) and hash_value.strip()):
            raise PermanentFault(f"{public_url(url)}: answer has no hash_type/hash_value; "
                                 "a bill that cannot be verified is not taken", hint="ask the channel to send its hash")
        hash_algorithm(hash_type, where=public_url(url))  # an unknown type is refused here, before downloading
        name = body.get("file_name") if isinstance(body.get("file_name"), str) else None
        name = safe_name(name) if name else f"{self.options.channel}_{date:%Y%m%d}.csv"
        return Discovery(Availability.READY, files=(RemoteFile(
            name=name, source=public_url(link), hash_type=hash_type, hash_value=hash_value.strip(), handle=link),))

    def download(self, client: httpx.Client, remote: RemoteFile, dest: Path) -> Downloaded:
        return stream_to(client, str(remote.handle), dest, expired=(403, 404, 410),
                         limit=self.options.max_unpacked_bytes)

