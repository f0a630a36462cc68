"""Job requests: how web processes hand work to the one worker (rows it polls)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.store.models import JobRequest

JOB_KINDS = (
    "sync_interviewer",
    "sync_all",
    "deliver_mail",
    "expire_requests",
    "calendar_writeback",
    "refresh_options",
)


def enqueue(
    s: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    now: datetime,
    requested_by: str = "",
) -> JobRequest:
    """Add a pending job row in the caller's transaction (so it exists iff the caller commits);
    ``now`` is the caller's clock."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {', '.join(JOB_KINDS)}")
    row = JobRequest(kind=kind, payload=payload or {}, requested_by=requested_by, created_at=now)
    s.add(row)
    return row


def claim_next(s: Session, now: datetime) -> JobRequest | None:
    """Take the oldest pending job (SKIP LOCKED on PostgreSQL); commit marks it running."""
    q = select(JobRequest).where(JobRequest.status == "pending").order_by(JobRequest.id).limit(1)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    row = s.scalar(q)
    if row is None:
        return None
    row.status = "running"
    row.started_at = now
    row.attempts += 1
    return row
