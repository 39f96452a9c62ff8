"""core 0004: drop `ix_core_txn_original_txn_id`, an index no query reads.

Every import writes each transaction into all of `core_txn`'s indexes. No statement of recon looks
transactions up by `original_txn_id` (a refund finds its payment by the payment's `txn_id`, which
is unique), so this index only cost writes: one more B-tree insert per transaction, a NULL entry
for every payment. A future query by `original_txn_id` brings it back in its own revision.

Revision ID: core_0004
Revises: core_0003
"""

from __future__ import annotations

from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_core_txn_original_txn_id", table_name="core_txn")


def downgrade() -> None:
    op.create_index("ix_core_txn_original_txn_id", "core_txn", ["original_txn_id"])
