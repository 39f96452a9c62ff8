"""Layer 3, account vs cash (账实对账): what our books say we hold against what the bank says.

Layers 1 and 2 can both be clean while the money is not there: a payout the channel reports as sent
never reached the bank, or the ledger position drifted. Two checks close the loop:

* **Position**: the book balance of each bank/channel account at the end of D (the payment core's
  ledger, or a configured CSV for teams whose books live elsewhere) against the bank statement's
  closing balance for D. Equal is CASH_OK; else CASH_MISMATCH with both figures. A statement
  account the books do not know is CASH_UNBOOKED. On a business day a booked account with no
  closing balance is CASH_NO_STATEMENT; on weekends and bank holidays it is simply not reported.
* **Payouts landing**: each payout a channel reported (layer 2) must arrive as a credit on a bank
  statement: first by its trace (the payout id or batch number in the bank line, for all payouts
  at once: recon.matching.payout_trace), else by amount and currency within the landing window.
  PAYOUT_RECEIVED, PAYOUT_IN_TRANSIT (window open), PAYOUT_NOT_RECEIVED, PAYOUT_AMOUNT_MISMATCH (a
  traced credit of another amount: both figures, never a silent amount match elsewhere); a credit
  of the day that no payout explains is UNEXPECTED_CREDIT.
Balances are signed as the bank shows them: positive is money we hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path

import polars as pl

from recon.errors import StageFailed
from recon.internal import expand
from recon.matching import payout_trace
from recon.matching.layer2_settlement import Payout
from recon.matching.layer23_results import ResultRow, money_text
from recon.money import MoneyError, currency_code, parse_amount
from recon.schema import MONEY

LAYER = 3
POSITION_COLUMNS = {"channel": pl.String(), "account": pl.String(), "currency": pl.String(), "amount": MONEY}
Positions = Mapping[str, tuple[str, Decimal]] | pl.DataFrame


def positions_frame(positions: Positions) -> pl.DataFrame:
    """Book positions as a frame (channel, account, currency, amount) from a mapping or a frame."""
    if isinstance(positions, pl.DataFrame):
        frame = positions.rename({"balance": "amount"}) if "balance" in positions.columns else positions
        if "channel" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias("channel"))
        return frame.select(list(POSITION_COLUMNS)).cast(POSITION_COLUMNS)  # type: ignore[arg-type]
    rows = [{"channel": None, "account": acct, "currency": cur, "amount": amount}
            for acct, (cur, amount) in sorted(positions.items())]
    return pl.DataFrame(rows, schema=POSITION_COLUMNS, orient="row")


def load_positions_csv(template: str, root: Path, date: dt.date) -> pl.DataFrame:
    """Book positions from a CSV (account, currency, balance[, date]); money parsed as text."""
    path = Path(expand(template, date))
    path = path if path.is_absolute() else root / path
    if not path.exists():
        raise StageFailed(f"book positions file {path} does not exist (books.path in settlement.toml)")
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    lacking = [c for c in ("account", "currency", "balance") if c not in frame.columns]
    if lacking:
        raise StageFailed(f"{path}: lacks column(s) {lacking}")
    rows = []
    for line, rec in enumerate(frame.to_dicts(), start=2):
        if rec.get("date") and rec["date"].strip() != date.isoformat():
            continue  # a file of several days: keep the positions at the end of `date`
        try:
            rows.append({"channel": rec.get("channel"), "account": rec["account"].strip(),
                         "currency": currency_code(rec["currency"]), "amount": parse_amount(rec["balance"])})
        except (MoneyError, AttributeError) as exc:
            raise StageFailed(f"{path}:{line}: {exc}") from None
    return pl.DataFrame(rows, schema=POSITION_COLUMNS, orient="row")


def compare_positions(date: dt.date, books: pl.DataFrame, closing: pl.DataFrame,
                      business_day: bool) -> list[ResultRow]:
    """Book position vs closing balance per account and currency (see the module docstring)."""
    ours = {(r["account"], r["currency"]): r for r in books.iter_rows(named=True)}
    bank = {(r["account"], r["currency"]): r for r in closing.iter_rows(named=True)}
    rows = []
    for acct, cur in sorted(set(ours) | set(bank)):
        o, b = ours.get((acct, cur)), bank.get((acct, cur))
        if b is None and not business_day:
            continue  # no statement on a weekend or bank holiday is not an error
        channel = (b or {}).get("channel") or (o or {}).get("channel") or ""
        their_amt = b["amount"] if b else None
        our_amt = o["amount"] if o else None
        if b is None:
            kind, reason = "CASH_NO_STATEMENT", f"books hold {money_text(our_amt, cur)} in {acct} but no closing balance for {date} arrived"
        elif o is None:
            kind, reason = "CASH_UNBOOKED", f"the bank shows {money_text(their_amt, cur)} in {acct}; our books have no position for it"
        elif our_amt == their_amt:
            kind, reason = "CASH_OK", f"{acct}: books and bank both hold {money_text(our_amt, cur)} at the end of {date}"
        else:
            kind = "CASH_MISMATCH"
            reason = (f"{acct}: books say {money_text(our_amt, cur)}, the bank says {money_text(their_amt, cur)} "
                      f"at the end of {date}, a difference of {money_text(their_amt - our_amt, cur)}")
        rows.append(ResultRow(date, LAYER, "cash", channel, acct, cur, kind, f"{acct}:{cur}", our_amt, their_amt, reason,
                              their_ref=(b or {}).get("statement_id"), their_date=date if b else None))
    return rows


def match_payouts(date: dt.date, payouts: list[Payout], credits: pl.DataFrame,
                  close_of: Callable[[Payout], dt.date], flag_unexpected: Callable[[str], bool]) -> list[ResultRow]:
    """Payouts reported by channels against bank credits; rows to report on `date`.

    Which credit is which payout is recon.matching.payout_trace's answer (trace first, then amount
    and date); every reason says which of the two linked them.
    """
    pool = [c for c in credits.iter_rows(named=True)]
    ordered = sorted(payouts, key=lambda p: (p.arrival_date, p.channel, p.ref, p.source_file, p.source_line))
    links = payout_trace.link_payouts(ordered, pool, close_of)
    linked = {id(link.credit) for link in links.values()}
    rows = []
    for i, p in enumerate(ordered):
        close = close_of(p)
        common = dict(business_date=date, layer=LAYER, section="payout", channel=p.channel, account=p.account,
                      currency=p.currency, key=f"payout:{p.ref}", our_amount=p.to_bank, payout_ids=p.ref,
                      due_date=p.arrival_date, period_start=p.pay_date)
        what = f"payout {p.ref} of {money_text(p.to_bank, p.currency)} paid {p.pay_date}"
        link = links.get(i)
        if link is not None:
            hit = link.credit
            if max(hit["bill_date"], p.pay_date) != date:
                continue  # reported on the day the second side appeared
            where = f"{hit['channel']} {hit['account']} line {hit['source_line']}"
            same = hit["amount"] == p.to_bank and hit["currency"] == p.currency
            kind = "PAYOUT_RECEIVED" if same else "PAYOUT_AMOUNT_MISMATCH"
            diff = (f", a difference of {money_text(hit['amount'] - p.to_bank, p.currency)}"
                    if hit["currency"] == p.currency else "")
            reason = (f"{what} arrived on {hit['value_date']} ({where}); {link.how}" if same else
                      f"{what} arrived on {hit['value_date']} as {money_text(hit['amount'], hit['currency'])} "
                      f"({where}){diff}; {link.how}")
            rows.append(ResultRow(**common, kind=kind, their_amount=hit["amount"], reason=reason,
                                  their_ref=f"{hit['channel']}:{hit['channel_txn_id']}", their_date=hit["value_date"]))
        elif p.pay_date <= date <= close:
            rows.append(ResultRow(**common, kind="PAYOUT_IN_TRANSIT", their_amount=None,
                                  reason=f"{what}: not on a bank statement yet; expected by {close}"))
        elif date == close + dt.timedelta(days=1):
            rows.append(ResultRow(**common, kind="PAYOUT_NOT_RECEIVED", their_amount=Decimal("0"),
                                  reason=f"{what}: no bank credit carries its trace and none matches "
                                         f"its amount by {close}"))
    pool = [c for c in pool if id(c) not in linked]
    for c in pool:
        if c["bill_date"] == date and flag_unexpected(c["channel"]):
            rows.append(ResultRow(date, LAYER, "payout", c["channel"], c["account"], c["currency"],
                                  "UNEXPECTED_CREDIT", f"credit:{c['channel_txn_id']}@{c['source_line']}", Decimal("0"), c["amount"],
                                  f"bank credit of {money_text(c['amount'], c['currency'])} on {c['value_date']} "
                                  f"({c['channel_txn_id']}) matches no payout a channel reported",
                                  their_ref=f"{c['channel']}:{c['channel_txn_id']}", their_date=c["value_date"]))
    return rows
