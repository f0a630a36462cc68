"""weekly caps: an interviewer's max_interviews_per_week (per local ISO week; null = no cap);
and a loop's hide_candidate_names (interviewers' pages show no candidate name)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interviewers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_interviews_per_week", sa.Integer(), nullable=True))
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "hide_candidate_names", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("loops", schema=None) as batch_op:
        batch_op.drop_column("hide_candidate_names")
    with op.batch_alter_table("interviewers", schema=None) as batch_op:
        batch_op.drop_column("max_interviews_per_week")
