"""Layer 1 as a workspace job: every channel of a day, each on its engine, into one results file.

The problem: `recon match` and `recon run` need each channel's bill and internal side found, its
rule set resolved, yesterday's pending rows carried in, the channel matched on the engine the
settings (or --engine) name, and all channels' rows written as `results/<D>/layer1.parquet`
atomically, in a total order, so a re-run (on either engine) writes identical bytes (FAULTS.md E4).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from recon.config.ruleset import MatchRules
from recon.errors import ConfigError, NotReady
from recon.files import atomic_path
from recon.matching import carry, diff, engine, fx
from recon.matching.internal_source import internal_input
from recon.matching.layer1 import ORDER_BY, ChannelDay, DuckDBMatcher, Matcher, copy, quote, write_wide
from recon.matching.model import Layer1Summary, empty_results
from recon.matching.policy import transaction_channels
from recon.workspace import Workspace


def results_path(ws: Workspace, date: dt.date) -> Path:
    return ws.results_dir(date) / "layer1.parquet"


def rules_for(ws: Workspace, channel: str) -> MatchRules:
    """The channel's matching policy: its rule set (see jobs.catalog), workspace overrides merged."""
    return ws.catalog.rule_set(channel).match


def engine_for(ws: Workspace, channel: str, override: str | None = None) -> str:
    """The engine matching `channel`: the override (--engine), else the channel's, else [match]'s."""
    return override or ws.settings.channel(channel).match.engine or ws.settings.match.engine


def match_day(ws: Workspace, date: dt.date, channel: str | None = None, *,
              rules_override: MatchRules | None = None, dry_run: bool = False,
              matchers: Mapping[str, Matcher] | None = None, engine_override: str | None = None,
              earlier: Callable[[dt.date], Path] | None = None, keep: Path | None = None) -> Layer1Summary:
    """Layer 1 for every configured channel (or one) on `date`; writes results unless `dry_run`.

    Each channel runs on its engine (`engine_for`); `matchers` maps an engine name to the matcher the
    caller built for it (DuckDB is built in), so this library never starts Spark by itself.
    A what-if over several days (recon.matching.whatif) chains its dry runs: `earlier` says where an
    earlier day's results are (pending rows are carried from there; default: the workspace's), and
    `keep` receives, on a dry run, the re-matched channels' would-be rows.
    """
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
    engines = {"duckdb": DuckDBMatcher(), **(matchers or {})}
    for name in names:
        ws.settings.channel(name)  # an unknown channel is a config error, before any work
        wanted = engine_for(ws, name, engine_override)
        if wanted not in engines:
            raise ConfigError(f"channel {name} matches on {wanted}, which this command did not start",
                              hint="pip install 'recon[spark]', then recon match --engine spark")
        if not ws.bill_path(name, date).exists():
            raise NotReady(f"{ws.bill_path(name, date)}: the {name} bill for {date} is not there yet",
                           hint=f"recon run --date {date} --channel {name}")
    keep_others = channel is not None and target.exists()
    direct = len(names) == 1 and not keep_others and not dry_run
    con = engine.connect_for(ws)
    summaries, parts = [], []
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="layer1-", dir=_scratch_root(ws))))
        out = None if dry_run else stack.enter_context(atomic_path(target))
        for i, name in enumerate(names):
            cfg = ws.settings.channel(name)
            rules = rules_override or rules_for(ws, name)
            history = carry.earlier_results(earlier or (lambda day: results_path(ws, day)), date, rules.pending_days)
            carried_ours, carried_theirs = carry.carried(history, name)
            job = ChannelDay(rules, date, name, cfg.account, ws.settings.channel_zone(name),
                             internal_input(ws, name, date), ws.bill_path(name, date), carried_ours, carried_theirs,
                             fx.policy_for(ws, name))
            matcher = engines[engine_for(ws, name, engine_override)]
            if direct and isinstance(matcher, DuckDBMatcher):
                # one channel on DuckDB: its rows sorted straight into the results file (same
                # bytes as through a part file, tests/matching goldens; one wide sort less)
                summaries.append(matcher.decide(con, job))
                with _statistics_off(con):
                    write_wide(con, out)
                return Layer1Summary(date, target, tuple(summaries))
            (folder := scratch / f"channel-{i}").mkdir()
            summary, files = matcher.match(con, job, folder)
            summaries.append(summary)
            parts.append(files)
        if len(names) == 1 and not keep_others and not dry_run:
            # One channel: its sorted parts into the results file. Sorted again (cheap on sorted
            # input) because DuckDB cuts row groups where its input batches end, and parts from
            # another engine end elsewhere; after a sort the row groups depend on the rows alone.
            _write(con, f"SELECT * FROM read_parquet([{', '.join(quote(p) for p in parts[0])}]) {ORDER_BY}", out)
        else:  # several channels (or one re-matched among others): merged in the total order
            sources = [f"SELECT * FROM read_parquet([{', '.join(quote(p) for p in files)}])" for files in parts]
            if keep_others:  # one channel re-matched: the others' rows stay as they are
                sources.append(f"SELECT * FROM read_parquet({quote(target)}) WHERE channel <> {quote(channel)}")
            con.execute("CREATE OR REPLACE VIEW day_results AS " + " UNION ALL BY NAME ".join(sources))
            if dry_run:
                if keep is not None:
                    rematched = ", ".join(map(quote, names))  # scratch for a what-if: no order needed
                    copy(con, f"SELECT * FROM day_results WHERE channel IN ({rematched})", keep)
                counts, changes = diff.compare(con, "day_results", target, names)
                return Layer1Summary(date, None, tuple(summaries), dry_run=True, changes=changes, counts=counts)
            _write(con, f"SELECT * FROM day_results {ORDER_BY}", out)
    return Layer1Summary(date, target, tuple(summaries))


def _write(con, query: str, out: Path) -> None:
    """The results file from a query's rows."""
    with _statistics_off(con):
        copy(con, query, out)


@contextlib.contextmanager
def _statistics_off(con) -> Iterator[None]:
    """For writing the results file. DuckDB marks a Parquet column REQUIRED when its statistics prove
    it has no NULL, which depends on how the rows arrived (one part or several, from which engine);
    without statistics propagation every column is OPTIONAL, so the bytes depend on the rows alone."""
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")


def _scratch_root(ws: Workspace) -> Path:
    ws.temp_dir.mkdir(parents=True, exist_ok=True)
    return ws.temp_dir
