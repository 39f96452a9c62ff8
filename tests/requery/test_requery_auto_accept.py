"""Auto-accept: named kinds under a per-currency cap post one ADJUST entry, however often the run repeats."""

from __future__ import annotations

import sqlalchemy as sa
from layers import row
from requery_support import LATER, item, queue, requeries, wechat_api, wechat_order, wechat_ws
from typer.testing import CliRunner

from cli import app
from jobs.requery.run import requery_due
from recon.store.tables.core import entries
from recon.queue.store import queue_engine

AUTO = '''
[requery]
auto_accept = ["CHANNEL_ONLY"]
auto_accept_max = { CNY = "150.00" }
'''


def adjust_entries(ws) -> list[str]:
    with queue_engine(ws).connect() as conn:
        return sorted(conn.execute(sa.select(entries.c.entry_key).where(entries.c.event == "ADJUST")).scalars())


def test_auto_accept_respects_kind_and_cap_and_posts_once(tmp_path, http, keys, store_url):
    api = wechat_api(http, keys)
    for no, fen in (("Mk1", 10000), ("Mk2", 20000), ("Mk3", 10050)):
        api.orders[no] = wechat_order(no, "SUCCESS", fen)
    ws = wechat_ws(tmp_path / "ws", keys, http, store_url=store_url)
    (ws.root / "rules" / "wechatpay.toml").write_text(AUTO, encoding="utf-8")
    ids = queue(ws, row("CHANNEL_ONLY", "k1", our=None, their="100.00"),
                row("CHANNEL_ONLY", "k2", our=None, their="200.00"),  # over the cap
                row("AMOUNT_MISMATCH", "k3", their="100.50"))  # a kind not named

    first = requery_due(ws, now=LATER)
    again = requery_due(ws, now=LATER)
    by_hand = CliRunner().invoke(app, ["queue", "requery", str(ids["k1"]), "-w", str(ws.root)])

    assert {line.item_id: line.outcome for line in first.lines} == {
        ids["k1"]: "ACCEPTED", ids["k2"]: "PROPOSED", ids["k3"]: "PROPOSED"}
    assert again.lines == [] and by_hand.exit_code == 2 and "RESOLVED" in by_hand.output
    assert adjust_entries(ws) == [f"ADJ:queue:{ids['k1']}:v2"]  # exactly one, for k1
    assert [item(ws, ids[k]).status for k in ("k1", "k2", "k3")] == ["RESOLVED", "OPEN", "OPEN"]
    k1, k2 = requeries(ws, ids["k1"])[0], requeries(ws, ids["k2"])[0]
    assert k1["auto_accept"] == {"kind": "CHANNEL_ONLY", "amount": "100.00", "cap": "150.00", "within": True}
    assert k2["auto_accept"]["within"] is False and requeries(ws, ids["k3"])[0]["auto_accept"] is None
    assert len(api.asked) == 3


def test_a_float_cap_is_refused(tmp_path, http, keys):
    ws = wechat_ws(tmp_path / "ws", keys, http)
    (ws.root / "rules" / "wechatpay.toml").write_text(AUTO.replace('"150.00"', "150.1"), encoding="utf-8")
    ids = queue(ws, row("CHANNEL_ONLY", "k1", our=None))

    result = CliRunner().invoke(app, ["queue", "requery", str(ids["k1"]), "-w", str(ws.root)])

    assert result.exit_code == 2 and "write it as a string" in result.output
