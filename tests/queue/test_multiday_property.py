"""A multi-day model of the queue: the real layer-1 matcher and the real queue hook, day after day.

Hypothesis books payments (some near midnight that the channel bills the next day, some never
billed, some billed late by a corrected statement, some only the channel has), runs the days in
order (a day whose statement is late runs when it arrives, after later days), re-runs arbitrary
earlier days (after late lines arrive or not), pays a settlement period in
parts, and lets a person resolve items in between. After every step the queue must equal what the
newest results say:
- each identity (layer, channel, account, period, key) has at most one active item;
- every identity whose newest word (the latest day whose results mention it) is a discrepancy has
  exactly one item, active with that kind or closed by a person;
- no item stays active for an identity whose newest word is MATCHED / AUTO_RESOLVED / SETTLED, or
  that no results mention any more (no ghosts);
- every item's history only ever grows at its end.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import hypothesis.strategies as st
import polars as pl
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from jobs.catalog import open_workspace
from layers import GENERIC_SCHEMA
from recon.matching.layer1_day import match_day, rules_for
from recon.queue import actions
from recon.queue.sources import read_day
from recon.queue.store import histories, queue_engine
from recon.queue.sync import sync_results
from recon.store.tables.queue import ACTIVE_STATES, queue_items
from tests.matching.factory import WX_FILE_CONFIG as CONFIG
from tests.matching.factory import _ours, _theirs, frames

D0 = dt.date(2024, 5, 1)
DAYS = 6
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FATES = st.sampled_from(["same", "next", "never", "late", "theirs_only", "ours_next"])
PERIOD = "period:2024-05-01..2024-05-01:CNY"
OWED = Decimal("1000.00")


def _local(day: dt.date, h: int, m: int, s: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=SHANGHAI).astimezone(dt.UTC)


class Payment:
    """One real-world payment: the day we book it, the day the channel bills it (None: never)."""

    def __init__(self, idx: int, today: dt.date, fate: str) -> None:
        self.idx, self.fate, self.arrived = idx, fate, fate != "late"
        near = fate in ("next", "ours_next")
        self.time = _local(today, 23, 59, 58) if near else _local(today, 10, idx % 60, 0)
        self.our_day = None if fate == "theirs_only" else today + dt.timedelta(days=fate == "ours_next")
        self.their_day = None if fate == "never" else today + dt.timedelta(days=fate == "next")
        self.amount = Decimal(idx + 1) + Decimal("0.25")

    def ours(self) -> dict:
        row = _ours(self.idx, f"M{self.idx:04d}", None, "PAYMENT", None, self.amount, Decimal("0"), self.time)
        return {**row, "source_file": f"internal/{self.our_day}.csv", "source_line": self.idx + 2}

    def theirs(self) -> dict:
        row = _theirs(f"C{self.idx:04d}", f"M{self.idx:04d}", "PAYMENT", None, None, self.amount, Decimal("0"),
                      self.time)
        return {**row, "bill_date": self.their_day, "source_file": f"bill-{self.their_day}.csv",
                "source_line": self.idx + 2}


class QueueDays(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="queue-days-"))
        (self.root / "recon.toml").write_text(CONFIG, encoding="utf-8")
        self.ws = open_workspace(self.root)
        self.rules = rules_for(self.ws, "wx").model_copy(update={"pending_days": 2})
        self.payments: list[Payment] = []
        self.parts: list[tuple[dt.date, Decimal]] = []  # the settlement of D0, paid in parts
        self.today = D0  # the next day to run
        self.late_days: list[dt.date] = []  # days whose statement has not come yet
        self.seen: dict[int, list[tuple]] = {}

    def teardown(self) -> None:
        queue_engine(self.ws).dispose()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- the world ------------------------------------------------------------------------------
    @precondition(lambda self: self.today < D0 + dt.timedelta(days=DAYS))
    @rule(fate=FATES)
    def book(self, fate: str) -> None:
        self.payments.append(Payment(len(self.payments), self.today, fate))

    @precondition(lambda self: any(not p.arrived for p in self.payments))
    @rule(data=st.data())
    def late_line_arrives(self, data) -> None:
        data.draw(st.sampled_from([p for p in self.payments if not p.arrived])).arrived = True

    @precondition(lambda self: self.today > D0 and self.today < D0 + dt.timedelta(days=DAYS))
    @rule(part=st.sampled_from([Decimal("400.00"), Decimal("600.00")]))
    def payout_part(self, part: Decimal) -> None:
        self.parts.append((self.today, part))

    # --- running days ---------------------------------------------------------------------------
    def _run(self, day: dt.date) -> None:
        ours = [p.ours() for p in self.payments if p.our_day == day]
        theirs = [p.theirs() for p in self.payments if p.their_day == day and p.arrived]
        bill, internal = frames(ours, theirs)
        (self.root / "bills" / "wx").mkdir(parents=True, exist_ok=True)
        bill.write_parquet(self.ws.bill_path("wx", day))
        (self.root / "internal").mkdir(exist_ok=True)
        internal.with_columns(pl.col("trade_time").map_elements(lambda t: t.isoformat(), return_dtype=pl.String),
                              pl.col("amount").cast(pl.String), pl.col("fee").cast(pl.String)
                              ).drop("source_file", "source_line").write_csv(self.root / "internal" / f"{day}.csv")
        match_day(self.ws, day, rules_override=self.rules)
        self._settlement(day)
        sync_results(self.ws, day)

    def _settlement(self, day: dt.date) -> None:
        """Layer 2 for the period of D0: reported from D1 until the day it is paid up, SETTLED once."""
        paid = sum((a for d, a in self.parts if d <= day), Decimal(0))
        settled_on = next((d for d, _ in sorted(self.parts)
                           if sum((a for e, a in self.parts if e <= d), Decimal(0)) >= OWED), None)
        rows = []
        if day > D0 and (settled_on is None or day <= settled_on):
            kind = "SETTLED" if settled_on == day else "SETTLEMENT_PENDING"
            rows.append({"business_date": day, "channel": "wx", "account": "1900000109", "kind": kind,
                         "key": PERIOD, "currency": "CNY", "our_amount": OWED, "their_amount": paid,
                         "diff": paid - OWED, "reason": f"owed {OWED}, paid {paid}", "section": "settlement",
                         "period_start": D0, "is_discrepancy": False})
        schema = {**GENERIC_SCHEMA, "section": pl.String(), "period_start": pl.Date(), "is_discrepancy": pl.Boolean()}
        frame = pl.DataFrame(rows, schema=schema, orient="row")
        frame.write_parquet(self.ws.results_dir(day) / "layer2.parquet")

    @precondition(lambda self: self.today < D0 + dt.timedelta(days=DAYS))
    @rule(statement_late=st.sampled_from([False, False, False, True]))
    def run_next_day(self, statement_late: bool) -> None:
        if statement_late:  # the day cannot run yet; later days run before it
            self.late_days.append(self.today)
        else:
            self._run(self.today)
        self.today += dt.timedelta(days=1)

    @precondition(lambda self: self.late_days)
    @rule(data=st.data())
    def late_statement_arrives(self, data) -> None:
        day = data.draw(st.sampled_from(self.late_days))
        self.late_days.remove(day)
        self._run(day)

    @precondition(lambda self: self.today > D0)
    @rule(back=st.integers(min_value=1, max_value=DAYS))
    def rerun_earlier_day(self, back: int) -> None:
        day = max(self.today - dt.timedelta(days=back), D0)
        if day not in self.late_days:
            self._run(day)

    @rule(data=st.data())
    def person_resolves(self, data) -> None:
        with queue_engine(self.ws).begin() as conn:
            active = conn.execute(select(queue_items.c.id).where(queue_items.c.status.in_(ACTIVE_STATES))
                                  .order_by(queue_items.c.id)).scalars().all()
            if active:
                actions.accept_ours(conn, data.draw(st.sampled_from(active)), actor="ana", note="checked by phone")

    # --- what must hold -------------------------------------------------------------------------
    def _newest_word(self) -> dict[tuple, tuple[str, bool]]:
        """identity -> (kind or outcome, is a discrepancy), from the latest day that mentions it."""
        word: dict[tuple, tuple[str, bool]] = {}
        day = D0
        while day < self.today or self.ws.results_dir(day).exists():
            if not (self.ws.results_dir(day) / "layer1.parquet").exists():
                day += dt.timedelta(days=1)
                continue
            found, settled = read_day(self.ws.results_dir(day))
            for ds in found.values():
                for d in ds:
                    word[d.identity] = (d.kind, True)
            for s in settled:
                for key in s.keys:
                    word[(s.layer, s.channel, s.account, s.business_date, key)] = (s.outcome, False)
            day += dt.timedelta(days=1)
        return word

    @invariant()
    def queue_holds_exactly_the_newest_truth(self) -> None:
        word = self._newest_word()
        with queue_engine(self.ws).connect() as conn:
            items = conn.execute(select(queue_items)).all()
            log = histories(conn, [i.id for i in items])
        by_identity: dict[tuple, list] = {}
        for i in items:
            by_identity.setdefault((i.layer, i.channel, i.account, i.business_date, i.key), []).append(i)
        for ident, group in by_identity.items():
            assert len(group) == 1, f"two items for {ident}"
            item = group[0]
            kind, bad = word.get(ident, (None, False))
            if item.status in ACTIVE_STATES:
                assert bad, f"item {item.id} {item.kind} {ident} is {item.status} but the results say {kind}"
                assert item.kind == kind, f"item {item.id} {ident} is {item.kind}, the results say {kind}"
        for ident, (kind, bad) in word.items():
            if bad:
                assert ident in by_identity, f"no item for {kind} {ident}"
                assert by_identity[ident][0].status != "AUTO_RESOLVED", f"{kind} {ident} closed by itself"
        for item_id, events in log.items():
            now = [(e["action"], e["from_state"], e["to_state"], e["note"]) for e in events]
            before = self.seen.get(item_id, [])
            assert now[:len(before)] == before, f"history of item {item_id} was rewritten"
            self.seen[item_id] = now


def test_the_queue_converges_to_the_newest_results_over_days_and_reruns():
    run_state_machine_as_test(QueueDays, settings=settings(
        max_examples=15, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_a_late_day_raises_no_item_for_a_period_a_later_day_settled():
    # Found by the machine above: D1's statement comes late, D2 sees the period paid up (SETTLED),
    # then D1 runs and reports its old shortfall. The later day has spoken; no PENDING item.
    days = QueueDays()
    try:
        days.run_next_day(statement_late=False)
        days.payout_part(Decimal("600.00"))
        days.run_next_day(statement_late=True)
        days.payout_part(Decimal("400.00"))
        days.run_next_day(statement_late=False)
        late = days.late_days.pop()
        days._run(late)
        days.queue_holds_exactly_the_newest_truth()
        with queue_engine(days.ws).connect() as conn:
            assert conn.execute(select(queue_items).where(queue_items.c.layer == 2)).all() == []
    finally:
        days.teardown()
