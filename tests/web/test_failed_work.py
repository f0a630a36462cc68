"""Jobs and mails that failed for good are shown on their request's page, with Retry /
Resend (POST, CSRF, the request's coordinator only, audited) that queue them again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from integrations.mail import MemoryMailer, SMTPMailer
from tests.fixtures.booking import book_option, send_request
from tests.fixtures.webapp import NOW, csrf_of, login
from tests.integrations.smtp_server import SMTPTestServer
from web.domain.failures import shown_error
from web.domain.jobs import claim_next
from web.domain.leases import Holdings
from web.domain.outbox import deliver_due, message_id
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import AuditLog, JobRequest, OutboxMail

CANDIDATE = "priya@example.org"
SENDER = "jobs@acme.example"


def _booked(db: Database) -> int:
    sent = send_request(db, email=CANDIDATE)
    book_option(db, sent)
    return sent.request_id


def _writeback_failed_for_good(app: Any, db: Database, rid: int) -> int:
    """Every worker that claims the request's write-back dies; a live worker then finds
    its last lease run out and fails it (the real claim and expiry code)."""
    with db.session() as s:
        job = s.scalar(select(JobRequest).where(JobRequest.request_id == rid))
        assert job is not None and job.kind == "calendar_writeback"
        job_id = job.id
    settings = app.extensions["panelslot.settings"]
    at = NOW
    for n in range(int(settings.server.job_max_attempts)):
        with db.session() as s:
            assert claim_next(s, at, holdings=Holdings(f"dies-{n}", 30)) is not None
        at += timedelta(seconds=31)
    live = Worker(settings, db, MemoryMailer(), name="live", clock=lambda: at)
    assert live.run_jobs() == 0
    with db.session() as s:
        row = s.get(JobRequest, job_id)
        assert row is not None and row.status == "failed"
    return job_id


def _retry_form(page: str, rid: int, job_id: int) -> str:
    action = f'action="/requests/{rid}/jobs/{job_id}/retry"'
    assert action in page, "no Retry button for the failed job"
    return csrf_of(page[page.index(action) :])


def test_a_failed_writeback_is_shown_and_retried_by_its_coordinator(
    app: Any, signed_in: Any, db: Database
) -> None:
    rid = _booked(db)
    job_id = _writeback_failed_for_good(app, db, rid)
    page = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Writing the interview to the interviewers&#39; calendars failed after 5 attempts" in (
        page
    )
    assert "LeaseExpired: its worker (dies-4) stopped answering" in page
    token = _retry_form(page, rid, job_id)

    resp = signed_in.post(f"/requests/{rid}/jobs/{job_id}/retry", data={"csrf_token": token})
    assert resp.status_code == 302
    with db.session() as s:
        job = s.get(JobRequest, job_id)
        assert job is not None and (job.status, job.attempts, job.last_error) == (
            "pending",
            0,
            None,
        )
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "job_retried"))
        assert audit is not None and audit.object_id == str(rid)
        assert audit.actor == "coordinator:ann@example.com" and audit.detail["job"] == job_id
    page = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert f"/jobs/{job_id}/retry" not in page

    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(), clock=lambda: NOW)
    assert worker.run_jobs() == 1
    with db.session() as s:
        job = s.get(JobRequest, job_id)
        assert job is not None and job.status == "done" and job.attempts == 1
    again = signed_in.post(f"/requests/{rid}/jobs/{job_id}/retry", data={"csrf_token": token})
    assert again.status_code == 302  # already done: told so, nothing queued
    with db.session() as s:
        assert s.get(JobRequest, job_id).status == "done"  # type: ignore[union-attr]


def test_only_the_requests_coordinator_may_retry_and_only_with_csrf(
    app: Any, client: Any, company: Any, db: Database
) -> None:
    rid = _booked(db)
    job_id = _writeback_failed_for_good(app, db, rid)
    assert login(client, "zed@example.com").status_code == 302
    token = csrf_of(client.get("/requests").get_data(as_text=True))
    resp = client.post(f"/requests/{rid}/jobs/{job_id}/retry", data={"csrf_token": token})
    assert resp.status_code == 404
    client.get("/logout")
    assert login(client).status_code == 302
    assert client.post(f"/requests/{rid}/jobs/{job_id}/retry").status_code == 400
    other = send_request(db, candidate="Other One", email="other@example.org")
    token = csrf_of(client.get(f"/requests/{other.request_id}").get_data(as_text=True))
    resp = client.post(
        f"/requests/{other.request_id}/jobs/{job_id}/retry", data={"csrf_token": token}
    )
    assert resp.status_code == 404  # the job is not that request's
    with db.session() as s:
        job = s.get(JobRequest, job_id)
        assert job is not None and job.status == "failed"
        assert s.scalar(select(AuditLog).where(AuditLog.action == "job_retried")) is None


def test_a_refused_mail_is_resent_with_the_same_message_id(signed_in: Any, db: Database) -> None:
    rid = _booked(db)
    with SMTPTestServer(refuse=(CANDIDATE,)) as picky:
        mailer = SMTPMailer(picky.host, picky.port, security="none", timeout=5, sender=SENDER)
        deliver_due(db, mailer, NOW)
    with db.session() as s:
        mail = s.scalar(
            select(OutboxMail)
            .where(OutboxMail.to_addr == CANDIDATE, OutboxMail.status == "failed")
            .order_by(OutboxMail.id)
            .limit(1)
        )
        assert mail is not None and "550" in (mail.last_error or "")
        mail_id, first_id = mail.id, message_id(mail)
    page = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert f"A mail to {CANDIDATE}" in page and "could not be delivered" in page
    action = f'action="/requests/{rid}/mails/{mail_id}/resend"'
    assert action in page
    token = csrf_of(page[page.index(action) :])
    resp = signed_in.post(f"/requests/{rid}/mails/{mail_id}/resend", data={"csrf_token": token})
    assert resp.status_code == 302
    with db.session() as s:
        mail = s.get(OutboxMail, mail_id)
        assert mail is not None and (mail.status, mail.attempts) == ("pending", 0)
        assert s.scalar(select(AuditLog).where(AuditLog.action == "mail_resent")) is not None
    with SMTPTestServer() as fine:
        deliver_due(
            db, SMTPMailer(fine.host, fine.port, security="none", timeout=5, sender=SENDER), NOW
        )
        got = [m.message for m in fine.messages if CANDIDATE in m.message["To"]]
    assert got and {m["Message-ID"] for m in got} >= {first_id}
    with db.session() as s:
        assert s.get(OutboxMail, mail_id).status == "sent"  # type: ignore[union-attr]


def test_errors_on_the_page_hide_feed_paths_credentials_and_tokens(
    signed_in: Any, db: Database
) -> None:
    rid = _booked(db)
    secret = (
        "CalDAVError: https://ann:hunter2@dav.example/cal/private-8f3a9c/events.ics?key=s3cr3t"
        " password=hunter2 answered 500; see /c/abcdefghijklmnop"
    )
    with db.session() as s:
        job = s.scalar(select(JobRequest).where(JobRequest.request_id == rid))
        assert job is not None
        job.status, job.attempts, job.last_error = "failed", 5, secret
        mail = s.scalar(select(OutboxMail).where(OutboxMail.request_id == rid))
        assert mail is not None
        mail.status, mail.last_error = "failed", secret
        s.commit()
    page = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    for leak in ("hunter2", "private-8f3a9c", "s3cr3t", "abcdefghijklmnop"):
        assert leak not in page
    assert "https://***@dav.example/.../events.ics?..." in page
    assert shown_error("x" * 1000).endswith("…") and len(shown_error("x" * 1000)) == 300


def test_healthz_counts_failed_jobs_and_mails(client: Any, company: Any, db: Database) -> None:
    rid = _booked(db)
    assert client.get("/healthz").get_json()["failed_jobs"] == 0
    with db.session() as s:
        job = s.scalar(select(JobRequest).where(JobRequest.request_id == rid))
        assert job is not None
        job.status = "failed"
        for mail in s.scalars(select(OutboxMail).where(OutboxMail.request_id == rid).limit(2)):
            mail.status = "failed"
        s.commit()
    body = client.get("/healthz").get_json()
    assert body["failed_jobs"] == 1 and body["failed_mails"] == 2
