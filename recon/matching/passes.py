"""The cascade of layer-1 passes: each takes rows still free on both sides and pairs some of them.

Passes run in the order the rule set names. Each is a plain function over the DuckDB session,
tuned by explicit arguments (a key, a variant, a window); `PassKind` maps the names a rule file
uses to those functions (STYLE.md 6). After every pass the free tables shrink to the rows nobody
has taken yet, so no row is taken by two passes (FAULTS.md E8) and later passes work on the few
rows that are left rather than on the whole day.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from enum import StrEnum

import duckdb

from recon.config.ruleset import IdVariant, MatchRules
from recon.matching import engine

# Refunds pair only with refunds (by refund ids); every other record type with its own type.
PAYMENTS = "record_type <> 'REFUND'"
REFUNDS = "record_type = 'REFUND'"


class PassKind(StrEnum):
    KEY = "key"
    ID_VARIANT = "id_variant"
    GROUP = "group"
    NO_REFERENCE = "no_reference"


class Free:
    """Names of the tables holding the rows no pass has taken yet, one generation per pass."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.generation = 0

    @property
    def o(self) -> str:
        return f"fo_{self.generation}"

    @property
    def t(self) -> str:
        return f"ft_{self.generation}"

    def materialize(self) -> None:
        """Copy generation 0 (views over the day) into tables, so leftovers can be edited."""
        self.generation += 1
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {self.o} AS SELECT * FROM fo_0")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {self.t} AS SELECT * FROM ft_0")

    def shrink(self) -> int:
        """Drop the rows the last pass paired (in new_pairs), move them to pairs; return how many."""
        con = self.con
        added = con.execute("SELECT count(*) FROM new_pairs").fetchall()[0][0]
        if not added:
            return 0
        old_o, old_t = self.o, self.t
        self.generation += 1
        # the ids left are found over the id column alone, then only their rows are copied whole:
        # after the first pass of a day (generation 0: the Parquet files) that is a sliver of it
        for new, old, rid in ((self.o, old_o, "oid"), (self.t, old_t, "tid")):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {new} AS SELECT * FROM {old} "
                        f"WHERE {rid} IN (SELECT {rid} FROM {old} ANTI JOIN new_pairs USING ({rid}))")
        if self.generation > 1:  # generation 0 is the view over the whole day; the rest are copies
            con.execute(f"DROP TABLE {old_o}")
            con.execute(f"DROP TABLE {old_t}")
        if con.execute("SELECT count(*) FROM pairs").fetchall()[0][0] == 0:
            # the first pass takes most of the day: hand its table over instead of copying it
            con.execute("DROP TABLE pairs")
            con.execute("ALTER TABLE new_pairs RENAME TO pairs")
            con.execute("CREATE TABLE new_pairs AS SELECT * FROM pairs LIMIT 0")
        else:
            con.execute("INSERT INTO pairs SELECT * FROM new_pairs")
            con.execute("DELETE FROM new_pairs")
        return added


def key_expr(key: str, alias: str = "") -> str:
    """SQL for a (possibly composite) key; a composite is null when any part is null."""
    prefix = f"{alias}." if alias else ""
    parts = [f"{prefix}{part}" for part in key.split("+")]
    return parts[0] if len(parts) == 1 else "(" + " || chr(31) || ".join(parts) + ")"


def _variant_expr(key: str, variant: IdVariant) -> str:
    expr = key_expr(key)
    if variant.ignore_case:
        expr = f"upper({expr})"
    for text, where in ((variant.strip_prefix, "prefix"), (variant.strip_suffix, "suffix")):
        if text:
            lit = "'" + (text.upper() if variant.ignore_case else text).replace("'", "''") + "'"
            if where == "prefix":
                expr = f"CASE WHEN starts_with({expr}, {lit}) THEN {expr}[length({lit}) + 1:] ELSE {expr} END"
            else:
                expr = f"CASE WHEN ends_with({expr}, {lit}) THEN {expr}[1:length({expr}) - length({lit})] ELSE {expr} END"
    if variant.last:
        expr = f"right({expr}, {variant.last})"
    return expr


def _identity_key(key: str, *, side: str, refunds: bool) -> bool:
    # Duplicates were removed by business identity, so a key equal to it is unique already and
    # the uniqueness check (an aggregate over every row) can be skipped on that side.
    identity = ("merchant_refund_id" if refunds else "merchant_txn_id") if side == "o" else \
        ("channel_refund_id" if refunds else "channel_txn_id")
    return key == identity


# How to keep only unambiguous pairs from `joined`, by which sides are unique on the key already.
PICK = {
    (True, True): "SELECT * FROM joined",
    (True, False): "SELECT oid, any_value(tid) AS tid, any_value(k) AS k FROM joined GROUP BY oid HAVING count(*) = 1",
    (False, True): "SELECT any_value(oid) AS oid, tid, any_value(k) AS k FROM joined GROUP BY tid HAVING count(*) = 1",
    (False, False): "SELECT * FROM joined "
                    "QUALIFY count(*) OVER (PARTITION BY oid) = 1 AND count(*) OVER (PARTITION BY tid) = 1",
}


def key_pass(con, free: Free, key: str, *, refunds: bool, name: str,
             expr_o: str | None = None, expr_t: str | None = None) -> None:
    """Pair free rows of one class (refunds or the rest) on one key, 1:1 and unambiguous."""
    key_pairs(con, free, key, refunds=refunds, name=name, expr_o=expr_o, expr_t=expr_t)
    free.shrink()


def key_pairs(con, free: Free, key: str, *, refunds: bool, name: str,
              expr_o: str | None = None, expr_t: str | None = None) -> None:
    """The pairs of `key_pass` into new_pairs, the free tables not yet shrunk."""
    unique = (expr_o is None and _identity_key(key, side="o", refunds=refunds),
              expr_t is None and _identity_key(key, side="t", refunds=refunds))
    engine.run(con, "key_pass", {"pass_name": name},
               fo=free.o, ft=free.t, key_o=expr_o or key_expr(key), key_t=expr_t or key_expr(key),
               class_filter=REFUNDS if refunds else PAYMENTS, pick=PICK[unique])


def run_keys(con, free: Free, rules: MatchRules) -> None:
    """Payment keys in order, refund keys in order. A payment never pairs with a refund and each key
    pass looks at one class only, so the i-th key of each class runs before one shrink: the same
    pairs as one class after the other, and the day's first shrink copies the few rows both first
    keys left (not every refund, which the first payment key cannot take)."""
    for payment_key, refund_key in itertools.zip_longest(rules.keys, rules.refund_keys):
        if payment_key is not None:
            key_pairs(con, free, payment_key, refunds=False, name=f"key:{payment_key}")
        if refund_key is not None:
            key_pairs(con, free, refund_key, refunds=True, name=f"key:{refund_key}")
        free.shrink()


def run_variants(con, free: Free, rules: MatchRules) -> None:
    for variant in rules.id_variants:
        expr = _variant_expr(variant.key, variant)
        refunds = "refund" in variant.key
        key_pass(con, free, variant.key, refunds=refunds, name=f"variant:{variant.name}",
                 expr_o=expr, expr_t=expr)


def run_group(con, free: Free, rules: MatchRules) -> None:
    """1:N groups (`group_key`), then N:M groups (`our_group_key` / `their_group_key`) of the rest."""
    if rules.group_key is not None:
        expr = key_expr(rules.group_key)
        engine.run(con, "group_pass", {"pass_name": f"group:{rules.group_key}"},
                   fo=free.o, ft=free.t, key_o=expr, key_t=expr)
        free.shrink()
    if rules.our_group_key is not None and rules.their_group_key is not None:
        engine.run(con, "group_nm_pass", {"pass_name": nm_pass_name(rules)}, fo=free.o, ft=free.t,
                   key_o=key_expr(rules.our_group_key), key_t=key_expr(rules.their_group_key))
        free.shrink()


NM_PREFIX = "groups:"


def nm_pass_name(rules: MatchRules) -> str:
    """`groups:<ours>=<theirs>`: the pass name of an N:M group's rows (explain.py words them by it)."""
    return f"{NM_PREFIX}{rules.our_group_key}={rules.their_group_key}"


def run_no_reference(con, free: Free, rules: MatchRules, *, rounds: int = 3) -> None:
    """Mutual-best pairing, repeated: a pair taken may leave another row's runner-up free."""
    id_o = "CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END"
    id_t = "CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END"
    for _ in range(rounds):
        engine.run(con, "no_reference", {"pass_name": "no_reference",
                                         "window_us": rules.time_window_seconds * 1_000_000},
                   fo=free.o, ft=free.t, id_o=id_o, id_t=id_t)
        if not free.shrink():
            break


# How each side names a business identity for the duplicate check (sql/duplicates.sql).
DUPLICATE_IDENTITY = {
    "o": {"id": "oid", "tiebreak": "txn_id",
          "key": "CASE WHEN record_type = 'REFUND' THEN merchant_refund_id ELSE merchant_txn_id END"},
    "t": {"id": "tid", "tiebreak": "channel_txn_id",
          "key": "CASE WHEN record_type = 'REFUND' THEN coalesce(channel_refund_id, merchant_refund_id) "
                 "ELSE channel_txn_id END"},
}

PASSES: dict[PassKind, Callable[[duckdb.DuckDBPyConnection, Free, MatchRules], None]] = {
    PassKind.KEY: run_keys,
    PassKind.ID_VARIANT: run_variants,
    PassKind.GROUP: run_group,
    PassKind.NO_REFERENCE: run_no_reference,
}


def cascade(con: duckdb.DuckDBPyConnection, rules: MatchRules) -> Free:
    """Run the rule set's passes in order over tables o, t, dup_o, dup_t; return the leftovers."""
    for side in DUPLICATE_IDENTITY:
        engine.run(con, "duplicates", side=side, **DUPLICATE_IDENTITY[side])
    free = Free(con)
    for name in rules.passes:
        PASSES[PassKind(name)](con, free, rules)
    if free.generation == 0:  # nothing was paired: the leftovers are still the view over the day
        free.materialize()
    engine.run(con, "echo_duplicates", ft=free.t)
    return free
