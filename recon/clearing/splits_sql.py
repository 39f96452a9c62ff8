"""The day's splits as one DuckDB statement, exact: `splits.split_net` over every line at once.

`splits.split_net` is the definition (one transaction at a time, Decimal). Here every figure is an
integer of the currency's minor unit (HUGEINT): a line's net, each fixed share, and each percentage
share as `base x percent`, with percents scaled by 10^10, divided by 100 x 10^10 and rounded by the
rule's name on the magnitude (every policy is symmetric around zero, as Decimal's quantize is);
never a float and never DuckDB's round(). The remainder rounding left goes to `remainder_to`.
tests/clearing/test_splits_sql.py holds the two equal on generated lines and rules (hypothesis).

`split_units` returns None where the statement cannot be exact (a percent finer than 10 decimals, a
fixed share finer than the currency's minor unit, a product beyond HUGEINT); the caller then splits
per line.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl

from recon import duck
from recon.clearing.fee_rules import MERCHANT, SplitRule

PERCENT_SCALE = 10
_SCALE = 10 ** PERCENT_SCALE
_DENOMINATOR = 100 * _SCALE  # a percent of a base, both as integers

# Inputs: lines (seq, name = split rule, net_units, pow10), parts (name, pos, party, fixed, pct:
# the merchant at pos 0 with the percent the listed parties leave), rules (name, rounding, remainder_to).
SPLITS_SQL = f"""
WITH l AS (
    SELECT *, CASE WHEN net_units < 0 THEN -1 ELSE 1 END AS sgn FROM lines
), shares AS (
    -- fixed shares come off the top with the net's sign (a refund takes them back)
    SELECT l.seq, l.name, p.pos, p.party, p.pct, l.net_units,
           CASE WHEN p.fixed IS NOT NULL THEN l.sgn * CAST(p.fixed * l.pow10 AS HUGEINT) END AS fixed_units
    FROM l JOIN parts p USING (name)
), based AS (
    SELECT *, net_units - coalesce(sum(fixed_units) OVER (PARTITION BY seq), 0) AS base FROM shares
), cut AS (
    SELECT b.*, r.rounding, r.remainder_to, abs(base * pct) AS mag,
           CASE WHEN base * pct < 0 THEN -1 ELSE 1 END AS psign
    FROM based b JOIN rules r USING (name)
), rounded AS (
    SELECT *,
           CASE WHEN fixed_units IS NOT NULL THEN fixed_units
                ELSE psign * (mag // {_DENOMINATOR}
                              + CASE rounding WHEN 'down' THEN 0
                                              WHEN 'up' THEN CAST(mag % {_DENOMINATOR} > 0 AS INTEGER)
                                              WHEN 'half_up' THEN CAST(2 * (mag % {_DENOMINATOR}) >= {_DENOMINATOR} AS INTEGER)
                                              ELSE CAST(2 * (mag % {_DENOMINATOR}) > {_DENOMINATOR}
                                                        OR (2 * (mag % {_DENOMINATOR}) = {_DENOMINATOR}
                                                            AND (mag // {_DENOMINATOR}) % 2 = 1) AS INTEGER) END)
           END AS units
    FROM cut
)
SELECT seq, pos, party,
       units + CASE WHEN party = remainder_to THEN net_units - sum(units) OVER (PARTITION BY seq) ELSE 0 END AS units
FROM rounded
ORDER BY seq, pos
"""


def _units(value: Decimal, scale: int) -> int | None:
    """`value` x 10^scale as an integer, or None where that is not whole."""
    scaled = value.scaleb(scale)
    return int(scaled) if scaled == scaled.to_integral_value() else None


SHARES = {"seq": pl.UInt32, "pos": pl.Int64, "party": pl.String, "units": pl.Int128}


def split_units(lines: pl.DataFrame, rules: dict[str, SplitRule]) -> pl.DataFrame | None:
    """Each party's share (`SHARES`: seq, pos: 0 the merchant then the rule's parties in order,
    party, units), for `lines` of seq, net (Int128 minor units), exp (the currency's exponent) and
    name (of a split rule in `rules`); None where the statement could not be exact."""
    if not lines.height:
        return pl.DataFrame(schema=SHARES)
    used = {n: rules[n] for n in sorted(lines["name"].unique().to_list())}
    percents = {s.percent for r in used.values() for s in r.shares if s.percent is not None}
    # a fixed share is whole in the currencies its rule splits
    fixed = {(s.fixed, e) for n, e in lines.select("name", "exp").unique().iter_rows()
             for s in used[n].shares if s.fixed is not None}
    if any(_units(p, PERCENT_SCALE) is None for p in percents) or any(_units(f, e) is None for f, e in fixed):
        return None
    parts = []
    for name, rule in used.items():
        listed = sum((_units(s.percent, PERCENT_SCALE) for s in rule.shares if s.percent is not None), 0)
        parts.append((name, 0, MERCHANT, None, 100 * _SCALE - listed))
        parts += [(name, pos, s.party, None if s.fixed is None else str(s.fixed),
                   None if s.percent is None else _units(s.percent, PERCENT_SCALE))
                  for pos, s in enumerate(rule.shares, start=1)]
    frames = {
        # HUGEINT travels as DECIMAL(38, 0) (Arrow has no 128-bit integer)
        "lines_in": lines.select("seq", "name", net_units=pl.col("net").cast(pl.Decimal(38, 0)),
                                 pow10=pl.lit(10, pl.Int64).pow(pl.col("exp"))),
        "parts_text": pl.DataFrame(parts, schema={"name": pl.String, "pos": pl.Int64, "party": pl.String,
                                                  "fixed": pl.String, "pct": pl.String}, orient="row"),
        "rules": pl.DataFrame([(n, r.rounding.value, r.remainder_to) for n, r in used.items()],
                              schema={"name": pl.String, "rounding": pl.String, "remainder_to": pl.String},
                              orient="row"),
    }
    con = duck.connect()
    try:
        for table, frame in frames.items():
            con.register(table, frame)
        # exact DuckDB numbers: HUGEINT units, DECIMAL fixed amounts (parsed from text)
        con.execute("CREATE TEMP VIEW lines AS SELECT seq, name, CAST(net_units AS HUGEINT) AS net_units, pow10 "
                    "FROM lines_in")
        con.execute("CREATE TEMP VIEW parts AS SELECT name, pos, party, CAST(fixed AS DECIMAL(38, 10)) AS fixed, "
                    "CAST(pct AS HUGEINT) AS pct FROM parts_text")
        out = con.sql(SPLITS_SQL).pl()
    except duckdb.OutOfRangeException:  # beyond HUGEINT: the per-line definition is exact
        return None
    finally:
        con.close()
    return out.select(pl.col("seq").cast(pl.UInt32), pl.col("pos").cast(pl.Int64), "party",
                      pl.col("units").cast(pl.Int128))
