"""session version: a coordinator's sessions all end when it changes (logout, new password)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index(
        "ix_signin_attempts_addr_at", "signin_attempts", ["remote_addr", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_signin_attempts_addr_at", table_name="signin_attempts")
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.drop_column("session_version")
