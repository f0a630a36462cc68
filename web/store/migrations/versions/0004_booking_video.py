"""booking video: a loop's video setting (template | google_meet), a booking's video link

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("video", sa.String(length=16), nullable=False, server_default="template")
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_link", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("video_link")
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.drop_column("video")
