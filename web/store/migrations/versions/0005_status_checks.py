"""status checks: each state machine's status column may hold only its enum's values

The values come from web/store/statuses.py as they were at this revision (copied here, so a
later change of the enums needs its own revision). On SQLite the tables are rebuilt by
Alembic's batch mode; booking_sessions is not touched, so its no-overlap triggers stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATUSES = {
    "scheduling_requests": (
        "draft", "sent", "opened", "booked", "rescheduled", "cancelled", "expired",
    ),
    "bookings": ("confirmed", "cancelled", "replaced"),
    "job_requests": ("pending", "running", "done", "failed"),
    "outbox_mails": ("pending", "sent", "failed", "cancelled"),
}


def upgrade() -> None:
    for table, values in STATUSES.items():
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint("status_valid", f"status IN ({allowed})")


def downgrade() -> None:
    for table in STATUSES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint("status_valid", type_="check")
