"""fetch: the escalating retry schedule of each channel-day's statement fetch.

Revision ID: fetch_0001
Revises:
Create Date: 2025-01-01

Mirrors `jobs/fetch_state.py` (`fetch_attempts`): times are naive UTC on every backend.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "fetch_0001"
down_revision = None
branch_labels = ("fetch",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fetch_attempts",
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_attempt_at", sa.DateTime(timezone=False)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=False)),
        sa.Column("next_attempt_at", sa.DateTime(timezone=False)),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("channel", "business_date", name=op.f("pk_fetch_attempts")),
    )


def downgrade() -> None:
    op.drop_table("fetch_attempts")
