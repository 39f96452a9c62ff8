"""queue 0003: an item is identified without its kind.

Revision ID: queue_0003
Revises: queue_0002

A cross-day PENDING that ages out is the same problem as the LOCAL_ONLY it becomes, so the queue
now keys an item by (layer, channel, account, business_date, key) and updates its kind in place.
Stores written before this revision may hold two rows for one identity (the ghost this revision
ends): the older row keeps the key, every later one gets `#<kind>` appended, so the unique index can
be built without losing any item or event; those rows are then ordinary items a person can close.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "queue_0003"
down_revision = "queue_0002"
branch_labels = None
depends_on = None

IDENTITY = ["layer", "channel", "account", "business_date", "key"]
TWINS = sa.text("""
    SELECT id, kind FROM queue_items q
    WHERE EXISTS (SELECT 1 FROM queue_items o
                  WHERE o.layer = q.layer AND o.channel = q.channel AND o.account = q.account
                    AND o.business_date = q.business_date AND o.key = q.key AND o.id < q.id)
""")
RENAME = sa.text("UPDATE queue_items SET key = key || '#' || :kind WHERE id = :id")


def upgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(TWINS).all():
        bind.execute(RENAME, {"id": row.id, "kind": row.kind})
    op.create_index("ix_queue_items_identity", "queue_items", IDENTITY, unique=True)


def downgrade() -> None:
    op.drop_index("ix_queue_items_identity", table_name="queue_items")
