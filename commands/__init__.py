"""CLI command modules. Each module defines its commands and a `register(app)`; cli.py wires them.

Modules import heavy libraries (polars, duckdb, openpyxl, sqlalchemy) inside the command bodies, so
`recon --help` stays fast.
"""

# The order commands appear in `recon --help`.
MODULES = (
    "commands.workspace",
    "commands.check",
    "commands.parse",
    "commands.fetch",
    "commands.match",
    "commands.clear",
    "commands.report",
    "commands.jobs",
    "commands.queue",
    "commands.core",
)
