"""One event in, one result out: the payment core's operations behind `recon core record`.

The CLI (and any script) describes an event as a small JSON object; this module validates its
fields at the edge — money through `recon.money.parse_amount`, instants must carry an offset, the
channel's rule set comes from the workspace — and calls the one core function that does the work.
An unknown event type or a missing field is a `ConfigError` naming it; so is a currency that is not
an upper-case ISO 4217 code, and a result whose `field` the channel's rule set does not have (every
code would read UNKNOWN and the order would stay as it was without a word). A result that maps to
UNKNOWN says so (`"result": "UNKNOWN"`); the CLI exits 3 for it. Ids lose invisible characters.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa

from recon.config.ruleset import RuleSet
from recon.core.accounting import Event
from recon.core.export import internal_frame
from recon.core.ledger import reverse
from recon.core.orders import Core, PaymentRequest, Txn
from recon.core.refunds import RefundRequest, apply_refund_result, create_refund, start_refund
from recon.core.uow import unit_of_work
from recon.errors import ConfigError
from recon.internal import empty_internal
from recon.idtext import clean_id
from recon.money import MoneyError, iso_currency, parse_amount, plain
from recon.store.tables.core import txns
from recon.workspace import Workspace


def _field(data: dict[str, Any], name: str, default: Any = ...) -> Any:
    value = data.get(name, default)
    if value is ... or value is None and default is ...:
        raise ConfigError(f"record {data.get('type')}: missing field {name!r}")
    return value


def _money(data: dict[str, Any], name: str, default: str | None = None) -> Decimal:
    try:
        return parse_amount(str(_field(data, name, default)))
    except MoneyError as exc:
        raise ConfigError(f"record {data.get('type')}: {name}: {exc}") from None


def _id(data: dict[str, Any], name: str) -> str:
    """An identifier field: invisible characters removed (recon.idtext), never empty."""
    value = clean_id(_field(data, name))
    if value is None:
        raise ConfigError(f"record {data.get('type')}: field {name!r} is empty")
    return value


def _currency(data: dict[str, Any]) -> str:
    try:
        return iso_currency(_field(data, "currency"))
    except MoneyError as exc:
        raise ConfigError(f"record {data.get('type')}: {exc}") from None


def _status_field(rules: RuleSet, data: dict[str, Any], defaults: tuple[str, ...]) -> str:
    """Which of the rule set's code tables reads the result's code: `field`, else the first of
    `defaults` the rules have, else their only table. A field the rules do not have would map every
    code to UNKNOWN and leave the order as it was without a word: refused instead."""
    fields = sorted(rules.status)
    if data.get("field") is not None:
        field = str(data["field"])
    else:
        known = [d for d in defaults if d in rules.status]
        field = known[0] if known else fields[0] if len(fields) == 1 else defaults[0]
    if field not in rules.status:
        raise ConfigError(f"record {data.get('type')}: rule set {rules.name!r} has no status field {field!r} "
                          f"(it has: {', '.join(fields) or 'none'})", hint='name one with "field": "..."')
    return field


def _time(data: dict[str, Any]) -> dt.datetime | None:
    text = data.get("trade_time")
    if text is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise ConfigError(f"record: trade_time {text!r} is not ISO 8601") from None
    if stamp.tzinfo is None:
        raise ConfigError(f"record: trade_time {text!r} needs a UTC offset")
    return stamp


def txn_dict(txn: Txn) -> dict[str, Any]:
    return {"txn_id": txn.txn_id, "record_type": txn.record_type, "state": txn.state, "status": txn.status,
            "merchant_id": txn.merchant_id, "merchant_order_no": txn.merchant_order_no,
            "merchant_txn_id": txn.merchant_txn_id, "channel_txn_id": txn.channel_txn_id,
            "merchant_refund_id": txn.merchant_refund_id, "original_txn_id": txn.original_txn_id,
            "channel": txn.channel, "currency": txn.currency, "amount": plain(txn.amount, txn.currency),
            "fee": plain(txn.fee, txn.currency), "refunded": plain(txn.refunded, txn.currency), "trade_time": txn.trade_time.isoformat()}


def _rules(core: Core, data: dict[str, Any], ws: Workspace) -> RuleSet:
    """The rule set that maps the channel's codes: named in the record, else the channel's own."""
    if data.get("rules"):
        return ws.catalog.named_rule_set(data["rules"])
    return ws.catalog.rule_set(core.get(_field(data, "txn_id")).channel)


def apply_event(core: Core, data: dict[str, Any], ws: Workspace) -> dict[str, Any]:
    kind = data["type"]
    if kind == "payment":
        txn = core.create_payment(PaymentRequest(
            merchant_id=_id(data, "merchant_id"), merchant_order_no=_id(data, "merchant_order_no"),
            channel=_field(data, "channel"), currency=_currency(data), amount=_money(data, "amount"),
            trade_time=_time(data)))
    elif kind in ("start", "close", "refund_start"):
        step = {"start": core.start_payment, "close": core.close_payment,
                "refund_start": lambda t: start_refund(core, t)}[kind]
        step(_field(data, "txn_id"))
        txn = core.get(data["txn_id"])
    elif kind == "result":
        fee = _money(data, "fee") if data.get("fee") is not None else None
        rules = _rules(core, data, ws)
        field = _status_field(rules, data, ("trade_state", "trade"))
        txn = core.apply_result(_field(data, "txn_id"), data.get("code"), rules, field=field,
                                channel_txn_id=clean_id(data.get("channel_txn_id")), fee=fee)
        return {**txn_dict(txn), "result": rules.status_of(field, data.get("code"))}
    elif kind == "refund":
        txn = create_refund(core, RefundRequest(
            merchant_id=_id(data, "merchant_id"), refund_no=_id(data, "refund_no"),
            merchant_txn_id=_id(data, "merchant_txn_id"), amount=_money(data, "amount"),
            trade_time=_time(data)))
    elif kind == "refund_result":
        rules = _rules(core, data, ws)
        field = _status_field(rules, data, ("refund_status", "refund"))
        txn = apply_refund_result(core, _field(data, "txn_id"), data.get("code"), rules, field=field)
        return {**txn_dict(txn), "result": rules.status_of(field, data.get("code"))}
    elif kind == "post":
        event = Event(event=_field(data, "event"), channel=data.get("channel", ""),
                      merchant_id=data.get("merchant_id", ""), currency=_currency(data),
                      gross=_money(data, "gross"), fee=_money(data, "fee", "0"), bank=data.get("bank", ""))
        date = dt.date.fromisoformat(data["business_date"]) if data.get("business_date") else None
        posted = core.post_event(event, key=_field(data, "key"), business_date=date, memo=data.get("memo"))
        return {"entry_key": posted.entry_key, "new": posted.new, "postings": len(posted.postings)}
    elif kind == "reverse":
        with unit_of_work(core.engine) as uow:
            posted = reverse(uow.conn, _field(data, "entry_key"), now=uow.now, memo=data.get("memo"))
        return {"entry_key": posted.entry_key, "new": posted.new, "postings": len(posted.postings)}
    else:
        raise ConfigError(f"record: unknown event type {kind!r} (payment, start, result, close, refund, "
                          "refund_start, refund_result, post, reverse)")
    return txn_dict(txn)


def export_day(core: Core, ws, date: dt.date, channel: str | None) -> pl.DataFrame:
    """One channel's internal side, or every channel's (each in its own time zone) stacked."""
    if channel is not None:
        names = [channel]
    else:
        with core.engine.connect() as conn:
            names = sorted(conn.execute(sa.select(txns.c.channel).distinct()).scalars())
    frames = []
    for name in names:
        zone = ws.settings.channel_zone(name) if name in ws.settings.channels else ws.settings.defaults.timezone
        frames.append(internal_frame(core.engine, name, date, zone))
    return pl.concat(frames) if frames else empty_internal()
