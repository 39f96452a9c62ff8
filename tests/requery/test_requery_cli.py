"""`recon queue requery`, `queue show`, the report and `recon run` end to end; no secret left anywhere."""

from __future__ import annotations

import json

import openpyxl
from fetch_support import pem, public_pem, write_private
from layers import DAY, row
from requery_support import (MCHID, SERIAL, STRIPE_KEY, bearer_api, queue, requeries, wechat_api, wechat_order,
                             wechat_ws)
from typer.testing import CliRunner

from cli import app
from jobs.catalog import open_workspace

runner = CliRunner()


def recon(ws, *args):
    return runner.invoke(app, [*args, "--workspace", str(ws.root)])


def test_requery_by_hand_show_and_report(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10050)
    api.orders["Mk2"] = wechat_order("Mk2", "CLOSED", None)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("AMOUNT_MISMATCH", "k1", their="100.50"), row("LOCAL_ONLY", "k2", their=None),
                row("MATCHED", "k3"))

    asked = recon(ws, "queue", "requery", str(ids["k1"]))
    by_filter = recon(ws, "queue", "requery", "--kind", "LOCAL_ONLY", "--json")
    shown = recon(ws, "queue", "show", str(ids["k1"]))
    shown_json = json.loads(recon(ws, "queue", "show", str(ids["k2"]), "--json").stdout)
    report = recon(ws, "report", "--date", DAY.isoformat())

    assert asked.exit_code == 0, asked.output
    assert f"PROPOSED {ids['k1']} wechat SUCCESS: attempt 1 (wechatpay_v3): trade_state SUCCESS, 100.50 CNY" in asked.stdout
    assert by_filter.exit_code == 0 and [i["id"] for i in json.loads(by_filter.stdout)["items"]] == [ids["k2"]]
    assert "re-queries" in shown.stdout and "accept_channel" in shown.stdout and "trade_state SUCCESS" in shown.stdout
    [event] = [e for e in shown_json["history"] if e["action"] == "requery"]
    assert (event["data"]["status"], event["data"]["proposal"]) == ("FAILED", "accept_channel")
    assert "contradicts our record" in event["note"]
    assert report.exit_code == 0, report.output
    sheet = openpyxl.load_workbook(ws.report_path(DAY))["Re-queries"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert [(r[0], r[6], r[11]) for r in rows] == [(ids["k1"], "SUCCESS", "PROPOSED accept_channel"),
                                                   (ids["k2"], "FAILED", "PROPOSED accept_channel")]
    detail = (ws.root / "logs" / "detail.log").read_text()
    assert "requery wechat item" in detail and "/v3/pay/transactions/out-trade-no/Mk1" in detail


def test_requery_refuses_items_it_cannot_ask_about(tmp_path, http, keys):
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("DUPLICATE", "k1"))

    assert recon(ws, "queue", "requery", str(ids["k1"])).exit_code == 2
    assert recon(ws, "queue", "requery", "999").exit_code == 2


def test_recon_run_asks_after_matching(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10000)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    result = recon(ws, "run", "--date", DAY.isoformat())

    assert result.exit_code == 3  # the day itself waits for its statement; the queue is asked anyway
    assert f"requery PROPOSED item {ids['k1']} (wechat)" in result.stdout
    assert requeries(ws, ids["k1"])[0]["proposal"] == "accept_ours"


def test_nothing_secret_in_any_file_of_the_workspace(tmp_path, http, keys, monkeypatch):
    secrets_dir = tmp_path / "secrets"  # key files live outside the workspace, as they should
    secrets_dir.mkdir()
    write_private(secrets_dir / "apiclient_key.pem", pem(keys["merchant"]))
    (secrets_dir / "platform.pem").write_bytes(public_pem(keys["platform"]))
    monkeypatch.setenv("TEST_STRIPE_KEY", STRIPE_KEY)
    wechat = wechat_api(http, keys)
    wechat.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10000)
    stripe = bearer_api(http, keys, "/v1/", STRIPE_KEY)
    stripe.orders["pi_1"] = {"id": "pi_1", "status": "succeeded", "amount": 10000, "amount_received": 10000,
                             "currency": "cny", "created": 1741919400, "client_secret": "pi_1_secret_zzz",
                             "receipt_email": "payer@example.com"}
    ws = wechat_ws(tmp_path / "ws", keys, http, private_key_file=str(secrets_dir / "apiclient_key.pem"),
                   platform_public_key_file=str(secrets_dir / "platform.pem"))
    for name in ("merchant_key.pem", "platform_public.pem"):
        (ws.root / name).unlink()
    with open(ws.config_path, "a", encoding="utf-8") as toml:
        toml.write(f'\n[channels.stripe]\nformat = "stripe.balance"\n\n[channels.stripe.requery]\nadapter = "stripe"\n'
                   f'url = "{http.url("")}"\napi_key_env = "TEST_STRIPE_KEY"\nrate = 1000.0\n')
    ws = open_workspace(ws.root)
    queue(ws, row("LOCAL_ONLY", "k1", their=None),
          row("LOCAL_ONLY", "s1", channel="stripe", their=None, our_channel_txn_id="pi_1", our_merchant_txn_id=None))
    wechat.mode = "forge"
    queue(ws, row("LOCAL_ONLY", "k2", their=None), day=DAY.replace(day=15))

    for args in (("queue", "requery", "--state", "active"), ("run", "--date", DAY.isoformat()),
                 ("report", "--date", DAY.isoformat()), ("queue", "list", "--json")):
        recon(ws, *args)

    private_pem = pem(keys["merchant"]).decode().splitlines()
    needles = [STRIPE_KEY, private_pem[1], private_pem[-2], "WECHATPAY2-SHA256-RSA2048", "Bearer ",
               "pi_1_secret_zzz", "payer@example.com", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"]
    files = [p for p in ws.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" and "requery" in p.parts for p in files)  # answers were archived
    found = {(n, str(p.relative_to(ws.root))) for p in files for n in needles if n.encode() in p.read_bytes()}
    assert found == set()
    assert len(stripe.asked) == 1 and len(requeries(ws, 1)) >= 1
