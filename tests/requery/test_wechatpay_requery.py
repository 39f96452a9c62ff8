"""WeChat Pay v3 order query against a loopback server that checks our signature and signs its answers."""

from __future__ import annotations

import hashlib
import json

from layers import row
from requery_support import (LATER, MCHID, SERIAL, item, make_ws, queue, requeries, wechat_api, wechat_order,
                              wechat_ws)

from jobs.requery.run import requery_items


def test_payment_by_out_trade_no_confirms_the_bill(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10050)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("AMOUNT_MISMATCH", "k1", their="100.50"))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert [(line.outcome, line.status) for line in run.lines] == [("PROPOSED", "SUCCESS")]
    assert api.asked == ["/v3/pay/transactions/out-trade-no/Mk1"]
    [answer] = requeries(ws, ids["k1"])
    assert answer["proposal"] == "accept_channel" and "confirms its bill" in answer["why"]
    assert (answer["amount"], answer["currency"], answer["code"], answer["field"]) == ("100.50", "CNY", "SUCCESS", "trade_state")
    assert answer["time"] == "2025-03-14T10:30:05+08:00" and answer["channel_txn_id"] == "42000Mk1"
    sent = json.dumps(api.orders["Mk1"], ensure_ascii=False).encode()
    assert answer["response_sha256"] == hashlib.sha256(sent).hexdigest()
    archived = json.loads((ws.root / answer["archive"]).read_text())
    assert archived["response"]["body"]["payer"]["openid"] == "***"  # who paid is not kept
    assert archived["response"]["body"]["amount"]["total"] == 10050
    assert item(ws, ids["k1"]).status == "OPEN"  # a proposal waits for a person


def test_payment_by_transaction_id_when_only_the_channel_serial_is_known(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Ck2"] = wechat_order("X9", "SUCCESS", 10000)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("CHANNEL_ONLY", "k2", our=None, their_merchant_txn_id=None))

    run = requery_items(ws, (ids["k2"],), now=LATER)

    assert api.asked == ["/v3/pay/transactions/id/Ck2"]
    assert run.lines[0].outcome == "PROPOSED" and requeries(ws, ids["k2"])[0]["proposal"] == "accept_channel"


def test_refund_by_out_refund_no_confirms_our_record(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.refunds["R7"] = {"refund_id": "50000R7", "out_refund_no": "R7", "transaction_id": "42000Mk7",
                         "out_trade_no": "Mk7", "status": "SUCCESS", "success_time": "2025-03-14T11:00:00+08:00",
                         "amount": {"total": 10000, "refund": 3000, "payer_total": 10000, "payer_refund": 3000,
                                    "currency": "CNY"}}
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k7", our="-30.00", their=None, our_record_type="REFUND",
                        our_merchant_refund_id="R7"))

    requery_items(ws, (ids["k7"],), now=LATER)

    assert api.asked == ["/v3/refund/domestic/refunds/R7"]
    [answer] = requeries(ws, ids["k7"])
    assert (answer["field"], answer["amount"], answer["proposal"]) == ("refund_status", "30.00", "accept_ours")
    assert "confirms our record" in answer["why"]


def test_forged_answer_is_refused_and_waits(tmp_path, http, keys):
    api = wechat_api(http, keys, mode="forge")  # signs NOTPAY, sends SUCCESS
    api.orders["Mk1"] = wechat_order("Mk1", "NOTPAY", 10000)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    [answer] = requeries(ws, ids["k1"])
    assert (answer["status"], answer["layer"], run.lines[0].outcome) == ("UNKNOWN", "transport", "WAITING")
    assert "does not verify" in answer["said"] and answer["amount"] is None
    archived = json.loads((ws.root / answer["archive"]).read_text())
    assert "does not verify" in archived["refused"]  # kept as evidence, never believed


def test_stale_answer_is_refused(tmp_path, http, keys):
    api = wechat_api(http, keys, mode="stale")
    api.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10000)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    requery_items(ws, (ids["k1"],), now=LATER)

    [answer] = requeries(ws, ids["k1"])
    assert answer["status"] == "UNKNOWN" and "more than 5 minutes off" in answer["said"]


def test_a_wrong_merchant_key_is_an_api_error_not_an_answer(tmp_path, http, keys):
    wechat_api(http, {**keys, "merchant": keys["forger"]})  # the server knows another merchant key
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    requery_items(ws, (ids["k1"],), now=LATER)

    [answer] = requeries(ws, ids["k1"])
    assert (answer["status"], answer["layer"], answer["code"], answer["http_status"]) == ("UNKNOWN", "api", "SIGN_ERROR", 401)


def test_ids_and_keys_come_from_the_fetch_table_of_the_same_api(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10000)
    ws = make_ws(tmp_path / "ws", keys, {"adapter": "wechatpay_v3"}, fetch={
        "transport": "http", "flow": "two_step", "api": "wechatpay_v3", "url": http.url(""), "mchid": MCHID,
        "serial_no": SERIAL, "private_key_file": "merchant_key.pem", "platform_public_key_file": "platform_public.pem"})
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert (run.lines[0].status, run.lines[0].outcome) == ("SUCCESS", "PROPOSED") and len(api.asked) == 1
