"""the candidate's own zone: the zone searched, the zone detected or chosen, live requests,
and the loop's switch for live options in the candidate's hours

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduling_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_tz", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("candidate_zone", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("live_fallback", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.drop_column("live_fallback")
    with op.batch_alter_table("scheduling_requests", schema=None) as batch_op:
        batch_op.drop_column("live")
        batch_op.drop_column("candidate_zone")
        batch_op.drop_column("search_tz")
