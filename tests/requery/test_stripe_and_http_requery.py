"""Stripe (PaymentIntents, Charges, Refunds by id, bearer key) and the generic JSON adapter from rules."""

from __future__ import annotations

from fetch_servers import HttpServer, send
from layers import row
from requery_support import LATER, STRIPE_KEY, bearer_api, make_ws, queue, requeries
from typer.testing import CliRunner

from cli import app
from jobs.requery.run import requery_items

STRIPE = {"adapter": "stripe", "api_key_env": "TEST_STRIPE_KEY"}


def stripe_ws(root, keys, http, monkeypatch):
    monkeypatch.setenv("TEST_STRIPE_KEY", STRIPE_KEY)
    return make_ws(root, keys, {**STRIPE, "url": http.url("")}, fmt="stripe.balance", channel="stripe")


def stripe_row(outcome, key, object_id, *, our="100.00", their="100.00", **kw):
    """A Stripe row: ids are Stripe's (no merchant serial), amounts in USD, on the sides that exist."""
    sides = {"our": our, "their": their}
    ids = {f"{side}_{name}": value for side, amount in sides.items() if amount is not None
           for name, value in (("currency", "USD"), ("merchant_txn_id", None), ("channel_txn_id", object_id))}
    return row(outcome, key, channel="stripe", our=our, their=their, **{**ids, **kw})


def test_payment_intent_charge_and_refund_by_id(tmp_path, http, keys, monkeypatch):
    api = bearer_api(http, keys, "/v1/", STRIPE_KEY)
    api.orders.update({
        "pi_3Ok1": {"id": "pi_3Ok1", "object": "payment_intent", "status": "succeeded", "amount": 10050,
                    "amount_received": 10050, "currency": "usd", "created": 1741919400,
                    "client_secret": "pi_3Ok1_secret_abc"},
        "ch_3Ok2": {"id": "ch_3Ok2", "object": "charge", "status": "failed", "amount": 10000, "currency": "usd",
                    "created": 1741919400},
        "re_3Ok3": {"id": "re_3Ok3", "object": "refund", "status": "succeeded", "amount": 2500, "currency": "usd",
                    "created": 1741923000},
    })
    ws = stripe_ws(tmp_path / "ws", keys, http, monkeypatch)
    ids = queue(ws, stripe_row("AMOUNT_MISMATCH", "k1", "pi_3Ok1", their="100.50"),
                stripe_row("LOCAL_ONLY", "k2", "ch_3Ok2", their=None),
                stripe_row("CHANNEL_ONLY", "k3", "ch_3Ok9", our=None, their="-25.00", their_record_type="REFUND",
                           their_channel_refund_id="re_3Ok3"))

    run = requery_items(ws, tuple(ids[k] for k in ("k1", "k2", "k3")), now=LATER)

    assert sorted(api.asked) == ["GET /v1/charges/ch_3Ok2", "GET /v1/payment_intents/pi_3Ok1", "GET /v1/refunds/re_3Ok3"]
    assert [line.outcome for line in run.lines] == ["PROPOSED"] * 3
    intent, charge, refund = (requeries(ws, ids[k])[0] for k in ("k1", "k2", "k3"))
    assert (intent["field"], intent["amount"], intent["currency"]) == ("payment_intent", "100.50", "USD")
    assert intent["proposal"] == "accept_channel"
    assert intent["time"] == "2025-03-14T02:30:00+00:00"
    assert (charge["status"], charge["proposal"]) == ("FAILED", "accept_channel")  # we booked a failed charge
    assert (refund["field"], refund["amount"], refund["proposal"]) == ("refund", "25.00", "accept_channel")
    assert "pi_3Ok1_secret_abc" not in (ws.root / intent["archive"]).read_text()


def test_unknown_id_and_wrong_key(tmp_path, http, keys, monkeypatch):
    bearer_api(http, keys, "/v1/", "sk_test_other")
    ws = stripe_ws(tmp_path / "ws", keys, http, monkeypatch)
    ids = queue(ws, stripe_row("LOCAL_ONLY", "k1", "pi_missing", their=None))

    requery_items(ws, (ids["k1"],), now=LATER)

    [answer] = requeries(ws, ids["k1"])
    assert (answer["status"], answer["layer"], answer["http_status"]) == ("UNKNOWN", "api", 401)


def test_an_item_without_a_stripe_id_is_manual_at_once(tmp_path, http, keys, monkeypatch):
    api = bearer_api(http, keys, "/v1/", STRIPE_KEY)
    ws = stripe_ws(tmp_path / "ws", keys, http, monkeypatch)
    ids = queue(ws, stripe_row("LOCAL_ONLY", "k1", None, their=None, our_merchant_txn_id="ORDER-1"))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert run.lines[0].outcome == "MANUAL" and api.asked == []
    assert "cannot be asked" in requeries(ws, ids["k1"])[0]["why"]


PSP_RULES = '''
[requery.errors]
ORDER_NOT_FOUND = "NOT_FOUND"

[requery.status.status]
PAID = "SUCCESS"
VOIDED = "FAILED"

[requery.http]
path = "/api/orders/{merchant_txn_id}"
auth_header = "X-Api-Key"
auth_prefix = ""
status = "data.state"
amount = "data.amount_minor"
amount_unit = "minor"
currency = "data.currency"
time = "data.paid_at"
channel_txn_id = "data.id"
error = "error.code"
'''


def test_generic_json_adapter_configured_in_the_rules(tmp_path, http, keys, monkeypatch):
    monkeypatch.setenv("PSP_API_KEY", "psp-key-0123456789")
    api = bearer_api(http, keys, "/api/orders/", "psp-key-0123456789", header="X-Api-Key", scheme="",
                     missing={"error": {"code": "ORDER_NOT_FOUND"}})
    api.orders["Mk1"] = {"data": {"id": "T-1", "state": "PAID", "amount_minor": 10000, "currency": "cny",
                                  "paid_at": "2025-03-14T10:30:05+08:00"}}
    api.orders["Mk2"] = {"data": {"id": "T-2", "state": "REVIEW", "amount_minor": 10000, "currency": "cny"}}
    ws = make_ws(tmp_path / "ws", keys, {"adapter": "http", "url": http.url(""), "api_key_env": "PSP_API_KEY"},
                 rules=PSP_RULES)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None), row("LOCAL_ONLY", "k2", their=None),
                row("LOCAL_ONLY", "k3", their=None))

    run = requery_items(ws, (ids["k1"], ids["k2"], ids["k3"]), now=LATER)

    assert api.asked == ["GET /api/orders/Mk1", "GET /api/orders/Mk2", "GET /api/orders/Mk3"]
    assert [(line.status, line.outcome) for line in run.lines] == [
        ("SUCCESS", "PROPOSED"), ("UNKNOWN", "WAITING"), ("NOT_FOUND", "WAITING")]
    paid, review, missing = (requeries(ws, ids[k])[0] for k in ("k1", "k2", "k3"))
    assert (paid["amount"], paid["currency"], paid["channel_txn_id"], paid["proposal"]) == ("100.00", "CNY", "T-1", "accept_ours")
    assert "not in [requery.status.status]" in review["said"]
    assert missing["code"] == "ORDER_NOT_FOUND"


def test_generic_adapter_without_its_rules_is_a_config_error(tmp_path, http, keys):
    ws = make_ws(tmp_path / "ws", keys, {"adapter": "http", "url": http.url("")})
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    result = CliRunner().invoke(app, ["queue", "requery", str(ids["k1"]), "-w", str(ws.root)])

    assert result.exit_code == 2 and "[requery.http]" in result.output


def test_a_redirect_is_not_followed_and_the_key_goes_nowhere_else(tmp_path, http, keys, monkeypatch):
    elsewhere = HttpServer()
    try:
        elsewhere.route("/", lambda h: send(h, 200, b'{"data": {"state": "PAID"}}'))
        http.route("/api/orders/", lambda h: send(h, 302, b"", {"Location": elsewhere.url("/steal?k=1")}))
        monkeypatch.setenv("PSP_API_KEY", "psp-key-0123456789")
        ws = make_ws(tmp_path / "ws", keys, {"adapter": "http", "url": http.url(""), "api_key_env": "PSP_API_KEY"},
                     rules=PSP_RULES)
        ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

        run = requery_items(ws, (ids["k1"],), now=LATER)

        assert (run.lines[0].status, run.lines[0].outcome) == ("UNKNOWN", "WAITING") and elsewhere.requests == []
        assert "redirect to http://127.0.0.1" in requeries(ws, ids["k1"])[0]["said"] and "not followed" in run.lines[0].note
    finally:
        elsewhere.close()


def test_an_answer_that_is_not_utf8_is_refused_never_read_around(tmp_path, http, keys, monkeypatch):
    http.route("/api/orders/", lambda h: send(h, 200, b'{"data": {"state": "PAID", "memo": "caf\xe9"}}'))
    monkeypatch.setenv("PSP_API_KEY", "psp-key-0123456789")
    ws = make_ws(tmp_path / "ws", keys, {"adapter": "http", "url": http.url(""), "api_key_env": "PSP_API_KEY"},
                 rules=PSP_RULES)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert (run.lines[0].status, run.lines[0].outcome) == ("UNKNOWN", "WAITING")
    assert "answer is not UTF-8 (byte 39): refused" in requeries(ws, ids["k1"])[0]["said"]
