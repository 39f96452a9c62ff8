"""Alerts for ops: a short JSON message to a webhook when a day needs a person.

Sent when a (date, channel) goes MANUAL or FAILED, or when a day's discrepancy amount passes the
configured threshold. The URL comes from an environment variable named in recon.toml (`[alerts]
webhook_env`), never from the file itself, and never appears in logs. A webhook that is down, slow
or answers an error never fails the run: the alert is logged as not delivered and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from decimal import Decimal

import httpx

from recon.money import plain

LOG = logging.getLogger("recon.alerts")


def send(webhook_env: str | None, event: str, date: dt.date, channel: str, text: str, *,
         amount: Decimal | None = None, currency: str | None = None, timeout: float = 5.0) -> bool:
    """POST one alert; returns whether the webhook accepted it. Never raises."""
    url = os.environ.get(webhook_env) if webhook_env else None
    if not url:
        return False
    body = {"source": "recon", "event": event, "date": date.isoformat(), "channel": channel, "text": text}
    if amount is not None:
        body["amount"] = plain(amount, currency)  # at the currency's exponent: JPY "2501", USD "41.00"
        if currency:
            body["currency"] = currency
    try:
        response = httpx.post(url, json=body, timeout=timeout)
        response.raise_for_status()
        return True
    except httpx.HTTPError as exc:  # the alert path must never break the run it reports on
        LOG.warning("alert %s for %s %s not delivered: %s", event, date, channel, type(exc).__name__)
        return False
