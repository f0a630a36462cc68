"""candidate mail: the candidate's negotiated locale on the request; a mail's From display
name and Reply-To (the coordinator) on the outbox row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduling_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_locale", sa.String(length=35), nullable=True))
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
        batch_op.drop_column("from_name")
    with op.batch_alter_table("scheduling_requests", schema=None) as batch_op:
        batch_op.drop_column("candidate_locale")
