"""Leases on jobs and mail: claims expire, attempts count, retries back off, failures show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from integrations.mail import MemoryMailer
from tests.fixtures.webapp import NOW
from web.domain import worker as worker_module
from web.domain.jobs import claim_next, enqueue
from web.domain.leases import Holdings
from web.domain.outbox import claim_mail, deliver_due, message_id
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import JobRequest, OutboxMail


class _Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> Any:
        return self.at


def _worker(app: Any, db: Database, clock: _Clock, name: str = "w1") -> Worker:
    return Worker(app.extensions["panelslot.settings"], db, MemoryMailer(), name=name, clock=clock)


def test_a_claim_carries_a_lease_and_a_dead_workers_job_returns_with_its_attempt(
    app: Any, db: Database
) -> None:
    with db.session() as s:
        enqueue(s, "ping", now=NOW)
    dead = Holdings("dead-worker", 60)
    with db.session() as s:
        job = claim_next(s, NOW, holdings=dead)
        assert job is not None and job.locked_by == "dead-worker"
        assert job.locked_until == NOW + timedelta(seconds=60) and job.attempts == 1
    clock = _Clock()
    live = _worker(app, db, clock)
    assert live.run_jobs() == 0  # the lease still holds
    clock.at = NOW + timedelta(seconds=61)
    assert live.run_jobs() == 1
    with db.session() as s:
        row = s.scalar(select(JobRequest))
        assert row is not None and row.status == "done" and row.attempts == 2
        assert row.locked_until is None and row.locked_by is None


def test_a_job_whose_lease_ran_out_too_often_fails_visibly(app: Any, db: Database) -> None:
    settings = app.extensions["panelslot.settings"]
    with db.session() as s:
        enqueue(s, "ping", now=NOW)
    at = NOW
    for n in range(int(settings.server.job_max_attempts)):
        with db.session() as s:
            assert claim_next(s, at, holdings=Holdings(f"dies-{n}", 30)) is not None
        at += timedelta(seconds=31)
    clock = _Clock()
    clock.at = at
    assert _worker(app, db, clock).run_jobs() == 0
    with db.session() as s:
        row = s.scalar(select(JobRequest))
        assert row is not None and row.status == "failed"
        assert "LeaseExpired" in (row.last_error or "") and "dies-4" in (row.last_error or "")


def test_a_failing_job_is_retried_with_backoff_then_fails_with_its_error(
    app: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(s: Any, job: Any, now: Any, cfg: Any) -> str:
        raise RuntimeError("the calendar server said no")

    monkeypatch.setitem(worker_module.HANDLERS, "ping", broken)
    with db.session() as s:
        enqueue(s, "ping", now=NOW)
    clock = _Clock()
    w = _worker(app, db, clock)
    waits = []
    for _ in range(int(app.extensions["panelslot.settings"].server.job_max_attempts)):
        assert w.run_jobs() == 1
        assert w.run_jobs() == 0  # not due again before the backoff
        with db.session() as s:
            row = s.scalar(select(JobRequest))
            assert row is not None
            if row.status == "failed":
                break
            assert row.status == "pending" and row.next_attempt_at is not None
            waits.append(row.next_attempt_at - clock.at)
            clock.at = row.next_attempt_at
    assert row.status == "failed" and "RuntimeError: the calendar server said no" in (
        row.last_error or ""
    )
    assert len(waits) == row.attempts - 1 and waits[-1] > waits[0]


def test_a_mail_whose_sender_died_is_sent_again_with_the_same_message_id(db: Database) -> None:
    with db.session() as s:
        s.add(
            OutboxMail(
                to_addr="c@example.com",
                subject="S",
                text_body="hi",
                created_at=NOW,
                next_attempt_at=NOW,
            )
        )
    with db.session() as s:  # claimed and committed: the attempt is on record before SMTP
        row = claim_mail(s, NOW, Holdings("dead", 30), max_attempts=8)
        assert row is not None
        first_id = message_id(row)
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row is not None and row.attempts == 1 and row.locked_by == "dead"
    mailer = MemoryMailer()
    assert deliver_due(db, mailer, NOW + timedelta(seconds=10)) == (0, 0)
    assert deliver_due(db, mailer, NOW + timedelta(seconds=31)) == (1, 0)
    assert [m.message_id for m in mailer.sent] == [first_id]
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row is not None and row.status == "sent" and row.attempts == 2


def test_shutdown_gives_claims_back(app: Any, db: Database) -> None:
    with db.session() as s:
        enqueue(s, "ping", now=NOW)
        s.add(
            OutboxMail(
                to_addr="c@example.com",
                subject="S",
                text_body="hi",
                created_at=NOW,
                next_attempt_at=NOW,
            )
        )
    clock = _Clock()
    w = _worker(app, db, clock)
    with db.session() as s:
        assert claim_next(s, NOW, holdings=w.holdings) is not None
        assert claim_mail(s, NOW, w.holdings, max_attempts=8) is not None
    w.shutdown()
    with db.session() as s:
        job = s.scalar(select(JobRequest))
        mail = s.scalar(select(OutboxMail))
        assert job is not None and job.status == "pending" and job.locked_by is None
        assert job.attempts == 0
        assert mail is not None and mail.locked_until is None and mail.attempts == 1
    assert _worker(app, db, clock, "w2").run_jobs() == 1


def test_healthz_shows_the_oldest_due_job_and_mail(app: Any, client: Any, db: Database) -> None:
    _worker(app, db, _Clock()).heartbeat()
    assert "oldest_due_job_seconds" not in client.get("/healthz").get_json()
    with db.session() as s:
        enqueue(s, "ping", now=NOW - timedelta(minutes=5))
        s.add(
            OutboxMail(
                to_addr="c@example.com",
                subject="S",
                text_body="hi",
                created_at=NOW,
                next_attempt_at=NOW - timedelta(seconds=90),
            )
        )
    body = client.get("/healthz").get_json()
    assert body["oldest_due_job_seconds"] == 300.0
    assert body["oldest_due_mail_seconds"] == 90.0
    assert body["worker"] == "ok"
