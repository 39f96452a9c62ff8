"""Layer 1 (信息流对账): our transactions against the channel's lines, one by one, both ways.

The problem: two lists of the same payments, written by two systems that disagree in small, costly
ways. The channel echoes our serial but sometimes truncated or prefixed; it settles one order as
several lines; it books a 23:59:58 payment into tomorrow's bill; its amounts, fees and statuses may
differ from ours; either list may hold a row twice or miss one. Layer 1 pairs each row with at most
one row of the other side (1:N only where the rule set declares a group), in a cascade of passes the
rule set orders (exact keys, id variants, groups, no-reference suggestions), then gives every row of
both sides exactly one outcome, a plain-words reason, and for a row left alone the closest row it
almost matched. Rows near midnight wait a day (PENDING) before anyone is asked to look at them.

`match_frames` is the pure function (frames in, results frame out) the tests and the benchmark use;
`match_day` is the workspace job: bills and the internal source in, `results/<D>/layer1.parquet`
out, written atomically in a total order so a re-run writes identical bytes (FAULTS.md E4).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from recon.clock import window_utc
from recon.config.ruleset import MatchRules
from recon.errors import NotReady
from recon.files import atomic_path
from recon.matching import carry, diff, engine, explain, passes
from recon.matching.internal_source import internal_input
from recon.matching.model import RESULT_COLUMNS, SORT_ORDER, ChannelSummary, Layer1Summary, empty_results
from recon.matching.policy import transaction_channels
from recon.workspace import Workspace

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
    "counterparty": "VARCHAR", "carried_from": "DATE",
}

# Each compared field and the SQL that says "these differ" (results.sql, outcome CASE).
DIFFERS = {
    "currency": ("CURRENCY_MISMATCH", "o.currency <> t.currency"),
    "amount": ("AMOUNT_MISMATCH",
               "abs(coalesce(p.g_amount, t.amount) - o.amount) > greatest(CAST($amount_abs AS DECIMAL(38, 6)),"
               " abs(o.amount) * CAST($amount_rel AS DECIMAL(18, 9)))"),
    "status": ("STATUS_MISMATCH", "o.status <> coalesce(p.g_status, t.status)"),
    "fee": ("FEE_MISMATCH",
            "o.fee IS NOT NULL AND abs(coalesce(p.g_fee, t.fee) - o.fee) > greatest(CAST($fee_abs AS DECIMAL(38, 6)),"
            " abs(o.fee) * CAST($fee_rel AS DECIMAL(18, 9)))"),
}
ORDER_BY = "ORDER BY " + ", ".join(f"{c} ASC NULLS LAST" for c in SORT_ORDER)


def outcome_case(rules: MatchRules) -> str:
    """The outcome of a pair: an unaccepted suggestion, else the first compared field that differs."""
    arms = ["WHEN p.confidence IS NOT NULL AND p.confidence < $accept THEN 'SUGGESTED'"]
    arms += [f"WHEN {DIFFERS[f][1]} THEN '{DIFFERS[f][0]}'" for f in rules.compare]
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
        zone: ZoneInfo) -> None:
    """Match the registered ours_in / theirs_in into table `res` (reasons filled in)."""
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
    _near_misses(con, rules, free)
    _reasons(con, rules, date)


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
        engine.run(con, "near_miss", out=out, key_hits=hits, u=u, u_id=u_id, c=c, c_id=c_id,
                   c_free=c_free, c_dup=c_dup, c_label=label, prefilter=prefilter)


def _reasons(con, rules: MatchRules, date: dt.date) -> None:
    near = {("O", -1 - r["uid"]): r for r in con.sql("SELECT * FROM near_o").pl().iter_rows(named=True)}
    near.update({("T", r["uid"]): r for r in con.sql("SELECT * FROM near_t").pl().iter_rows(named=True)})
    keys, sides, reasons, closest = [], [], [], []
    explain_rows = engine.sql("wide", extra=engine.sql("explain_rows"), where=engine.sql("explain_where"))
    for row in con.sql(explain_rows).pl().iter_rows(named=True):
        hit = near.get((row["x_side"], row["x_key"]))
        sides.append(row["x_side"])
        keys.append(row["x_key"])
        reasons.append(explain.reason(row, hit, pending_days=rules.pending_days,
                                      window=rules.cross_day_window, date=date))
        closest.append(f"{hit['c_label']} ({hit['c_file']}:{hit['c_line']})" if hit else None)
    frame = pl.DataFrame({"x_side": sides, "x_key": keys, "reason": reasons, "closest": closest},
                         schema={"x_side": pl.String, "x_key": pl.Int64, "reason": pl.String, "closest": pl.String})
    con.register("reasons_frame", frame)
    con.execute("UPDATE res SET reason = x.reason, closest = x.closest FROM reasons_frame x "
                "WHERE res.x_side = x.x_side AND res.x_key = x.x_key")
    con.unregister("reasons_frame")


def wide_sql() -> str:
    """Every result row of the channel just matched, in the contract's columns, sorted."""
    return engine.sql("wide", extra="", where="") + "\n" + ORDER_BY


def to_frame(relation: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    """A DuckDB result as the contract's frame (DuckDB names UTC 'Etc/UTC'; the contract says UTC)."""
    return relation.pl().cast(RESULT_COLUMNS)  # type: ignore[arg-type]


def match_frames(bill: pl.DataFrame, internal: pl.DataFrame, rules: MatchRules, date: dt.date, *,
                 zone: ZoneInfo | str, channel: str | None = None, account: str = "",
                 carried_ours: pl.DataFrame | None = None, carried_theirs: pl.DataFrame | None = None,
                 con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """Layer 1 over frames: standardized bill + internal frame (+ carried pending) -> results."""
    con = con or engine.connect()
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    if channel is None:
        channel = bill["channel"][0] if bill.height and "channel" in bill.columns else ""
    register_side(con, "ours_in", internal, carried_ours, OURS_FIELDS)
    register_side(con, "theirs_in", bill, carried_theirs, THEIRS_FIELDS)
    run(con, rules, date, channel=channel, account=account, zone=zone)
    return to_frame(con.sql(wide_sql()))


def results_path(ws, date: dt.date) -> Path:
    return ws.results_dir(date) / "layer1.parquet"


def rules_for(ws: Workspace, channel: str) -> MatchRules:
    """The channel's matching policy: its rule set (see jobs.catalog), workspace overrides merged."""
    return ws.catalog.rule_set(channel).match


def match_day(ws: Workspace, date: dt.date, channel: str | None = None, *,
              rules_override: MatchRules | None = None, dry_run: bool = False) -> Layer1Summary:
    """Layer 1 for every configured channel (or one) on `date`; writes results unless `dry_run`."""
    matched = transaction_channels(ws)
    if channel:
        ws.settings.channel(channel)  # an unknown channel is a config error, before any work
    names = [c for c in matched if channel in (None, c)]
    target = results_path(ws, date)
    if not names:  # a bank or payout-only channel: nothing of it is matched line by line
        if not dry_run and not target.exists():
            with atomic_path(target) as tmp:
                empty_results().write_parquet(tmp)
        return Layer1Summary(date, None if dry_run else target, ())
    for name in names:
        ws.settings.channel(name)  # an unknown channel is a config error, before any work
        if not ws.bill_path(name, date).exists():
            raise NotReady(f"{ws.bill_path(name, date)}: the {name} bill for {date} is not there yet",
                           hint=f"recon run --date {date} --channel {name}")
    keep_others = channel is not None and target.exists()
    # One channel straight into the results file; several (or one re-matched among others) are
    # written as sorted parts, then merged in the total order.
    direct = len(names) == 1 and not keep_others and not dry_run
    con = engine.connect_for(ws)
    summaries, parts = [], []
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="layer1-", dir=_scratch_root(ws))))
        out = None if dry_run else stack.enter_context(atomic_path(target))
        for i, name in enumerate(names):
            cfg = ws.settings.channel(name)
            rules = rules_override or rules_for(ws, name)
            bill, ours = ws.bill_path(name, date), internal_input(ws, name, date)
            history = carry.earlier_results(lambda day: results_path(ws, day), date, rules.pending_days)
            carried_ours, carried_theirs = carry.carried(history, name)
            register_side(con, "ours_in", ours, carried_ours, OURS_FIELDS)
            register_side(con, "theirs_in", bill, carried_theirs, THEIRS_FIELDS)
            run(con, rules, date, channel=name, account=cfg.account, zone=ws.settings.channel_zone(name))
            our_rows, their_rows = (con.execute(f"SELECT count(*) FROM {side}_in_today").fetchall()[0][0]
                                    for side in ("ours", "theirs"))
            counts = con.execute("SELECT outcome, count(*) FROM res GROUP BY ALL ORDER BY outcome").fetchall()
            summaries.append(ChannelSummary(name, our_rows, their_rows, tuple(counts)))
            part = out if direct else scratch / f"part-{i}.parquet"
            _copy(con, wide_sql(), part)
            parts.append(part)
        if not direct:
            sources = [f"SELECT * FROM read_parquet({_quote(p)})" for p in parts]
            if keep_others:  # one channel re-matched: the others' rows stay as they are
                sources.append(f"SELECT * FROM read_parquet({_quote(target)}) WHERE channel <> {_quote(channel)}")
            con.execute("CREATE OR REPLACE VIEW day_results AS " + " UNION ALL BY NAME ".join(sources))
            if dry_run:
                counts, changes = diff.compare(con, "day_results", target, names)
                return Layer1Summary(date, None, tuple(summaries), dry_run=True, changes=changes, counts=counts)
            _copy(con, f"SELECT * FROM day_results {ORDER_BY}", out)
    return Layer1Summary(date, target, tuple(summaries))


def _scratch_root(ws) -> Path:
    ws.temp_dir.mkdir(parents=True, exist_ok=True)
    return ws.temp_dir


def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"COPY ({query}) TO {_quote(path)} (FORMAT parquet)")

