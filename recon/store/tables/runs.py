"""The jobs' tables: stage runs (the run registry), leases, and each channel-day's fetch schedule.

Declared here, below the jobs that use them, so the migrations import nothing above the store
(revisions runs_0001 and fetch_0001). Their instants are aware in code and naive UTC in the
columns, as the first revisions created them.
"""

from __future__ import annotations

import sqlalchemy as sa

from recon.store.metadata import metadata
from recon.store.types import NaiveUtcDateTime

stage_runs = sa.Table(
    "stage_runs", metadata,
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("stage", sa.String(16), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("input_hash", sa.String(64)),
    sa.Column("outputs", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("started_at", NaiveUtcDateTime),
    sa.Column("finished_at", NaiveUtcDateTime),
    sa.Column("next_attempt_at", NaiveUtcDateTime),
    sa.Column("updated_at", NaiveUtcDateTime, nullable=False),
)

leases = sa.Table(
    "leases", metadata,
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", NaiveUtcDateTime, nullable=False),
    sa.Column("expires_at", NaiveUtcDateTime, nullable=False),
)

fetch_attempts = sa.Table(
    "fetch_attempts",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_attempt_at", NaiveUtcDateTime),
    sa.Column("last_attempt_at", NaiveUtcDateTime),
    sa.Column("next_attempt_at", NaiveUtcDateTime),
    sa.Column("last_error", sa.Text),
)
