"""job leases: a claimed job or mail carries locked_until/locked_by; jobs retry at next_attempt_at

Columns are added in batch mode (plain ALTER TABLE ADD COLUMN on SQLite), so no table is
rebuilt and booking_sessions' no-overlap triggers stay.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from web.store.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _lease_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("job_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
        for column in _lease_columns():
            batch_op.add_column(column)
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        for column in _lease_columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_column("locked_by")
        batch_op.drop_column("locked_until")
    with op.batch_alter_table("job_requests", schema=None) as batch_op:
        batch_op.drop_column("locked_by")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("next_attempt_at")
