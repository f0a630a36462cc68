"""job_requests.request_id: the request a job concerns (shown with its failure, retried)

Calendar write-back and fresh-option jobs name their request, so a job that failed for good
is listed on the coordinator's request page. Existing rows are filled in from their payload
(``request_id``, or the request of the first of ``booking_ids``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _request_of(conn: sa.Connection, payload: object) -> int | None:
    data = json.loads(payload) if isinstance(payload, str) else payload
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("request_id"), int):
        return int(data["request_id"])
    ids = data.get("booking_ids") or []
    if not ids or not isinstance(ids[0], int):
        return None
    found = conn.execute(
        sa.text("SELECT request_id FROM bookings WHERE id = :id"), {"id": ids[0]}
    ).scalar()
    return int(found) if found is not None else None


def upgrade() -> None:
    with op.batch_alter_table("job_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_requests_request_id"), ["request_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_job_requests_request_id_scheduling_requests"),
            "scheduling_requests",
            ["request_id"],
            ["id"],
            ondelete="SET NULL",
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, payload FROM job_requests"
            " WHERE kind IN ('calendar_writeback', 'refresh_options')"
        )
    ).all()
    for job_id, payload in rows:
        rid = _request_of(conn, payload)
        if rid is not None:
            conn.execute(
                sa.text("UPDATE job_requests SET request_id = :r WHERE id = :id"),
                {"r": rid, "id": job_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("job_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_job_requests_request_id_scheduling_requests"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_job_requests_request_id"))
        batch_op.drop_column("request_id")
