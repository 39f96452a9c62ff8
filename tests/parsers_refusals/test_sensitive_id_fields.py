"""Card data in an id field (issue 17): kept whole unless the format declares the field sensitive.

Ids are what matching and people look things up by, so the parse stage masks only free text (memo,
counterparty). A format whose id column can carry a card number says so with the parser attribute
`sensitive_id_fields`; the parse stage then masks that column too. The declaring format here is a
tiny third-party plugin, registered by entry point metadata like any installed one.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parsers import registry
from parsers.base import ParseContext, sensitive_id_fields
from parsers.registry import parse_file
from parsers.wechatpay_trade import WeChatPayTradeParser
from rules.loader import load_rules
from tests.jobs.conftest import REPO

CARD = "4111111111111111"  # Luhn-valid test card number, standing alone as an order number
DEMO = (REPO / "sample_statements" / "wechat" / "wechat_20261120.csv").read_text(encoding="utf-8")
PLUGIN = '''
from parsers.wechatpay_trade import WeChatPayTradeParser


class CardOrderParser(WeChatPayTradeParser):
    """A WeChat-like bill whose merchant order number is the payer's card number."""

    format_id = "tiny.cardorders"
    sensitive_id_fields = frozenset({"merchant_txn_id"})

    def identify(self, sample):
        return False  # only when named: it must not contest WeChat's own files
'''


@pytest.fixture()
def card_order_plugin(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "tiny_cardorders-1.0.dist-info").mkdir(parents=True)
    (site / "tiny_cardorders.py").write_text(PLUGIN, encoding="utf-8")
    (site / "tiny_cardorders-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tiny-cardorders\nVersion: 1.0\n", encoding="utf-8")
    (site / "tiny_cardorders-1.0.dist-info" / "entry_points.txt").write_text(
        "[recon.parsers]\ntiny.cardorders = tiny_cardorders:CardOrderParser\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    registry._entry_points.cache_clear()
    registry.get_parser.cache_clear()
    yield
    registry._entry_points.cache_clear()
    registry.get_parser.cache_clear()


def card_as_order_number(tmp_path: Path) -> Path:
    lines = DEMO.split("\n")
    cells = lines[1].split(",`")
    cells[6] = CARD  # 商户订单号
    lines[1] = ",`".join(cells)
    path = tmp_path / "wechat_20261120.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def parse(path: Path, fmt: str):
    ctx = ParseContext(channel="wechat", rules=load_rules("wechatpay"), zone=ZoneInfo("Asia/Shanghai"),
                       source_name=path.name)
    return parse_file(path, ctx, fmt)[1].bill


def test_an_id_field_is_kept_whole_when_the_format_declares_nothing(tmp_path):
    assert sensitive_id_fields(WeChatPayTradeParser()) == frozenset()
    bill = parse(card_as_order_number(tmp_path), "wechatpay.trade")
    assert bill["merchant_txn_id"][0] == CARD


def test_a_declared_sensitive_id_field_is_masked_at_parse(tmp_path, card_order_plugin):
    bill = parse(card_as_order_number(tmp_path), "tiny.cardorders")
    assert bill["merchant_txn_id"][0] == "411111******1111"
    assert "S2026112000026" in bill["merchant_txn_id"].to_list()  # other order numbers, Luhn or not, untouched
    assert CARD not in bill["merchant_txn_id"].to_list() and bill["channel_txn_id"][0] == "4200020261120000000000000030"
