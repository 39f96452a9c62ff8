"""Alipay alipay.trade.query and alipay.trade.fastpay.refund.query, RSA2 both ways, on a loopback gateway."""

from __future__ import annotations

import datetime as dt
import json

from layers import row
from requery_support import APP_ID, LATER, alipay_api, make_ws, queue, requeries

from jobs.requery.run import requery_items


def alipay_ws(root, keys, http):
    return make_ws(root, keys, {"adapter": "alipay", "url": http.url("/gateway.do"), "app_id": APP_ID,
                                "private_key_file": "merchant_key.pem",
                                "platform_public_key_file": "platform_public.pem"}, fmt="alipay.trade",
                   channel="alipay")


def trade(out_trade_no: str, status: str, amount: str = "100.00") -> dict:
    return {"code": "10000", "msg": "Success", "trade_no": f"2025031422001{out_trade_no}",
            "out_trade_no": out_trade_no, "buyer_logon_id": "159****5620", "trade_status": status,
            "total_amount": amount, "send_pay_date": "2025-03-14 10:30:05", "buyer_user_id": "2088101117955611"}


def test_trade_query_says_paid_where_we_say_failed(tmp_path, http, keys):
    api = alipay_api(http, keys)
    api.orders["Mk1"] = trade("Mk1", "TRADE_SUCCESS")
    ws = alipay_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("STATUS_MISMATCH", "k1", channel="alipay", our_status="FAILED"))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert api.asked == ['alipay.trade.query {"out_trade_no": "Mk1"}']
    [answer] = requeries(ws, ids["k1"])
    assert (run.lines[0].outcome, answer["proposal"], answer["field"]) == ("PROPOSED", "accept_channel", "trade_status")
    assert answer["time"] == dt.datetime(2025, 3, 14, 10, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()
    archived = json.loads((ws.root / answer["archive"]).read_text())["response"]["body"]
    node = archived["alipay_trade_query_response"]
    assert node["buyer_logon_id"] == "***" and node["buyer_user_id"] == "***" and node["total_amount"] == "100.00"


def test_refund_query_by_out_request_no(tmp_path, http, keys):
    api = alipay_api(http, keys)
    api.refunds["RF1"] = {"code": "10000", "msg": "Success", "trade_no": "2025031422001Mk1", "out_trade_no": "Mk1",
                          "out_request_no": "RF1", "refund_amount": "30.00", "total_amount": "100.00",
                          "refund_status": "REFUND_SUCCESS", "gmt_refund_pay": "2025-03-14 11:00:00"}
    ws = alipay_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", channel="alipay", our="-30.00", their=None, our_record_type="REFUND",
                        our_merchant_refund_id="RF1", our_channel_txn_id=None))

    requery_items(ws, (ids["k1"],), now=LATER)

    assert json.loads(api.asked[0].split(" ", 1)[1]) == {"out_request_no": "RF1", "out_trade_no": "Mk1",
                                                         "query_options": ["gmt_refund_pay"]}
    [answer] = requeries(ws, ids["k1"])
    assert (answer["status"], answer["amount"], answer["proposal"]) == ("SUCCESS", "30.00", "accept_ours")


def test_refund_without_refund_status_is_not_a_success(tmp_path, http, keys):
    api = alipay_api(http, keys)
    api.refunds["RF1"] = {"code": "10000", "msg": "Success", "trade_no": "2025031422001Mk1", "out_trade_no": "Mk1",
                          "out_request_no": "RF1", "refund_amount": "30.00", "total_amount": "100.00"}
    ws = alipay_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", channel="alipay", our="-30.00", their=None, our_record_type="REFUND",
                        our_merchant_refund_id="RF1"))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert (run.lines[0].status, run.lines[0].outcome) == ("UNKNOWN", "WAITING")
    assert "refund_status (absent)" in requeries(ws, ids["k1"])[0]["said"]


def test_an_answer_signed_by_another_key_is_refused(tmp_path, http, keys):
    api = alipay_api(http, keys, mode="forge")
    api.orders["Mk1"] = trade("Mk1", "TRADE_SUCCESS")
    ws = alipay_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", channel="alipay", their=None))

    requery_items(ws, (ids["k1"],), now=LATER)

    [answer] = requeries(ws, ids["k1"])
    assert (answer["status"], answer["layer"]) == ("UNKNOWN", "transport") and "does not verify" in answer["said"]


def test_trade_not_exist_twice_past_the_window_contradicts_our_record(tmp_path, http, keys):
    api = alipay_api(http, keys)  # knows no order at all
    ws = alipay_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", channel="alipay", their=None))

    first = requery_items(ws, (ids["k1"],), now=LATER)
    second = requery_items(ws, (ids["k1"],), now=LATER + dt.timedelta(hours=1))

    assert [r.lines[0].outcome for r in (first, second)] == ["WAITING", "PROPOSED"]
    answers = requeries(ws, ids["k1"])
    assert [a["code"] for a in answers] == ["ACQ.TRADE_NOT_EXIST"] * 2 and answers[0]["layer"] == "api"
    assert "1 of the 2 answers needed" in answers[0]["why"]
    assert answers[1]["proposal"] == "accept_channel" and "contradicts our record" in answers[1]["why"]
