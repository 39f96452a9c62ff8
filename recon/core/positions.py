"""Our books' position in each bank account at the end of a day (头寸), for layer 3.

Layer 3 compares what our ledger says we hold at a bank with the bank statement's closing balance.
The ledger account of a bank channel named `<name>` in recon.toml is `assets:bank:<name>` (the
SETTLE and PAYOUT events of rules/accounting.toml post there); its balance through business date
D (debits - credits of every entry dated on or before D) is the position, keyed by the bank account
id the statement carries (the channel's `account`). A bank channel whose ledger account has no
entries yet is left out: there is nothing booked to compare.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Engine

from recon.errors import StageFailed
from recon.store.engine import open_store
from recon.store.tables.core import entries, postings
from recon.workspace import Workspace


def bank_ledger_account(channel: str) -> str:
    return f"assets:bank:{channel}"


def balance_through(engine: Engine, account: str, date: dt.date) -> dict[str, Decimal]:
    """debits - credits of `account` per currency over entries dated on or before `date`."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    query = (sa.select(postings.c.debit_account, postings.c.credit_account, postings.c.currency, postings.c.amount)
             .join(entries, entries.c.entry_key == postings.c.entry_key)
             .where(sa.or_(postings.c.debit_account == account, postings.c.credit_account == account),
                    entries.c.business_date <= date))
    with engine.connect() as conn:
        for debit, credit, currency, amount in conn.execute(query):
            totals[currency] += amount if debit == account else -amount
    return dict(totals)


def positions_at(ws: Workspace, date: dt.date) -> dict[str, tuple[str, Decimal]] | None:
    """{bank account id: (currency, position)} for every bank channel with booked entries."""
    banks = {n: c for n, c in ws.settings.channels.items() if ws.catalog.kind(n) == "bank" and c.account}
    if not banks:
        return None
    engine = open_store(ws.store_url())
    found: dict[str, tuple[str, Decimal]] = {}
    for name, cfg in sorted(banks.items()):
        per_currency = balance_through(engine, bank_ledger_account(name), date)
        if len(per_currency) > 1:
            raise StageFailed(f"ledger account {bank_ledger_account(name)} holds {sorted(per_currency)}: "
                              f"one bank account per currency, please (channel {name})")
        for currency, amount in per_currency.items():
            found[cfg.account] = (currency, amount)
    return found or None
