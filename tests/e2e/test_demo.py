"""`recon demo` end to end: a real multi-day reconciliation whose discrepancies are known in advance."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app

REPO = Path(__file__).resolve().parents[2]
EXPECTED = REPO / "sample_statements" / "expected" / "wechat_outcomes.csv"
EXPECTED_CASH = REPO / "sample_statements" / "expected" / "cash_outcomes.csv"
DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")
NOT_DISCREPANCIES = {"MATCHED"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "ws"
    result = CliRunner().invoke(app, ["demo", str(root)])
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "recon-2026-11-22.xlsx" in result.output
    return root


def _found(root: Path) -> set[tuple[str, str, str]]:
    found = set()
    for path in sorted((root / "results").glob("*/layer1.parquet")):
        frame = pl.read_parquet(path).filter(~pl.col("outcome").is_in(NOT_DISCREPANCIES))
        for row in frame.select("business_date", "outcome", "match_key").iter_rows():
            found.add((row[0].isoformat(), row[1], row[2]))
    return found


def test_the_demo_finds_exactly_the_injected_discrepancies(demo):
    with open(EXPECTED, encoding="utf-8") as fh:
        expected = {(r["business_date"], r["outcome"], r["key"]) for r in csv.DictReader(fh)}
    assert _found(demo) == expected


def test_layer3_finds_the_cash_story_worked_out_in_advance(demo):
    """Books vs bank and payouts landing, figures from sample_statements/expected/cash_outcomes.csv."""
    found = set()
    for day in DAYS:
        frame = pl.read_parquet(demo / "results" / day / "layer3.parquet")
        for kind, key, ours, theirs in frame.select("kind", "key", "our_amount", "their_amount").iter_rows():
            shown_key = "" if kind == "UNEXPECTED_CREDIT" else key  # its key names a line of the statement
            found.add((day, kind, shown_key, f"{ours:.2f}", f"{theirs:.2f}"))
    with open(EXPECTED_CASH, encoding="utf-8") as fh:
        expected = {tuple(r.values()) for r in csv.DictReader(fh)}
    assert found == expected
    # the worked figures: 11-21 books 500,000 + our net 17,949.13, the bank 500,000 + WeChat's 17,602.58
    assert ("2026-11-21", "CASH_MISMATCH", "0200001509000123456:CNY", "517949.13", "517602.58") in found


def test_the_demo_shows_discrepancies_of_every_layer(demo):
    layers = {1: 0, 2: 0, 3: 0}
    for day in DAYS:
        layers[1] += pl.read_parquet(demo / "results" / day / "layer1.parquet").filter(
            ~pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED", "PENDING"])).height
        for layer in (2, 3):
            layers[layer] += int(pl.read_parquet(demo / "results" / day / f"layer{layer}.parquet")["is_discrepancy"].sum())
    assert all(n > 0 for n in layers.values()), layers
    # the settlement itself is clean: WeChat paid exactly its own net, T+1
    settled = pl.read_parquet(demo / "results" / "2026-11-22" / "layer2.parquet").filter(pl.col("section") == "settlement")
    assert settled["kind"].to_list() == ["SETTLED"]
    # bank and fund-flow lines are not matched line by line against our transactions
    for day in DAYS:
        assert set(pl.read_parquet(demo / "results" / day / "layer1.parquet")["channel"].unique()) == {"wechat"}


def test_the_demo_parses_every_other_bundled_channel_statement(demo):
    parsed = sorted(p.name for p in (demo / "parsed").glob("*.parquet"))
    formats = {pl.read_parquet(demo / "parsed" / name)["channel"][0] for name in parsed}
    assert formats == {"alipay", "unionpay", "wechat_fundflow", "stripe", "paypal", "adyen", "bank"}
    result = CliRunner().invoke(app, ["demo", str(demo), "--json"])
    assert result.exit_code == 0, result.output
    import json

    seen = {r["format"] for r in json.loads(result.output)["parsed"]}
    assert seen >= {"alipay.trade", "unionpay.zm", "stripe.balance", "paypal.stl", "adyen.settlement",
                    "wechatpay.fundflow", "mt940", "camt.053"}
    assert all(r["checks"] > 0 for r in json.loads(result.output)["parsed"])


def test_every_row_of_both_sides_has_one_outcome(demo):
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        results = pl.read_parquet(demo / "results" / day / "layer1.parquet")
        bill = pl.read_parquet(demo / "bills" / "wechat" / f"{day}.parquet")
        # every line of today's bill once (a row carried from yesterday pairs our old side with it)
        theirs = results.filter(pl.col("their_source_file").is_in(bill["source_file"].unique().to_list()))
        assert sorted(theirs["their_source_line"].to_list()) == sorted(bill["source_line"].to_list())
        ours = results.filter(pl.col("our_txn_id").is_not_null() & pl.col("carried_from").is_null())
        assert ours["our_txn_id"].n_unique() == ours.height


def test_reports_and_queue_exist_for_every_day(demo):
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        assert (demo / "reports" / day / f"recon-{day}.xlsx").stat().st_size > 5000
    listed = CliRunner().invoke(app, ["queue", "list", "--json", "--workspace", str(demo)])
    assert listed.exit_code == 0, listed.output
    assert "FEE_MISMATCH" in listed.output and "CASH_MISMATCH" in listed.output and "UNEXPECTED_CREDIT" in listed.output


def test_running_the_demo_again_rebuilds_it(demo):
    again = CliRunner().invoke(app, ["demo", str(demo), "--quiet"])
    assert again.exit_code == 0, again.output
    assert _found(demo)


def test_the_demo_asks_the_channel_about_one_item_and_its_answer_resolves_it(demo):
    import json

    import openpyxl

    listed = CliRunner().invoke(app, ["queue", "list", "--state", "all", "--json", "--workspace", str(demo)])
    [item] = [i for i in json.loads(listed.stdout) if i["key"] == "S2026112000034"]
    assert (item["kind"], item["status"], item["resolution"]) == ("STATUS_MISMATCH", "RESOLVED", "accept_channel")
    shown = CliRunner().invoke(app, ["queue", "show", str(item["id"]), "--json", "--workspace", str(demo)])
    history = json.loads(shown.stdout)["history"]
    [asked] = [e["data"] for e in history if e["action"] == "requery"]
    assert (asked["status"], asked["amount"], asked["outcome"], asked["adapter"]) == ("SUCCESS", "366.03", "ACCEPTED", "http")
    assert history[-1]["action"] == "accept_channel" and history[-1]["actor"] == "recon-requery"
    assert json.loads((demo / asked["archive"]).read_text())["response"]["body"]["payer"]["openid"] == "***"
    sheet = openpyxl.load_workbook(demo / "reports" / "2026-11-20" / "recon-2026-11-20.xlsx")["Re-queries"]
    # issue 20: the time asked is shown in the channel's business zone (Asia/Shanghai), named in the header
    local = dt.datetime.fromisoformat(asked["asked_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    first = [c.value for c in next(sheet.iter_rows(min_row=2))]
    assert first[3:7] == ["S2026112000034", 1, f"{local:%Y-%m-%d %H:%M:%S}", "SUCCESS"]
    assert next(sheet.iter_rows(max_row=1, values_only=True))[5] == "Asked at (Asia/Shanghai)"
