"""Where layer 3's book position comes from (the core's ledger) and which channels layer 1 leaves alone."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl

from layers23_helpers import D, line, workspace, write_bill
from parsers.registry import parse_file
from parsers.base import ParseContext
from recon.core.accounting import accounting_of
from recon.core.ledger import balances as ledger_balances
from recon.core.orders import Core
from recon.core.positions import positions_at
from recon.core.service import apply_event
from jobs.catalog import format_rule_set
from recon.matching.policy import transaction_channels
from recon.matching.layer1_day import match_day
from recon.store.engine import open_store
from recon.workspace import Workspace
from jobs.catalog import open_workspace

IBAN = "DE89370400440532013000"
MON, TUE, WED = D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 6)
FUNDFLOW = """
[channels.funds]
format = "wechatpay.fundflow"
account = "1900000109"
"""


def _post(ws: Workspace, core: Core, **event: str) -> None:
    apply_event(core, {"type": "post", "currency": "EUR", **event}, ws)


def test_the_book_position_is_the_ledger_of_the_bank_channel_through_the_day(tmp_path):
    ws = workspace(tmp_path)
    core = Core(open_store(ws.store_url()), accounting_of(ws))
    _post(ws, core, event="OPENING", bank="bank", gross="1000000.00", key="open", business_date=str(MON))
    # stripe's payout lands in the bank channel: {bank} is filled from the event, {channel} stays stripe
    _post(ws, core, event="SETTLE", channel="stripe", bank="bank", gross="980000.00", key="s1", business_date=str(TUE))
    _post(ws, core, event="SETTLE", channel="stripe", bank="bank", gross="20000.00", key="s2", business_date=str(WED))
    assert positions_at(ws, MON) == {IBAN: ("EUR", Decimal("1000000.00"))}
    assert positions_at(ws, TUE) == {IBAN: ("EUR", Decimal("1980000.00"))}
    assert positions_at(ws, WED) == {IBAN: ("EUR", Decimal("2000000.00"))}
    balances = {(b.account, b.currency): b.balance for b in ledger_balances(core.engine)}
    assert balances[("assets:channel:stripe", "EUR")] == Decimal("-1000000.00")
    assert balances[("equity:opening-balance:bank", "EUR")] == Decimal("-1000000.00")


def test_layer1_matches_neither_bank_nor_payout_only_channels(tmp_path):
    ws = workspace(tmp_path)
    (tmp_path / "recon.toml").write_text((tmp_path / "recon.toml").read_text() + FUNDFLOW, encoding="utf-8")
    (tmp_path / "rules" / "settlement.toml").write_text('[channels.stripe]\npayout_channel = "funds"\n')
    ws = open_workspace(tmp_path)
    assert transaction_channels(ws) == ["stripe"]
    write_bill(ws, "bank", TUE, [line("PAYMENT", "B1", "980000.00", memo="po_a")], account=IBAN)
    summary = match_day(ws, TUE, "bank")
    assert summary.channels == ()
    # no transaction channel asked for: an empty, well-formed results file, and nothing invented
    assert pl.read_parquet(ws.results_dir(TUE) / "layer1.parquet").height == 0


def test_bank_statements_use_the_bank_rule_set_without_configuration(tmp_path):
    assert format_rule_set("mt940").name == "bank"
    assert format_rule_set("camt.053").name == "bank"
    path = tmp_path / "stmt.mt940"
    path.write_text(":20:S1\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n:60F:C240305EUR100,00\r\n"
                    ":61:2403050305C5,00NTRFNONREF//B1\r\n:86:interest\r\n:62F:C240305EUR105,00\r\n-\r\n")
    fid, parsed = parse_file(path, ParseContext(channel="bank", rules=format_rule_set("mt940"), zone=ZoneInfo("UTC")))
    assert fid == "mt940" and parsed.bill["amount"].to_list() == [Decimal("5")]
