"""Re-query adapters are `recon.requery` entry points: the built-ins, and a third party's the same way."""

from __future__ import annotations

import sys

from layers import row
from requery_support import LATER, make_ws, queue, requeries

from jobs.requery import available
from jobs.requery.run import requery_items

PLUGIN = '''
from jobs.requery.model import Exchange, Reading


class Ledgerless:
    """A channel whose order query answers from a dict: enough to prove the plugin path."""

    def __init__(self, options, rules):
        self.options, self.rules = options, rules

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def query(self, target):
        exchange = Exchange("GET", "https://psp.example/orders", f"order {target.merchant_txn_id}", 200, (), b'{"s": "OK"}')
        return exchange, Reading(field="status", code="OK", amount=None)
'''


def test_the_built_in_adapters_are_entry_points():
    assert {"wechatpay_v3", "alipay", "stripe", "http"} <= set(available())


def test_a_third_party_adapter_registered_by_entry_point_metadata(tmp_path, keys, monkeypatch):
    site = tmp_path / "site"
    (site / "ledgerless_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "ledgerless_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (site / "ledgerless_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ledgerless-plugin\nVersion: 1.0\n", encoding="utf-8")
    (site / "ledgerless_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[recon.requery]\nledgerless = ledgerless_plugin:Ledgerless\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    ws = make_ws(tmp_path / "ws", keys, {"adapter": "ledgerless"}, rules='[requery.status.status]\nOK = "SUCCESS"\n')
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert "ledgerless" in available() and "ledgerless_plugin" in sys.modules
    [answer] = requeries(ws, ids["k1"])
    assert (answer["adapter"], answer["status"], run.lines[0].outcome) == ("ledgerless", "SUCCESS", "WAITING")
    assert "no amount" in answer["why"]  # a success without an amount proves nothing: asked again
