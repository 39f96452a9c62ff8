"""The `recon` command line: a thin shell over the library.

Commands live in small modules under commands/; this file only builds the Typer app and
registers them. Heavy imports happen inside command bodies so `recon --help` starts fast.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from commands import MODULES

app = typer.Typer(
    name="recon",
    help="Batch payment reconciliation and clearing: fetch, parse, match (3 layers), queue, clear, report.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold secrets
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"recon {version('recon')}")
        raise typer.Exit()


@app.callback()
def main(_version_: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Batch payment reconciliation and clearing: fetch, parse, match (3 layers), queue, clear, report."""

for _name in MODULES:
    importlib.import_module(_name).register(app)


if __name__ == "__main__":
    app()
