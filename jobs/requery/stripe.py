"""Stripe: retrieve a PaymentIntent, Charge or Refund by its id.

`GET /v1/payment_intents/{id}`, `/v1/charges/{id}` (also `py_` payments) and `/v1/refunds/{id}`
(also `pyr_`), chosen by the id's prefix: the stripe.balance bill names a payment by its charge or
intent and a refund by its `re_` id. Authentication is the secret key from the channel's
`api_key_env`, sent as a bearer token (never logged or archived: it is not part of an Exchange).
Only GETs are sent, which Stripe treats as idempotent by definition, so asking again is always safe.
Amounts are integers in the currency's minor unit (JPY has none); `currency` is lower case;
`created` is seconds since the epoch. A non-2xx answer's `error.code` (`resource_missing`, ...) is
the API layer; each object's `status` the business layer (rules/stripe.toml `[requery]`).
"""

from __future__ import annotations

from urllib.parse import quote

from jobs.requery.client import HttpAdapter, amount_of, dig, json_body, send, time_of
from jobs.requery.model import Exchange, Reading, Target, Unaskable

BASE = "https://api.stripe.com"
# id prefix -> (collection, status field name in the rule set, amount field)
OBJECTS = {"pi_": ("payment_intents", "payment_intent", "amount_received"), "ch_": ("charges", "charge", "amount"),
           "py_": ("charges", "charge", "amount"), "re_": ("refunds", "refund", "amount"),
           "pyr_": ("refunds", "refund", "amount")}


class Stripe(HttpAdapter):
    def __init__(self, options, rules) -> None:
        super().__init__(options, rules)
        options.require("api_key_env")
        self.key = options.secret("api_key_env")
        self.base = (options.url or BASE).rstrip("/")

    @staticmethod
    def object_of(target: Target) -> tuple[str, str, str, str]:
        """(id, collection, field, amount field) of the object to retrieve."""
        ids = (target.channel_refund_id, target.channel_txn_id) if target.refund else (target.channel_txn_id,)
        for object_id in filter(None, ids):
            prefix = next((p for p in OBJECTS if object_id.startswith(p)), None)
            if prefix is not None:
                return (object_id, *OBJECTS[prefix])
        raise Unaskable(f"Stripe objects are retrieved by id ({', '.join(OBJECTS)}...), and the item has none")

    def query(self, target: Target) -> tuple[Exchange, Reading]:
        object_id, collection, field, amount_field = self.object_of(target)
        path = f"/v1/{collection}/{quote(object_id, safe='')}"
        exchange = send(self.http, self.http.build_request(
            "GET", self.base + path, headers={"Authorization": f"Bearer {self.key.reveal()}"}), f"GET {path}")
        if exchange.fault is not None:
            return exchange, Reading()
        body = json_body(exchange)
        if body is None or exchange.status >= 300:
            code = dig(body, "error.code") if body else None
            return exchange, Reading(error=str(code) if code else f"HTTP {exchange.status}")
        currency = str(body.get("currency") or "").upper() or None
        amount = body.get(amount_field) if body.get(amount_field) else body.get("amount")
        return exchange, Reading(field=field, code=body.get("status"), currency=currency,
                                 amount=amount_of(amount, currency, minor=True), time=time_of(body.get("created")),
                                 channel_txn_id=body.get("id"))
