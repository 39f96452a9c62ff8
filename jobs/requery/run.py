"""Running the re-query: which items to ask about, at what pace, and what is recorded.

`requery_items` is `recon queue requery [ID ...] [filters]`: the named (or selected) items are
asked now, whatever their schedule. `requery_due` runs at the end of `recon run` for the channels
whose `[channels.X.requery]` has `in_run`: every item whose next attempt is due, at most
`max_per_run` per channel, no faster than `rate` requests a second. Each answer is one transaction:
the `requery` event on the item (recon.queue.actions.annotate) and, when the rule set allows it
for the item's kind and the adjustment is within the currency's cap, the `accept_channel` that
posts the ADJUST entry as a person's accept would. The network call happens outside any database
transaction; an item changed by a person meanwhile keeps the person's change (the event is refused
on the stale version and the answer stays in the archive).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from jobs.requery import load_adapter
from jobs.requery.archive import LOG, archive, log_exchange
from jobs.requery.codes import Answer, interpret
from jobs.requery.decide import Decision, Pace, decide
from jobs.requery.model import Unaskable
from jobs.requery.options import RequeryOptions
from jobs.requery.target import target_of
from jobs.requery.trail import ACTION, ACTOR, Trail, trail_of
from recon.clock import business_today, utcnow
from recon.core.accounting import accounting_of
from recon.errors import ConfigError, ExitCode
from recon.money import MoneyError, from_minor, to_minor
from recon.queue.actions import QueueActionError, accept_channel, adjustment_of, annotate
from recon.queue.query import Filter, select_items
from recon.queue.store import get_item, histories, queue_engine
from recon.store.tables.queue import ACTIVE_STATES

KINDS = ("LOCAL_ONLY", "CHANNEL_ONLY", "STATUS_MISMATCH", "AMOUNT_MISMATCH", "FEE_MISMATCH", "PENDING")


@dataclass(frozen=True, slots=True)
class Line:
    item_id: int
    channel: str
    outcome: str  # WAITING, PROPOSED, MANUAL, ACCEPTED, UNCHANGED
    status: str  # the answer's meaning: SUCCESS, FAILED, UNKNOWN, NOT_FOUND
    note: str

    def as_dict(self) -> dict:
        return {"id": self.item_id, "channel": self.channel, "outcome": self.outcome, "status": self.status,
                "note": self.note}


@dataclass
class RequeryRun:
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # items left for later: capped, channel not configured
    errors: list[str] = field(default_factory=list)  # channels whose settings are wrong (scheduled runs)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.USAGE if self.errors else ExitCode.OK

    def as_dict(self) -> dict:
        return {"items": [line.as_dict() for line in self.lines], "notes": self.notes, "errors": self.errors}


class Throttle:
    """At most `rate` requests a second: sleeps out what is left of the gap since the last one."""

    def __init__(self, rate: float) -> None:
        self.gap, self.last = 1.0 / rate, None

    def wait(self) -> None:
        if self.last is not None:
            delay = self.last + self.gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.last = time.monotonic()


def requery_items(ws, ids: tuple[int, ...] = (), flt: Filter | None = None,
                  now: dt.datetime | None = None) -> RequeryRun:
    """Ask now about the named items (each must be eligible), or about every eligible item `flt` selects."""
    now = now or utcnow()
    engine = queue_engine(ws)
    today = business_today(ws.zone, now)
    with engine.connect() as conn:
        if ids:
            return _ask_all(ws, engine, [_named(conn, i, ws.settings.queue, today) for i in ids], now, scheduled=False)
        items = _eligible(ws, select_items(conn, flt or Filter(states=ACTIVE_STATES), ws.settings.queue, today), now)
    run = RequeryRun()
    unset = sorted({i.channel for i in items if ws.settings.channel(i.channel).requery is None})
    for channel in unset:
        count = sum(1 for i in items if i.channel == channel)
        run.notes.append(f"{channel}: {count} item(s) not asked: no [channels.{channel}.requery] in recon.toml")
    return _ask_all(ws, engine, [i for i in items if i.channel not in unset], now, scheduled=False, run=run)


def requery_due(ws, now: dt.datetime | None = None, channels: list[str] | None = None) -> RequeryRun:
    """The scheduled run: every due item of the channels (default: all) with `[channels.X.requery] in_run`."""
    now = now or utcnow()
    channels = sorted(c for c, cfg in ws.settings.channels.items()
                      if cfg.requery is not None and cfg.requery.in_run and (channels is None or c in channels))
    if not channels:
        return RequeryRun()
    engine = queue_engine(ws)
    with engine.connect() as conn:
        today = business_today(ws.zone, now)
        found = select_items(conn, Filter(states=ACTIVE_STATES, layer=1), ws.settings.queue, today)
    return _ask_all(ws, engine, _eligible(ws, [i for i in found if i.channel in channels], now), now, scheduled=True)


def _named(conn, item_id: int, thresholds, today: dt.date):
    item = get_item(conn, item_id, thresholds, today)
    if item is None:
        raise QueueActionError(f"no queue item {item_id}", hint="recon queue list")
    if item.layer != 1 or item.kind not in KINDS or item.status not in ACTIVE_STATES:
        raise QueueActionError(f"item {item_id} is a layer-{item.layer} {item.kind} in {item.status}; re-query asks "
                               f"about active layer-1 items of kind {', '.join(KINDS)}")
    return item


def _eligible(ws, items, now: dt.datetime) -> list:
    """Layer-1 items of the kinds the channel's word decides; PENDING only once its window is over."""
    out = []
    for item in items:
        if item.layer != 1 or item.kind not in KINDS:
            continue
        if item.kind == "PENDING":
            waits = ws.catalog.rule_set(item.channel).match.pending_days
            if (business_today(ws.channel_zone(item.channel), now) - item.business_date).days <= waits:
                continue
        out.append(item)
    return out


def _ask_all(ws, engine, items, now: dt.datetime, *, scheduled: bool, run: RequeryRun | None = None) -> RequeryRun:
    """Ask about `items` channel by channel. A scheduled run asks only the due ones, and reports a
    channel whose settings are wrong and goes on with the others; by hand, wrong settings stop it."""
    run = run or RequeryRun()
    with engine.connect() as conn:
        trails = {i: trail_of(events) for i, events in histories(conn, [item.id for item in items]).items()}
    by_channel: dict[str, list] = defaultdict(list)
    for item in items:
        if not scheduled or trails.get(item.id, Trail()).due(now):
            by_channel[item.channel].append(item)
    for channel, group in sorted(by_channel.items()):
        try:
            options = RequeryOptions.for_channel(ws, channel)
            rules = ws.catalog.rule_set(channel).requery
            adapter = load_adapter(options, rules)
        except ConfigError as exc:
            if not scheduled:
                raise
            run.errors.append(f"{channel}: re-query not possible: {exc}")
            continue
        if len(group) > options.max_per_run:
            run.notes.append(f"{channel}: {len(group) - options.max_per_run} more item(s) due; "
                             f"max_per_run is {options.max_per_run}, the next run continues")
        pace, throttle = Pace(options.waits(), options.attempts), Throttle(options.rate)
        with adapter:
            for item in group[:options.max_per_run]:
                throttle.wait()
                run.lines.append(_ask(ws, engine, adapter, options, rules, pace, item,
                                      trails.get(item.id, Trail()), now))
    return run


def _ask(ws, engine, adapter, options, rules, pace, item, trail: Trail, now: dt.datetime) -> Line:
    """Ask about one item, decide, archive the answer and record it (one transaction)."""
    attempt = trail.attempts + 1
    target = target_of(item)
    try:
        exchange, reading = adapter.query(target)
    except Unaskable as exc:
        LOG.warning("requery %s item %s: cannot be asked: %s", item.channel, item.id, exc)
        decision, answer = Decision("MANUAL", f"cannot be asked: {exc}"), None
    else:
        answer = interpret(exchange, reading, rules)
        log_exchange(item.channel, item.id, answer)
        decision = decide(item, answer, trail, now, rules, pace, target.paid_at)
    data = {"attempt": attempt, "adapter": options.adapter, "asked_at": now.isoformat(timespec="seconds"),
            "outcome": decision.outcome, "proposal": decision.proposal, "why": decision.why,
            "next_attempt_at": decision.next_at.isoformat() if decision.next_at else None, **_answer_data(answer)}
    data["archive"] = archive(ws.root, ws.requery_dir(item.business_date), item.id, attempt, answer) if answer else None
    if decision.outcome == "MANUAL":
        data["answers"] = [_summary(a) for a in (*trail.answers, data)]
    note = (f"attempt {attempt} ({options.adapter}): {decision.why}"
            + (f"; proposes {decision.proposal}" if decision.proposal else "")
            + (f"; next attempt {decision.next_at:%Y-%m-%d %H:%M} UTC" if decision.next_at else ""))
    try:
        with engine.begin() as conn:
            _record(ws, conn, item, decision, rules, data, note)
    except QueueActionError as exc:
        return Line(item.id, item.channel, "UNCHANGED", data["status"],
                    f"the item changed while the channel was asked; the answer is archived only: {exc}")
    return Line(item.id, item.channel, data["outcome"], data["status"], note)


def _record(ws, conn, item, decision: Decision, rules, data: dict, note: str) -> None:
    """The `requery` event on the item and, where the rule set allows it, the auto-accept after it."""
    cap = data["auto_accept"] = _auto_accept_cap(conn, item, decision, rules)
    if cap is not None and cap["within"]:
        data["outcome"] = "ACCEPTED"
    annotate(conn, item.id, ACTION, actor=ACTOR, note=note, data=data, expected_version=item.version)
    if data["outcome"] == "ACCEPTED":
        accept_channel(conn, item.id, actor=ACTOR, accounting=accounting_of(ws),
                       note=f"auto-accepted on the channel's answer (attempt {data['attempt']}): {decision.why}")


def _answer_data(answer: Answer | None) -> dict:
    if answer is None:
        return {"status": "UNKNOWN"}
    r, ex = answer.reading, answer.exchange
    return {"status": answer.status, "layer": answer.layer, "said": answer.said, "code": answer.code,
            "field": r.field if answer.layer == "business" else None,
            "amount": format(r.amount, "f") if r.amount is not None else None, "currency": r.currency,
            "time": r.time.isoformat() if r.time else None, "channel_txn_id": r.channel_txn_id,
            "request": f"{ex.method} {ex.url}", "http_status": ex.status, "response_sha256": ex.sha256}


def _summary(data: dict) -> dict:
    return {k: data.get(k) for k in ("attempt", "asked_at", "status", "said", "amount", "currency", "response_sha256")}


def _auto_accept_cap(conn, item, decision: Decision, rules) -> dict | None:
    """Whether the rule set lets this confirmation be accepted without a person (None: not a candidate)."""
    if decision.proposal != "accept_channel" or item.kind not in rules.auto_accept:
        return None
    cap = rules.auto_accept_max.get(item.currency or "")
    amount = abs(Decimal(adjustment_of(conn, item.id)["amount"]))
    return {"kind": item.kind, "amount": _text(amount, item.currency), "cap": None if cap is None else format(cap, "f"),
            "within": cap is not None and amount <= cap}


def _text(amount: Decimal, currency: str | None) -> str:
    """The amount at its currency's exponent (100.000000 CNY -> 100.00) when that is exact."""
    try:
        return format(from_minor(to_minor(amount, currency or ""), currency or ""), "f")
    except MoneyError:
        return format(amount, "f")
