"""alembic environment: runs on the connection `recon.store.schema` hands over (never a URL of its
own), against the shared `recon.store.metadata.metadata` with every area's tables imported."""

from __future__ import annotations

from alembic import context

# Importing the table modules registers them on `metadata` (used by `alembic revision --autogenerate`).
import recon.store.tables.core  # noqa: F401
import recon.store.tables.queue  # noqa: F401
import recon.store.tables.runs  # noqa: F401
from recon.store.metadata import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through recon.store.schema.ensure_schema / upgrade")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
