"""Layer 1's DuckDB SQL as Spark SQL, statement by statement, at run time.

The problem: one matching, two engines, and no second copy of the SQL to drift. Whatever the DuckDB
side renders (sql/*.sql filled in by engine.py and passes.py, whatever shape those passes take) is
parsed here with sqlglot (pinned in constraints.txt: its tree changes between versions) and written
out for Spark, after a small, named set of rewrites for what sqlglot leaves DuckDB-only or could
change silently (REWRITES below). Parameters (`$name`) become typed literals, so a Spark statement
is plain text that can be logged and snapshot-tested.

Spark SQL has no tables to update in place, so a statement is returned as a `Statement`: what to do
(create a table or view, insert, delete, rename, drop, update, or just query) and the Spark query
that computes the rows. `recon.matching.spark_engine` carries that out on DataFrames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import sqlglot
from sqlglot import exp

READ, WRITE = "duckdb", "spark"


@dataclass(frozen=True, slots=True)
class Statement:
    """One DuckDB statement for Spark. `sql` is a Spark query (None for drop and rename)."""

    kind: str  # query, create_table, create_view, insert, delete, drop, rename, update
    target: str | None = None
    sql: str | None = None
    new_name: str | None = None  # rename
    update: exp.Update | None = None  # update: the rewritten tree, finished by update_query()


def _epoch_us(node: exp.Expression) -> exp.Expression:
    # DuckDB's microseconds since the epoch; Spark's unix_micros of a TIMESTAMP (an instant).
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        return exp.Anonymous(this="unix_micros", expressions=node.expressions)
    return node


def _hash(node: exp.Expression) -> exp.Expression:
    # DuckDB's hash() is 64 bits; Spark's hash() is 32-bit murmur3, xxhash64 keeps collisions as rare.
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
        return exp.Anonymous(this="xxhash64", expressions=node.expressions)
    return node


def _string_slice(node: exp.Expression) -> exp.Expression:
    # DuckDB's text[a:b] (1-based, both ends included, b optional) is Spark's substring(text, a, b - a + 1).
    if not (isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice)):
        return node
    piece = node.expressions[0]
    start, end = piece.this, piece.expression
    if start is None:
        raise ValueError(f"slice without a start: write text[1:n] for DuckDB's text[:n] ({node.sql(READ)})")
    args = [node.this, start.copy()]
    if end is not None:
        length = exp.Sub(this=exp.paren(end.copy()), expression=exp.paren(start.copy()))
        args.append(exp.Add(this=length, expression=exp.Literal.number(1)))
    return exp.Anonymous(this="substring", expressions=args)


def _least_greatest(node: exp.Expression) -> exp.Expression:
    # DuckDB's least/greatest skip NULLs, as Spark's do; sqlglot's generators for other targets wrap
    # them to propagate NULLs, so they are written out by name, never left to a generator's choice.
    if isinstance(node, (exp.Least, exp.Greatest)):
        if not node.args.get("ignore_nulls"):
            raise ValueError(f"{node.sql(READ)}: only DuckDB's NULL-skipping least/greatest are translated")
        name = "least" if isinstance(node, exp.Least) else "greatest"
        return exp.Anonymous(this=name, expressions=[node.this, *node.expressions])
    return node


# The named rewrites, applied in this order to every statement before Spark SQL is generated.
REWRITES: dict[str, Callable[[exp.Expression], exp.Expression]] = {
    "epoch_us": _epoch_us,
    "hash": _hash,
    "string_slice": _string_slice,
    "least_greatest": _least_greatest,
}


def literal(value: object) -> exp.Expression:
    """A Python parameter as a typed SQL literal (instants in UTC: the Spark session's zone is UTC)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.cast(exp.Literal.string(repr(value)), "DOUBLE")
    if isinstance(value, Decimal):
        return exp.cast(exp.Literal.string(str(value)), f"DECIMAL(38, {max(0, -value.as_tuple().exponent)})")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime parameter {value}: layer 1 binds instants only")
        text = value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        return exp.cast(exp.Literal.string(text), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"no SQL literal for a {type(value).__name__} parameter")


def _bind(tree: exp.Expression, params: Mapping[str, object]) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if node.name not in params:
                raise KeyError(f"parameter ${node.name} is not given")
            return literal(params[node.name])
        return node

    return tree.transform(swap, copy=False)


def _rewrite(tree: exp.Expression) -> exp.Expression:
    for rewrite in REWRITES.values():
        tree = tree.transform(rewrite, copy=False)
    return tree


def _spark(tree: exp.Expression) -> str:
    return tree.sql(dialect=WRITE)


def _name(table: exp.Expression) -> str:
    return (table.this if isinstance(table, exp.Schema) else table).name


def to_spark(statement: str, params: Mapping[str, object] | None = None) -> Statement:
    """One DuckDB statement (with its `$name` parameters) as a Spark `Statement`."""
    tree = _rewrite(_bind(sqlglot.parse_one(statement, read=READ), params or {}))
    if isinstance(tree, exp.Query):
        return Statement("query", sql=_spark(tree))
    if isinstance(tree, exp.Create):
        kind, target = str(tree.args["kind"]).upper(), tree.this
        if isinstance(target, exp.Schema):  # CREATE TABLE x (columns): no rows, those columns
            columns = [exp.alias_(exp.cast(exp.null(), col.args["kind"]), col.name) for col in target.expressions]
            return Statement("create_table", _name(target), _spark(exp.select(*columns).where(exp.false())))
        return Statement("create_view" if kind == "VIEW" else "create_table", _name(target), _spark(tree.expression))
    if isinstance(tree, exp.Insert):
        return Statement("insert", _name(tree.this), _spark(tree.expression))
    if isinstance(tree, exp.Delete):
        target = _name(tree.this)
        where = tree.args.get("where")
        if where is None:
            return Statement("delete", target, _spark(exp.select("*").from_(target).where(exp.false())))
        keep = exp.not_(exp.func("coalesce", exp.paren(where.this.copy()), exp.false()))
        return Statement("delete", target, _spark(exp.select("*").from_(target).where(keep)))
    if isinstance(tree, exp.Drop):
        return Statement("drop", _name(tree.args["tables"][0]))
    if isinstance(tree, exp.Alter) and isinstance(tree.args["actions"][0], exp.AlterRename):
        return Statement("rename", _name(tree.this), new_name=_name(tree.args["actions"][0].this))
    if isinstance(tree, exp.Update):
        return Statement("update", _name(tree.this), update=tree)
    raise ValueError(f"no Spark form for this statement: {statement[:200]}")


def finish(step: Statement, columns_of: Callable[[str], list[str]]) -> str | None:
    """The Spark query a statement runs (an update needs its target's columns), for running and logs."""
    return update_query(step.update, columns_of(step.target)) if step.update is not None else step.sql  # type: ignore[arg-type]


def log_entry(step: Statement, sql: str | None) -> str:
    """A statement as the Spark log and the snapshot show it: what it does, then its query."""
    return f"-- {step.kind} {step.target or ''}".rstrip() + (f"\n{sql};" if sql else ";")


def update_query(update: exp.Update, columns: list[str]) -> str:
    """UPDATE t SET c = e FROM s WHERE cond, as a query giving t's rows after it (s matches a row once)."""
    target = _name(update.this)
    source = update.args["from_"].this
    alias = source.alias_or_name
    hit = "__updated"
    marked = exp.select(exp.Star(), exp.alias_(exp.true(), hit)).from_(exp.to_table(source.name))
    sets = {eq.this.name: eq.expression for eq in update.expressions}
    select = []
    for col in columns:
        current = exp.column(col, table=target)
        if col in sets:
            current = exp.Case().when(exp.column(hit, table=alias), sets[col].copy()).else_(current)
        select.append(exp.alias_(current, col))
    query = (exp.select(*select).from_(target)
             .join(marked.subquery(alias), on=update.args["where"].this.copy(), join_type="left"))
    return _spark(query)
