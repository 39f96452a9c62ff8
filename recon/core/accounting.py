"""Accounting rules: which journal entries each business event posts, declared in TOML.

The payment core does not hard-code bookkeeping. `rules/accounting.toml` says, per event (PAY,
REFUND, FEE, SETTLE, PAYOUT, CLEAR, ADJUST, OPENING), which accounts are debited and credited with which of
the event's values; a workspace may override it in `<workspace>/rules/accounting.toml`. Rules are
validated when loaded — an unknown event, placeholder or amount name is a `ConfigError` naming the
file and key — so a typo cannot surface later as a half-posted day.

`postings_for(rules, event)` turns one event into transfers (debit account, credit account,
amount). Because every leg is a transfer, the entry balances by construction; a leg of zero posts
nothing; a negative value (an adjustment in the other direction) swaps debit and credit, which is
what a negative debit means.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import field_validator

from recon.config.toml import StrictModel, TomlDocument, validate
from recon.errors import ConfigError
from recon.money import context
from recon.workspace import Workspace

DOCUMENT = "accounting"
EVENTS = ("PAY", "FEE", "REFUND", "SETTLE", "CLEAR", "PAYOUT", "ADJUST", "OPENING")
# {bank}: the bank channel cash moves through (SETTLE, PAYOUT, OPENING); it defaults to {channel}.
PLACEHOLDERS = frozenset({"channel", "merchant_id", "currency", "bank"})


def _template(value: str) -> str:
    names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    unknown = names - PLACEHOLDERS
    if unknown or not value.strip():
        raise ValueError(f"account {value!r}: placeholders must be among {sorted(PLACEHOLDERS)}")
    return value


class Leg(StrictModel):
    debit: str
    credit: str
    amount: Literal["gross", "fee", "net"]

    _accounts = field_validator("debit", "credit")(_template)


class EventRule(StrictModel):
    description: str = ""
    legs: tuple[Leg, ...]


class AccountingRules(StrictModel):
    name: str = "accounting"
    version: str = "1"
    demands: dict[Literal["PAYMENT", "REFUND"], tuple[str, ...]] = {}
    events: dict[str, EventRule]

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: dict[str, EventRule]) -> dict[str, EventRule]:
        unknown = sorted(set(value) - set(EVENTS))
        if unknown:
            raise ValueError(f"unknown event(s) {unknown}; events are {list(EVENTS)}")
        return value

    def demanded(self, record_type: str) -> tuple[str, ...]:
        return self.demands.get(record_type, ())  # type: ignore[call-overload]

    def rule(self, event: str) -> EventRule:
        try:
            return self.events[event]
        except KeyError:
            raise ConfigError(f"accounting rules have no event {event!r} "
                              f"(defined: {', '.join(sorted(self.events))})") from None


@dataclass(frozen=True, slots=True)
class Event:
    """One business event to book. `gross` and `fee` are signed as the event means them."""

    event: str
    channel: str
    merchant_id: str
    currency: str
    gross: Decimal
    fee: Decimal = Decimal(0)
    bank: str = ""  # the bank channel of a SETTLE / PAYOUT / OPENING; empty means `channel`


@dataclass(frozen=True, slots=True)
class Posting:
    debit: str
    credit: str
    currency: str
    amount: Decimal  # > 0


def postings_for(rules: AccountingRules, event: Event) -> tuple[Posting, ...]:
    rule = rules.rule(event.event)
    fields = {"channel": event.channel, "merchant_id": event.merchant_id, "currency": event.currency,
              "bank": event.bank or event.channel}
    with_ctx = context()
    values = {"gross": event.gross, "fee": event.fee, "net": with_ctx.subtract(event.gross, event.fee)}
    out = []
    for leg in rule.legs:
        value = values[leg.amount]
        if value.is_zero():
            continue
        debit, credit = leg.debit.format(**fields), leg.credit.format(**fields)
        if value < 0:
            debit, credit, value = credit, debit, -value
        out.append(Posting(debit, credit, event.currency, value))
    return tuple(out)


def accounting_rules(document: TomlDocument) -> AccountingRules:
    """The accounting rules from their document (built-in `rules/accounting.toml`, overridable)."""
    return validate(AccountingRules, document)


def accounting_of(ws: Workspace) -> AccountingRules:
    return accounting_rules(ws.catalog.document(DOCUMENT))
