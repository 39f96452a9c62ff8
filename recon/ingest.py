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

import polars as pl

from parsers.balances import BANK_FORMATS, BANK_RULES
from parsers.base import ParseContext
from parsers.registry import parse_file
from recon.errors import NotReady, StatementRejected
from recon.files import atomic_path
from recon.quarantine import quarantine
from recon.schema import conform, empty_bill
from recon.workspace import Workspace
from rules.loader import RuleSet, builtin_names, load_rules

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


def channel_rules(ws: Workspace | None, channel_format: str, rules_name: str | None) -> RuleSet:
    """The configured rule set, else the format's own (`wechatpay_fundflow`), else its family's
    (`bank` for every bank statement format)."""
    if rules_name:
        return load_rules(rules_name, ws.rules_dir if ws else None)
    own = channel_format.replace(".", "_")
    family = BANK_RULES if channel_format in BANK_FORMATS else channel_format.split(".")[0]
    have = set(builtin_names()) | ({p.stem for p in ws.rules_dir.glob("*.toml")} if ws else set())
    return load_rules(own if own in have else family, ws.rules_dir if ws else None)


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
    rules = channel_rules(ws, cfg.format, cfg.rules)
    files = raw_files(ws, channel, date)
    if not files and not (ws.raw_dir(channel, date) / "manifest.json").exists():
        # No statement and no fetch record saying the channel had nothing: not fetched yet.
        raise NotReady(f"no statement for {channel} on {date} under {ws.raw_dir(channel, date)}",
                       hint=f"recon fetch --date {date} --channel {channel}")
    bills, balances, checks = [], [], []
    for path in files:
        rel = str(path.relative_to(ws.root))
        ctx = ParseContext(channel=channel, rules=rules, zone=ws.settings.channel_zone(channel),
                           account=cfg.account or None, bill_date=date, source_name=rel)
        try:
            _, parsed = parse_file(path, ctx, cfg.format)
        except StatementRejected as exc:
            quarantine(ws.quarantine_dir, path, exc.problem, channel=channel, date=date)
            raise
        bills.append(parsed.bill)
        if parsed.balances is not None:
            balances.append(parsed.balances)
        checks.extend(f"{rel}: {c}" for c in parsed.checks)
    bill = pl.concat(bills, how="vertical") if bills else empty_bill()
    bill = conform(bill).sort("source_file", "source_line")
    target = ws.bill_path(channel, date)
    with atomic_path(target) as tmp:
        bill.write_parquet(tmp)
    if balances:
        with atomic_path(ws.balances_path(channel, date)) as tmp:
            pl.concat(balances, how="vertical").write_parquet(tmp)
    return IngestResult(channel, date, tuple(str(p.name) for p in files), bill.height, target, tuple(checks))
