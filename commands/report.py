"""`recon report --date D [--out FILE]`: write the day's Excel report and show its summary.
`recon report --since D1 --until D2`: the period workbook (trends, aging, clearing totals).

The workbook goes to `reports/<D>/recon-<D>.xlsx` (a period: `reports/<D1>_<D2>/recon-<D1>_<D2>.xlsx`)
unless `--out` says otherwise; the terminal gets the same per-channel figures as the Summary sheet
(or `--json`), so a person can see the day or the period at a glance without opening Excel.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from commands.common import JsonOpt, QuietOpt, WorkspaceOpt, command, console, open_workspace, print_json
from recon.clock import parse_date
from recon.errors import ConfigError, StageFailed

DateOpt = Annotated[str | None, typer.Option(
    "--date", "-d", help="Business date, YYYY-MM-DD (or 'yesterday', 'today').")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Period report: from this business date (with --until).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Period report: to this business date (with --since).")]


def register(app: typer.Typer) -> None:
    @app.command("report")
    @command
    def report(date: DateOpt = None, since: SinceOpt = None, until: UntilOpt = None,
               out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of reports/<D>/recon-<D>.xlsx.")] = None,
               workspace: WorkspaceOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
        """Write the day's Excel report (summary, charts, discrepancy sheets, clearing, run info), or with
        --since/--until a period's (trends per day and channel, open items aged at its end, clearing per merchant)."""
        from rich.table import Table

        from recon.excel.cells import safe_text
        from recon.money import plain
        from recon.report.summary import ratio
        from recon.report.workbook import write_report

        if (since is None) != (until is None):
            raise ConfigError("--since and --until go together (a period report)")
        if date is not None and since is not None:
            raise ConfigError("--date or --since/--until, not both")
        if date is None and since is None:
            raise ConfigError("say which day (--date D) or which period (--since D1 --until D2)")
        ws = open_workspace(workspace)
        if since is not None:
            _period(ws, parse_date(since, ws.today()), parse_date(until, ws.today()), out, as_json, quiet)
            return
        day = parse_date(date, ws.today())
        if not (ws.results_dir(day) / "layer1.parquet").exists():  # an empty workbook would look like a quiet day
            raise StageFailed(f"{day} was never reconciled: {ws.results_dir(day) / 'layer1.parquet'} does not exist",
                              hint=f"recon run --date {day}")
        result = write_report(ws, day, out)
        per = result.data.per_channel()
        rows = [
            {"channel": r["channel"], "account": r["account"], "currency": r["currency"], "lines": r["lines"],
             "matched": r["matched"], "matched_pct": None if (p := ratio(r["matched"], r["lines"])) is None else format(p * 100, "f"),
             "discrepancies": r["discrepancies"], "pending": r["pending"],
             "at_stake": plain(r["at_stake"] or Decimal(0), r["currency"])}  # at the currency's exponent
            for r in (per.iter_rows(named=True) if per.height else [])
        ]
        if as_json:
            print_json({"date": day.isoformat(), "path": str(result.path), "sheets": list(result.sheets),
                        "seconds": round(result.seconds, 3), "channels": rows})
            return
        out_console = console(quiet)
        table = Table(title=f"recon {day.isoformat()}")
        for name in ("channel", "account", "currency", "lines", "matched", "matched %", "discrepancies", "pending", "at stake"):
            table.add_column(name, justify="left" if name in ("channel", "account", "currency") else "right")
        for r in rows:
            table.add_row(safe_text(r["channel"]), safe_text(r["account"] or ""), r["currency"] or "", str(r["lines"]),
                          str(r["matched"]), r["matched_pct"] or "-", str(r["discrepancies"]), str(r["pending"]),
                          r["at_stake"])
        if not rows:
            table.add_row("(no layer-1 results for this day)", "", "", "", "", "", "", "", "")
        out_console.print(table)
        out_console.print(f"OK {result.path} ({', '.join(result.sheets)}; {result.seconds:.1f}s)", markup=False)


def _period(ws, since, until, out: Path | None, as_json: bool, quiet: bool) -> None:
    from rich.table import Table

    from recon.excel.cells import safe_text
    from recon.money import plain
    from recon.report.period_data import LAYERS
    from recon.report.period_workbook import write_period_report
    from recon.report.summary import ratio

    if since > until:
        raise ConfigError(f"--since {since} is after --until {until}")
    if not any((ws.results_dir(since + dt.timedelta(days=n)) / f"layer{layer}.parquet").exists()
               for n in range((until - since).days + 1) for layer in LAYERS):
        raise StageFailed(f"no day from {since} to {until} was reconciled: no results under {ws.root / 'results'}",
                          hint=f"recon run --date {since}")  # an empty workbook would look like a quiet period
    result = write_period_report(ws, since, until, out)
    data = result.data
    rows = [{"layer": r["layer"], "channel": r["channel"], "account": r["account"], "currency": r["currency"],
             "lines": r["lines"], "ok": r["ok"],
             "ok_pct": None if (p := ratio(r["ok"], r["lines"])) is None else format(p * 100, "f"),
             "waiting": r["waiting"], "discrepancies": r["discrepancies"],
             "amount": plain(r["amount"] or Decimal(0), r["currency"])}
            for r in data.per_channel().iter_rows(named=True)]
    if as_json:
        print_json({"since": since.isoformat(), "until": until.isoformat(), "path": str(result.path),
                    "sheets": list(result.sheets), "days": [d.isoformat() for d in data.days],
                    "missing_days": [d.isoformat() for d in data.missing_days], "open_at_end": len(data.open_items),
                    "seconds": round(result.seconds, 3), "channels": rows})
        return
    out_console = console(quiet)
    table = Table(title=f"recon {since.isoformat()} .. {until.isoformat()}")
    for name in ("layer", "channel", "account", "currency", "lines", "ok", "ok %", "waiting", "discrepancies",
                 "amount"):
        table.add_column(name, justify="left" if name in ("channel", "account", "currency") else "right")
    for r in rows:
        table.add_row(str(r["layer"]), safe_text(r["channel"] or ""), safe_text(r["account"] or ""),
                      r["currency"] or "",
                      str(r["lines"]), str(r["ok"]), r["ok_pct"] or "-", str(r["waiting"]), str(r["discrepancies"]),
                      r["amount"] or "")
    out_console.print(table)
    if data.missing_days:
        out_console.print(f"NOTE no results for {', '.join(d.isoformat() for d in data.missing_days)}", markup=False)
    out_console.print(f"OK {result.path} ({', '.join(result.sheets)}; {result.seconds:.1f}s)", markup=False)
