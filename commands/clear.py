"""`recon clear --date D`: clear a reconciled day, write its settlement files and post its entries.

Thin: it opens the workspace, calls `recon.clearing.clear_day`, and prints one row per merchant and
currency (the same figures as `clearing/<D>/settlements.csv`), what was posted or reversed in the
ledger, and any transaction it skipped with the reason. `--json` prints the summary as JSON.
"""

from __future__ import annotations

import typer

from commands.common import DateOpt, JsonOpt, QuietOpt, WorkspaceOpt, command, console, open_workspace, print_json
from recon.clock import parse_date

COLUMNS = ("gross", "refunds", "fees", "splits", "held", "net_payable")


def register(app: typer.Typer) -> None:
    @app.command("clear")
    @command
    def clear(date: DateOpt, workspace: WorkspaceOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
        """Clear a reconciled day: per-merchant settlement (fees, splits, holdbacks) and its journal entries.

        Signs: gross is the day's payments and refunds, signed (refunds < 0, also shown apart);
        held > 0 is held back today, < 0 released today; gross = net_payable + fees + splits + held.
        """
        from rich.table import Table
        from rich.text import Text

        from recon.clearing import clear_day
        from recon.money import fmt

        ws = open_workspace(workspace)
        day = parse_date(date, ws.today())
        summary = clear_day(ws, day)
        if as_json:
            print_json(summary.as_dict())
            return
        out = console(quiet)
        table = Table(title=f"clearing {day.isoformat()}")
        table.add_column("merchant")
        table.add_column("currency")
        for name in COLUMNS:
            table.add_column(name.replace("_", " "), justify="right")
        for s in summary.settlements:
            # Text(), not markup: merchant ids come from data and may contain "[".
            table.add_row(Text(s.merchant_id), s.currency,
                          *(fmt(getattr(s, c), s.currency).removesuffix(f" {s.currency}") for c in COLUMNS))
        if not summary.settlements:
            table.add_row("(nothing to clear)", "", *("" for _ in COLUMNS))
        out.print(table)
        for note in summary.notes:
            out.print(f"NOTE {note}", markup=False)
        out.print(f"OK {ws.clearing_dir(day) / 'settlements.csv'}: {summary.cleared} cleared, "
                  f"{summary.released} released, {summary.held} held; ledger: {len(summary.posted)} posted, "
                  f"{len(summary.reversed)} reversed, {len(summary.unchanged)} unchanged", markup=False)
