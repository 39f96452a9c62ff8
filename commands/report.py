"""`recon report --date D [--out FILE]`: write the day's Excel report and show its summary.

The workbook goes to `reports/<D>/recon-<D>.xlsx` unless `--out` says otherwise; the terminal gets
the same per-channel figures as the Summary sheet (or `--json`), so a person can see the day at a
glance without opening Excel.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from commands.common import DateOpt, JsonOpt, QuietOpt, WorkspaceOpt, command, console, open_workspace, print_json
from recon.clock import parse_date
from recon.errors import StageFailed


def register(app: typer.Typer) -> None:
    @app.command("report")
    @command
    def report(date: DateOpt,
               out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of reports/<D>/recon-<D>.xlsx.")] = None,
               workspace: WorkspaceOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
        """Write the day's Excel report (summary, charts, discrepancy sheets, clearing, run info)."""
        from rich.table import Table

        from recon.excel.cells import safe_text
        from recon.money import plain
        from recon.report.summary import ratio
        from recon.report.workbook import write_report

        ws = open_workspace(workspace)
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
