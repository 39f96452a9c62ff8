"""CLI command modules. Each module defines its commands and a `register(app)`; cli.py wires them.

Modules import heavy libraries (polars, duckdb, openpyxl, sqlalchemy) inside the command bodies, so
`recon --help` stays fast.
"""

# The order commands appear in `recon --help`.
MODULES = (
    "recon.commands.workspace",
    "recon.commands.parse",
    "recon.commands.fetch",
    "recon.commands.match",
    "recon.commands.clear",
    "recon.commands.report",
    "recon.commands.jobs",
    "recon.commands.queue",
    "recon.commands.core",
)
