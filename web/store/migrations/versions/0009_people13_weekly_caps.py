"""weekly caps: an interviewer's max_interviews_per_week (per local ISO week; null = no cap)

Revision ID: people13_weekly_caps
Revises: 0008
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "people13_weekly_caps"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interviewers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_interviews_per_week", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interviewers", schema=None) as batch_op:
        batch_op.drop_column("max_interviews_per_week")
