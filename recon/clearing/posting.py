"""Posting a clearing day to the payment core's ledger: once, and corrected only by reversal.

Each (merchant, currency, channel) cleared on day D is one journal entry of event CLEAR, keyed
`CLEAR:<D>:<merchant>:<currency>:<channel>`. Its legs come from the accounting rules' CLEAR event
(rules/accounting.toml: the merchant's liability moves to `liabilities:settlement:<merchant>` for
the net payable and to `income:merchant-fee:<merchant>` for the fees) plus one leg per split party
(`split_account` of clearing.toml, e.g. `liabilities:split:platform:<merchant>`), which the core's
CLEAR rule does not know about; so the legs are built here and posted through
`recon.core.ledger.post_postings`, inside one `recon.core.uow.unit_of_work`.

The entry key is the core's unique index, so re-running a day posts nothing new. Re-clearing after
a correction compares what the day should book with the live entry under that key: equal, nothing
happens; different, the live entry is reversed (`ledger.reverse`, entry `REV:<key>`) and the new
figures are posted under the next version of the key (`<key>#2`, `#3`, ...). A group that no longer
clears anything only has its live entry reversed. Posted entries are never edited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from recon.clearing.compute import Booking
from recon.clearing.fee_rules import ClearingRules
from recon.core.accounting import AccountingRules, Event, Posting, postings_for
from recon.core.ledger import post_postings, reverse
from recon.core.uow import unit_of_work
from recon.store.tables.core import entries, postings

EVENT = "CLEAR"


@dataclass
class PostingReport:
    posted: list[str] = field(default_factory=list)
    reversed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def base_key(day: dt.date, b: Booking) -> str:
    return f"{EVENT}:{day.isoformat()}:{b.merchant_id}:{b.currency}:{b.channel}"


def legs(b: Booking, accounting: AccountingRules, rules: ClearingRules) -> tuple[Posting, ...]:
    """The transfers of one booking; a negative amount (a day of refunds) runs the other way."""
    # The CLEAR rule's `net` leg gets gross - fee = net_payable, its `fee` leg the fees.
    event = Event(EVENT, b.channel, b.merchant_id, b.currency, gross=b.net_payable + b.fees, fee=b.fees)
    out = list(postings_for(accounting, event))
    liability = f"liabilities:merchant:{b.merchant_id}"
    for party, amount in b.shares:
        if amount.is_zero():
            continue
        account = rules.split_account.format(party=party, merchant_id=b.merchant_id, currency=b.currency,
                                             channel=b.channel)
        debit, credit = (liability, account) if amount > 0 else (account, liability)
        out.append(Posting(debit, credit, b.currency, abs(amount)))
    return tuple(out)


def _live(conn: Connection, day: dt.date) -> dict[str, tuple[list[str], str | None]]:
    """Per base key: every version posted for the day, and the one not yet reversed (if any)."""
    prefix = f"{EVENT}:{day.isoformat()}:"
    keys = conn.execute(sa.select(entries.c.entry_key).where(
        entries.c.entry_key.startswith(prefix, autoescape=True))).scalars().all()
    done = set(conn.execute(sa.select(entries.c.reverses).where(entries.c.reverses.in_(keys))).scalars())
    out: dict[str, tuple[list[str], str | None]] = {}
    for key in sorted(keys, key=_version_order):
        base = _version_order(key)[0]
        versions, live = out.get(base, ([], None))
        versions.append(key)
        out[base] = (versions, key if key not in done else live)
    return out


def _version_order(key: str) -> tuple[str, int]:
    """(base key, version): the version is a `#<digits>` suffix after the channel, the key's last
    part. A merchant id may hold `#` itself (`M#1`), so only a trailing all-digit suffix counts."""
    base, sep, n = key.rpartition("#")
    if sep and n.isdigit() and ":" not in n:
        return base, int(n)
    return key, 1


def _stored(conn: Connection, key: str) -> tuple[Posting, ...]:
    rows = conn.execute(sa.select(postings).where(postings.c.entry_key == key).order_by(postings.c.seq))
    return tuple(Posting(r.debit_account, r.credit_account, r.currency, r.amount) for r in rows)


def post_day(engine: Engine, day: dt.date, books: tuple[Booking, ...], accounting: AccountingRules,
             rules: ClearingRules, *, now: dt.datetime | None = None) -> PostingReport:
    """Bring the ledger's CLEAR entries of `day` in line with `books`, in one transaction."""
    report = PostingReport()
    wanted = {base_key(day, b): (b, legs(b, accounting, rules)) for b in books}
    with unit_of_work(engine, now=now) as uow:
        live = _live(uow.conn, day)
        for base in sorted(set(wanted) | set(live)):
            versions, current = live.get(base, ([], None))
            booking, want = wanted.get(base, (None, ()))
            if current is not None and _stored(uow.conn, current) == want:
                report.unchanged.append(current)
                continue
            if current is not None:
                reverse(uow.conn, current, now=uow.now, memo=f"re-clearing {day}: figures changed")
                report.reversed.append(current)
            if want:
                key = base if not versions else f"{base}#{len(versions) + 1}"
                assert booking is not None
                memo = f"clearing {day}: merchant {booking.merchant_id}, {booking.currency} via {booking.channel}"
                done = post_postings(uow.conn, want, key=key, event=EVENT, currency=booking.currency,
                                     now=uow.now, business_date=day, memo=memo)
                (report.posted if done.new else report.unchanged).append(key)
    return report
