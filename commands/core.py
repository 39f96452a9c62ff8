"""`recon core ...`: record and import transactions, export the internal side, balances, checks.

Thin: each command opens the workspace and store, calls one function of recon.core, prints. Money in
JSON input is taken from the text of the number (never through float): `"amount": 10.10` and
`"amount": "10.10"` are the same exact amount.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from commands.common import (ChannelOpt, DateOpt, JsonOpt, WorkspaceOpt, command, console, fail, open_workspace,
                             print_json)
from recon.clock import parse_date
from recon.errors import ConfigError, ExitCode, NotReady

core_app = typer.Typer(help="The thin payment core: transactions, ledger, internal reconciliation.",
                       no_args_is_help=True)


def _open(workspace: Path | None):
    from recon.core.accounting import accounting_of
    from recon.core.orders import Core
    from recon.store.engine import open_store

    ws = open_workspace(workspace)
    return ws, Core(open_store(ws.store_url()), accounting_of(ws))


def _event(text: str) -> dict[str, Any]:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    try:
        data = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"record: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "type" not in data:
        raise ConfigError('record: expected a JSON object with a "type"')
    return data


@core_app.command("record")
@command
def record_cmd(event: Annotated[str, typer.Argument(help='One event as JSON (or "-" for stdin, "@FILE").')],
               workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Record one event: payment, start, result, close, refund, refund_start, refund_result, post, reverse."""
    from recon.core.service import apply_event

    ws, core = _open(workspace)
    result = apply_event(core, _event(event), ws)
    if json_out:
        print_json(result)
    else:
        console().print(" ".join(f"{k}={v}" for k, v in result.items()))
    if result.get("result") == "UNKNOWN":  # the channel's answer decided nothing: never a silent 0
        raise fail(NotReady(f"{result['txn_id']}: the result code maps to UNKNOWN; the order stays {result['state']}",
                            hint="ask the channel again, then record its final answer"))


@core_app.command("import")
@command
def import_cmd(file: Annotated[Path, typer.Argument(help="CSV or Parquet with the internal transaction columns.")],
               workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Import internal transactions in bulk; re-running it changes nothing."""
    from recon.core.importer import import_file

    _, core = _open(workspace)
    result = import_file(core, file)
    if json_out:
        print_json(result.as_dict())
    else:
        for problem in result.problems:
            console().print(f"ERROR {problem}")
        console().print(f"{'OK' if not result.problems else 'DONE'} {file}: {result.rows} rows, "
                        f"{result.inserted} new, {result.duplicates} already present, {len(result.problems)} problems")
    if result.problems:
        raise typer.Exit(int(ExitCode.STAGE_FAILED))


@core_app.command("export")
@command
def export_cmd(date: DateOpt, channel: ChannelOpt = None,
               out: Annotated[Path | None, typer.Option("--out", help="Write .parquet or .csv here.")] = None,
               workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """The internal side of a business day (the columns `recon match` reads)."""
    from recon.core.service import export_day
    from recon.files import atomic_path
    from recon.formula import csv_frame

    ws, core = _open(workspace)
    frame = export_day(core, ws, parse_date(date, ws.today()), channel)
    if out is not None:
        with atomic_path(out) as tmp:
            # a CSV is opened in spreadsheets: formula-leading text gets its quote (recon.formula)
            csv_frame(frame).write_csv(tmp) if out.suffix == ".csv" else frame.write_parquet(tmp)
        console().print(f"OK {out}: {frame.height} transactions")
    elif json_out:
        print_json(frame.to_dicts())
    else:
        console().print(frame)


@core_app.command("balance")
@command
def balance_cmd(account: Annotated[str | None, typer.Argument(help="An account or a prefix like liabilities:merchant.")] = None,
                workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Account balances (debits - credits) per currency."""
    from recon.core.ledger import balances

    _, core = _open(workspace)
    rows = [b.as_dict() for b in balances(core.engine, account)]
    if json_out:
        print_json(rows)
        return
    for row in rows:
        console().print(f"{row['account']:<45} {row['currency']} {row['balance']:>20}")


@core_app.command("trial-balance")
@command
def trial_balance_cmd(workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Prove debits = credits per currency over the whole journal."""
    from recon.core.ledger import trial_balance

    _, core = _open(workspace)
    result = trial_balance(core.engine)
    if json_out:
        print_json(result.as_dict())
    else:
        for cur in result.as_dict()["currencies"]:  # type: ignore[union-attr]
            console().print(f"{cur['currency']} debits {cur['debits']} credits {cur['credits']}")
        console().print("BALANCED" if result.balanced else "NOT BALANCED")
    if not result.balanced:
        raise typer.Exit(int(ExitCode.STAGE_FAILED))


@core_app.command("check")
@command
def check_cmd(date: DateOpt, workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Internal reconciliation: transactions against their journal entries; writes layer0.parquet."""
    from recon.core.check import check_day, write_layer0

    ws, core = _open(workspace)
    day = parse_date(date, ws.today())
    result = check_day(core.engine, day, ws.settings.defaults.timezone, core.accounting)
    path = write_layer0(result, ws.results_dir(day))
    if json_out:
        print_json({"business_date": day, "transactions": result.transactions, "path": str(path),
                    "differences": [d.as_dict() for d in result.differences]})
        return
    for d in result.differences:
        console().print(f"{d.kind} {d.key} ours {d.our_amount} ledger {d.their_amount}: {d.reason}")
    console().print(f"{day}: {result.transactions} transactions, {len(result.differences)} differences -> {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(core_app, name="core")
