"""Work that failed for good, shown to the coordinator on the request it concerns.

A job (calendar write-back, fresh options) that used up ``server.job_max_attempts`` and a
mail that used up ``mail.max_attempts`` (or was refused for good) are listed on the request's
page with their error, redacted (no feed URL paths, no credentials, no link tokens), and a
"Retry" / "Resend" that puts them back in the queue with their attempts reset, audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from integrations.urls import redact_url
from web.domain.audit import Actor, record_by
from web.domain.logredact import HIDDEN, redact_tokens
from web.store.models import AuditLog, Booking, JobRequest, OutboxMail, SchedulingRequest

ERROR_CHARS = 300  # enough for the reason; a long traceback-like text is cut

_URL = re.compile(r"(?:https?|webcal)://[^\s\"'<>]+", re.IGNORECASE)
_SECRET = re.compile(
    r"\b(password|passwd|token|secret|authorization|api[_-]?key|bearer)(\s*[=:]\s*|\s+)\S+",
    re.IGNORECASE,
)

LIVE_FALLBACK = "live_check_fallback"  # audit: a booking used a calendar's stored busy time

JOB_LABELS = {
    "calendar_writeback": "Writing the interview to the interviewers' calendars",
    "refresh_options": "Searching fresh options for the candidate",
}


def shown_error(text: str | None) -> str:
    """``text`` as a page may show it: URLs redacted, credentials and link tokens hidden,
    at most :data:`ERROR_CHARS` characters on one line."""
    if not text:
        return ""
    clean = _URL.sub(lambda m: redact_url(m.group(0)), text)
    clean = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", clean)
    clean = redact_tokens(clean)
    clean = " ".join(clean.split())
    return clean if len(clean) <= ERROR_CHARS else clean[: ERROR_CHARS - 1] + "…"


@dataclass(frozen=True)
class FailedJob:
    id: int
    kind: str
    label: str
    attempts: int
    error: str
    finished_at: datetime | None


class NotRetryable(LookupError):
    """The job or mail is not one of this request's, or has not failed (already retried)."""

    def __init__(self, what: str, row_id: int, status: str | None) -> None:
        self.what, self.row_id, self.status = what, row_id, status
        state = "not found on this request" if status is None else f"{status}, not failed"
        super().__init__(f"{what} {row_id} is {state}")


def failed_jobs(s: Session, req: SchedulingRequest) -> list[FailedJob]:
    """The request's jobs that failed for good, oldest first."""
    rows = s.scalars(
        select(JobRequest)
        .where(JobRequest.request_id == req.id, JobRequest.status == "failed")
        .order_by(JobRequest.id)
    )
    return [
        FailedJob(
            j.id,
            j.kind,
            JOB_LABELS.get(j.kind, j.kind),
            j.attempts,
            shown_error(j.last_error),
            j.finished_at,
        )
        for j in rows
    ]


@dataclass(frozen=True)
class LiveFallback:
    """At booking, ``name``'s calendar could not be read (``cause``): the booking used its
    busy time stored at ``stored_at`` (None: never read), shown in ``zone``."""

    name: str
    calendar: str
    cause: str
    stored_at: datetime | None
    zone: str


def live_fallbacks(
    s: Session, req: SchedulingRequest, booking: Booking | None
) -> list[LiveFallback]:
    """The calendars whose stored busy time stood in for a live read when ``booking`` was
    made (its audit entries), oldest first; none without a booking."""
    if booking is None:
        return []
    rows = s.scalars(
        select(AuditLog)
        .where(
            AuditLog.object_type == "request",
            AuditLog.object_id == str(req.id),
            AuditLog.action == LIVE_FALLBACK,
        )
        .order_by(AuditLog.id)
    )
    out = []
    for row in rows:
        d = row.detail or {}
        if d.get("booking") != booking.id:
            continue
        stored = d.get("stored_at")
        out.append(
            LiveFallback(
                str(d.get("name", "")),
                shown_error(str(d.get("calendar", ""))),
                shown_error(str(d.get("cause", ""))),
                datetime.fromisoformat(stored) if isinstance(stored, str) else None,
                str(d.get("zone") or "UTC"),
            )
        )
    return out


def _requeue(
    s: Session,
    model: type[JobRequest] | type[OutboxMail],
    req: SchedulingRequest,
    row_id: int,
    now: datetime,
) -> JobRequest | OutboxMail:
    """The failed row of ``req``, put back in the queue: due now, no attempt, no error."""
    what = "job" if model is JobRequest else "mail"
    row = cast("JobRequest | OutboxMail | None", s.get(model, row_id))
    if row is None or row.request_id != req.id:
        raise NotRetryable(what, row_id, None)
    if row.status != "failed":
        raise NotRetryable(what, row_id, row.status)
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    row.last_error = row.locked_until = row.locked_by = None
    return row


def retry_job(s: Session, req: SchedulingRequest, job_id: int, who: Actor, now: datetime) -> None:
    """Queue a failed job of ``req`` again, due now, its attempts reset. Commits."""
    job = _requeue(s, JobRequest, req, job_id, now)
    assert isinstance(job, JobRequest)
    job.started_at = job.finished_at = None
    record_by(s, now, who, "job_retried", "request", req.id, job=job.id, kind=job.kind)
    s.commit()


def resend_mail(
    s: Session, req: SchedulingRequest, mail_id: int, who: Actor, now: datetime
) -> OutboxMail:
    """Queue a failed mail of ``req`` again, due now, its attempts reset (the same
    ``Message-ID``). Commits."""
    mail = _requeue(s, OutboxMail, req, mail_id, now)
    assert isinstance(mail, OutboxMail)
    record_by(s, now, who, "mail_resent", "request", req.id, mail=mail.id, to=mail.to_addr)
    s.commit()
    return mail


def failed_counts(s: Session) -> dict[str, int]:
    """How many jobs and mails failed for good (for /healthz), by the status indexes."""
    return {
        "failed_jobs": int(
            s.scalar(
                select(func.count()).select_from(JobRequest).where(JobRequest.status == "failed")
            )
            or 0
        ),
        "failed_mails": int(
            s.scalar(
                select(func.count()).select_from(OutboxMail).where(OutboxMail.status == "failed")
            )
            or 0
        ),
    }
