"""The `recon` command line: a thin shell over the library.

Commands live in small modules under commands/; this file only builds the Typer app and
registers them. Heavy imports happen inside command bodies so `recon --help` starts fast.
"""

from __future__ import annotations

import importlib

import typer

from commands import MODULES

app = typer.Typer(
    name="recon",
    help="Batch payment reconciliation and clearing: fetch, parse, match (3 layers), queue, clear, report.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold secrets
    add_completion=False,
)

for _name in MODULES:
    importlib.import_module(_name).register(app)


if __name__ == "__main__":
    app()
