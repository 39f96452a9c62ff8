"""WeChat Pay v3 and Alipay bill APIs against local servers that verify signatures as the real ones do."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import zipfile
from urllib.parse import parse_qsl

from fetch_servers import alipay_reply, alipay_request, send, wechat_reply, wechat_request_ok
from fetch_support import BILL, DAY, FAST, MORNING, make_ws, pem, public_pem, raw_files, rsa_key, write_private

from jobs.fetch import FetchState, fetch_day
from jobs.transports.alipay_api import NODE

MCHID, SERIAL = "1900000109", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"


def wechat_server(http, keys, *, code: str | None = None, expire_first: bool = False):
    """/v3/bill/tradebill and its download URL; both demand a valid WECHATPAY2-SHA256-RSA2048 header."""
    merchant_public = keys["merchant"].public_key()
    issued: list[str] = []

    def authorised(h) -> bool:
        return wechat_request_ok(h, merchant_public, MCHID, SERIAL)

    def answer(h, status: int, body: dict) -> None:
        wechat_reply(h, status, body, keys["platform"])

    def apply(h):
        if not authorised(h):
            return answer(h, 401, {"code": "SIGN_ERROR", "message": "signature verification failed"})
        query = dict(parse_qsl(h.path.split("?", 1)[1]))
        assert query == {"bill_date": "2024-05-01", "bill_type": "ALL", "tar_type": "GZIP"}
        if code:
            return answer(h, 400, {"code": code, "message": "as configured by the test"})
        token = f"tok{len(issued)}"
        issued.append(token)
        answer(h, 200, {"hash_type": "SHA1", "hash_value": hashlib.sha1(BILL).hexdigest(),
                        "download_url": http.url(f"/v3/billdownload/file?token={token}")})

    def download(h):
        token = h.path.rsplit("=", 1)[-1]
        if not authorised(h):
            return send(h, 401, b'{"code":"SIGN_ERROR"}')
        if expire_first and token == "tok0":
            return send(h, 400, b'{"code":"INVALID_REQUEST","message":"token expired"}')
        send(h, 200, gzip.compress(BILL))  # the download answer is not signed

    http.route("/v3/bill/tradebill", apply)
    http.route("/v3/billdownload/file", download)
    return issued


def _wechat_ws(tmp_path, http, keys, merchant_key=None):
    root = tmp_path / "ws"
    root.mkdir()
    write_private(root / "apiclient_key.pem", pem(merchant_key or keys["merchant"]))
    (root / "platform.pem").write_bytes(public_pem(keys["platform"]))
    return make_ws(root, {"wechat": {"transport": "http", "flow": "two_step", "api": "wechatpay_v3",
                                     "url": http.url(""), "mchid": MCHID, "serial_no": SERIAL,
                                     "private_key_file": "apiclient_key.pem",
                                     "platform_public_key_file": "platform.pem", **FAST}})


def test_wechatpay_v3_signed_two_step_download(tmp_path, http, keys):
    wechat_server(http, keys)
    ws = _wechat_ws(tmp_path, http, keys)

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED, outcome.message
    assert (ws.raw_dir("wechat", DAY) / "wechat_tradebill_20240501.csv").read_bytes() == BILL
    entry = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())["files"][0]
    assert entry["channel_hash"]["type"] == "SHA1" and "token" not in json.dumps(entry)


def test_wechatpay_v3_wrong_key_is_a_permanent_sign_error(tmp_path, http, keys):
    wechat_server(http, keys)
    ws = _wechat_ws(tmp_path, http, keys, merchant_key=rsa_key())
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert outcome.state is FetchState.FAILED and "SIGN_ERROR" in outcome.message and len(http.requests) == 1


def test_wechatpay_v3_answers_not_yet_and_no_activity(tmp_path, http, keys):
    wechat_server(http, keys, code="STATEMENT_CREATING")
    ws = _wechat_ws(tmp_path, http, keys)
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.WAITING

    http.httpd.routes.clear()
    wechat_server(http, keys, code="NO_STATEMENT_EXIST")
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING + dt.timedelta(hours=1))
    assert outcome.state is FetchState.EMPTY
    proof = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())["proof"]
    assert "NO_STATEMENT_EXIST" in proof["answer"]["body"]


def test_wechatpay_v3_expired_download_url_applies_again(tmp_path, http, keys):
    issued = wechat_server(http, keys, expire_first=True)
    ws = _wechat_ws(tmp_path, http, keys)
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.FETCHED
    assert issued == ["tok0", "tok1"]


# --- Alipay ---------------------------------------------------------------------------------------
APP_ID = "2021000000000001"
TRADE = "支付宝交易号,商户订单号\n2024050122001,M0001\n".encode("gbk") * 20


def _gbk_zip() -> bytes:
    """Like Alipay's: member names in GBK bytes, without the UTF-8 flag."""
    buf = io.BytesIO()
    names = [f"20880211096256330156_20240501_{s}.csv".encode("gbk") for s in ("业务明细", "业务明细(汇总)")]
    placeholders = [bytes([65 + n]) * len(raw) for n, raw in enumerate(names)]  # ASCII, same length
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for placeholder in placeholders:
            zf.writestr(placeholder.decode(), TRADE)
    data = buf.getvalue()
    for placeholder, raw in zip(placeholders, names):
        data = data.replace(placeholder, raw)  # name bytes in local and central headers: GBK, no flag
    return data


def alipay_server(http, keys, *, sub_code: str | None = None):
    app_public = keys["merchant"].public_key()

    def gateway(h):
        params, ok = alipay_request(h, app_public, APP_ID)
        assert json.loads(params["biz_content"]) == {"bill_type": "trade", "bill_date": "2024-05-01"}
        if not ok:
            node = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
        elif sub_code:
            node = {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": "账单不存在"}
        else:
            node = {"code": "10000", "msg": "Success", "bill_download_url": http.url(
                "/downloadBillFile.resource?bizType=trade&userId=20880211096256330156&fileType=csv.zip")}
        alipay_reply(h, NODE, node, keys["platform"])

    http.route("/gateway.do", gateway)
    http.route("/downloadBillFile.resource", lambda h: send(h, 200, _gbk_zip()))


def _alipay_ws(tmp_path, http, keys):
    root = tmp_path / "ws"
    root.mkdir()
    write_private(root / "app_private.pem", pem(keys["merchant"]))
    (root / "alipay_public.pem").write_bytes(public_pem(keys["platform"]))
    return make_ws(root, {"alipay": {"transport": "http", "flow": "two_step", "api": "alipay",
                                     "url": http.url("/gateway.do"), "app_id": APP_ID,
                                     "private_key_file": "app_private.pem",
                                     "platform_public_key_file": "alipay_public.pem", **FAST}}, fmt="alipay.trade")


def test_alipay_rsa2_signed_query_and_gbk_zip(tmp_path, http, keys):
    alipay_server(http, keys)
    ws = _alipay_ws(tmp_path, http, keys)

    outcome = fetch_day(ws, "alipay", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED, outcome.message
    assert raw_files(ws, "alipay") == ["20880211096256330156_20240501_业务明细(汇总).csv",
                                       "20880211096256330156_20240501_业务明细.csv", "manifest.json"]
    manifest = json.loads((ws.raw_dir("alipay", DAY) / "manifest.json").read_text())
    assert all(e["archive"]["name"] == "alipay_20240501.csv.zip" for e in manifest["files"])


def test_alipay_bill_not_exist_waits(tmp_path, http, keys):
    alipay_server(http, keys, sub_code="isp.bill_not_exist")
    outcome = fetch_day(_alipay_ws(tmp_path, http, keys), "alipay", DAY, now=MORNING)
    assert outcome.state is FetchState.WAITING and "bill_not_exist" in outcome.message
