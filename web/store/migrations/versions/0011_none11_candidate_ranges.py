"""a candidate's own ranges ("none of these work"), what was found inside them, and the
loop's switch to offer those times at once

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from web.store.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offer_from_ranges", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "candidate_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["scheduling_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_table(
        "candidate_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["candidate_replies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_candidate_ranges_reply_id", "candidate_ranges", ["reply_id"])


def downgrade() -> None:
    op.drop_index("ix_candidate_ranges_reply_id", table_name="candidate_ranges")
    op.drop_table("candidate_ranges")
    op.drop_table("candidate_replies")
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.drop_column("offer_from_ranges")
