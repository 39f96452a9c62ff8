"""The day's splits as one DuckDB statement, exact: `splits.split_net` over every line at once.

`splits.split_net` is the definition (one transaction at a time, Decimal). Here every figure is an
integer of the currency's minor unit (HUGEINT): a line's net, each fixed share, and each percentage
share as `base x percent`, with percents scaled by 10^10, divided by 100 x 10^10 and rounded by the
rule's name on the magnitude (every policy is symmetric around zero, as Decimal's quantize is);
never a float and never DuckDB's round(). The remainder rounding left goes to `remainder_to`.
tests/clearing/test_splits_sql.py holds the two equal on generated lines and rules (hypothesis).

`day_splits` returns None where the statement cannot be exact (a percent finer than 10 decimals, a
fixed share or a net finer than the currency's minor unit, a product beyond HUGEINT); the caller
then splits per line.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl

from recon.clearing.fee_rules import MERCHANT, SplitRule
from recon.money import exponent

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
SELECT seq, party,
       units + CASE WHEN party = remainder_to THEN net_units - sum(units) OVER (PARTITION BY seq) ELSE 0 END AS units
FROM rounded
ORDER BY seq, pos
"""


def _units(value: Decimal, scale: int) -> int | None:
    """`value` x 10^scale as an integer, or None where that is not whole."""
    scaled = value.scaleb(scale)
    return int(scaled) if scaled == scaled.to_integral_value() else None


def day_splits(lines: list[tuple[SplitRule, Decimal, str]]) -> list[tuple[tuple[str, Decimal], ...]] | None:
    """Each line's shares as `split_net(rule, net, currency)` gives them (merchant first, then the
    rule's parties in order), for lines of (rule, net, currency); None where not exact."""
    if not lines:
        return []
    rules: dict[int, tuple[str, SplitRule]] = {}
    for rule, _, _ in lines:
        rules.setdefault(id(rule), (f"r{len(rules)}", rule))
    exps = {c: exponent(c) for c in sorted({c for _, _, c in lines})}
    nets = [_units(net, exps[c]) for _, net, c in lines]
    percents = {s.percent for _, r in rules.values() for s in r.shares if s.percent is not None}
    used = {(id(r), c): r for r, _, c in lines}  # a fixed share is whole in the currencies its rule splits
    fixed = {(s.fixed, c) for (_, c), r in used.items() for s in r.shares if s.fixed is not None}
    if (None in nets or any(_units(p, PERCENT_SCALE) is None for p in percents)
            or any(_units(f, exps[c]) is None for f, c in fixed)):
        return None
    parts = []
    for name, rule in rules.values():
        listed = sum((_units(s.percent, PERCENT_SCALE) for s in rule.shares if s.percent is not None), 0)
        parts.append((name, 0, MERCHANT, None, 100 * _SCALE - listed))
        parts += [(name, pos, s.party, None if s.fixed is None else str(s.fixed),
                   None if s.percent is None else _units(s.percent, PERCENT_SCALE))
                  for pos, s in enumerate(rule.shares, start=1)]
    names = {id(r): n for n, r in rules.values()}
    frames = {
        "lines": pl.DataFrame({"seq": range(len(lines)), "name": [names[id(r)] for r, _, _ in lines],
                               "net_units": [str(n) for n in nets], "pow10": [10 ** exps[c] for _, _, c in lines]},
                              schema={"seq": pl.Int64, "name": pl.String, "net_units": pl.String, "pow10": pl.Int64}),
        "parts": pl.DataFrame(parts, schema={"name": pl.String, "pos": pl.Int64, "party": pl.String,
                                             "fixed": pl.String, "pct": pl.String}, orient="row"),
        "rules": pl.DataFrame([(n, r.rounding.value, r.remainder_to) for n, r in rules.values()],
                              schema={"name": pl.String, "rounding": pl.String, "remainder_to": pl.String},
                              orient="row"),
    }
    con = duckdb.connect(":memory:")
    try:
        # text columns become exact DuckDB numbers: HUGEINT units, DECIMAL fixed amounts
        con.register("lines_text", frames["lines"])
        con.register("parts_text", frames["parts"])
        con.register("rules", frames["rules"])
        con.execute("CREATE TEMP VIEW lines AS SELECT seq, name, CAST(net_units AS HUGEINT) AS net_units, pow10 "
                    "FROM lines_text")
        con.execute("CREATE TEMP VIEW parts AS SELECT name, pos, party, CAST(fixed AS DECIMAL(38, 10)) AS fixed, "
                    "CAST(pct AS HUGEINT) AS pct FROM parts_text")
        out = con.execute(SPLITS_SQL).fetchall()
    except duckdb.OutOfRangeException:  # beyond HUGEINT: the per-line definition is exact
        return None
    finally:
        con.close()
    shares: list[list[tuple[str, Decimal]]] = [[] for _ in lines]
    for seq, party, units in out:
        shares[seq].append((party, Decimal(int(units)).scaleb(-exps[lines[seq][2]])))
    return [tuple(s) for s in shares]
