"""calendar sync state: last good feed copy, provider sync state, read mode, reconnect flag

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 22:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_sources", schema=None) as batch_op:
        # gzip of the last good ICS copy, so a 304 in a new process still has data to read
        batch_op.add_column(sa.Column("snapshot", sa.LargeBinary(), nullable=True))
        # Google mode "sync": encrypted JSON of syncTokens and events (holds event details)
        batch_op.add_column(sa.Column("sync_state", sa.Text(), nullable=True))
        # Google: "freebusy" (default) or "sync"
        batch_op.add_column(sa.Column("mode", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "needs_reconnect", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("busy_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_duration_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_sources", schema=None) as batch_op:
        for name in (
            "last_duration_ms",
            "busy_count",
            "needs_reconnect",
            "mode",
            "sync_state",
            "snapshot",
        ):
            batch_op.drop_column(name)
