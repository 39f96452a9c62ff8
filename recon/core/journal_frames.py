"""The journal entries of many transactions at once: `postings_for` over a frame.

Booking a bulk import one `postings_for` call per event costs more than storing the rows. The rule
of an event depends on a transaction only through its account fields (channel, merchant, currency)
and its amounts, so each leg becomes one column expression: the account templates are filled once
per distinct (channel, merchant, currency), a zero leg is dropped, a negative one swaps debit and
credit, exactly as `accounting.postings_for` does for one event (tests/core/test_bulk_import.py
holds the two against each other). Amounts stay Decimal(38, 6) in Polars: exact, never float.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.core.accounting import AccountingRules

ENTRY_SCHEMA = {"entry_key": pl.String, "event": pl.String, "txn_id": pl.String, "currency": pl.String,
                "business_date": pl.Date, "posted_at": pl.Datetime("us", "UTC"), "reverses": pl.String,
                "memo": pl.String}


def journal_frames(rules: AccountingRules, booked: pl.DataFrame, now: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(entries, postings) every demanded event of `booked` posts.

    `booked`: successful transactions with txn_id, record_type, channel, merchant_id, currency,
    amount (signed), fee and trade_time (UTC; its date is the entry's business date).
    """
    legs: list[pl.DataFrame] = []
    for record_type in booked["record_type"].unique().sort():
        rows = booked.filter(pl.col("record_type") == record_type)
        gross = pl.col("amount").abs()
        values = {"gross": gross, "fee": pl.col("fee"), "net": gross - pl.col("fee")}
        for event in rules.demanded(record_type):
            rule = rules.rule(event)
            accounts = _accounts(rows, [(leg.debit, leg.credit) for leg in rule.legs])
            with_accounts = rows.join(accounts, on=["channel", "merchant_id", "currency"], how="left",
                                      maintain_order="left")
            for i, leg in enumerate(rule.legs):
                value = values[leg.amount]
                debit, credit = pl.col(f"_debit{i}"), pl.col(f"_credit{i}")
                flip = value < 0
                legs.append(with_accounts.select(
                    (pl.lit(f"{event}:") + pl.col("txn_id")).alias("entry_key"), pl.lit(event).alias("event"),
                    pl.lit(i).alias("_leg"), "txn_id", "currency", "trade_time",
                    pl.when(flip).then(credit).otherwise(debit).alias("debit_account"),
                    pl.when(flip).then(debit).otherwise(credit).alias("credit_account"),
                    value.abs().alias("amount"),
                ).filter(pl.col("amount") != 0))
    if not legs:
        return pl.DataFrame(schema=ENTRY_SCHEMA), pl.DataFrame()
    all_legs = pl.concat(legs).with_columns(
        (pl.col("_leg").rank("ordinal").over("entry_key")).cast(pl.Int64).alias("seq"))
    entries = (all_legs.filter(pl.col("seq") == 1)
               .select("entry_key", "event", "txn_id", "currency",
                       pl.col("trade_time").dt.date().alias("business_date"),
                       pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("posted_at"),
                       pl.lit(None, pl.String).alias("reverses"), pl.lit(None, pl.String).alias("memo")))
    postings = all_legs.select("entry_key", "seq", "debit_account", "credit_account", "currency", "amount")
    return entries, postings


def _accounts(rows: pl.DataFrame, templates: list[tuple[str, str]]) -> pl.DataFrame:
    """Each leg's debit and credit account for every distinct (channel, merchant, currency)."""
    keys = rows.select("channel", "merchant_id", "currency").unique(maintain_order=True)
    filled: dict[str, list[str]] = {f"_{side}{i}": [] for i in range(len(templates)) for side in ("debit", "credit")}
    for channel, merchant_id, currency in keys.iter_rows():
        fields = {"channel": channel, "merchant_id": merchant_id, "currency": currency, "bank": channel}
        for i, (debit, credit) in enumerate(templates):
            filled[f"_debit{i}"].append(debit.format(**fields))
            filled[f"_credit{i}"].append(credit.format(**fields))
    return keys.with_columns(pl.Series(name, values, dtype=pl.String) for name, values in filled.items())
