"""Ten days of a real deployment, through the CLI only, with the invariants finance relies on.

A workspace with three channels fetched from a drop folder (WeChat Pay's trade bill, its fund-flow
bill and the bank's MT940), our side as the internal CSV export, and the treasury's bookings in the
payment core. "Now" is pinned by the test (every module's `utcnow`) and moves from morning to morning, so
cron-style `recon run` (the look-back window up to yesterday) sees the days come one by one; the
channel deadline lies years ahead, so a missing statement waits (exit 3) instead of going MANUAL.

Along the days: a statement that arrives late, a corrupted one quarantined and replaced, re-runs of
finished days, a corrected statement re-delivered for an old day, cross-day rows resolving the next
day, people resolving / reopening / writing off items, a status mismatch the run re-queries and the
channel's answer auto-accepts, clearing and the report every day, and the period report at the end. After every step `invariants` checks what finance relies on.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
import sys
import traceback
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from jobs.demo import DEMO_REQUERY_RULES
from jobs.requery.sandbox import answers_server
import recon.clock as reclock
from tests.synth.bank import SynthLine, SynthStatement
from tests.synth.demo_cash import BANK_ACCOUNT, channel_net, fundflow_text, mt940_text, payout_id
from tests.synth.demo_scenario import INTERNAL_HEADER, MCH_ID, _Day, fee_of
from tests.synth.wechat import TradeRow, write_bill

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2026, 11, 2)  # ten days from Monday 2026-11-02; "now" is pinned (see `clock`)
OPENING = Decimal("100000.00")
CONFIG = f'''\
[store]
url = "sqlite:///recon.db"

[defaults]
timezone = "Asia/Shanghai"
lookback_days = 3

[channels.wechat]
format = "wechatpay.trade"
account = "{MCH_ID}"

[channels.wechat.fetch]
transport = "local"
path = "drop/wechat/wechat_{{date:%Y%m%d}}.csv"
retry = ["1s"]
deadline = "D+3650 12:00"

[channels.wechat.internal]
source = "file"
path = "internal/wechat_{{date:%Y-%m-%d}}.csv"

[channels.wechat_funds]
format = "wechatpay.fundflow"
account = "{MCH_ID}"

[channels.wechat_funds.fetch]
transport = "local"
path = "drop/funds/fundflow_{{date:%Y%m%d}}.csv"
retry = ["1s"]
deadline = "D+3650 12:00"

[channels.bank]
format = "mt940"
account = "{BANK_ACCOUNT}"

[channels.bank.fetch]
transport = "local"
path = "drop/bank/bank_{{date:%Y%m%d}}.mt940"
retry = ["1s"]
deadline = "D+3650 12:00"
'''
REQUERY = """
[channels.wechat.requery]
adapter = "http"
url = "{url}"
"""
SETTLEMENT = ('[channels.wechat]\npayout_channel = "wechat_funds"\ncycle = "T+1"\n'
              'business_days = false\nlanding_days = 1\n')
runner = CliRunner()


# ---------------------------------------------------------------- the statements of ten days
class Days:
    """Both sides of every day, and the fund flow / bank statements that follow from them."""

    def __init__(self, first: dt.date, n: int = 10) -> None:
        rng = random.Random(20261204)
        self.dates = [first + dt.timedelta(days=i) for i in range(n)]
        self.day = {d: _Day(d, rng) for d in self.dates}
        for d in self.dates:
            for _ in range(4):
                self.both(d)

    def both(self, d: dt.date, *, amount: str | None = None, theirs: str | None = None, status: str = "SUCCESS",
             when: dt.datetime | None = None, bill_day: dt.date | None = None, billed: bool = True) -> str:
        """One payment on both sides (the channel may bill `theirs`, or on `bill_day`); its serial."""
        day = self.day[d]
        txn, serial, chan, value, at = day.payment(amount=Decimal(amount) if amount else None,
                                                  when=when and when.replace(tzinfo=ZONE))
        day.ours(txn, serial, chan, at, value, status=status)
        if billed:
            billed_value = Decimal(theirs) if theirs else value
            self.day[bill_day or d].bill.append(TradeRow(at, chan, serial, billed_value, fee_of(billed_value)))
        return serial

    def bill(self, d: dt.date) -> list[TradeRow]:
        return self.day[d].bill

    def wechat_text(self, d: dt.date) -> str:
        return write_bill(sorted(self.bill(d), key=lambda r: r.local_time), MCH_ID)

    def internal_csv(self, d: dt.date) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, INTERNAL_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.day[d].internal)
        return out.getvalue()

    def cash(self) -> tuple[dict[dt.date, str], dict[dt.date, str], dict[dt.date, Decimal]]:
        """Fund-flow and MT940 texts per day, and the payout each day (T+1 of the day before's bill)."""
        funds, bank, payouts = {}, {}, {}
        balance, bank_balance = Decimal("0.00"), OPENING
        for seq, d in enumerate(self.dates, start=1):
            payout = channel_net(self.bill(d - dt.timedelta(days=1))) if seq > 1 else None
            funds[d], balance = fundflow_text(d, sorted(self.bill(d), key=lambda r: r.local_time), balance, payout)
            lines = ()
            if payout is not None:
                payouts[d] = payout
                lines = (SynthLine(d, d, payout, "TRF", False, payout_id(d), f"ICBC{d:%y%m%d}{seq:06d}",
                                   "Tenpay Payment Technology Co", f"WeChat Pay settlement {payout_id(d)}"),)
            st = SynthStatement(f"STMT{d:%Y%m%d}", seq, BANK_ACCOUNT, "CNY", d, bank_balance, lines)
            bank[d], bank_balance = mt940_text(st), st.closing
        return funds, bank, payouts


# ---------------------------------------------------------------- the CLI and the workspace
def recon(ws: Path, *args: str, code: int = 0):
    result = runner.invoke(app, [*args, "--workspace", str(ws)])
    crash = result.exc_info and not isinstance(result.exception, SystemExit)
    assert result.exit_code == code, (args, result.exit_code, result.output,
                                      "".join(traceback.format_exception(*result.exc_info)) if crash else "")
    return result


def queue(ws: Path) -> list[dict]:
    return json.loads(recon(ws, "queue", "list", "--state", "all", "--json").stdout)


def by_key(ws: Path) -> dict[str, dict]:
    return {i["key"]: i for i in queue(ws)}


def history_of(ws: Path, item_id: int) -> list[dict]:
    return json.loads(recon(ws, "queue", "show", str(item_id), "--json").stdout)["history"]


def snapshot(ws: Path) -> dict:
    """What a re-run of a finished day must leave alone: the queue with every item's history, the
    ledger, the clearing files and the reports, byte for byte."""
    items = queue(ws)
    files = {}
    for sub in ("clearing", "reports"):
        for path in sorted((ws / sub).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(ws))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"items": items,
            "history": {i["id"]: history_of(ws, i["id"]) for i in items},
            "ledger": json.loads(recon(ws, "core", "trial-balance", "--json").stdout),
            "files": files}


def invariants(ws: Path) -> None:
    items = queue(ws)
    # one item per real-world problem
    keys = [(i["layer"], i["channel"], i.get("account"), i["business_date"], i["key"]) for i in items]
    assert len(keys) == len(set(keys)), keys
    # every open discrepancy of the stored results is in the queue
    known = {(i["layer"], i["channel"], i["key"]) for i in items}
    for results in sorted((ws / "results").glob("*/layer1.parquet")):
        frame = pl.read_parquet(results)
        for row in frame.filter(pl.col("outcome") != "MATCHED").iter_rows(named=True):
            assert (1, row["channel"], row["match_key"]) in known, (results, row)
    reported = set()
    for results in sorted((ws / "results").glob("*/layer[23].parquet")):
        for row in pl.read_parquet(results).filter("is_discrepancy").iter_rows(named=True):
            assert (row["layer"], row["channel"], row["key"]) in known, (results, row)
            reported.add((row["layer"], row["channel"], row["key"]))
        waiting = pl.read_parquet(results).filter(pl.col("kind") == "SETTLEMENT_PENDING")  # a PENDING item
        reported |= {(2, c, k) for c, k in waiting.select("channel", "key").iter_rows()}
    for results in sorted((ws / "results").glob("*/layer1.parquet")):
        frame = pl.read_parquet(results).filter(pl.col("outcome") != "MATCHED")
        reported |= {(1, c, k) for c, k in frame.select("channel", "match_key").iter_rows()}
    # and no item is open that no results file reports
    ghosts = [i for i in items
              if i["status"] in ("OPEN", "PENDING") and (i["layer"], i["channel"], i["key"]) not in reported]
    assert not ghosts, [(i, history_of(ws, i["id"])) for i in ghosts]
    # the ledger balances and the adjustments are what the accepted items say, booked once
    balance = json.loads(recon(ws, "core", "trial-balance", "--json").stdout)
    assert balance["balanced"], balance
    # only ADJUST posts to suspense (rules/accounting.toml): what the queue moved, credit side
    moved = -sum((Decimal(r["balance"]) for r in json.loads(
        recon(ws, "core", "balance", "liabilities:suspense", "--json").stdout)), Decimal("0"))
    assert moved == adjustments_owed(items), (moved, items)
    # nothing half-written
    left = [p for p in ws.rglob("*") if p.name.startswith(".tmp") or p.name.endswith((".tmp", ".part"))]
    assert not left, left
    # status and the results files agree
    for row in json.loads(recon(ws, "status", "--since", "2000-01-01", "--json").stdout):
        if row["state"] != "SUCCEEDED":
            continue
        date = row["date"]
        if row["stage"] == "match":
            assert (ws / "results" / date / "layer1.parquet").is_file(), row
        elif row["stage"] == "clear":
            assert (ws / "clearing" / date / "settlements.csv").is_file(), row
        elif row["stage"] == "report":
            assert (ws / "reports" / date / f"recon-{date}.xlsx").is_file(), row
        elif row["stage"] == "parse":
            assert (ws / "bills" / row["channel"] / f"{date}.parquet").is_file(), row



@pytest.fixture()
def clock(monkeypatch):
    """Pin "now": `reclock.utcnow` and every module's imported copy answer `clock.now`."""
    original = reclock.utcnow

    class Clock:
        now = dt.datetime.combine(FIRST, dt.time(9, 0), ZONE).astimezone(dt.UTC)

        def at(self, day: dt.date, hh: int, mm: int = 0) -> None:
            self.now = dt.datetime.combine(day, dt.time(hh, mm), ZONE).astimezone(dt.UTC)

    pinned = Clock()
    fake = lambda: pinned.now  # noqa: E731
    monkeypatch.setattr(reclock, "utcnow", fake)
    for module in list(sys.modules.values()):
        if getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", fake)
    return pinned


@pytest.fixture()
def channel_api(tmp_path: Path):
    """WeChat Pay's order query for the whole ten days, played from ws/channel_api/ (the demo's way)."""
    folder = tmp_path / "ws" / "channel_api"
    folder.mkdir(parents=True)
    with answers_server(folder) as url:
        yield url


def adjustments_owed(items: list[dict]) -> Decimal:
    """Per (channel, day, currency): the bill item's difference when it is accepted, else the sum of
    the accepted row items' differences (README, "Resolving discrepancies")."""
    groups: dict[tuple, dict] = {}
    for i in items:
        if i["status"] != "RESOLVED" or i["resolution"] != "accept_channel" or i["layer"] not in (1, 2):
            continue
        group = groups.setdefault((i["channel"], i["business_date"], i["currency"]), {"rows": Decimal(0), "bill": None})
        if i["layer"] == 2 and i["kind"] == "BILL_AMOUNT_MISMATCH":
            group["bill"] = Decimal(i["diff"])
        elif i["layer"] == 1:
            group["rows"] += Decimal(i["diff"])
    return sum((g["bill"] if g["bill"] is not None else g["rows"] for g in groups.values()), Decimal(0))


def test_ten_days(tmp_path: Path, clock, channel_api: str) -> None:
    days = Days(FIRST)
    D = dict(enumerate(days.dates, start=1))  # D[1] .. D[10]
    ws = tmp_path / "ws"
    for sub in ("drop/wechat", "drop/funds", "drop/bank", "internal", "rules"):
        (ws / sub).mkdir(parents=True)
    (ws / "recon.toml").write_text(CONFIG + REQUERY.format(url=channel_api), encoding="utf-8")
    (ws / "rules" / "settlement.toml").write_text(SETTLEMENT, encoding="utf-8")
    (ws / "rules" / "wechatpay.toml").write_text(DEMO_REQUERY_RULES, encoding="utf-8")

    # the scenario's discrepancies, decided before any statement is written
    mismatch = days.both(D[1], amount="100.00", theirs="99.90")  # the channel billed 0.10 less
    cross = days.both(D[2], amount="88.00", when=dt.datetime.combine(D[2], dt.time(23, 59, 58)), bill_day=D[3])
    lost = days.both(D[2], amount="12.00", billed=False)  # never billed
    corrected = days.both(D[6], amount="50.00")  # billed 49.00 first, corrected by the channel on day 8
    asked = days.both(D[8], amount="30.00", status="FAILED")  # we say failed, the channel billed it paid
    answer = ws / "channel_api" / "v3" / "pay" / "transactions" / "out-trade-no" / asked
    answer.parent.mkdir(parents=True)
    answer.write_text(json.dumps({"out_trade_no": asked, "transaction_id": days.bill(D[8])[-1].transaction_id,
                                  "trade_state": "SUCCESS", "success_time": f"{D[8]}T12:00:00+08:00",
                                  "amount": {"total": 3000, "currency": "CNY"}}), encoding="utf-8")
    funds, bank, payouts = days.cash()
    first_copy = write_bill(sorted((replace(r, amount=Decimal("49.00"), fee=fee_of(Decimal("49.00")))
                                    if r.out_trade_no == corrected else r for r in days.bill(D[6])),
                                   key=lambda r: r.local_time), MCH_ID)

    def deliver(d: dt.date, *, wechat: str | None = None, only: tuple[str, ...] = ("wechat", "funds", "bank")) -> None:
        if "wechat" in only:
            (ws / "drop" / "wechat" / f"wechat_{d:%Y%m%d}.csv").write_text(wechat or days.wechat_text(d),
                                                                           encoding="utf-8")
        if "funds" in only:
            (ws / "drop" / "funds" / f"fundflow_{d:%Y%m%d}.csv").write_text(funds[d], encoding="utf-8")
            (ws / "internal" / f"wechat_{d:%Y-%m-%d}.csv").write_text(days.internal_csv(d), encoding="utf-8")
        if "bank" in only:
            (ws / "drop" / "bank" / f"bank_{d:%Y%m%d}.mt940").write_text(bank[d], encoding="utf-8")
            if d in payouts:  # the treasury books the settlement the bank reports
                recon(ws, "core", "record", json.dumps({
                    "type": "post", "event": "SETTLE", "channel": "wechat", "bank": "bank", "currency": "CNY",
                    "gross": f"{payouts[d]:.2f}", "key": f"SETTLE:wechat:{d}", "business_date": d.isoformat()}))

    def cron(code: int = 0):
        return recon(ws, "run", "--quiet", code=code)

    recon(ws, "core", "record", json.dumps({
        "type": "post", "event": "OPENING", "bank": "bank", "currency": "CNY", "gross": f"{OPENING:.2f}",
        "key": "OPENING:bank", "business_date": (D[1] - dt.timedelta(days=1)).isoformat()}))

    # day 1: the 0.10 the channel billed less is a row item and its bill's total
    clock.at(D[2], 9)
    deliver(D[1])
    recon(ws, "run", "--date", str(D[1]))
    invariants(ws)
    q = by_key(ws)
    assert (q[mismatch]["kind"], q[mismatch]["status"], q[mismatch]["diff"]) == ("AMOUNT_MISMATCH", "OPEN", "-0.10")
    assert (q["PAYMENT:CNY"]["kind"], q["PAYMENT:CNY"]["diff"]) == ("BILL_AMOUNT_MISMATCH", "-0.10")
    # a person accepts the channel's figure on the row, then on the bill: 0.10 is booked once
    recon(ws, "queue", "resolve", str(q[mismatch]["id"]), "--accept", "channel", "--note", "short-billed, agreed")
    recon(ws, "queue", "resolve", str(q["PAYMENT:CNY"]["id"]), "--accept", "channel", "--note", "the row explains it")
    invariants(ws)

    # day 2: a payment at 23:59:58 the channel bills the next day; one it never bills
    clock.at(D[3], 9)
    deliver(D[2])
    recon(ws, "run", "--date", str(D[2]))
    invariants(ws)
    q = by_key(ws)
    assert q[cross]["kind"] == "PENDING"

    # day 3: cron at 09:00: the trade bill is late -> waits (exit 3); at 10:30 it is there
    clock.at(D[4], 9)
    deliver(D[3], only=("funds", "bank"))
    late = cron(code=3)
    assert f"WAITING {D[3]} wechat fetch" in late.stderr, late.stderr
    invariants(ws)
    clock.at(D[4], 10, 30)
    deliver(D[3], only=("wechat",))
    cron()
    invariants(ws)
    q = by_key(ws)
    assert q[cross]["status"] == "AUTO_RESOLVED"
    # a person writes off the payment the channel never billed
    recon(ws, "queue", "write-off", str(q[lost]["id"]), "--account", "expenses:losses", "--note", "test order")
    invariants(ws)

    # day 4: the trade bill arrives corrupted (its summary counts one line more): quarantined
    clock.at(D[5], 9)
    good = days.wechat_text(D[4])
    head, summary = good.rstrip("\n").rsplit("\n", 1)
    count = summary.split(",", 1)[0]
    broken = f"{head}\n`{int(count[1:]) + 1},{summary.split(',', 1)[1]}\n"
    deliver(D[4], wechat=broken)
    refused = cron(code=4)
    [line] = [ln for ln in refused.stderr.splitlines() if ln.startswith("FAILED")]
    assert f"FAILED {D[4]} wechat parse:" in line and "summary says" in line, refused.stderr
    [reason] = list((ws / "quarantine").glob("*/reason.txt"))
    [why] = reason.read_text(encoding="utf-8").strip().splitlines()
    assert f"wechat_{D[4]:%Y%m%d}.csv:" in why and "summary says 5 rows, the file has 4" in why, why
    invariants(ws)
    deliver(D[4], wechat=good, only=("wechat",))
    recon(ws, "rerun", "--date", str(D[4]), "--channel", "wechat")
    invariants(ws)
    # a person re-opens the written-off item: the order turned up, ours is right
    recon(ws, "queue", "reopen", str(q[lost]["id"]), "--note", "the order is real")
    invariants(ws)

    # day 5, then re-runs of finished days change nothing
    clock.at(D[6], 9)
    deliver(D[5])
    cron()
    invariants(ws)
    # a person's actions since changed day 2's items: its report is due again (its inputs changed)
    recon(ws, "run", "--since", str(D[1]), "--until", str(D[5]))
    before = snapshot(ws)
    cron()
    recon(ws, "run", "--date", str(D[2]))
    recon(ws, "run", "--since", str(D[1]), "--until", str(D[5]))
    assert snapshot(ws) == before
    recon(ws, "rerun", "--date", str(D[2]))
    after = snapshot(ws)
    assert (after["items"], after["history"], after["ledger"]) == (before["items"], before["history"], before["ledger"])
    assert {k: v for k, v in after["files"].items() if k.startswith("clearing/")} == \
        {k: v for k, v in before["files"].items() if k.startswith("clearing/")}
    invariants(ws)

    # day 6: the channel bills 49.00 for our 50.00; a person accepts the channel's figure
    clock.at(D[7], 9)
    deliver(D[6], wechat=first_copy)
    cron()
    invariants(ws)
    q = by_key(ws)
    assert (q[corrected]["kind"], q[corrected]["diff"]) == ("AMOUNT_MISMATCH", "-1.00")
    recon(ws, "queue", "resolve", str(q[corrected]["id"]), "--accept", "channel", "--note", "as billed")
    recon(ws, "queue", "resolve", str(q[lost]["id"]), "--accept", "ours", "--note", "ours is right")
    invariants(ws)

    # day 7; day 8 morning the channel re-delivers day 6's bill, corrected (50.00)
    clock.at(D[8], 9)
    deliver(D[7])
    cron()
    invariants(ws)
    clock.at(D[9], 9)
    deliver(D[8])
    deliver(D[6], only=("wechat",))
    cron()
    invariants(ws)
    q = by_key(ws)
    # the run asked the channel about day 8's status mismatch; it confirmed its bill, under the
    # rule set's 500.00 CNY cap: accepted without a person, booked once
    [answer_event] = [e for e in history_of(ws, q[asked]["id"]) if e["action"] == "requery"]
    assert (answer_event["data"]["code"], answer_event["data"]["outcome"]) == ("SUCCESS", "ACCEPTED")
    assert list((ws / "requery" / str(D[8])).glob(f"item{q[asked]['id']}-01-*.json"))
    assert (q[asked]["kind"], q[asked]["status"], q[asked]["resolution"]) == \
        ("STATUS_MISMATCH", "RESOLVED", "accept_channel")
    assert list((ws / "raw" / "wechat" / str(D[6])).glob("*.rev2.*"))
    # the channel was right after all: the accepted 1.00 is reversed, the item closes by itself
    assert q[corrected]["status"] == "AUTO_RESOLVED", q[corrected]
    history = history_of(ws, q[corrected]["id"])
    assert [e["action"] for e in history if e["action"] != "requery"] == ["created", "accept_channel", "auto_resolved"]
    [reversal] = history[-1]["data"]["reversed"]
    assert reversal.startswith(f"REV:ADJ:queue:{q[corrected]['id']}:v"), history[-1]

    # days 9 and 10 arrive together after an outage: one cron start catches up
    clock.at(D[10] + dt.timedelta(days=1), 9)
    deliver(D[9])
    deliver(D[10])
    cron()
    invariants(ws)
    status = json.loads(recon(ws, "status", "--since", str(D[1]), "--json").stdout)
    assert {r["state"] for r in status} == {"SUCCEEDED"}, [r for r in status if r["state"] != "SUCCEEDED"]
    for d in days.dates:
        assert (ws / "clearing" / str(d) / "settlements.csv").is_file()
        assert (ws / "reports" / str(d) / f"recon-{d}.xlsx").is_file()
    # ten days of T+1 payouts, each claimed by its own period: no settlement item was ever raised
    assert not [i for i in queue(ws) if i["kind"].startswith("SETTLEMENT_") and i["kind"] != "SETTLEMENT_PENDING"]
    # what the queue booked over ten days: the 0.10 of day 1, once (day 6's 1.00 came back)
    assert -sum((Decimal(r["balance"]) for r in json.loads(
        recon(ws, "core", "balance", "liabilities:suspense", "--json").stdout)), Decimal(0)) == Decimal("-0.10")
    recon(ws, "report", "--since", str(D[1]), "--until", str(D[10]))
    assert (ws / "reports" / f"{D[1]}_{D[10]}" / f"recon-{D[1]}_{D[10]}.xlsx").is_file()
    invariants(ws)
