"""The ledger side of queue resolutions: which adjustment an item has live, and what a new one posts.

Accepting the channel's figure (以渠道为准) posts one ADJUST entry keyed to the action that made it,
`ADJ:queue:<item>:v<version>` (the item's version when the action ran, so a retried action posts
once and two actions never share a key). Reopening the item posts the entry's mirror
`REV:ADJ:queue:<item>:v<version>`. An entry is *live* while no reversal of it exists; an item has
at most one live adjustment, the one of its current resolution.

Bill-level and row-level items of one day speak about the same money: a BILL_AMOUNT_MISMATCH of
PAYMENT CNY is the sum of that day's row differences of PAYMENT CNY (plus whatever only the totals
show). So for one group (channel, account, business date, currency, record type, amount or fee):
- a row item posts its own difference;
- the bill item posts the residual: its difference minus what the group's row items already post;
- a BILL_COUNT_MISMATCH posts nothing: a count carries no money, its group's amount item does;
- while the bill item stands accepted it covers the whole group, so accepting or reopening a row
  item of the group (which would change what the rows post) is refused until the bill item is
  reopened; the bill item is then re-accepted against the new row postings;
- a re-run that re-opens an accepted row item (its figures changed) reverses the row's adjustment,
  which a person could not do; the accepted bill item above it then re-posts its residual
  (`repost_residuals`), so the group still books exactly the bill's difference.
Hence, per group, the live adjustments equal the bill's difference when the bill item is accepted,
else the sum of the accepted rows' differences: the same money is never booked twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from recon.clock import utcnow
from recon.core import ledger
from recon.core.accounting import AccountingRules, Event
from recon.store.tables.core import entries
from recon.store.tables.queue import Resolution, State, queue_events, queue_items

PREFIX = "ADJ:queue:"
ROW_LAYER = 1
BILL_AMOUNT = "BILL_AMOUNT_MISMATCH"
BILL_FEE = "BILL_FEE_MISMATCH"
BILL_COUNT = "BILL_COUNT_MISMATCH"
BILL_KINDS = (BILL_AMOUNT, BILL_FEE, BILL_COUNT)
_reversal = entries.alias("reversal")
# An item's entries that no reversal mirrors yet.
LIVE = (sa.select(entries.c.entry_key)
        .where(entries.c.entry_key.like(sa.bindparam("pattern")),
               ~sa.exists().where(_reversal.c.reverses == entries.c.entry_key))
        .order_by(entries.c.entry_key))


def entry_key(item_id: int, version: int) -> str:
    return f"{PREFIX}{item_id}:v{version}"


def live_entries(conn, item_id: int) -> list[str]:
    """The item's adjustment entries not yet reversed (at most one once every action goes through here)."""
    return list(conn.execute(LIVE, {"pattern": f"{PREFIX}{item_id}:v%"}).scalars())


def reverse_live(conn, item_id: int, why: str) -> list[str]:
    """Reverse every live adjustment of the item; the reversal keys, for the action's event."""
    return [ledger.reverse(conn, key, now=utcnow(), memo=f"queue item {item_id}: {why}"[:500]).entry_key
            for key in live_entries(conn, item_id)]


def difference(row) -> dict:
    """The correction that makes our books say what the channel says (signed: theirs minus ours)."""
    amount = (row.their_amount or Decimal(0)) - (row.our_amount or Decimal(0))
    if row.kind == BILL_FEE:  # a bill-level fee row carries the fee totals in its amount columns
        return {"what": "fee", "currency": row.currency, "amount": format(amount, "f")}
    fee = (getattr(row, "their_fee", None) or Decimal(0)) - (getattr(row, "our_fee", None) or Decimal(0))
    if row.kind == "FEE_MISMATCH" or (amount == 0 and fee != 0):
        return {"what": "fee", "currency": row.currency, "amount": format(fee, "f")}
    return {"what": "amount", "currency": row.currency, "amount": format(amount, "f")}


def _record_type(row) -> str | None:
    if row.layer == ROW_LAYER:
        sides = json.loads(row.detail or "{}")
        return (sides.get("ours") or {}).get("record_type") or (sides.get("theirs") or {}).get("record_type")
    if row.kind in BILL_KINDS:
        return row.key.split(":", 1)[0]
    return None


@dataclass(frozen=True, slots=True)
class Group:
    """The money a bill-level item and the day's row items share."""

    channel: str
    account: str
    business_date: object
    currency: str | None
    record_type: str | None
    what: str

    def holds(self, other: Group) -> bool:
        accounts_agree = not self.account or not other.account or self.account == other.account
        return accounts_agree and (self.channel, self.business_date, self.currency, self.record_type, self.what) == (
            other.channel, other.business_date, other.currency, other.record_type, other.what)


def group_of(row) -> Group:
    return Group(row.channel, row.account, row.business_date, row.currency, _record_type(row), difference(row)["what"])


def is_bill(row) -> bool:
    return row.kind in BILL_KINDS


def _neighbours(conn, row) -> list:
    """Items of the same channel and day that may share the row's money (rows and bill items)."""
    return [r for r in conn.execute(sa.select(queue_items).where(
        queue_items.c.channel == row.channel, queue_items.c.business_date == row.business_date,
        queue_items.c.id != row.id)).all() if (r.layer == ROW_LAYER or is_bill(r))]


def _accepted(row) -> bool:
    return row.status == State.RESOLVED.value and row.resolution == Resolution.ACCEPT_CHANNEL.value


def covering_bill(conn, row):
    """The accepted bill-level item whose posting covers this row item's money, if any."""
    if row.layer != ROW_LAYER:
        return None
    group = group_of(row)
    for other in _neighbours(conn, row):
        if other.kind == BILL_AMOUNT or other.kind == BILL_FEE:
            if _accepted(other) and group_of(other).holds(group):
                return other
    return None


def _posted_amount(conn, item_id: int, key: str) -> Decimal:
    """What the action that posted `key` recorded as its signed adjustment."""
    for data in conn.execute(sa.select(queue_events.c.data).where(
            queue_events.c.item_id == item_id, queue_events.c.action == Resolution.ACCEPT_CHANNEL.value)
            .order_by(queue_events.c.id.desc())).scalars():
        adjustment = json.loads(data or "{}").get("adjustment") or {}
        if adjustment.get("journal") == key:
            return Decimal(adjustment["amount"])
    return Decimal(0)


def rows_post(conn, row) -> Decimal:
    """What the group's row items live-post now (what a bill item's residual leaves out)."""
    group = group_of(row)
    total = Decimal(0)
    for other in _neighbours(conn, row):
        if other.layer == ROW_LAYER and group_of(other).holds(group):
            for key in live_entries(conn, other.id):
                total += _posted_amount(conn, other.id, key)
    return total


def proposal(conn, row) -> dict:
    """What accepting the channel's figure would post for the item now, and why."""
    adjustment = difference(row)
    if row.kind == BILL_COUNT:
        return {**adjustment, "amount": "0", "difference": adjustment["amount"],
                "why": "a count difference carries no money; its group's amount item posts it"}
    if is_bill(row):
        explained = rows_post(conn, row)
        if explained:
            residual = Decimal(adjustment["amount"]) - explained
            return {**adjustment, "amount": format(residual, "f"), "difference": adjustment["amount"],
                    "explained_by_rows": format(explained, "f")}
    return adjustment


def post(conn, row, adjustment: dict, note: str, accounting: AccountingRules, version: int) -> dict:
    """Post the ADJUST event (rules/accounting.toml) in the caller's transaction, keyed to the action."""
    amount = Decimal(adjustment["amount"])
    if amount == 0 or not row.currency:
        return {**adjustment, "posted": False,
                "why": adjustment.get("why") or ("nothing to post" if amount == 0 else "no currency")}
    event = Event("ADJUST", row.channel, row.account, row.currency, amount)
    posted = ledger.post(conn, accounting, event, key=entry_key(row.id, version), now=utcnow(),
                         business_date=row.business_date, memo=f"queue item {row.id}: {note}"[:500])
    lines = [{"debit": p.debit, "credit": p.credit, "amount": format(p.amount, "f")} for p in posted.postings]
    return {**adjustment, "posted": True, "journal": posted.entry_key, "lines": lines}


def repost_residuals(conn, rows, accounting: AccountingRules, why: str) -> list[tuple[object, dict]]:
    """Re-post the residual of every accepted bill item covering one of `rows`, row items whose
    adjustments a re-run has just reversed: the bill covers its whole group, so what the reversed
    rows no longer post, the bill now does. Each bill item's old residual is reversed and the new
    one posted under the item's next version (which the item takes, as after any action).
    Returns (bill item, event data) for the caller's events."""
    bills = {}
    for row in rows:
        bill = covering_bill(conn, row)
        if bill is not None:
            bills[bill.id] = bill
    done = []
    for bill in bills.values():
        version = bill.version + 1
        reversed_ = reverse_live(conn, bill.id, f"residual re-posted: {why}")
        posted = post(conn, bill, proposal(conn, bill), f"residual re-posted: {why}", accounting, version)
        conn.execute(sa.update(queue_items).where(queue_items.c.id == bill.id, queue_items.c.version == bill.version)
                     .values(version=version, updated_at=utcnow()))
        done.append((bill, {"adjustment": posted, "reversed": reversed_}))
    return done
