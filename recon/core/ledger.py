"""The journal: append-only double-entry postings, balances, the trial balance, reversals.

An entry is keyed deterministically (`PAY:<txn_id>`, `CLEAR:<date>:<merchant>:<currency>:<channel>`), so
posting the same business event twice writes it once (`ON CONFLICT DO NOTHING` plus a read-back that
refuses a different payload under the same key). Its postings are transfers (debit one account,
credit another, one positive amount), so no entry can be unbalanced. A posted entry is never edited
or deleted — the database refuses it (revision core_0002) — a mistake is corrected by `reverse`,
which posts the mirror entry `REV:<key>`; an entry can be reversed once.

Balances are summed in Python with exact Decimals: on SQLite money is stored as text, and SQL `SUM`
there would go through float. The trial balance proves, per currency, that the debit totals of all
accounts equal their credit totals, and that no posting's currency differs from its entry's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from recon.core.accounting import AccountingRules, Event, Posting, postings_for
from recon.core.errors import IdempotencyConflict, NotFound, Unbalanced
from recon.core.idempotency import insert_once
from recon.money import plain
from recon.store.tables.core import entries, postings


@dataclass(frozen=True, slots=True)
class Posted:
    entry_key: str
    postings: tuple[Posting, ...]
    new: bool  # False: the same entry was already posted (a retry)


def post(conn: Connection, rules: AccountingRules, event: Event, *, key: str, now: dt.datetime,
         txn_id: str | None = None, business_date: dt.date | None = None, memo: str | None = None) -> Posted:
    """Post one business event inside the caller's transaction, once per `key`."""
    return post_postings(conn, postings_for(rules, event), key=key, event=event.event, currency=event.currency,
                         now=now, txn_id=txn_id, business_date=business_date, memo=memo)


def post_postings(conn: Connection, legs: tuple[Posting, ...], *, key: str, event: str, currency: str,
                  now: dt.datetime, txn_id: str | None = None, business_date: dt.date | None = None,
                  memo: str | None = None, reverses: str | None = None) -> Posted:
    for leg in legs:
        if leg.amount <= 0 or leg.currency != currency or leg.debit == leg.credit:
            raise Unbalanced(f"entry {key}: posting {leg} is not a positive {currency} transfer between two accounts")
    if not legs:  # every leg was zero (a payment without fee): there is nothing to book
        return Posted(key, legs, new=False)
    new = insert_once(conn, entries, dict(
        entry_key=key, event=event, txn_id=txn_id, business_date=business_date, currency=currency,
        posted_at=now, reverses=reverses, memo=memo))
    if not new:
        stored = _postings_of(conn, key)
        if stored != legs:
            raise IdempotencyConflict(key, {"postings": (stored, legs)})
        return Posted(key, stored, new=False)
    conn.execute(postings.insert(), [
        {"entry_key": key, "seq": i, "debit_account": p.debit, "credit_account": p.credit,
         "currency": p.currency, "amount": p.amount} for i, p in enumerate(legs, start=1)])
    return Posted(key, legs, new=True)


def reverse(conn: Connection, key: str, *, now: dt.datetime, memo: str | None = None) -> Posted:
    """Correct a posted entry by posting its mirror image; the original stays as it was."""
    original = conn.execute(sa.select(entries).where(entries.c.entry_key == key)).one_or_none()
    if original is None:
        raise NotFound(f"no journal entry {key}")
    mirror = tuple(Posting(p.credit, p.debit, p.currency, p.amount) for p in _postings_of(conn, key))
    return post_postings(conn, mirror, key=f"REV:{key}", event=original.event, currency=original.currency,
                         now=now, txn_id=original.txn_id, business_date=original.business_date,
                         memo=memo or f"reversal of {key}", reverses=key)


def _postings_of(conn: Connection, key: str) -> tuple[Posting, ...]:
    rows = conn.execute(sa.select(postings).where(postings.c.entry_key == key).order_by(postings.c.seq))
    return tuple(Posting(r.debit_account, r.credit_account, r.currency, r.amount) for r in rows)


@dataclass(frozen=True, slots=True)
class Balance:
    account: str
    currency: str
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debits - self.credits

    def as_dict(self) -> dict[str, str]:
        cur = self.currency  # amounts at the currency's exponent: JPY 0 decimals, KWD 3
        return {"account": self.account, "currency": cur, "debits": plain(self.debits, cur),
                "credits": plain(self.credits, cur), "balance": plain(self.balance, cur)}


def _rows(conn: Connection) -> Iterable[sa.Row]:
    stmt = sa.select(postings.c.debit_account, postings.c.credit_account, postings.c.currency, postings.c.amount)
    return conn.execution_options(yield_per=50_000).execute(stmt)


def balances(engine: Engine, account: str | None = None) -> list[Balance]:
    """Per (account, currency): debits, credits, balance. `account` matches itself or as a prefix
    of colon-separated children (`liabilities:merchant` covers every merchant)."""
    debits: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    credits: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with engine.connect() as conn:
        for debit, credit, currency, amount in _rows(conn):
            debits[(debit, currency)] += amount
            credits[(credit, currency)] += amount

    def wanted(name: str) -> bool:
        return account is None or name == account or name.startswith(account.rstrip(":") + ":")

    keys = sorted(k for k in set(debits) | set(credits) if wanted(k[0]))
    return [Balance(a, c, debits.get((a, c), Decimal(0)), credits.get((a, c), Decimal(0))) for a, c in keys]


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """Per currency: total of debit balances and of credit balances over all accounts."""

    totals: tuple[tuple[str, Decimal, Decimal], ...]  # (currency, debits, credits)
    mixed_entries: tuple[str, ...]  # entries with a posting in another currency (must be empty)

    @property
    def balanced(self) -> bool:
        return not self.mixed_entries and all(d == c for _, d, c in self.totals)

    def as_dict(self) -> dict[str, object]:
        return {"balanced": self.balanced, "mixed_entries": list(self.mixed_entries),
                "currencies": [{"currency": c, "debits": plain(d, c), "credits": plain(k, c),
                                "difference": plain(d - k, c)}
                               for c, d, k in self.totals]}


def trial_balance(engine: Engine) -> TrialBalance:
    debits: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for bal in balances(engine):  # sum account by account, as an accountant's trial balance does
        if bal.balance > 0:
            debits[bal.currency] += bal.balance
        else:
            credits[bal.currency] -= bal.balance
    with engine.connect() as conn:
        mixed = conn.execute(
            sa.select(entries.c.entry_key).distinct().join(postings, postings.c.entry_key == entries.c.entry_key)
            .where(postings.c.currency != entries.c.currency).order_by(entries.c.entry_key)).scalars().all()
    currencies = sorted(set(debits) | set(credits))
    return TrialBalance(tuple((c, debits[c], credits[c]) for c in currencies), tuple(mixed))
