"""Job requests: how web processes hand work to the workers (rows they claim on a lease)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from integrations.backoff import RetryPolicy, next_attempt
from web.domain.leases import Holdings, claim_row, due_job, fail_exhausted
from web.store.models import JobRequest

JOB_KINDS = (
    "sync_interviewer",
    "sync_all",
    "deliver_mail",
    "expire_requests",
    "calendar_writeback",
    "refresh_options",
    "ping",
)


def enqueue(
    s: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    now: datetime,
    requested_by: str = "",
    request_id: int | None = None,
) -> JobRequest:
    """Add a pending job row in the caller's transaction (so it exists iff the caller commits);
    ``now`` is the caller's clock. ``request_id`` names the request the job concerns, whose
    page shows the job if it fails for good."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {', '.join(JOB_KINDS)}")
    row = JobRequest(
        kind=kind,
        payload=payload or {},
        requested_by=requested_by,
        created_at=now,
        request_id=request_id,
    )
    s.add(row)
    return row


def claim_next(
    s: Session,
    now: datetime,
    *,
    holdings: Holdings | None = None,
    max_attempts: int = 5,
) -> JobRequest | None:
    """Take the oldest due job (SKIP LOCKED on PostgreSQL) on a lease; the caller's commit
    records the claim and its attempt before the job runs. When none is due, jobs whose
    lease ran out on their last allowed attempt are marked failed."""
    owner = holdings.owner if holdings else "worker"
    until = holdings.until(now) if holdings else None
    values = dict(status="running", started_at=now, locked_until=until, locked_by=owner)
    row_id = claim_row(s, JobRequest, due_job(now, max_attempts), **values)
    if row_id is None:
        fail_exhausted(s, JobRequest, now, max_attempts)
        return None
    if holdings:
        holdings.hold(JobRequest, row_id)
    return s.get(JobRequest, row_id)


def job_failed(
    job: JobRequest, error: str, now: datetime, *, retry: bool, max_attempts: int
) -> None:
    """Record a failed attempt: due again after the backoff, or failed for good (shown to
    the coordinator) once ``max_attempts`` are used or the error is not worth retrying."""
    policy = RetryPolicy(base=timedelta(seconds=10), max_attempts=max_attempts)
    when = next_attempt(max(job.attempts, 1), now, policy=policy) if retry else None
    job.last_error = error[:2000]
    job.locked_until = job.locked_by = None
    if when is None:
        job.status, job.finished_at = "failed", now
    else:
        job.status, job.next_attempt_at = "pending", when
