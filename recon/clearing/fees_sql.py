"""The day's fees as one DuckDB statement: month-to-date volume, tiers, min/max, named rounding.

`compute.fees_per_row` is the definition (fees.py, one transaction at a time, Decimal); this is the
same computation over the whole day at once, exact: amounts are DECIMAL(38, 6), rates DECIMAL(20,
10), every product DECIMAL(38, 18), and rounding is done on integers of the currency's minor unit
(never through a float, never DuckDB's round(), whose half-way rule is not the rule's). Each fee
comes back as (units, exponent) and becomes a Decimal in Python exactly as `quantize` makes it.
tests/clearing/test_fees_sql.py holds the two equal on generated days and rules (hypothesis).

`fee_units` returns None where the statement cannot be exact (a rate finer than 10 decimals, a fee
beyond 20 integer digits; amounts come as a MONEY column, exact at 6 decimals); the caller then
computes per row.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl

from recon import duck
from recon.clearing.fee_rules import ClearingRules
from recon.money import exponent

RATE_SCALE, AMOUNT_SCALE = 10, 6

# Inputs: tx (seq = clearing order, merchant_id, currency, record_type, fee_rule, amount),
# rule_params (name, kind, percent, fixed, fmin, fmax, ret, rounding, at_total), tiers (name, start,
# percent), prior (merchant_id, currency, volume), units (currency, pow10).
FEES_SQL = """
WITH v AS (
    -- every amount a CASE may pick is DECIMAL(38, 18) already: a CASE mixing scales 6 and 18 would
    -- take DuckDB's common type DECIMAL(38, 6) and cut the exact fee's digits
    SELECT t.seq, t.merchant_id, t.currency, t.fee_rule AS name, CAST(t.amount AS DECIMAL(38, 6)) AS amount, r.kind,
           r.percent,
           CAST(r.fixed AS DECIMAL(38, 18)) AS fixed, CAST(r.fmin AS DECIMAL(38, 18)) AS fmin,
           CAST(r.fmax AS DECIMAL(38, 18)) AS fmax, r.ret, r.rounding, r.at_total, u.pow10,
           -- MonthVolume.after: PAYMENT amounts counted in clearing order, this transaction included
           coalesce(p.volume, 0) + sum(CASE WHEN t.record_type = 'PAYMENT' THEN abs(CAST(t.amount AS DECIMAL(38, 6))) ELSE 0 END)
               OVER (PARTITION BY t.merchant_id, t.currency ORDER BY t.seq ROWS UNBOUNDED PRECEDING) AS vol
    FROM tx t JOIN rule_params r ON r.name = t.fee_rule JOIN units u USING (currency)
    LEFT JOIN prior p USING (merchant_id, currency)
), rated AS (
    -- the tier reached: the one with the highest `from` at or below the volume (tiers rise strictly)
    SELECT v.*, CASE WHEN v.kind = 'tiered' THEN s.percent ELSE v.percent END AS rate
    FROM v ASOF LEFT JOIN tiers s ON s.name = v.name AND v.vol >= s.start
), raw AS (
    SELECT *, CAST(abs(amount) * rate * 0.01 AS DECIMAL(38, 18)) + coalesce(fixed, CAST(0 AS DECIMAL(38, 18))) AS raw_fee
    FROM rated
), floored AS (
    SELECT *, CASE WHEN fmin IS NOT NULL AND raw_fee < fmin THEN fmin ELSE raw_fee END AS low_fee FROM raw
), exact AS (
    SELECT *,
           CAST(CASE WHEN kind = 'none' THEN CAST(0 AS DECIMAL(38, 18))
                     WHEN kind = 'fixed' THEN coalesce(fixed, CAST(0 AS DECIMAL(38, 18)))
                     WHEN fmax IS NOT NULL AND low_fee > fmax THEN fmax
                     ELSE low_fee END AS DECIMAL(38, 18))
             * CASE WHEN ret THEN -1 ELSE 1 END AS fee
    FROM floored
), cut AS (
    SELECT *, CAST(trunc(abs(fee) * pow10) AS HUGEINT) AS floor_units,
           abs(fee) * pow10 - trunc(abs(fee) * pow10) AS frac
    FROM exact
), own AS (
    -- round_at = "transaction": each fee's magnitude rounded by the rule's name (every policy is
    -- symmetric around zero)
    SELECT seq,
           (floor_units + CASE rounding WHEN 'down' THEN 0 WHEN 'up' THEN CAST(frac > 0 AS INTEGER)
                                        WHEN 'half_up' THEN CAST(frac >= 0.5 AS INTEGER)
                                        ELSE CAST(frac > 0.5 OR (frac = 0.5 AND floor_units % 2 = 1) AS INTEGER) END)
             * CASE WHEN fee < 0 THEN -1 ELSE 1 END AS fee,
           false AS broken
    FROM cut WHERE NOT at_total
), grouped AS (
    -- round_at = "total": only these rows take the group windows (a group is one rule, so one kind)
    SELECT *,
           row_number() OVER (PARTITION BY merchant_id, currency, name ORDER BY seq) AS pos,
           abs(sum(fee) OVER g) * pow10 AS total_scaled,
           sum(fee) OVER g < 0 OR bool_or(fee < 0) OVER g AS negative,
           sum(floor_units) OVER g AS floors,
           count(*) OVER g AS members
    FROM cut WHERE at_total
    WINDOW g AS (PARTITION BY merchant_id, currency, name)
), apportioned AS (
    -- fees.apportion: each line its floor, the units still missing (the rounded total's units less
    -- the floors) one each to the largest cut-off parts (ties: the earlier line)
    SELECT *,
           CAST(trunc(total_scaled) AS HUGEINT)
             + CASE rounding WHEN 'down' THEN 0
                             WHEN 'up' THEN CAST(total_scaled > trunc(total_scaled) AS INTEGER)
                             WHEN 'half_up' THEN CAST(total_scaled - trunc(total_scaled) >= 0.5 AS INTEGER)
                             ELSE CAST(total_scaled - trunc(total_scaled) > 0.5
                                       OR (total_scaled - trunc(total_scaled) = 0.5
                                           AND CAST(trunc(total_scaled) AS HUGEINT) % 2 = 1) AS INTEGER) END
             - floors AS missing,
           row_number() OVER (PARTITION BY merchant_id, currency, name ORDER BY frac DESC, pos) AS turn
    FROM grouped
)
SELECT seq, fee, broken FROM own
UNION ALL
SELECT seq, (floor_units + CAST(turn <= missing AS INTEGER)) * CASE WHEN negative THEN -1 ELSE 1 END,
       missing < 0 OR missing > members
FROM apportioned
ORDER BY seq
"""


def _exact_at(value: Decimal | None, scale: int) -> bool:
    return value is None or value == value.quantize(Decimal(1).scaleb(-scale))


def fee_units(tx: pl.DataFrame, rules: ClearingRules,
              prior_volume: dict[tuple[str, str], Decimal]) -> pl.Series | None:
    """Each taken transaction's whole-unit fee in minor units (Int128, in `seq` order), for `tx` of
    seq (0, 1, ...: clearing order), merchant_id, currency, record_type, fee_rule and amount (a
    MONEY column, exact at 6 decimals); None where the statement could not be exact."""
    used = {n: rules.fees[n] for n in sorted(tx["fee_rule"].unique().to_list())}
    rates = [r.percent for r in used.values()] + [t.percent for r in used.values() for t in r.tiers]
    if not all(_exact_at(x, RATE_SCALE) for x in rates):
        return None
    money = pl.Decimal(38, AMOUNT_SCALE)
    rate = pl.Decimal(20, RATE_SCALE)
    params = pl.DataFrame([{"name": n, "kind": r.kind, "percent": r.percent, "fixed": r.fixed, "fmin": r.min,
                            "fmax": r.max, "ret": r.direction == "return", "rounding": r.rounding.value,
                            "at_total": r.round_at == "total"} for n, r in used.items()],
                          schema={"name": pl.String, "kind": pl.String, "percent": rate, "fixed": money, "fmin": money,
                                  "fmax": money, "ret": pl.Boolean, "rounding": pl.String, "at_total": pl.Boolean})
    tiers = pl.DataFrame([{"name": n, "start": t.start, "percent": t.percent} for n, r in used.items() for t in r.tiers],
                         schema={"name": pl.String, "start": money, "percent": rate})
    prior = pl.DataFrame([{"merchant_id": m, "currency": c, "volume": v} for (m, c), v in prior_volume.items()],
                         schema={"merchant_id": pl.String, "currency": pl.String, "volume": money})
    currencies = sorted(tx["currency"].unique().to_list())
    units = pl.DataFrame({"currency": currencies, "pow10": [10 ** exponent(c) for c in currencies]},
                         schema={"currency": pl.String, "pow10": pl.Int64})
    inputs = tx.select("seq", "merchant_id", "currency", "record_type", "fee_rule", "amount")
    con = duck.connect()
    try:
        for table, frame in (("tx", inputs), ("rule_params", params), ("tiers", tiers), ("prior", prior),
                             ("units", units)):
            con.register(table, frame)
        out = con.sql(FEES_SQL).pl()
    except duckdb.OutOfRangeException:  # a fee beyond DECIMAL(38, 18): the per-row path is exact
        return None
    finally:
        con.close()
    if out["broken"].any():
        raise ValueError("cannot apportion a rounded total over its lines")  # as fees.apportion
    return out["fee"].cast(pl.Int128)
