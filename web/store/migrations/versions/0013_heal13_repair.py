"""self-healing bookings: the loop's repair policy and the booking's auto-repair count

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_repair", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("repair_min_hours_before", sa.Float(), nullable=False, server_default="48")
        )
        batch_op.add_column(
            sa.Column("max_auto_repairs", sa.Integer(), nullable=False, server_default="3")
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_repairs", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("auto_repairs")
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.drop_column("max_auto_repairs")
        batch_op.drop_column("repair_min_hours_before")
        batch_op.drop_column("auto_repair")
