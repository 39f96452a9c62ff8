"""One HTTP request of a re-query, recorded as an `Exchange` whatever happens on the wire.

Also the base of the HTTP adapters (a client per run, closed after it) and the few readers every
adapter needs to take an answer apart: JSON, dotted paths, amounts and times, each giving None
rather than a guess when the answer holds something else.

A re-query never raises for the channel's faults: a timeout, a dropped connection or a redirect is
an answer that says nothing about the order (UNKNOWN), recorded like any other so the item's
history shows every attempt. Redirects are not followed: an order-query API has no reason to send
us elsewhere, and following one would carry our signature or key to another host. The URL kept in
the record has no query and no user info (jobs.transports.base.public_url).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import httpx

from jobs.requery.model import Exchange
from jobs.transports.base import public_url
from recon.money import MoneyError, from_minor, parse_amount

KEPT_HEADERS = ("date", "content-type", "request-id", "x-request-id", "stripe-version",
                "wechatpay-serial", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature")
MAX_BODY = 1 << 20  # an order's answer is a few KiB; more is not an answer


class HttpAdapter:
    """A re-query adapter over HTTP: one client (no redirects) for the duration of a run."""

    def __init__(self, options, rules) -> None:  # (RequeryOptions, RequeryRules)
        self.options, self.rules = options, rules
        self.http: httpx.Client | None = None

    def __enter__(self) -> HttpAdapter:
        self.http = httpx.Client(timeout=httpx.Timeout(self.options.timeout), follow_redirects=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.http is not None:
            self.http.close()
        self.http = None


def send(http: httpx.Client, request: httpx.Request, asked: str) -> Exchange:
    """Send one request; every outcome comes back as an Exchange (fault set when unusable)."""
    where = public_url(str(request.url))
    try:
        resp = http.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY:  # read no further: an order's answer is a few KiB
                    break
        finally:
            resp.close()
    except httpx.TimeoutException as exc:
        return Exchange(request.method, where, asked, fault=f"timed out ({type(exc).__name__})")
    except httpx.HTTPError as exc:  # refused or dropped connection, a truncated or undecodable body
        return Exchange(request.method, where, asked, fault=f"request failed ({type(exc).__name__})")
    # The Wechatpay-* headers are the proof an answer is WeChat's: kept to verify it and for audit.
    headers = tuple((k.lower(), v) for k, v in resp.headers.items() if k.lower() in KEPT_HEADERS)
    fault = None
    if resp.is_redirect:
        fault = f"HTTP {resp.status_code} redirect to {public_url(resp.headers.get('location', ''))} not followed"
    elif len(body) > MAX_BODY:
        fault = f"answer larger than {MAX_BODY} bytes: not an order query's answer"
    else:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:  # every channel answers in UTF-8: never read around bad bytes
            fault = f"answer is not UTF-8 (byte {exc.start}): refused"
    return Exchange(request.method, where, asked, resp.status_code, headers, bytes(body[:MAX_BODY]), fault)


def json_body(exchange: Exchange) -> dict | None:
    """The answer as a JSON object, or None when it is not one."""
    try:
        value = json.loads(exchange.body) if exchange.body else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def dig(data: dict, path: str | None) -> object:
    """`dig(answer, "amount.total")`: a dotted path into nested objects; None where it leads nowhere."""
    if not path:
        return None
    value: object = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def amount_of(value: object, currency: str | None, *, minor: bool) -> Decimal | None:
    """An answer's amount as a magnitude in major units: `1000` fen -> 10.00; None when unreadable."""
    if not isinstance(value, (int, str)) or isinstance(value, bool) or not currency:
        return None  # a JSON float has already lost the exact amount
    try:
        amount = from_minor(value, currency) if minor else parse_amount(str(value))
    except MoneyError:
        return None
    return abs(amount)


def time_of(value: object, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """ISO 8601 text (naive text read in `zone`) or seconds since the epoch, as an aware time."""
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
