"""Parse a day's raw statements of one channel into its standardized bill in the workspace.

This is the parse stage of the day: every file under `raw/<channel>/<D>/` (the manifest and
hidden files aside) is identified or parsed with the channel's configured format, checked against
itself, and the rows of all files become `bills/<channel>/<D>.parquet`, written atomically. If any
file is rejected it is quarantined, no bill is written for the day, and `StatementRejected`
propagates (exit 4): a day is never reconciled on part of its statements.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from jobs.catalog import format_rule_set
from parsers.base import ParseContext, ParsedStatement
from parsers.registry import identify, parse_file
from recon.clock import business_today, parse_date
from recon.config.settings import DefaultSettings
from recon.errors import NotReady, StatementRejected
from recon.files import atomic_path
from recon.quarantine import quarantine
from recon.schema import conform, empty_bill
from recon.workspace import Workspace

SKIP = ("manifest.json",)
_REVISION = re.compile(r"^(?P<stem>.+?)\.rev(?P<rev>\d+)(?P<suffix>(?:\.[^.]+)*)$")


@dataclass(frozen=True, slots=True)
class IngestResult:
    channel: str
    date: dt.date
    files: tuple[str, ...]
    rows: int
    bill_path: Path
    checks: tuple[str, ...]


def raw_files(ws: Workspace, channel: str, date: dt.date) -> list[Path]:
    """The statements of (channel, date) to parse: for a file re-published with changes
    (`<stem>.rev2<suffix>` beside the first, see jobs/fetch_promote.py) only the newest revision,
    so a corrected statement replaces the old one instead of being counted twice."""
    folder = ws.raw_dir(channel, date)
    if not folder.exists():
        return []
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.name not in SKIP and not p.name.startswith("."))
    newest: dict[str, tuple[int, Path]] = {}
    for path in files:
        match = _REVISION.match(path.name)
        base, rev = (match["stem"] + match["suffix"], int(match["rev"])) if match else (path.name, 1)
        if base not in newest or rev > newest[base][0]:
            newest[base] = (rev, path)
    return sorted(p for _, p in newest.values())


def ingest_day(ws: Workspace, channel: str, date: dt.date) -> IngestResult:
    """Parse every raw file of (channel, date) into one bill; quarantine and raise on rejection."""
    cfg = ws.settings.channel(channel)
    rules = ws.catalog.rule_set(channel)
    files = raw_files(ws, channel, date)
    if not files and not (ws.raw_dir(channel, date) / "manifest.json").exists():
        # No statement and no fetch record saying the channel had nothing: not fetched yet.
        raise NotReady(f"no statement for {channel} on {date} under {ws.raw_dir(channel, date)}",
                       hint=f"recon fetch --date {date} --channel {channel}")
    bills, balances, checks = [], [], []
    for path in files:
        rel = str(path.relative_to(ws.root))
        ctx = ParseContext(channel=channel, rules=rules, zone=ws.channel_zone(channel),
                           account=cfg.account or None, bill_date=date, source_name=rel)
        try:
            _, parsed = parse_file(path, ctx, cfg.format)
        except StatementRejected as exc:
            where = quarantine(ws.quarantine_dir, path, exc.problem, channel=channel, date=date,
                               problems=exc.problems, count=exc.problem_count)
            exc.hint = (f"quarantined in {where.relative_to(ws.root)}; put a corrected statement into the source, "
                        f"then recon rerun --date {date} --channel {channel}")
            raise
        bills.append(parsed.bill)
        if parsed.balances is not None:
            balances.append(parsed.balances)
        checks.extend(f"{rel}: {c}" for c in parsed.checks)
    bill = conform(pl.concat(bills, how="vertical") if bills else empty_bill())
    # one chunk per column either way, so the Parquet file's row groups are those a sort gives
    bill = bill.rechunk() if _in_order(bill) else bill.sort("source_file", "source_line")
    target = ws.bill_path(channel, date)
    with atomic_path(target) as tmp:
        bill.write_parquet(tmp)
    if balances:
        with atomic_path(ws.balances_path(channel, date)) as tmp:
            pl.concat(balances, how="vertical").write_parquet(tmp)
    return IngestResult(channel, date, tuple(str(p.name) for p in files), bill.height, target, tuple(checks))


def _in_order(bill: pl.DataFrame) -> bool:
    """The rows already stand in (source_file, source_line) order, each key once: sorting would
    give the same frame. A parser emits its lines in order and the files come sorted, so the
    day's bill usually needs no sort, only this one look at two columns."""
    file, line = pl.col("source_file"), pl.col("source_line")
    after = (file > file.shift()) | ((file == file.shift()) & (line > line.shift()))
    return bill.height < 2 or bill.select(after.slice(1).fill_null(False).all()).item()


def parse_statement(file: Path, out: Path, ws: Workspace | None, *, format_id: str | None = None,
                    channel: str | None = None, date: str | None = None) -> tuple[str, ParsedStatement]:
    """`recon parse`: one file to a bill at `out`, identified unless told, checked against itself.

    Inside a workspace a configured channel's format, rules, account and zone apply, and a rejected
    file is quarantined there; outside one, the format's built-in rule set and the default zone.
    """
    cfg = ws.settings.channel(channel) if ws and channel else None  # an unknown channel is a config error
    zone = ws.channel_zone(channel) if ws and cfg else ws.zone if ws else ZoneInfo(DefaultSettings().timezone)
    day = parse_date(date, business_today(zone)) if date else None
    try:
        fid = format_id or (cfg.format if cfg else None) or identify(file)
        rules = ws.catalog.rule_set(channel) if ws and cfg else format_rule_set(fid, ws.rules_dir if ws else None)
        ctx = ParseContext(channel=channel or fid.split(".")[0], rules=rules, zone=zone,
                           account=(cfg.account or None) if cfg else None, bill_date=day, source_name=str(file))
        fid, parsed = parse_file(file, ctx, fid)
    except StatementRejected as exc:
        if ws is not None:
            where = quarantine(ws.quarantine_dir, file, exc.problem, channel=channel, date=day,
                               problems=exc.problems, count=exc.problem_count)
            exc.hint = f"quarantined in {where.relative_to(ws.root)}"
        raise
    with atomic_path(out) as tmp:
        parsed.bill.write_parquet(tmp)
    if parsed.balances is not None:
        with atomic_path(out.with_suffix(".balances.parquet")) as tmp:
            parsed.balances.write_parquet(tmp)
    return fid, parsed
