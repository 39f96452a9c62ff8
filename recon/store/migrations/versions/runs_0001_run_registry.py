"""runs: the run registry (stage states per date and channel) and leases.

Revision ID: runs_0001
Revises:
Create Date: 2026-11-25

Mirrors jobs/registry.py and jobs/lease.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "runs_0001"
down_revision = None
branch_labels = ("runs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_runs",
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("input_hash", sa.String(64)),
        sa.Column("outputs", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("next_attempt_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("business_date", "channel", "stage", name="pk_stage_runs"),
    )
    op.create_table(
        "leases",
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("business_date", "channel", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("stage_runs")
