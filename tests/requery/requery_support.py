"""The channels' order-query APIs on a loopback server, and workspaces whose queue holds items to ask about.

Each fake API checks our request the way the channel does (WeChat Pay: the merchant's
WECHATPAY2-SHA256-RSA2048 signature; Alipay: the RSA2 `sign`; Stripe and the generic API: the key)
and answers from a table of orders the test fills in, signing its answers as the channel does.
`mode` makes it misbehave: "forge" (a body other than the one signed), "stale" (an old timestamp),
"down" (HTTP 500), "slow" (longer than the client's timeout); `meanwhile` runs before it answers.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from fetch_servers import alipay_reply, alipay_request, send, wechat_reply, wechat_request_ok
from fetch_support import pem, public_pem, toml_value, write_private
from layers import DAY, write_layer1

from jobs.catalog import open_workspace
from recon.queue.query import Filter, select_items
from recon.queue.store import queue_engine
from recon.queue.sync import sync_results
from recon.workspace import Workspace

MCHID, SERIAL = "1900000109", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
APP_ID = "2021000000000001"
STRIPE_KEY = "sk_test_51Hq8x2eZvKYlo2Cq0T0pSecretValue"
PAID_AT = dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)  # our_trade_time of layers.row
LATER = PAID_AT + dt.timedelta(days=1)  # a day after the payment: every window has passed
FAST = {"rate": 1000.0, "timeout": 2.0, "retry": ["10m", "30m"], "attempts": 3}


@dataclass
class FakeApi:
    """Orders (and refunds) by the id they are asked by; what each request looked like."""

    keys: dict
    orders: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    mode: str | None = None
    asked: list[str] = field(default_factory=list)
    meanwhile: Callable[[], None] | None = None  # something that happens while the channel thinks

    def misbehaves(self, h) -> bool:
        if self.meanwhile is not None:
            self.meanwhile()
        if self.mode == "down":
            send(h, 500, b'{"code":"SYSTEM_ERROR","message":"system busy"}', {"Content-Type": "application/json"})
            return True
        if self.mode == "slow":  # far beyond the client's timeout, however busy the machine
            time.sleep(10)
        return False


def wechat_api(http, keys, **kw) -> FakeApi:
    """`/v3/pay/transactions/out-trade-no/{no}`, `/id/{id}` and `/v3/refund/domestic/refunds/{no}`."""
    api = FakeApi(keys, **kw)

    def answer(h, status, body):
        stale = int(time.time()) - 600 if api.mode == "stale" else None
        forged = json.dumps({**body, "trade_state": "SUCCESS"}) if api.mode == "forge" else None
        wechat_reply(h, status, body, keys["platform"], timestamp=stale, text=forged)

    def handle(h):
        path = urlsplit(h.path)
        api.asked.append(unquote(path.path))
        if not wechat_request_ok(h, keys["merchant"].public_key(), MCHID, SERIAL):
            return answer(h, 401, {"code": "SIGN_ERROR", "message": "签名错误"})
        if api.misbehaves(h):
            return
        kind, _, ident = unquote(path.path).rpartition("/")
        if kind.endswith("/refunds"):
            found, missing = api.refunds.get(ident), "RESOURCE_NOT_EXISTS"
        else:
            assert dict(parse_qsl(path.query)) == {"mchid": MCHID}
            found, missing = api.orders.get(ident), "ORDER_NOT_EXIST"
        if found is None:
            return answer(h, 404, {"code": missing, "message": "订单不存在"})
        answer(h, 200, found)

    http.route("/v3/pay/transactions/", handle)
    http.route("/v3/refund/domestic/refunds/", handle)
    return api


def wechat_order(out_trade_no: str, state: str, fen: int | None = 10000, **extra) -> dict:
    body = {"mchid": MCHID, "appid": "wxd678efh567hg6787", "out_trade_no": out_trade_no, "trade_state": state,
            "trade_state_desc": "as the test says", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}
    if state in ("SUCCESS", "REFUND"):
        body.update(transaction_id=f"42000{out_trade_no}", success_time="2025-03-14T10:30:05+08:00")
    if fen is not None:
        body["amount"] = {"total": fen, "payer_total": fen, "currency": "CNY", "payer_currency": "CNY"}
    return {**body, **extra}


def alipay_api(http, keys, **kw) -> FakeApi:
    """The open-API gateway answering alipay.trade.query and alipay.trade.fastpay.refund.query."""
    api = FakeApi(keys, **kw)

    def gateway(h):
        params, ok = alipay_request(h, keys["merchant"].public_key(), APP_ID)
        method = params.get("method", "")
        node_name = method.replace(".", "_") + "_response"
        biz = json.loads(params.get("biz_content") or "{}")
        api.asked.append(f"{method} {json.dumps(biz, sort_keys=True)}")
        sign_key = keys["forger"] if api.mode == "forge" else None
        if not ok:
            return alipay_reply(h, node_name, {"code": "40002", "msg": "Invalid Arguments",
                                               "sub_code": "isv.invalid-signature"}, keys["platform"])
        if api.misbehaves(h):
            return
        table = api.refunds if method == "alipay.trade.fastpay.refund.query" else api.orders
        key = biz.get("out_request_no") or biz.get("out_trade_no") or biz.get("trade_no")
        node = table.get(key) or {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                                  "sub_msg": "交易不存在"}
        alipay_reply(h, node_name, node, keys["platform"], sign_key=sign_key)

    http.route("/gateway.do", gateway)
    return api


def bearer_api(http, keys, prefix: str, secret: str, header: str = "Authorization", scheme: str = "Bearer ",
               missing: dict | None = None, **kw) -> FakeApi:
    """A JSON API (Stripe's shape by default): GET <prefix><collection>/<id> with a bearer key."""
    api = FakeApi(keys, **kw)
    missing = missing or {"error": {"code": "resource_missing", "type": "invalid_request_error",
                                    "message": "No such object"}}

    def handle(h):
        path = unquote(urlsplit(h.path).path)
        api.asked.append(f"{h.command} {path}")
        if h.headers.get(header) != scheme + secret:
            return send(h, 401, b'{"error":{"type":"invalid_request_error","message":"Invalid API Key"}}')
        if api.misbehaves(h):
            return
        found = api.orders.get(path.rpartition("/")[2])
        body, status = (found, 200) if found is not None else (missing, 404)
        send(h, status, json.dumps(body).encode(), {"Content-Type": "application/json"})

    http.route(prefix, handle)
    return api


# --- workspaces -------------------------------------------------------------------------------------
def make_ws(root, keys, requery: dict, *, fmt: str = "wechatpay.trade", channel: str = "wechat",
            rules: str | None = None, fetch: dict | None = None, store_url: str = "sqlite:///recon.db") -> Workspace:
    """A workspace with one channel, its [requery] table, the key files, and an optional rule override."""
    root.mkdir(parents=True, exist_ok=True)
    write_private(root / "merchant_key.pem", pem(keys["merchant"]))
    (root / "platform_public.pem").write_bytes(public_pem(keys["platform"]))
    lines = ["[store]", f"url = {toml_value(store_url)}", "", f"[channels.{channel}]", f'format = "{fmt}"',
             f'account = "{MCHID}"', "", f"[channels.{channel}.requery]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in {**FAST, **requery}.items()]
    if fetch:
        lines += ["", f"[channels.{channel}.fetch]"] + [f"{k} = {toml_value(v)}" for k, v in fetch.items()]
    (root / "recon.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "rules").mkdir(exist_ok=True)
    if rules:
        (root / "rules" / f"{fmt.split('.')[0]}.toml").write_text(rules, encoding="utf-8")
    return open_workspace(root)


def wechat_ws(root, keys, http, *, store_url: str = "sqlite:///recon.db", **requery) -> Workspace:
    return make_ws(root, keys, {"adapter": "wechatpay_v3", "url": http.url(""), "mchid": MCHID, "serial_no": SERIAL,
                                "private_key_file": "merchant_key.pem",
                                "platform_public_key_file": "platform_public.pem", **requery}, store_url=store_url)


def queue(ws: Workspace, *rows: dict, day: dt.date = DAY) -> dict[str, int]:
    """Matching's results for `day` synced into the queue; {key: item id}."""
    write_layer1(ws, list(rows), day)
    sync_results(ws, day)
    with queue_engine(ws).connect() as conn:
        items = select_items(conn, Filter(), ws.settings.queue, day)
    return {i.key: i.id for i in items}


def item(ws: Workspace, item_id: int):
    with queue_engine(ws).connect() as conn:
        return next(i for i in select_items(conn, Filter(ids=(item_id,)), ws.settings.queue, DAY))


def requeries(ws: Workspace, item_id: int) -> list[dict]:
    from recon.queue.store import history

    with queue_engine(ws).connect() as conn:
        return [e["data"] for e in history(conn, item_id) if e["action"] == "requery"]

