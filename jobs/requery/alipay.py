"""Alipay order query: `alipay.trade.query` and `alipay.trade.fastpay.refund.query` on the gateway.

- `alipay.trade.query` with `out_trade_no` (or `trade_no`): `trade_status`, `total_amount` in yuan,
  `send_pay_date` (Beijing time), `trade_no`.
- `alipay.trade.fastpay.refund.query` with `out_request_no` (the refund's request number) and the
  order's `trade_no` or `out_trade_no`: `refund_status` (REFUND_SUCCESS, or absent when Alipay has
  not received the refund or it failed), `refund_amount`, `gmt_refund_pay` (asked for with
  `query_options`).
Requests are signed RSA2 with the app's key; every answer's `sign` must verify with Alipay's public
key over the exact text of the response node, or it is refused and recorded as no answer
(jobs.transports.signing). The gateway `code` 10000 only says the query ran (API layer); any other
code is an error named by its `sub_code` (ACQ.TRADE_NOT_EXIST...); the state fields are the
business layer (rules/alipay.toml `[requery]`).
"""

from __future__ import annotations

import dataclasses
import json

from jobs.requery.client import HttpAdapter, amount_of, json_body, send, time_of
from jobs.requery.model import Exchange, Reading, Target, Unaskable
from jobs.transports.base import FetchFault
from jobs.transports.http import DEFAULT_URLS
from jobs.transports.signing import (BEIJING, alipay_node, alipay_params, load_private_key, load_public_key,
                                     verify_alipay_answer)

TRADE_QUERY = "alipay.trade.query"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"


class Alipay(HttpAdapter):
    def __init__(self, options, rules) -> None:
        super().__init__(options, rules)
        options.require("app_id", "private_key_file", "platform_public_key_file")
        self.key = load_private_key(options.file("private_key_file", private=True), options.setting("private_key_file"))
        self.alipay_key = load_public_key(options.file("platform_public_key_file"),
                                          options.setting("platform_public_key_file"))
        self.gateway = options.url or DEFAULT_URLS["alipay"]

    @staticmethod
    def call(target: Target) -> tuple[str, dict]:
        order = ({"trade_no": target.channel_txn_id} if target.channel_txn_id
                 else {"out_trade_no": target.merchant_txn_id} if target.merchant_txn_id else None)
        if target.refund:
            if not (order and target.merchant_refund_id):
                raise Unaskable("an Alipay refund is queried by out_request_no and its order's trade_no or "
                                "out_trade_no, and the item lacks them")
            return REFUND_QUERY, {"out_request_no": target.merchant_refund_id, **order,
                                  "query_options": ["gmt_refund_pay"]}
        if target.merchant_txn_id:  # an unpaid order has no trade_no yet: ask by ours first
            return TRADE_QUERY, {"out_trade_no": target.merchant_txn_id}
        if order:
            return TRADE_QUERY, order
        raise Unaskable("an Alipay payment is queried by out_trade_no or trade_no, and neither side has one")

    def query(self, target: Target) -> tuple[Exchange, Reading]:
        method, biz = self.call(target)
        form = alipay_params(self.key, self.options.app_id, method, biz)
        asked = f"{method} {json.dumps(biz, ensure_ascii=False, sort_keys=True)}"
        exchange = send(self.http, self.http.build_request("POST", self.gateway, data=form), asked)
        if exchange.fault is not None:
            return exchange, Reading()
        body = json_body(exchange)
        if exchange.status != 200 or body is None:
            refused = f"HTTP {exchange.status}: not an answer of the gateway"
            return dataclasses.replace(exchange, fault=refused), Reading()
        node_name = alipay_node(method)
        try:
            verify_alipay_answer(self.alipay_key, exchange.text(), body.get("sign"), node_name, exchange.url)
        except FetchFault as exc:
            return dataclasses.replace(exchange, fault=str(exc)), Reading()
        node = body.get(node_name) if isinstance(body.get(node_name), dict) else {}
        return exchange, self.read(node, method)

    @staticmethod
    def read(node: dict, method: str) -> Reading:
        code = str(node.get("code", ""))
        if code != "10000":
            return Reading(error=str(node.get("sub_code") or code or "no code"))
        currency = node.get("trans_currency") or "CNY"  # the gateway's amounts are yuan unless it says otherwise
        if method == REFUND_QUERY:
            return Reading(field="refund_status", code=node.get("refund_status"), currency=currency,
                           amount=amount_of(node.get("refund_amount"), currency, minor=False),
                           time=time_of(node.get("gmt_refund_pay"), BEIJING), channel_txn_id=node.get("trade_no"))
        return Reading(field="trade_status", code=node.get("trade_status"), currency=currency,
                       amount=amount_of(node.get("total_amount"), currency, minor=False),
                       time=time_of(node.get("send_pay_date"), BEIJING), channel_txn_id=node.get("trade_no"))
