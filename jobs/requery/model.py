"""The records of a re-query: what we ask about, what went over the wire, what the answer said.

An adapter turns a `Target` (one order or refund of a queue item, with every id either side knows)
into one `Exchange` (the request as it may be recorded, never with a credential, and the answer's
bytes) and a `Reading` (the codes, amount and time the answer carries, before anything is made of
them). What a reading *means* is the rule set's business (jobs.requery.codes), so an adapter never
decides SUCCESS or FAILED.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from recon.errors import ReconError


@dataclass(frozen=True, slots=True)
class Target:
    """One order (or refund) of a queue item, with the ids both sides know it by."""

    item_id: int
    channel: str
    account: str
    refund: bool
    merchant_txn_id: str | None = None
    channel_txn_id: str | None = None
    merchant_refund_id: str | None = None
    channel_refund_id: str | None = None
    currency: str | None = None
    paid_at: dt.datetime | None = None  # when either side says the money moved

    def ids(self) -> dict[str, str]:
        names = ("merchant_txn_id", "channel_txn_id", "merchant_refund_id", "channel_refund_id", "account")
        return {n: getattr(self, n) for n in names if getattr(self, n)}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer as recorded: the URL without query or user info, no credentials."""

    method: str
    url: str
    asked: str  # what was asked, fit for a log line: path and query, or the call's business parameters
    status: int | None = None  # None: no answer came back
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    fault: str | None = None  # why the answer cannot be used (timeout, redirect, refused signature)

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.body).hexdigest() if self.body else None

    def text(self) -> str:
        """The body as text; `send` has refused (fault set) any answer that is not UTF-8."""
        return self.body.decode("utf-8")


@dataclass(frozen=True, slots=True)
class Reading:
    """What an answer carries: an API error code (layer 1), or a state field's code (layer 2) and figures."""

    error: str | None = None  # the API refused or failed the call, with this code
    field: str | None = None  # which state field the business code comes from
    code: str | None = None
    amount: Decimal | None = None  # a magnitude in major units: refunds are not negative here
    currency: str | None = None
    time: dt.datetime | None = None
    channel_txn_id: str | None = None


class Unaskable(ReconError):
    """The item lacks the ids this channel's query API needs: no request can be made."""


class Adapter(Protocol):
    """A `recon.requery` plugin: built from (RequeryOptions, RequeryRules), used as a context manager."""

    def __enter__(self) -> Adapter: ...
    def __exit__(self, *exc: object) -> None: ...
    def query(self, target: Target) -> tuple[Exchange, Reading]: ...
