"""The queue over several days through the real CLI (`recon match`, `queue list`, `clear`, `report`).

Each scenario of issue 17 is played day by day on a real workspace (statements as standardized
bills, our side as the internal CSV the `file` source reads) and the whole queue is checked after
every day: one item per real-world problem, updated in place, closed by the day that settles it,
and left alone by a re-run of an earlier day.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from tests.matching.factory import WX_FILE_CONFIG as CONFIG
from tests.matching.factory import _ours, _theirs, frames

MON, TUE, WED = dt.date(2024, 5, 6), dt.date(2024, 5, 7), dt.date(2024, 5, 8)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FUNDS = """
[channels.wx_funds]
format = "wechatpay.fundflow"
account = "1900000109"
"""
PERIOD = "period:2024-05-06..2024-05-06:CNY"
runner = CliRunner()


def at(day: dt.date, hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=SHANGHAI).astimezone(dt.UTC)


def pay(n: int, amount: str, time: dt.datetime, *, mtx: str | None = None) -> tuple[dict, dict]:
    """(our row, the channel's line) of one payment; mtx: our serial, echoed by the channel."""
    mtx = mtx or f"M{n:04d}"
    ours = _ours(n, mtx, None, "PAYMENT", None, Decimal(amount), Decimal("0"), time)
    theirs = _theirs(f"C{n:04d}", mtx, "PAYMENT", None, None, Decimal(amount), Decimal("0"), time)
    return {**ours, "txn_id": f"T{n:04d}", "source_line": n + 1}, {**theirs, "source_line": n + 1}


def write_day(root: Path, day: dt.date, ours: list[dict], theirs: list[dict]) -> None:
    bill, internal = frames(ours, [{**t, "bill_date": day, "source_file": f"wx-{day}.csv"} for t in theirs])
    (root / "bills" / "wx").mkdir(parents=True, exist_ok=True)
    bill.write_parquet(root / "bills" / "wx" / f"{day}.parquet")
    (root / "internal").mkdir(exist_ok=True)
    internal.with_columns(pl.col("trade_time").map_elements(lambda t: t.isoformat(), return_dtype=pl.String),
                          pl.col("amount").cast(pl.String), pl.col("fee").cast(pl.String)
                          ).drop("source_file", "source_line").write_csv(root / "internal" / f"{day}.csv")


def write_payouts(root: Path, day: dt.date, payouts: list[tuple[str, str]]) -> None:
    """The fund-flow bill of `day`: one PAYOUT line per (ref, amount)."""
    lines = [{**_theirs(ref, None, "PAYOUT", None, None, -Decimal(amount), Decimal("0"), at(day, 9, 0)),
              "channel": "wx_funds", "bill_date": day, "source_file": f"funds-{day}.csv", "source_line": i + 2}
             for i, (ref, amount) in enumerate(payouts)]
    bill, _ = frames([], lines)
    (root / "bills" / "wx_funds").mkdir(parents=True, exist_ok=True)
    bill.write_parquet(root / "bills" / "wx_funds" / f"{day}.parquet")


def recon(root: Path, *args: str):
    result = runner.invoke(app, [*args, "--workspace", str(root)])
    assert result.exit_code == 0, result.output
    return result


def queue(root: Path) -> dict[str, dict]:
    items = json.loads(recon(root, "queue", "list", "--state", "all", "--json").stdout)
    return {i["key"]: i for i in items}


def view(items: dict[str, dict]) -> dict[str, tuple]:
    return {k: (i["layer"], i["kind"], i["status"]) for k, i in items.items()}


def history(root: Path, item_id: int) -> list[dict]:
    return json.loads(recon(root, "queue", "show", str(item_id), "--json").stdout)["history"]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "recon.toml").write_text(CONFIG + FUNDS, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "settlement.toml").write_text('[channels.wx]\npayout_channel = "wx_funds"\n')
    return tmp_path


def test_three_days_cross_day_payment_partial_settlement_and_a_rerun_of_day_one(root: Path):
    p1, p2, p3 = pay(1, "1000.00", at(MON, 10, 0)), pay(2, "250.00", at(MON, 23, 59, 58)), \
        pay(3, "80.00", at(MON, 23, 59, 58))
    p4, p5 = pay(4, "300.00", at(TUE, 11, 0)), pay(5, "120.00", at(WED, 11, 0))
    # Monday: we book all three; the channel bills only p1 (p2 lands in Tuesday's bill, p3 never).
    write_day(root, MON, [p1[0], p2[0], p3[0]], [p1[1]])
    recon(root, "match", "--date", str(MON))
    day1 = queue(root)
    assert view(day1) == {"M0002": (1, "PENDING", "PENDING"), "M0003": (1, "PENDING", "PENDING")}
    bill = pl.read_parquet(root / "results" / str(MON) / "layer2.parquet").filter(pl.col("section") == "bill")
    assert bill["kind"].to_list() == ["BILL_OK"]  # the two cross-day rows are layer 1's, not a bill difference
    assert "across midnight" in bill["reason"][0]

    # Tuesday: p2 arrives; p3 ages out in place; Monday's settlement (owed 1,000.00) is paid 400.00.
    write_day(root, TUE, [p4[0]], [p2[1], p4[1]])
    write_payouts(root, TUE, [("PO-1", "400.00")])
    recon(root, "match", "--date", str(TUE))
    day2 = queue(root)
    assert view(day2) == {"M0002": (1, "PENDING", "AUTO_RESOLVED"), "M0003": (1, "LOCAL_ONLY", "OPEN"),
                          PERIOD: (2, "SETTLEMENT_PENDING", "PENDING")}
    assert day2["M0003"]["id"] == day1["M0003"]["id"]  # the same item: one problem, one item
    assert day2["M0003"]["business_date"] == str(MON)
    assert (day2[PERIOD]["our_amount"], day2[PERIOD]["their_amount"]) == ("1000.00", "400.00")
    assert pl.read_parquet(root / "results" / str(TUE) / "layer2.parquet").filter(
        pl.col("section") == "bill")["kind"].to_list() == ["BILL_OK"]
    assert [e["action"] for e in history(root, day2["M0003"]["id"])] == ["created", "updated"]

    # Wednesday: the rest of Monday's settlement (600.00) and Tuesday's (550.00) are paid.
    write_day(root, WED, [p5[0]], [p5[1]])
    write_payouts(root, WED, [("PO-2", "600.00"), ("PO-3", "550.00")])
    recon(root, "match", "--date", str(WED))
    day3 = queue(root)
    assert view(day3) == {"M0002": (1, "PENDING", "AUTO_RESOLVED"), "M0003": (1, "LOCAL_ONLY", "OPEN"),
                          PERIOD: (2, "SETTLEMENT_PENDING", "AUTO_RESOLVED")}
    assert (day3[PERIOD]["their_amount"], day3[PERIOD]["diff"]) == ("1000.00", "0.00")  # what settled it
    settled = history(root, day3[PERIOD]["id"])
    assert [e["action"] for e in settled] == ["created", "auto_resolved"]
    assert "SETTLED in the results of 2024-05-08: paid by PO-1, PO-2" in settled[-1]["note"]

    # Monday re-run: still PENDING there, but Tuesday has spoken: nothing re-opens, nothing is added.
    before = {k: history(root, i["id"]) for k, i in day3.items()}
    recon(root, "match", "--date", str(MON))
    assert queue(root) == day3
    assert {k: history(root, i["id"]) for k, i in day3.items()} == before
    table = recon(root, "queue", "list", "--state", "all").stdout
    print(table)  # the closing note of issue 17 shows this table
    assert "1,000.00" in table and "SETTLEMENT_PENDING" in table


def test_a_channel_without_a_payout_source_is_not_checked_and_raises_nothing(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    for day in (MON, TUE):
        p = pay(day.day, "500.00", at(day, 10, 0))
        write_day(tmp_path, day, [p[0]], [p[1]])
        result = json.loads(recon(tmp_path, "match", "--date", str(day), "--json").stdout)
        assert any("no payout source" in n and "settlement not checked" in n for n in result["layers23"]["notes"])
    assert queue(tmp_path) == {}
    rows = pl.read_parquet(tmp_path / "results" / str(TUE) / "layer2.parquet")
    assert rows.filter(pl.col("section") == "settlement")["kind"].to_list() == ["SETTLEMENT_NOT_CHECKED"]


def test_a_group_keyed_combined_payment_reconciles_clears_and_reports(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "wechatpay.toml").write_text('[match]\ngroup_key = "merchant_txn_id"\n')
    ours, line_a = pay(1, "100.00", at(MON, 10, 0), mtx="M-A1")
    _, line_b = pay(2, "40.00", at(MON, 10, 0), mtx="M-A1")
    line_a = {**line_a, "amount": Decimal("60.00"), "net_amount": Decimal("60.00")}
    other, other_line = pay(3, "7.00", at(MON, 11, 0))
    write_day(tmp_path, MON, [ours, other], [line_a, line_b, other_line])
    recon(tmp_path, "match", "--date", str(MON))
    results = pl.read_parquet(tmp_path / "results" / str(MON) / "layer1.parquet")
    assert results["outcome"].to_list() == ["MATCHED"] * 3
    assert queue(tmp_path) == {}
    recon(tmp_path, "clear", "--date", str(MON))
    with open(tmp_path / "clearing" / str(MON) / "settlements.csv", encoding="utf-8") as fh:
        [line] = list(csv.DictReader(fh))
    assert (line["merchant_id"], line["currency"], Decimal(line["gross"])) == ("MER1", "CNY", Decimal("107.00"))
    recon(tmp_path, "report", "--date", str(MON))
    # the report shows the group: its id, its two lines and the group's total against our order
    wb = openpyxl.load_workbook(tmp_path / "reports" / str(MON) / f"recon-{MON}.xlsx")
    assert "Combined payments" in wb.sheetnames
    rows = list(wb["Combined payments"].iter_rows(values_only=True))
    head = rows[0]
    assert head[:3] == ("Group", "Row", "Channel")
    got = [dict(zip(head, r)) for r in rows[1:]]
    assert [(r["Group"], r["Row"], r["Channel txn id"], r["Channel amount"]) for r in got[:2]] == [
        ("M-A1", "Line", "C0001", Decimal("60")), ("M-A1", "Line", "C0002", Decimal("40"))]
    total = got[2]
    assert (total["Group"], total["Row"], total["Lines in group"], total["Channel amount"], total["Our amount"],
            total["Difference"], total["Our txn id"]) == ("M-A1", "Total", 2, 100, 100, 0, "T0001")
    assert len(got) == 3  # the single payment (M0003) is no group


def test_without_a_group_rule_the_combined_payment_names_its_group_and_rule(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    ours, line_a = pay(1, "100.00", at(MON, 10, 0), mtx="M-A1")
    _, line_b = pay(2, "40.00", at(MON, 10, 0), mtx="M-A1")
    line_a = {**line_a, "amount": Decimal("60.00"), "net_amount": Decimal("60.00")}
    write_day(tmp_path, MON, [ours], [line_a, line_b])
    recon(tmp_path, "match", "--date", str(MON))
    items = json.loads(recon(tmp_path, "queue", "list", "--layer", "1", "--json").stdout)
    assert sorted(i["kind"] for i in items) == ["CHANNEL_ONLY", "DUPLICATE", "LOCAL_ONLY"]
    for item in items:
        assert 'group_key = "merchant_txn_id"' in item["reason"] and "T0001" in item["reason"]


def test_a_combined_payment_that_differs_is_one_item_with_the_group_total_and_its_lines(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "wechatpay.toml").write_text('[match]\ngroup_key = "merchant_txn_id"\n')
    ours, line_a = pay(1, "100.00", at(MON, 10, 0), mtx="M-A1")
    _, line_b = pay(2, "39.00", at(MON, 10, 0), mtx="M-A1")
    line_a = {**line_a, "amount": Decimal("60.00"), "net_amount": Decimal("60.00")}
    write_day(tmp_path, MON, [ours], [line_a, line_b])
    recon(tmp_path, "match", "--date", str(MON))
    [item] = json.loads(recon(tmp_path, "queue", "list", "--layer", "1", "--json").stdout)
    assert (item["kind"], item["key"], item["our_amount"], item["their_amount"], item["diff"]) == \
        ("AMOUNT_MISMATCH", "M-A1", "100.00", "99.00", "-1.00")
    group = json.loads(recon(tmp_path, "queue", "show", str(item["id"]), "--json").stdout)["sides"]["group"]
    assert (group["size"], group["their_total"]) == (2, "99.00")
    assert sorted(line["channel_txn_id"] for line in group["lines"]) == ["C0001", "C0002"]
    # clearing holds the whole order (one transaction of ours), it does not fail on the second line
    recon(tmp_path, "clear", "--date", str(MON))
    # the report's group total shows the difference the analyst has to explain, highlighted
    recon(tmp_path, "report", "--date", str(MON))
    wb = openpyxl.load_workbook(tmp_path / "reports" / str(MON) / f"recon-{MON}.xlsx")
    rows = list(wb["Combined payments"].iter_rows())
    head = [c.value for c in rows[0]]
    total = next(r for r in rows[1:] if r[head.index("Row")].value == "Total")
    values = {h: c.value for h, c in zip(head, total)}
    assert (values["Group"], values["Channel amount"], values["Our amount"], values["Difference"]) == \
        ("M-A1", 99, 100, -1)
    # issue 20: reading sheets show the kind by its label (recon.excel.words.KINDS)
    assert "Amount mismatch" in values["Outcome"] and total[head.index("Difference")].font.b


def ledger(root: Path) -> tuple[Decimal, bool]:
    """What the queue's postings moved on the channels' assets, and whether the books balance."""
    rows = json.loads(recon(root, "core", "balance", "assets:channel", "--json").stdout)
    balanced = json.loads(recon(root, "core", "trial-balance", "--json").stdout)["balanced"]
    return sum((Decimal(r["balance"]) for r in rows), Decimal("0")), balanced


def test_days_a_rerun_and_resolutions_between_keep_one_item_and_one_adjustment(root: Path):
    ours, theirs = pay(1, "100.00", at(MON, 10, 0))
    write_day(root, MON, [ours], [{**theirs, "amount": Decimal("99.90")}])
    p2 = pay(2, "50.00", at(TUE, 10, 0))
    write_day(root, TUE, [p2[0]], [p2[1]])

    recon(root, "match", "--date", str(MON))
    item = queue(root)["M0001"]
    assert (item["kind"], item["status"]) == ("AMOUNT_MISMATCH", "OPEN")
    assert ledger(root) == (Decimal("0"), True)

    recon(root, "queue", "resolve", str(item["id"]), "--accept", "channel", "--note", "the channel is right")
    moved, balanced = ledger(root)
    assert abs(moved) == Decimal("0.10") and balanced

    recon(root, "match", "--date", str(TUE))  # the next day, then the first day again: nothing books twice
    recon(root, "match", "--date", str(MON))
    assert queue(root)["M0001"]["status"] == "RESOLVED" and queue(root)["M0001"]["id"] == item["id"]
    assert ledger(root) == (moved, True)

    recon(root, "queue", "reopen", str(item["id"]), "--note", "wrong call")
    assert queue(root)["M0001"]["status"] == "OPEN"
    assert ledger(root) == (Decimal("0"), True)  # the reversal

    recon(root, "queue", "resolve", str(item["id"]), "--accept", "channel", "--note", "checked again")
    recon(root, "match", "--date", str(MON))
    assert ledger(root) == (moved, True)  # one live adjustment, whatever came before
    # the re-runs added nothing to the item: only what people did
    assert [e["action"] for e in history(root, item["id"])] == ["created", "accept_channel", "reopen", "accept_channel"]


def test_a_corrected_bill_that_matches_an_accepted_item_takes_its_adjustment_back(root: Path):
    ours, theirs = pay(1, "100.00", at(MON, 10, 0))
    write_day(root, MON, [ours], [{**theirs, "amount": Decimal("99.90")}])
    recon(root, "match", "--date", str(MON))
    item, bill = queue(root)["M0001"], queue(root)["PAYMENT:CNY"]
    recon(root, "queue", "resolve", str(item["id"]), "--accept", "channel", "--note", "as billed")
    recon(root, "queue", "resolve", str(bill["id"]), "--accept", "channel", "--note", "the row explains it")
    assert ledger(root)[0] == Decimal("-0.10")

    write_day(root, MON, [ours], [theirs])  # the channel re-delivers Monday's bill, corrected: 100.00
    recon(root, "match", "--date", str(MON))
    assert (queue(root)["M0001"]["status"], queue(root)["PAYMENT:CNY"]["status"]) == ("AUTO_RESOLVED", "AUTO_RESOLVED")
    assert ledger(root) == (Decimal("0"), True)  # nothing is left booked for a difference that is gone
    assert [e["action"] for e in history(root, item["id"])] == ["created", "accept_channel", "auto_resolved"]
