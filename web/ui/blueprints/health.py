"""GET /healthz: database reachable, the job worker alive, and not stuck.

Besides the newest heartbeat, the body gives the age of the oldest due job and mail
(``oldest_due_job_seconds``, ``oldest_due_mail_seconds``, present when something is due): a
worker that beats but no longer takes work shows there. ``failed_jobs`` and ``failed_mails``
count the work that failed for good (each shown, with Retry / Resend, on its request page)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from web.domain.failures import failed_counts
from web.domain.leases import due_job, due_mail
from web.store.db import UTCDateTime
from web.store.models import JobRequest, OutboxMail, WorkerHeartbeat
from web.ui.helpers import db_session, get_settings, now

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    body: dict[str, object] = {}
    ok = True
    s = db_session()
    try:
        s.execute(text("SELECT 1"))
        body["database"] = "ok"
    except SQLAlchemyError:
        log.exception("health check: the database did not answer")
        s.rollback()
        body["database"] = "unreachable"
        body["worker"] = "unknown"
        return jsonify(status="down", **body), 503
    beat = s.scalar(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(1))
    at = now()
    stale = timedelta(seconds=float(get_settings().server.worker_stale_seconds))
    if beat is None:
        body["worker"] = "never seen"
        ok = False
    else:
        age = (at - beat.beat_at).total_seconds()
        body["worker_last_beat_seconds_ago"] = round(age, 1)
        if at - beat.beat_at > stale:
            body["worker"] = "stale"
            ok = False
        else:
            body["worker"] = "ok"
    body.update(_oldest_due(s, at))
    body.update(failed_counts(s))  # shown, not a reason for 503: each is on its request page
    return jsonify(status="ok" if ok else "degraded", **body), 200 if ok else 503


def _oldest_due(s: Session, at: datetime) -> dict[str, float]:
    """Seconds since the oldest due job and mail became due (keys only when one is)."""
    job_due = func.coalesce(JobRequest.next_attempt_at, JobRequest.created_at)
    found = {
        "oldest_due_job_seconds": s.scalar(
            select(func.min(job_due, type_=UTCDateTime())).where(due_job(at))
        ),
        "oldest_due_mail_seconds": s.scalar(
            select(func.min(OutboxMail.next_attempt_at, type_=UTCDateTime())).where(due_mail(at))
        ),
    }
    return {
        key: round(max(0.0, (at - when).total_seconds()), 1)
        for key, when in found.items()
        if when is not None
    }
