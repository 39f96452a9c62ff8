"""Layer 1 (信息流对账): our transactions against the channel's lines, one by one, both ways.

The problem: two lists of the same payments, written by two systems that disagree in small, costly
ways. The channel echoes our serial but sometimes truncated or prefixed; it settles one order as
several lines; it books a 23:59:58 payment into tomorrow's bill; its amounts, fees and statuses may
differ from ours; either list may hold a row twice or miss one. Layer 1 pairs each row with at most
one row of the other side (1:N only where the rule set declares a group), in a cascade of passes the
rule set orders (exact keys, id variants, groups, no-reference suggestions), then gives every row of
both sides exactly one outcome, a plain-words reason, and for a row left alone the closest row it
almost matched. Rows near midnight wait a day (PENDING) before anyone is asked to look at them.

`run` is the matching itself, on a DuckDB connection or anything that takes DuckDB's statements
(recon.matching.spark_engine); `DuckDBMatcher` runs one channel-day into sorted Parquet parts;
`match_frames` is the pure function (frames in, results frame out) the tests use. The workspace job
is recon.matching.layer1_day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from recon.clock import window_utc
from recon.config.ruleset import MatchRules
from recon.errors import StageFailed
from recon.matching import engine, explain, fx, group_words, passes, proposals
from recon.matching.model import RESULT_COLUMNS, SORT_ORDER, ChannelSummary

# Carried rows get row ids far above any day's own rows, so the two never collide.
CARRY_OFFSET = 1 << 40

OURS_FIELDS = {
    "txn_id": "VARCHAR", "merchant_id": "VARCHAR", "merchant_order_no": "VARCHAR",
    "merchant_txn_id": "VARCHAR", "channel_txn_id": "VARCHAR", "merchant_refund_id": "VARCHAR",
    "original_txn_id": "VARCHAR", "record_type": "VARCHAR", "currency": "VARCHAR",
    "amount": "DECIMAL(38, 6)", "fee": "DECIMAL(38, 6)", "status": "VARCHAR", "trade_time": "TIMESTAMPTZ",
    "source_file": "VARCHAR", "source_line": "BIGINT", "counterparty": "VARCHAR", "carried_from": "DATE",
}
THEIRS_FIELDS = {
    "account": "VARCHAR", "channel_txn_id": "VARCHAR", "merchant_txn_id": "VARCHAR",
    "channel_refund_id": "VARCHAR", "merchant_refund_id": "VARCHAR", "record_type": "VARCHAR",
    "currency": "VARCHAR", "amount": "DECIMAL(38, 6)", "fee": "DECIMAL(38, 6)", "status": "VARCHAR",
    "trade_time": "TIMESTAMPTZ", "source_file": "VARCHAR", "source_line": "BIGINT",
    "counterparty": "VARCHAR", "payout_id": "VARCHAR", "carried_from": "DATE",
    # a rate the statement states on the line (recon.matching.fx): fx_from x fx_rate = currency
    "fx_rate": "VARCHAR", "fx_from": "VARCHAR",
}

# Each compared field and the SQL that says "these differ" (results.sql, outcome CASE). A difference
# beyond a tolerance must exceed the absolute allowance AND the relative one (the larger wins). Two
# comparisons, not greatest(abs, amount * rel): that common type rounds the product to 6 decimals,
# so 0.000002 would pass a 0.0000015 allowance. The relative test compares in the product's
# DECIMAL(38, 15), exact on both engines; amounts and differences must then stay below 10^23. A zero
# relative allowance adds no comparison, so amounts of any size (26 digits and more) compare exactly.
# Our side of a comparison: an N:M group's sum (on every row of the group, one side of which may be
# absent), else the row's own figure.
OURS = {"amount": "coalesce(p.go_amount, o.amount)", "fee": "coalesce(p.go_fee, o.fee)",
        "status": "coalesce(p.go_status, o.status)"}
DIFFERS = {
    "currency": ("CURRENCY_MISMATCH", "o.currency <> t.currency"),
    "amount": ("AMOUNT_MISMATCH", f"abs(coalesce(p.g_amount, t.amount) - {OURS['amount']})"),
    # an N:M group whose rows of ours mix statuses is never a status match
    "status": ("STATUS_MISMATCH", f"({OURS['status']} <> coalesce(p.g_status, t.status) "
                                  "OR coalesce(p.go_status, '') = 'MIXED')"),
    "fee": ("FEE_MISMATCH", f"abs(coalesce(p.g_fee, t.fee) - {OURS['fee']})"),
}
RELATIVE = {"amount": "amount_tolerance_rel", "fee": "fee_tolerance_rel"}  # fields compared with tolerances


def differs(field: str, rules: MatchRules) -> str:
    """SQL that is true when the pair's `field` differs beyond the rule set's tolerances."""
    test = DIFFERS[field][1]
    if field not in RELATIVE:
        return test
    ours = OURS[field]
    sql = f"{test} > CAST(${field}_abs AS DECIMAL(38, 6))"
    if getattr(rules, RELATIVE[field]):
        # both sides cast to the product's type: Spark would otherwise compare at 6 decimals
        sql += f" AND CAST({test} AS DECIMAL(38, 15)) > abs({ours}) * CAST(${field}_rel AS DECIMAL(18, 9))"
    return f"{ours} IS NOT NULL AND {sql}" if field == "fee" else sql


ORDER_BY = "ORDER BY " + ", ".join(f"{c} ASC NULLS LAST" for c in SORT_ORDER)


def outcome_case(rules: MatchRules) -> str:
    """The outcome of a pair: an unaccepted suggestion, else the first compared field that differs."""
    arms = ["WHEN p.confidence IS NOT NULL AND p.confidence < $accept THEN 'SUGGESTED'"]
    arms += [f"WHEN {differs(f, rules)} THEN '{DIFFERS[f][0]}'" for f in rules.compare]
    arms.append("WHEN o.carried_from IS NOT NULL OR t.carried_from IS NOT NULL THEN 'AUTO_RESOLVED'")
    return "CASE " + " ".join(arms) + " ELSE 'MATCHED' END"


def register_side(con: duckdb.DuckDBPyConnection, name: str, today: pl.DataFrame | Path,
                  carried: pl.DataFrame | None, fields: dict[str, str]) -> None:
    """View `name` over today's rows (a frame or a Parquet file) plus carried rows, in fixed columns."""
    parts = []
    for label, source, offset in (("today", today, 0), ("carried", carried, CARRY_OFFSET)):
        if source is None:
            continue
        rel = f"{name}_{label}"
        # a registered frame hides a view of the same name: clear both before making either
        con.unregister(rel)
        con.execute(f"DROP VIEW IF EXISTS {rel}")
        if isinstance(source, Path):
            path = str(source).replace("'", "''")
            con.execute(f"CREATE OR REPLACE VIEW {rel} AS SELECT *, file_row_number AS rid "
                        f"FROM read_parquet('{path}', file_row_number = true)")
            columns = {r[0] for r in con.execute(f"DESCRIBE {rel}").fetchall()}
        else:
            con.register(rel, source.with_row_index("rid"))
            columns = set(source.columns) | {"rid"}
        select = [f"CAST({c} AS {t}) AS {c}" if c in columns else f"CAST(NULL AS {t}) AS {c}"
                  for c, t in fields.items()]
        parts.append(f"SELECT CAST(rid AS BIGINT) + {offset} AS rid, {', '.join(select)} FROM {rel}")
    con.execute(f"CREATE OR REPLACE VIEW {name} AS " + " UNION ALL ".join(parts))


def run(con: duckdb.DuckDBPyConnection, rules: MatchRules, date: dt.date, *, channel: str, account: str,
        zone: ZoneInfo, fx_policy: fx.FxPolicy | None = None) -> None:
    """Match the registered ours_in / theirs_in into table `res` (reasons filled in); pairs in two
    currencies are compared through a rate where `fx_policy` is given (recon.matching.fx)."""
    engine.run(con, "prepare")
    free = passes.cascade(con, rules)
    start, end = window_utc(date, zone)
    params = {
        "date": date, "channel": channel, "account": account, "pending_days": rules.pending_days,
        "pending_from": end - dt.timedelta(seconds=rules.cross_day_seconds),
        "day_start": start, "day_end": end,
        "accept": rules.auto_accept_score if rules.auto_accept_score is not None else 2.0,
        "amount_abs": str(rules.amount_tolerance), "amount_rel": str(rules.amount_tolerance_rel),
        "fee_abs": str(rules.fee_tolerance), "fee_rel": str(rules.fee_tolerance_rel),
    }
    engine.run(con, "results", params, outcome_case=outcome_case(rules), fo=free.o, ft=free.t)
    check_coverage(con, channel)
    engine.run(con, "few_rows", where=engine.sql("explain_where"))
    _near_misses(con, rules, free)
    _reasons(con, rules, date)
    fx.settle(con, fx_policy, date, tuple(rules.compare))
    proposals.propose(con, rules.proposals)  # after every pass and FX: leftovers that add up exactly


def check_coverage(con, channel: str) -> None:
    """Refuse results in which an input row has no outcome, or more than one (on either engine)."""
    ours, ours_decided, ours_twice, theirs, theirs_decided, their_results = \
        con.execute(engine.sql("coverage")).fetchall()[0]
    if (ours, 0, theirs, theirs) != (ours_decided, ours_twice, theirs_decided, their_results):
        raise StageFailed(f"layer 1 of {channel}: {ours} rows of ours gave {ours_decided} decisions "
                          f"({ours_twice} decided twice), {theirs} channel lines gave {their_results} "
                          f"results for {theirs_decided} lines; nothing was written")


# What near_miss.sql reads of a candidate row, besides its id, its label and the key fields.
NEAR_COLUMNS = ("record_type", "currency", "amount", "status", "trade_time", "source_file", "source_line")


def _near_misses(con, rules: MatchRules, free: passes.Free) -> None:
    fields = list(dict.fromkeys(part for key in (*rules.keys, *rules.refund_keys) for part in key.split("+")))
    for out, u, u_id, c, c_id, c_free, c_dup, label in (
        ("near_o", free.o, "oid", "t", "tid", free.t, "dup_t", "channel_txn_id"),
        ("near_t", free.t, "tid", "o", "oid", free.o, "dup_o", "txn_id"),
    ):
        hits = "\nUNION ALL\n".join(
            engine.sql("near_key_hit", u=u, u_id=u_id, c="near_c", c_id=c_id, u_col=f, c_col=f, field=f,
                       prio=str(i))
            for i, f in enumerate(fields))
        prefilter = " OR ".join(f"{f} IN (SELECT {f} FROM {u})" for f in fields)
        columns = ", ".join(dict.fromkeys((c_id, label, *fields, *NEAR_COLUMNS)))
        engine.run(con, "near_miss", out=out, key_hits=hits, u=u, u_id=u_id, c=c, c_id=c_id,
                   c_free=c_free, c_dup=c_dup, c_label=label, prefilter=prefilter, columns=columns)


def _reasons(con, rules: MatchRules, date: dt.date) -> None:
    near = {("O", -1 - r["uid"]): r for r in con.sql("SELECT * FROM near_o").pl().iter_rows(named=True)}
    near.update({("T", r["uid"]): r for r in con.sql("SELECT * FROM near_t").pl().iter_rows(named=True)})
    keys, sides, reasons, closest = [], [], [], []
    explain_rows = engine.sql("wide", extra=engine.sql("explain_rows"), where=engine.sql("explain_where"),
                              o="o_few", t="t_few")
    rows = list(con.sql(explain_rows).pl().iter_rows(named=True))
    hints = {} if rules.group_key else explain.group_hints(rows)
    groups = group_words.members(rows, passes.NM_PREFIX) if rules.many_to_many else {}
    for n, row in enumerate(rows):
        hit = near.get((row["x_side"], row["x_key"]))
        sides.append(row["x_side"])
        keys.append(row["x_key"])
        if row["group_id"] in groups and (row["pass_name"] or "").startswith(passes.NM_PREFIX):
            text = group_words.reason(row, groups[row["group_id"]], date=date)
        else:
            text = explain.reason(row, hit, pending_days=rules.pending_days, window=rules.cross_day_window,
                                  date=date)
        reasons.append("; ".join(filter(None, (text, hints.get(n)))) or None)
        closest.append(f"{hit['c_label']} ({hit['c_file']}:{hit['c_line']})" if hit else None)
    frame = pl.DataFrame({"x_side": sides, "x_key": keys, "reason": reasons, "closest": closest},
                         schema={"x_side": pl.String, "x_key": pl.Int64, "reason": pl.String, "closest": pl.String})
    con.register("reasons_frame", frame)
    con.execute("UPDATE res SET reason = x.reason, closest = x.closest FROM reasons_frame x "
                "WHERE res.x_side = x.x_side AND res.x_key = x.x_key")
    con.unregister("reasons_frame")


def wide_sql() -> str:
    """Every result row of the channel just matched, in the contract's columns, sorted."""
    return _wide_rows() + "\n" + ORDER_BY


def _wide_rows() -> str:
    return engine.sql("wide", extra="", where="", o="o", t="t")


# `wide_sql()` in one statement holds both sides' wide rows in its two joins' hash tables while its
# sort takes them in; under a limit below ~0.75 KB a result row that fails (1M lines a side: out of
# memory at 600 MB, fine at 750 MB; 200k: fine at 150 MB). There the rows are joined into a table
# first and sorted out of it, each step spilling on its own (1M: fine at 300 MB, but ~2x the time;
# 200k: the table step needs 175 MB, more than the one statement). The one statement is kept where
# the limit reaches ONE_STATEMENT_BYTES a row of `res`, or ONE_STATEMENT_CAP (a 10M-line day spills
# through it under the default 2 GB).
ONE_STATEMENT_BYTES = 768
ONE_STATEMENT_CAP = 1 << 30
WIDE_TABLE = "wide_rows"


def write_wide(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Write `wide_sql()`'s rows to a Parquet file, in a plan the connection's memory limit allows."""
    limit, rows = con.execute("SELECT parse_formatted_bytes(current_setting('memory_limit')), "
                              "(SELECT count(*) FROM res)").fetchall()[0]
    if limit >= min(rows * ONE_STATEMENT_BYTES, ONE_STATEMENT_CAP):
        copy(con, wide_sql(), path)
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE {WIDE_TABLE} AS {_wide_rows()}")
    try:
        copy(con, f"SELECT * FROM {WIDE_TABLE} {ORDER_BY}", path)
    finally:
        con.execute(f"DROP TABLE {WIDE_TABLE}")


def to_frame(relation: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    """A DuckDB result as the contract's frame (DuckDB names UTC 'Etc/UTC'; the contract says UTC)."""
    return relation.pl().cast(RESULT_COLUMNS)  # type: ignore[arg-type]


def match_frames(bill: pl.DataFrame, internal: pl.DataFrame, rules: MatchRules, date: dt.date, *,
                 zone: ZoneInfo | str, channel: str | None = None, account: str = "",
                 carried_ours: pl.DataFrame | None = None, carried_theirs: pl.DataFrame | None = None,
                 con: duckdb.DuckDBPyConnection | None = None, fx_policy: fx.FxPolicy | None = None) -> pl.DataFrame:
    """Layer 1 over frames: standardized bill + internal frame (+ carried pending) -> results."""
    con = con or engine.connect()
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    if channel is None:
        channel = bill["channel"][0] if bill.height and "channel" in bill.columns else ""
    register_side(con, "ours_in", internal, carried_ours, OURS_FIELDS)
    register_side(con, "theirs_in", bill, carried_theirs, THEIRS_FIELDS)
    run(con, rules, date, channel=channel, account=account, zone=zone, fx_policy=fx_policy)
    return to_frame(con.sql(wide_sql()))


@dataclass(frozen=True, slots=True)
class ChannelDay:
    """One channel's layer-1 inputs for a day: what any engine needs to match it."""

    rules: MatchRules
    date: dt.date
    channel: str
    account: str
    zone: ZoneInfo
    ours: pl.DataFrame | Path
    theirs: pl.DataFrame | Path
    carried_ours: pl.DataFrame | None
    carried_theirs: pl.DataFrame | None
    fx: fx.FxPolicy | None = None  # the channel's [fx], when pairs in two currencies use a rate


class Matcher(Protocol):
    """An engine for layer 1: matches one channel-day into sorted Parquet parts in `scratch`.

    `con` is the local DuckDB connection, for engines that stage inputs with it. The parts, read in
    the order returned, are the channel's result rows in the contract's total order.
    """

    name: str

    def match(self, con: duckdb.DuckDBPyConnection, job: ChannelDay,
              scratch: Path) -> tuple[ChannelSummary, list[Path]]: ...


class DuckDBMatcher:
    """Layer 1 on the local DuckDB connection (`con`): the default engine."""

    name = "duckdb"

    def match(self, con: duckdb.DuckDBPyConnection, job: ChannelDay,
              scratch: Path) -> tuple[ChannelSummary, list[Path]]:
        summary = self.decide(con, job)
        part = scratch / "part-0.parquet"
        write_wide(con, part)
        return summary, [part]

    def decide(self, con: duckdb.DuckDBPyConnection, job: ChannelDay) -> ChannelSummary:
        """Match the channel-day into `res` on `con`; its rows are then `wide_sql()` on that connection.

        The results file of a day with this one channel is written straight from them
        (`write_wide`, layer1_day), not through a part file: one sort and one write of the wide rows instead of two.
        """
        register_side(con, "ours_in", job.ours, job.carried_ours, OURS_FIELDS)
        register_side(con, "theirs_in", job.theirs, job.carried_theirs, THEIRS_FIELDS)
        run(con, job.rules, job.date, channel=job.channel, account=job.account, zone=job.zone, fx_policy=job.fx)
        summary = summarize(con, job.channel, *input_rows(con))
        release(con)
        return summary


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the passes' working tables once `res` holds the decisions: the sorted write of the wide
    rows that follows sets the day's peak memory, and they would sit under it (~160 MiB at 1M)."""
    for database, schema, table in con.execute(engine.sql("working_tables")).fetchall():
        con.execute("DROP TABLE " + ".".join('"' + name.replace('"', '""') + '"' for name in (database, schema, table)))


def input_rows(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Today's rows of ours and theirs (carried rows not counted) in the registered inputs."""
    return tuple(con.execute(f"SELECT count(*) FROM {side}_in_today").fetchall()[0][0]  # type: ignore[return-value]
                 for side in ("ours", "theirs"))


def summarize(con, channel: str, our_rows: int, their_rows: int) -> ChannelSummary:
    counts = con.execute("SELECT outcome, count(*) FROM res GROUP BY ALL ORDER BY outcome").fetchall()
    return ChannelSummary(channel, our_rows, their_rows, tuple((o, int(n)) for o, n in counts))


def quote(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """Write a query's rows to a Parquet file, in the query's order."""
    con.execute(f"COPY ({query}) TO {quote(path)} (FORMAT parquet)")
