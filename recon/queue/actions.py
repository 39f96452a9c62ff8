"""What people do to queue items: assign, resolve, write off, force-match, unmatch, reopen; and
what is learnt about an item without changing its state (`annotate`: the channel's answer to a
re-query).

Every action is a state transition plus one event in the append-only log (who, when, from-state,
to-state, note). Transitions are a table, not if/else: an action names the states it may start
from, and anything else is refused with the item's current state in the message.

Updates are optimistic: the item's row is changed only if its `version` is the one the action read,
so two analysts (or an analyst and a re-run) never silently overwrite each other.

Accepting the channel's figures (以渠道为准) corrects our books: a balanced adjustment (their minus
our amount) is posted through the payment core's ledger (`recon.core.ledger.post`) in
the same transaction as the event: the ADJUST event of rules/accounting.toml, keyed to the action
(item and version) so a retried action posts once. Reopening reverses it, so an item has at most one
live adjustment; bill-level items post only what the day's row items do not (recon.queue.adjustments).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from recon.clock import utcnow
from recon.core.accounting import AccountingRules
from recon.errors import ExitCode, ReconError
from recon.queue import adjustments
from recon.redact import mask_pans
from recon.store.tables.queue import ACTIVE_STATES, Resolution, State, queue_events, queue_items

REQUERY = "requery"  # the event of a channel's answer to an order query (jobs.requery)
CLOSED = (State.RESOLVED.value, State.WRITTEN_OFF.value, State.AUTO_RESOLVED.value)
ANY = (*ACTIVE_STATES, *CLOSED)
# action -> states it may start from
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "assign": ANY,
    "accept_channel": ACTIVE_STATES,
    "accept_ours": ACTIVE_STATES,
    "write_off": ACTIVE_STATES,
    "force_match": ACTIVE_STATES,
    "unmatch": (State.RESOLVED.value,),
    "reopen": CLOSED,
    REQUERY: ACTIVE_STATES,
}


class QueueActionError(ReconError):
    """An action that does not apply to the item (wrong state, unknown id, stale version)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class Done:
    item_id: int
    action: str
    from_state: str
    to_state: str


def _load(conn, item_id: int):
    row = conn.execute(select(queue_items).where(queue_items.c.id == item_id)).first()
    if row is None:
        raise QueueActionError(f"no queue item {item_id}", hint="recon queue list")
    return row


def _transition(conn, row, action: str, to_state: str, *, actor: str, note: str, data: dict | None = None,
                ref: str | None = None, expected_version: int | None = None, **values) -> Done:
    if row.status not in TRANSITIONS[action]:
        raise QueueActionError(f"item {row.id} is {row.status}; {action} applies to {', '.join(TRANSITIONS[action])}")
    version = row.version if expected_version is None else expected_version
    now = utcnow()
    if to_state in CLOSED and row.status not in CLOSED:
        values["closed_at"] = now
    elif to_state in ACTIVE_STATES:
        values["closed_at"] = None
    result = conn.execute(
        update(queue_items)
        .where(queue_items.c.id == row.id, queue_items.c.version == version)
        .values(status=to_state, updated_at=now, version=version + 1, **values)
    )
    if result.rowcount != 1:
        raise QueueActionError(f"item {row.id} changed since version {version}; look again: recon queue show {row.id}")
    conn.execute(insert(queue_events).values(
        item_id=row.id, at=now, actor=actor, action=action, from_state=row.status, to_state=to_state,
        note=mask_pans(note), data=json.dumps(data or {}, sort_keys=True, default=str), ref=ref,
    ))
    return Done(row.id, action, row.status, to_state)


def _need_note(note: str, action: str) -> str:
    if not note.strip():
        raise QueueActionError(f"{action} needs --note saying why (it goes into the audit log)")
    return note.strip()


def assign(conn, item_id: int, to: str, *, actor: str, note: str = "", **kw) -> Done:
    row = _load(conn, item_id)
    return _transition(conn, row, "assign", row.status, actor=actor, note=note or f"assigned to {to}",
                       data={"from": row.assignee, "to": to}, assignee=to, **kw)


def annotate(conn, item_id: int, action: str, *, actor: str, note: str, data: dict,
             expected_version: int | None = None) -> Done:
    """Record what was learnt about an active item (e.g. the channel's answer) without changing its state."""
    row = _load(conn, item_id)
    return _transition(conn, row, action, row.status, actor=actor, note=note, data=data,
                       expected_version=expected_version)


def accept_ours(conn, item_id: int, *, actor: str, note: str, **kw) -> Done:
    row = _load(conn, item_id)
    return _transition(conn, row, "accept_ours", State.RESOLVED.value, actor=actor,
                       note=_need_note(note, "resolve"), resolution=Resolution.ACCEPT_OURS.value, **kw)


def adjustment_for(row) -> dict:
    """The correction that makes our books say what the channel says (signed: theirs minus ours)."""
    return adjustments.difference(row)


def adjustment_of(conn, item_id: int) -> dict:
    """What `accept_channel` would post for the item now (a bill item: the residual of its rows)."""
    return adjustments.proposal(conn, _load(conn, item_id))


def _refuse_under_bill(conn, row, action: str) -> None:
    bill = adjustments.covering_bill(conn, row)
    if bill is not None:
        raise QueueActionError(
            f"item {row.id}: {action} would change money that bill-level item {bill.id} ({bill.kind} {bill.key}) "
            f"already booked by accepting the channel's figure; reopen item {bill.id} first")


def accept_channel(conn, item_id: int, *, actor: str, note: str, accounting: AccountingRules, **kw) -> Done:
    row = _load(conn, item_id)
    note = _need_note(note, "resolve")
    if row.status not in TRANSITIONS["accept_channel"]:
        raise QueueActionError(f"item {row.id} is {row.status}; resolve applies to OPEN, PENDING")
    _refuse_under_bill(conn, row, "accepting the channel's figure")
    # An active item has no live adjustment; one left by an older recon (reopened without reversal) is
    # reversed here, so the item ends with exactly the adjustment of this action.
    stale = adjustments.reverse_live(conn, row.id, "superseded by a new acceptance")
    version = kw.get("expected_version") or row.version
    posted = adjustments.post(conn, row, adjustments.proposal(conn, row), note, accounting, version)
    data = {"adjustment": posted, **({"reversed": stale} if stale else {})}
    return _transition(conn, row, "accept_channel", State.RESOLVED.value, actor=actor, note=note, data=data,
                       resolution=Resolution.ACCEPT_CHANNEL.value, **kw)


def write_off(conn, item_id: int, *, account: str, actor: str, note: str, **kw) -> Done:
    row = _load(conn, item_id)
    if not account.strip():
        raise QueueActionError("write-off needs --account naming where the amount is booked")
    return _transition(conn, row, "write_off", State.WRITTEN_OFF.value, actor=actor,
                       note=_need_note(note, "write-off"), data={"account": account},
                       resolution=Resolution.WRITE_OFF.value, write_off_account=account, **kw)


def reopen(conn, item_id: int, *, actor: str, note: str, **kw) -> Done:
    row = _load(conn, item_id)
    if row.matched_with is not None:
        raise QueueActionError(f"item {row.id} is force-matched with {row.matched_with}; use unmatch")
    note = _need_note(note, "reopen")
    if adjustments.live_entries(conn, row.id):
        _refuse_under_bill(conn, row, "reopening")
    reversed_ = adjustments.reverse_live(conn, row.id, f"reopened: {note}")
    to = State.PENDING.value if row.kind == "PENDING" else State.OPEN.value
    return _transition(conn, row, "reopen", to, actor=actor, note=note,
                       data={"reversed": reversed_} if reversed_ else None,
                       resolution=None, write_off_account=None, **kw)


def force_match(conn, a: int, b: int, *, actor: str, note: str) -> tuple[Done, Done]:
    """A person pairs two items (e.g. a LOCAL_ONLY and a CHANNEL_ONLY with different keys)."""
    if a == b:
        raise QueueActionError("force-match needs two different items")
    note = _need_note(note, "force-match")
    ra, rb = _load(conn, a), _load(conn, b)
    done_a = _transition(conn, ra, "force_match", State.RESOLVED.value, actor=actor, note=note,
                         data={"with": b}, resolution=Resolution.FORCE_MATCH.value, matched_with=b)
    done_b = _transition(conn, rb, "force_match", State.RESOLVED.value, actor=actor, note=note,
                         data={"with": a}, resolution=Resolution.FORCE_MATCH.value, matched_with=a)
    return done_a, done_b


def unmatch(conn, item_id: int, *, actor: str, note: str) -> list[Done]:
    row = _load(conn, item_id)
    if row.matched_with is None:
        raise QueueActionError(f"item {item_id} is not force-matched")
    note = _need_note(note, "unmatch")
    done = []
    for r in (row, _load(conn, row.matched_with)):
        to = State.PENDING.value if r.kind == "PENDING" else State.OPEN.value
        done.append(_transition(conn, r, "unmatch", to, actor=actor, note=note, data={"was_with": r.matched_with},
                                resolution=None, matched_with=None))
    return done
