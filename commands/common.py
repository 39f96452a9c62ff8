"""What every command shares: the workspace option, dates, output, and turning errors into exits.

One place maps a `ReconError` to its exit code and prints exactly one line on stderr naming what is
at fault; tracebacks are for bugs only (exit 1), and never show local variables (secrets).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from recon.errors import ExitCode, ReconError

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: $RECON_WORKSPACE or the current folder).",
                 envvar="RECON_WORKSPACE", show_envvar=True),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or tables (for cron); errors still go to stderr.")]
DateOpt = Annotated[str, typer.Option("--date", "-d", help="Business date, YYYY-MM-DD (or 'yesterday', 'today').")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", "-c", help="Only this channel.")]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def console(quiet: bool = False) -> Console:
    """Rich on a TTY, plain when piped, silent with --quiet."""
    return Console(quiet=quiet, highlight=False)


def open_workspace(path: Path | None):  # -> recon.workspace.Workspace (import kept lazy)
    from jobs.catalog import open_workspace as open_ws

    return open_ws(path)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(error: ReconError) -> typer.Exit:
    err_console.print(f"error: {error}", markup=False)
    return typer.Exit(int(error.exit_code))


@contextmanager
def exits() -> Iterator[None]:
    """Run a command body; a ReconError becomes its exit code and one stderr line."""
    try:
        yield
    except ReconError as error:
        raise fail(error) from None


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: wrap a command body in `exits()`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with exits():
            return func(*args, **kwargs)

    return wrapper


def exit_with(code: ExitCode) -> None:
    if code != ExitCode.OK:
        raise typer.Exit(int(code))
