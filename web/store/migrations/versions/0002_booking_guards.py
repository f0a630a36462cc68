"""booking guards: no overlapping active booking sessions per interviewer; booking zone and UID stem

PostgreSQL: an exclusion constraint (btree_gist) on (interviewer_id, tstzrange(start, end))
for active rows. SQLite: triggers that abort an insert/update creating an overlap (the
booking service also serialises its write transactions with BEGIN IMMEDIATE).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CONSTRAINT = "ex_booking_sessions_no_overlap"

_SQLITE_CHECK = """
SELECT RAISE(ABORT, 'booking overlap: interviewer already booked at this time')
WHERE NEW.active AND EXISTS (
    SELECT 1 FROM booking_sessions AS o
    WHERE o.interviewer_id = NEW.interviewer_id
      AND o.active
      AND o.id IS NOT NEW.id
      AND o.start < NEW."end"
      AND NEW.start < o."end"
);
"""


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_tz", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("uid_base", sa.String(length=100), nullable=False, server_default="")
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.alter_column("uid_base", server_default=None)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # In public, so dropping a (test) schema never drops the extension with it.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        op.execute(
            f"ALTER TABLE booking_sessions ADD CONSTRAINT {CONSTRAINT} "
            'EXCLUDE USING gist (interviewer_id WITH =, tstzrange(start, "end", \'[)\') WITH &&) '
            "WHERE (active)"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER booking_sessions_no_overlap_insert "
            f"BEFORE INSERT ON booking_sessions BEGIN {_SQLITE_CHECK} END"
        )
        op.execute(
            "CREATE TRIGGER booking_sessions_no_overlap_update "
            'BEFORE UPDATE OF active, start, "end", interviewer_id ON booking_sessions '
            f"BEGIN {_SQLITE_CHECK} END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE booking_sessions DROP CONSTRAINT IF EXISTS {CONSTRAINT}")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS booking_sessions_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS booking_sessions_no_overlap_update")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("uid_base")
        batch_op.drop_column("candidate_tz")
