"""alembic environment: runs on the connection `recon.store.schema` hands over (never a URL of its
own), against the shared `recon.store.metadata.metadata` with every area's tables imported."""

from __future__ import annotations

from alembic import context

from recon.store.metadata import metadata

# Importing the table modules registers them on `metadata` (used by `alembic revision --autogenerate`).
import jobs.fetch_state  # noqa: E402,F401
import jobs.lease  # noqa: E402,F401
import jobs.registry  # noqa: E402,F401
import recon.core.tables  # noqa: E402,F401
import recon.queue.tables  # noqa: E402,F401

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through recon.store.schema.ensure_schema / upgrade")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
