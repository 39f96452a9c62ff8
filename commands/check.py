"""`recon check [--connect]`: validate a workspace before any work, one line per problem, exit 2."""

from __future__ import annotations

from typing import Annotated

import typer

from commands.common import JsonOpt, WorkspaceOpt, command, console, err_console, open_workspace, print_json
from recon.errors import ExitCode

ConnectOpt = Annotated[bool, typer.Option(
    "--connect", help="Also open each transport (SSH handshake with the host-key check, an HTTP request) without downloading.")]


def register(app: typer.Typer) -> None:
    app.command("check")(check)


@command
def check(connect: ConnectOpt = False, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Validate a workspace: settings, formats, rule sets, folders, keys, environment, store, transports."""
    from jobs.check import problems

    ws = open_workspace(workspace)
    found = problems(ws, connect=connect)
    for line in found:
        err_console.print(f"error: {line}", markup=False, soft_wrap=True)
    if as_json:
        print_json({"workspace": str(ws.root), "problems": found})
    elif not found:
        console().print(f"OK {ws.config_path}: {len(ws.settings.channels)} channel(s)"
                        + (", every transport answered" if connect else ""), markup=False)
    if found:
        raise typer.Exit(int(ExitCode.USAGE))


def static_or_exit(ws) -> None:
    """What `recon run` does first: the static checks, and exit 2 before any work if one fails."""
    from jobs.check import problems

    found = problems(ws)
    for line in found:
        err_console.print(f"error: {line}", markup=False, soft_wrap=True)
    if found:
        raise typer.Exit(int(ExitCode.USAGE))
