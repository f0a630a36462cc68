"""The worker: outbox delivery with retries, job rows, heartbeat, /healthz, APScheduler store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import inspect, select

from integrations.errors import MailError
from integrations.mail import MemoryMailer, OutgoingMail
from tests.fixtures.webapp import NOW
from web.domain.jobs import enqueue
from web.domain.worker import Worker, deliver_due
from web.store.db import Database
from web.store.models import JobRequest, OutboxMail


def _mail(db: Database, n: int = 1) -> None:
    with db.session() as s:
        for i in range(n):
            s.add(
                OutboxMail(
                    to_addr=f"c{i}@example.com",
                    subject=f"S{i}",
                    text_body="hello",
                    next_attempt_at=NOW,
                    created_at=NOW,
                )
            )


def test_delivers_pending_mail_once(db: Database) -> None:
    _mail(db, 3)
    mailer = MemoryMailer()
    assert deliver_due(db, mailer, NOW) == (3, 0)
    assert deliver_due(db, mailer, NOW) == (0, 0)
    assert sorted(m.subject for m in mailer.sent) == ["S0", "S1", "S2"]
    ids = {m.message_id for m in mailer.sent}
    assert len(ids) == 3 and all(i and i.startswith("<panelslot-outbox-") for i in ids)


def test_temporary_failure_is_retried_later(db: Database) -> None:
    _mail(db)
    mailer = MemoryMailer(fail_next=1)
    assert deliver_due(db, mailer, NOW) == (0, 1)
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row is not None and row.status == "pending" and row.attempts == 1
        assert row.next_attempt_at > NOW and row.last_error
        retry = row.next_attempt_at
    assert deliver_due(db, mailer, NOW + timedelta(seconds=1)) == (0, 0)  # not due yet
    assert deliver_due(db, mailer, retry) == (1, 0)


class _Refusing(MemoryMailer):
    def send(self, message: OutgoingMail) -> None:
        err = MailError("smtp://x: 550 no such user")
        err.permanent = True  # type: ignore[attr-defined]
        raise err


def test_permanent_failure_is_marked_failed_and_shown(db: Database) -> None:
    _mail(db)
    assert deliver_due(db, _Refusing(), NOW) == (0, 1)
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row is not None and row.status == "failed" and "550" in (row.last_error or "")


def test_gives_up_after_max_attempts(db: Database) -> None:
    _mail(db)
    mailer = MemoryMailer(fail_next=10)
    at = NOW
    for _ in range(3):
        deliver_due(db, mailer, at, max_attempts=3)
        at += timedelta(days=1)
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row is not None and row.status == "failed" and row.attempts == 3


def test_job_rows_run_once_and_failures_are_recorded(app: Any, db: Database) -> None:
    with db.session() as s:
        enqueue(s, "expire_requests", now=NOW, requested_by="test")
        enqueue(s, "sync_interviewer", {"interviewer_id": 99999}, now=NOW)
        s.add(JobRequest(kind="bogus", payload={}))
    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(), clock=lambda: NOW)
    assert worker.run_jobs() == 3
    assert worker.run_jobs() == 0
    with db.session() as s:
        rows = {j.kind: j for j in s.scalars(select(JobRequest))}
    assert (
        rows["expire_requests"].status == "done"
        and rows["expire_requests"].last_error == "0 request(s) expired"
    )
    assert rows["sync_interviewer"].last_error == "interviewer not found"
    assert rows["bogus"].status == "failed" and "unknown job kind" in (
        rows["bogus"].last_error or ""
    )


def test_unknown_job_kind_cannot_be_enqueued(db: Database) -> None:
    import pytest

    with db.session() as s, pytest.raises(ValueError, match="unknown job kind"):
        enqueue(s, "launch_rockets", now=NOW)


def test_healthz_reports_database_and_worker(app: Any, client: Any, db: Database) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {
        "status": "degraded",
        "database": "ok",
        "worker": "never seen",
        "failed_jobs": 0,
        "failed_mails": 0,
    }
    worker = Worker(
        app.extensions["panelslot.settings"],
        db,
        MemoryMailer(),
        clock=lambda: NOW - timedelta(seconds=30),
    )
    worker.heartbeat()
    body = client.get("/healthz").get_json()
    assert (
        body["status"] == "ok"
        and body["worker"] == "ok"
        and body["worker_last_beat_seconds_ago"] == 30.0
    )
    app.config["PANELSLOT_NOW"] = NOW + timedelta(minutes=10)
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["worker"] == "stale"


def test_scheduler_keeps_its_jobs_in_the_database(app: Any, db: Database) -> None:
    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer())
    worker.start(blocking=False)
    try:
        jobs = {j.id for j in worker.scheduler.get_jobs()}
        assert jobs == {"job_heartbeat", "job_poll", "job_expire", "job_sync"}
        assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
    finally:
        worker.shutdown()
    # a restarted worker replaces, not duplicates, its jobs
    again = Worker(app.extensions["panelslot.settings"], db, MemoryMailer())
    again.start(blocking=False)
    try:
        assert len(again.scheduler.get_jobs()) == 4
    finally:
        again.shutdown()
