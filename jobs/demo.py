"""`recon demo`: a real workspace built from sample_statements/, reconciled for several days.

The demo is the tour a new user takes: it creates a workspace with three channels fetched from a
local drop folder (the bundled statements): WeChat Pay's trade bill (layer 1 against our records,
layer 2 bill totals), its fund-flow bill (the payouts, for layer 2's settlement check) and the bank
account the payouts land in (MT940, for layer 3). Our side is the payment core, loaded from the
bundled internal exports and the treasury's bookings (an opening balance and the settlements our
records expect). Then it runs every day through the same stages cron would run (fetch, parse,
match all three layers, clear, report) and returns where the reports are. It identifies and parses
the bundled statements of the other channels (Alipay, UnionPay, Stripe, PayPal, Adyen, more bank
formats) into parsed/, so a new user sees every format read and checked. Finally it asks the
channel's order-query API (played on 127.0.0.1 from channel_api/, jobs.requery.sandbox) about one
discrepancy, whose answer resolves it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jobs.catalog import format_rule_set, open_workspace
from jobs.pipeline import run_day
from jobs.requery.sandbox import requery_from_folder
from parsers.base import ParseContext
from parsers.registry import identify, parse_file
from recon.core.accounting import accounting_of
from recon.core.importer import import_file
from recon.core.orders import Core
from recon.core.service import apply_event
from recon.errors import ConfigError, ExitCode, StageFailed
from recon.files import atomic_path
from recon.queue.query import Filter, select_items
from recon.queue.store import queue_engine
from recon.store.engine import dispose_store, open_store
from recon.workspace import Workspace

SAMPLES = Path(__file__).resolve().parent.parent / "sample_statements"
MARKER = ".recon-demo"
DEMO_CHANNEL = "wechat"

DEMO_CONFIG = '''\
# recon demo workspace (made by `recon demo`). Reference: README.md, "Configuration".
[store]
url = "sqlite:///recon.db"

[defaults]
timezone = "Asia/Shanghai"

[report]
language = "en"

[channels.wechat]
format = "wechatpay.trade"
account = "1900000109"
rules = "wechatpay"

[channels.wechat.fetch]
transport = "local"
path = "drop/wechat/wechat_{date:%Y%m%d}.csv"
retry = ["10m", "20m", "40m"]
deadline = "D+1 12:00"

[channels.wechat.internal]
source = "core"

# WeChat Pay's order query (主动查询), asked by `recon queue requery`. The demo plays the channel from
# channel_api/ (rules/wechatpay.toml says where its answers keep status and amount); to ask again
# yourself: python -m http.server 8765 --bind 127.0.0.1 --directory channel_api
[channels.wechat.requery]
adapter = "http"
url = "http://127.0.0.1:8765"
in_run = false

# WeChat Pay's fund-flow bill: read for the withdrawals (提现) it reports, see rules/settlement.toml
[channels.wechat_funds]
format = "wechatpay.fundflow"
account = "1900000109"

[channels.wechat_funds.fetch]
transport = "local"
path = "drop/wechat_funds/fundflow_1900000109_{date:%Y%m%d}.csv"
retry = ["10m", "20m", "40m"]
deadline = "D+1 12:00"

# The bank account WeChat Pay settles into: its closing balance is checked against our books
[channels.bank]
format = "mt940"
account = "0200001509000123456"

[channels.bank.fetch]
transport = "local"
path = "drop/bank/icbc_cny_{date:%Y%m%d}.mt940"
retry = ["30m", "1h", "2h"]
deadline = "D+1 12:00"
'''

# WeChat Pay pays each day's net the next calendar day and reports it in the fund-flow bill.
DEMO_SETTLEMENT = '''\
# recon demo: settlement rules over the built-in rules/settlement.toml
[channels.wechat]
payout_channel = "wechat_funds"
cycle = "T+1"
business_days = false
landing_days = 1
'''


# The order-query answers of channel_api/ read like WeChat Pay's; the built-in trade_state map
# applies, and a status mismatch the channel confirms within 500.00 CNY is accepted without a person.
DEMO_REQUERY_RULES = '''\
# recon demo: WeChat Pay's order query served from channel_api/, over the built-in rules/wechatpay.toml
[requery]
auto_accept = ["STATUS_MISMATCH"]
auto_accept_max = { CNY = "500.00" }

# channel_api/ holds the answers of the orders WeChat knows; for any other order it says 404
[requery.errors]
"HTTP 404" = "NOT_FOUND"

[requery.http]
path = "/v3/pay/transactions/out-trade-no/{merchant_txn_id}"
status = "trade_state"
status_map = "trade_state"
amount = "amount.total"
amount_unit = "minor"
currency = "amount.currency"
time = "success_time"
channel_txn_id = "transaction_id"
'''
# Our record says FAILED, WeChat's bill says paid: the item the demo asks the channel about.
DEMO_REQUERY = (dt.date(2026, 11, 20), "S2026112000034")


def demo_days() -> tuple[dt.date, ...]:
    return tuple(sorted(dt.date(int(p.stem[7:11]), int(p.stem[11:13]), int(p.stem[13:15]))
                        for p in (SAMPLES / "wechat").glob("wechat_*.csv")))


def build_workspace(root: Path) -> Path:
    """Create (or re-create) the demo workspace at `root` from the bundled samples."""
    if not (SAMPLES / "wechat").is_dir():
        raise ConfigError(f"sample statements not found at {SAMPLES} (run the demo from a recon checkout)")
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise ConfigError(f"{root} exists and is not a demo workspace; choose another folder")
        dispose_store(f"sqlite:///{root.resolve() / 'recon.db'}")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("made by recon demo; `recon demo` may delete and rebuild this folder\n")
    (root / "recon.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    for sub in ("raw", "bills", "results", "reports", "quarantine", "rules"):
        (root / sub).mkdir()
    (root / "rules" / "settlement.toml").write_text(DEMO_SETTLEMENT, encoding="utf-8")
    (root / "rules" / "wechatpay.toml").write_text(DEMO_REQUERY_RULES, encoding="utf-8")
    shutil.copytree(SAMPLES / "channel_api", root / "channel_api")
    shutil.copytree(SAMPLES / "wechat", root / "drop" / "wechat")
    for folder, pattern in (("wechat_funds", "wechat_fundflow/fundflow_*_2026*.csv"), ("bank", "bank/icbc_cny_*.mt940")):
        (root / "drop" / folder).mkdir(parents=True)
        for path in sorted(SAMPLES.glob(pattern)):
            shutil.copy2(path, root / "drop" / folder / path.name)
    shutil.copytree(SAMPLES / "internal", root / "internal")
    return root


@dataclass(frozen=True)
class DemoDay:
    """What one demo day found: layer-1 outcomes, and the layer-2/3 discrepancy kinds."""

    date: dt.date
    outcomes: dict[str, int]
    layer2: dict[str, int]
    layer3: dict[str, int]
    report: Path

    @property
    def rows(self) -> int:
        return sum(self.outcomes.values())

    @property
    def matched(self) -> int:
        return self.outcomes.get("MATCHED", 0) + self.outcomes.get("AUTO_RESOLVED", 0)

    @property
    def pending(self) -> int:
        return self.outcomes.get("PENDING", 0)

    def as_dict(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "rows": self.rows, "outcomes": self.outcomes,
                "layer2": self.layer2, "layer3": self.layer3}


@dataclass(frozen=True)
class ParsedSample:
    file: str
    format: str
    rows: int
    checks: int

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "format": self.format, "rows": self.rows, "checks": self.checks}


@dataclass(frozen=True)
class DemoRequery:
    """The discrepancy the demo asked the channel about, and what the answer did."""

    item: int
    kind: str
    key: str
    date: dt.date
    asked: str  # the URL the channel was played at
    outcome: str
    note: str

    def as_dict(self) -> dict[str, object]:
        return {"item": self.item, "kind": self.kind, "key": self.key, "date": self.date.isoformat(),
                "asked": self.asked, "outcome": self.outcome, "note": self.note}


@dataclass(frozen=True)
class DemoRun:
    root: Path
    days: tuple[DemoDay, ...]
    samples: tuple[ParsedSample, ...]
    requery: DemoRequery


# Statements of every other channel the demo ships: each is identified by content, parsed and
# checked against its own totals into parsed/, as `recon parse` would (they are not reconciled).
SAMPLE_FOLDERS = ("alipay", "unionpay", "wechat_fundflow", "stripe", "paypal", "adyen", "bank")


def parse_samples(ws: Workspace) -> tuple[ParsedSample, ...]:
    """Identify and parse every bundled channel statement not used by the demo days into parsed/."""
    used = {p.name for folder in ("wechat_funds", "bank") for p in (ws.root / "drop" / folder).iterdir()}
    rows = []
    for folder in SAMPLE_FOLDERS:
        for path in sorted((SAMPLES / folder).iterdir()):
            if path.name in used:
                continue
            fid = identify(path)
            ctx = ParseContext(channel=folder, rules=format_rule_set(fid), zone=ws.zone,
                               source_name=f"{folder}/{path.name}")
            _, parsed = parse_file(path, ctx, fid)
            with atomic_path(ws.root / "parsed" / f"{folder}__{path.name}.parquet") as tmp:
                parsed.bill.write_parquet(tmp)
            rows.append(ParsedSample(f"{folder}/{path.name}", fid, parsed.bill.height, len(parsed.checks)))
    return tuple(rows)


def load_internal_into_core(ws: Workspace) -> int:
    """The demo's internal side lives in the payment core: import the bundled exports into it, then
    post the treasury's bookings (what `recon core record @event.json` does, one event a line)."""
    core = Core(open_store(ws.store_url()), accounting_of(ws))
    inserted = 0
    for path in sorted((ws.root / "internal").glob("*.csv")):
        result = import_file(core, path)
        if result.problems:
            raise StageFailed(f"demo import: {result.problems[0]}")
        inserted += result.inserted
    for line in (ws.root / "internal" / "treasury_bookings.jsonl").read_text(encoding="utf-8").splitlines():
        apply_event(core, json.loads(line), ws)
    return inserted


def requery_demo(ws: Workspace, engine) -> DemoRequery:
    """Ask the channel about one discrepancy through a local server answering from channel_api/,
    let its answer resolve the item, and re-run that day so its clearing and report show it."""
    day, key = DEMO_REQUERY
    with queue_engine(ws).connect() as conn:
        found = select_items(conn, Filter(since=day, until=day, layer=1), ws.settings.queue, day)
    [item] = [i for i in found if i.key == key]
    url, run = requery_from_folder(ws, DEMO_CHANNEL, (item.id,), ws.root / "channel_api")
    [line] = run.lines
    # resolving the item changed the queue: clearing and the report of its day are due again
    if run_day(ws, day, engine).exit_code is not ExitCode.OK:
        raise StageFailed(f"demo day {day}: clearing and report after the re-query did not finish")
    return DemoRequery(item.id, item.kind, key, day, url, line.outcome, line.note)


def _day_summary(ws: Workspace, day: dt.date) -> DemoDay:
    results = pl.read_parquet(ws.results_dir(day) / "layer1.parquet")
    upper = {layer: pl.read_parquet(ws.results_dir(day) / f"layer{layer}.parquet") for layer in (2, 3)}
    kinds = {layer: dict(f.filter("is_discrepancy").group_by("kind").len().iter_rows()) for layer, f in upper.items()}
    return DemoDay(day, dict(results.group_by("outcome").len().iter_rows()), kinds[2], kinds[3], ws.report_path(day))


def run_demo(root: Path, *, on_day: Callable[[dt.date], None] = lambda day: None) -> DemoRun:
    """Build the demo workspace and reconcile every sample day through the day's stages."""
    build_workspace(root)
    ws = open_workspace(root)
    load_internal_into_core(ws)
    engine = open_store(ws.store_url())
    days = demo_days()
    for day in days:  # the same pipeline cron runs: registry, leases, every stage
        outcome = run_day(ws, day, engine)
        if outcome.exit_code is not ExitCode.OK:
            raise StageFailed(f"demo day {day}: " + "; ".join(outcome.messages or ["did not finish"]))
        on_day(day)
    samples = parse_samples(ws)
    return DemoRun(ws.root, tuple(_day_summary(ws, day) for day in days), samples, requery_demo(ws, engine))
