"""What every command shares: the workspace option, dates, output, and turning errors into exits.

One place maps a `ReconError` to its exit code and prints exactly one line on stderr naming what is
at fault; tracebacks are for bugs only (exit 1), and never show local variables (secrets).
"""

from __future__ import annotations

import errno
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from recon.errors import ConfigError, ExitCode, NotWritable, ReconError

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: $RECON_WORKSPACE or the current folder).",
                 envvar="RECON_WORKSPACE", show_envvar=True),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or tables (for cron); errors still go to stderr.")]
DateOpt = Annotated[str, typer.Option("--date", "-d", help="Business date, YYYY-MM-DD (or 'yesterday', 'today').")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", "-c", help="Only this channel.")]
EngineOpt = Annotated[str | None, typer.Option(
    "--engine", help="Layer 1 on 'duckdb' or 'spark' for every channel (default: the match.engine setting, per channel).")]


def check_engine(engine: str | None) -> str | None:
    if engine not in (None, "duckdb", "spark"):
        raise ConfigError(f"--engine must be duckdb or spark, not {engine!r}")
    return engine

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


# Piped to a file or `grep`, a table is never cut to 80 columns ("S20…"): lines are as wide as
# their content. On a terminal, rich fits the terminal as usual.
PIPE_WIDTH = 100_000


def console(quiet: bool = False) -> Console:
    """Rich on a TTY, plain and never truncated when piped, silent with --quiet."""
    piped = not sys.stdout.isatty()
    return Console(quiet=quiet, highlight=False, width=PIPE_WIDTH if piped else None)


def open_workspace(path: Path | None):  # -> recon.workspace.Workspace (import kept lazy)
    from jobs import logs
    from jobs.catalog import open_workspace as open_ws

    ws = open_ws(path)
    logs.configure(ws.root)  # log lines go to WS/logs/, never a second time to stderr
    return ws


def matchers_for(ws, channels: list[str] | None = None, override: str | None = None) -> dict:
    """Layer-1 matchers beyond DuckDB (built into the library) that `channels` (default: all) need.

    Spark is the optional `recon[spark]` extra, with a JVM or a Spark Connect server behind it: it is
    imported and started only when some channel of the run is set to (or forced onto) `spark`, and
    kept for the rest of the process, since a session takes seconds to start. Module-level, so
    `--jobs` workers (jobs.span) can be handed it and build their own.
    """
    from recon.matching.layer1_day import engine_for

    names = channels or sorted(ws.settings.channels)
    if not any(engine_for(ws, name, override) == "spark" for name in names):
        return {}
    return {"spark": _spark_matcher(ws.settings.match.spark.model_dump_json(), ws.root)}


@functools.cache
def _spark_matcher(settings_json: str, root: Path):  # keyed by JSON: the settings hold a dict
    from recon.config.settings import SparkSettings

    try:
        from recon.matching.spark_engine import SparkMatcher
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the spark engine needs {exc.name}: pip install 'recon[spark]' (and Java 17)") from None
    return SparkMatcher.from_settings(SparkSettings.model_validate_json(settings_json), root)


def on_screen(value, zone) -> str:
    """A stored instant (aware datetime or ISO text, UTC) as people read it: the business zone, named."""
    import datetime as dt

    from recon.clock import on_screen as local

    if not value:
        return ""
    instant = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    return local(instant, zone)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


SHOWN_PROBLEMS = 10  # a refused file's problems on the terminal; --json and the quarantine list all


def fail(error: ReconError) -> typer.Exit:
    err_console.print(f"error: {error}", markup=False)
    problems = getattr(error, "problems", ())
    count = getattr(error, "problem_count", len(problems))
    if count > 1:  # a refused statement: the next problems, then how many in all
        for problem in problems[1:SHOWN_PROBLEMS]:
            err_console.print(f"  also: {problem}", markup=False)
        more = " (the quarantine reason file and --json list every one)" if count > SHOWN_PROBLEMS else ""
        err_console.print(f"  {count} problems in all{more}", markup=False)
    return typer.Exit(int(error.exit_code))


_UNWRITABLE = {errno.ENOSPC, errno.EROFS, errno.EDQUOT}


@contextmanager
def exits() -> Iterator[None]:
    """Run a command body; a ReconError becomes its exit code and one stderr line.

    A full disk or a read-only workspace is not a bug: one line and exit 4, wherever it struck
    (the pipeline already left its stages retryable)."""
    try:
        yield
    except ReconError as error:
        raise fail(error) from None
    except OSError as error:
        if error.errno not in _UNWRITABLE:
            raise
        raise fail(NotWritable(f"{error.filename or 'the workspace'}: {error.strerror}",
                               hint="free space or make the workspace writable, then run the command again")) from None
    except Exception as error:  # the store's driver refusing a write, seen without importing it here
        if type(error).__name__ != "OperationalError" or not type(error).__module__.startswith("sqlalchemy"):
            raise
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        raise fail(NotWritable(f"the store cannot be written: {reason}",
                               hint="free space or make the workspace writable, then run the command again")) from None


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
