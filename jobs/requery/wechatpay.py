"""WeChat Pay API v3 order query: a payment by out_trade_no or transaction_id, a refund by out_refund_no.

- `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=...` (an unpaid order is only known
  by our number) or `GET /v3/pay/transactions/id/{transaction_id}?mchid=...`: `trade_state`, the
  amount in fen (`amount.total`, `amount.currency`), `success_time`, `transaction_id`.
- `GET /v3/refund/domestic/refunds/{out_refund_no}`: the refund's `status`, `amount.refund` in fen,
  `success_time`, `refund_id`.
Requests carry the merchant's `WECHATPAY2-SHA256-RSA2048` signature; every answer, errors
included, must carry WeChat's platform signature over timestamp, nonce and body, no older than five
minutes, or it is refused (jobs.transports.signing) and recorded as no answer. A non-2xx answer's
`code` (ORDER_NOT_EXIST, SYSTEM_ERROR...) is the API layer; the state fields are the business
layer (rules/wechatpay.toml `[requery]`).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote, urlencode

from jobs.requery.client import HttpAdapter, amount_of, json_body, send, time_of
from jobs.requery.model import Exchange, Reading, Target, Unaskable
from jobs.transports.base import FetchFault
from jobs.transports.http import DEFAULT_URLS
from jobs.transports.signing import load_private_key, load_public_key, verify_wechat_answer, wechat_authorization


class WeChatPayV3(HttpAdapter):
    def __init__(self, options, rules) -> None:
        super().__init__(options, rules)
        options.require("mchid", "serial_no", "private_key_file", "platform_public_key_file")
        self.key = load_private_key(options.file("private_key_file", private=True), options.setting("private_key_file"))
        self.platform = load_public_key(options.file("platform_public_key_file"),
                                        options.setting("platform_public_key_file"))
        self.base = (options.url or DEFAULT_URLS["wechatpay_v3"]).rstrip("/")

    def path(self, target: Target) -> str:
        if target.refund:
            if not target.merchant_refund_id:
                raise Unaskable("a WeChat Pay refund is queried by out_refund_no, and neither side has one")
            return f"/v3/refund/domestic/refunds/{quote(target.merchant_refund_id, safe='')}"
        mchid = urlencode({"mchid": self.options.mchid})
        if target.merchant_txn_id:
            return f"/v3/pay/transactions/out-trade-no/{quote(target.merchant_txn_id, safe='')}?{mchid}"
        if target.channel_txn_id:
            return f"/v3/pay/transactions/id/{quote(target.channel_txn_id, safe='')}?{mchid}"
        raise Unaskable("a WeChat Pay payment is queried by out_trade_no or transaction_id, and neither side has one")

    def query(self, target: Target) -> tuple[Exchange, Reading]:
        path = self.path(target)
        url = self.base + path
        auth = wechat_authorization(self.key, self.options.mchid, self.options.serial_no, "GET", url)
        exchange = send(self.http, self.http.build_request(
            "GET", url, headers={"Authorization": auth, "Accept": "application/json"}), f"GET {path}")
        if exchange.fault is not None:
            return exchange, Reading()
        try:
            verify_wechat_answer(self.platform, dict(exchange.headers), exchange.text(), exchange.url)
        except FetchFault as exc:
            return dataclasses.replace(exchange, fault=str(exc)), Reading()
        return exchange, self.read(exchange, target.refund)

    @staticmethod
    def read(exchange: Exchange, refund: bool) -> Reading:
        body = json_body(exchange)
        if body is None or exchange.status >= 300:
            code = body.get("code") if body else None
            return Reading(error=str(code) if code else f"HTTP {exchange.status}")
        amount = body.get("amount") if isinstance(body.get("amount"), dict) else {}
        currency = amount.get("currency") or None
        if refund:
            return Reading(field="refund_status", code=body.get("status"), currency=currency,
                           amount=amount_of(amount.get("refund"), currency, minor=True),
                           time=time_of(body.get("success_time")), channel_txn_id=body.get("refund_id"))
        return Reading(field="trade_state", code=body.get("trade_state"), currency=currency,
                       amount=amount_of(amount.get("total"), currency, minor=True),
                       time=time_of(body.get("success_time")), channel_txn_id=body.get("transaction_id"))
