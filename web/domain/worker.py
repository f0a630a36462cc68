"""The job worker: the one APScheduler 3 process (sync, mail delivery, expiry, heartbeat).

APScheduler must not share a job store between schedulers and does not see
jobs written by another process, so web processes never schedule anything:
they insert ``job_requests`` rows (and ``outbox_mails`` rows) that this worker
polls. The scheduler's own job store lives in the same database
(``apscheduler_jobs``), so the periodic jobs survive restarts.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.errors import MailError
from integrations.mail import (
    PASSWORD_VARIABLE,
    USERNAME_VARIABLE,
    Mailer,
    OutgoingMail,
    RetryPolicy,
    make_mailer,
    retry_at,
)
from web.domain import calsync, services
from web.domain.jobs import claim_next
from web.store.db import Database, utcnow
from web.store.models import Interviewer, JobRequest, OutboxMail, WorkerHeartbeat
from web.store.settings import AppSettings

log = logging.getLogger(__name__)


def build_mailer(settings: AppSettings, environ: Mapping[str, str] | None = None) -> Mailer:
    """The sender named by ``mail.sender`` (smtp, file or none), through the one factory;
    SMTP credentials come from the environment only. ``none`` drops mail (keeps nothing)."""
    env = os.environ if environ is None else environ
    return make_mailer(
        settings.mail.sender,
        from_address=settings.mail.from_address,
        outbox_dir=settings.mail.outbox_dir,
        smtp_host=settings.mail.smtp_host,
        smtp_port=int(settings.mail.smtp_port),
        smtp_security=settings.mail.smtp_security,
        smtp_username=settings.mail.smtp_username or env.get(USERNAME_VARIABLE, ""),
        smtp_password=env.get(PASSWORD_VARIABLE, ""),
    )


def outgoing(row: OutboxMail) -> OutgoingMail:
    stamp = int(row.created_at.timestamp())
    return OutgoingMail(
        to=(row.to_addr,),
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        ics=row.ics.encode("utf-8") if row.ics else None,
        ics_method=row.ics_method or "REQUEST",
        message_id=f"<panelslot-outbox-{row.id}-{stamp}@panelslot.local>",
    )


def deliver_due(
    db: Database, mailer: Mailer, now: datetime, *, max_attempts: int = 8, batch: int = 50
) -> tuple[int, int]:
    """Send due outbox mail, one transaction per mail; returns (sent, failed attempts)."""
    policy = RetryPolicy(max_attempts=max_attempts)
    sent = failed = 0
    for _ in range(batch):
        with db.session() as s:
            q = (
                select(OutboxMail)
                .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
                .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
                .limit(1)
            )
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = s.scalar(q)
            if row is None:
                break
            row.attempts += 1
            try:
                mailer.send(outgoing(row))
            except MailError as exc:
                failed += 1
                row.last_error = str(exc)
                when = retry_at(exc, row.attempts, now, policy=policy)
                if when is None:
                    row.status = "failed"
                else:
                    row.next_attempt_at = when
                log.warning("mail %s to %s not delivered: %s", row.id, row.to_addr, exc)
            else:
                sent += 1
                row.status = "sent"
                row.sent_at = now
                row.last_error = None
    return sent, failed


def beat(db: Database, name: str, now: datetime, *, started: datetime | None = None) -> None:
    with db.session() as s:
        row = s.get(WorkerHeartbeat, name)
        if row is None:
            row = WorkerHeartbeat(name=name, started_at=started or now)
            s.add(row)
        row.host = socket.gethostname()[:200]
        row.pid = os.getpid()
        row.beat_at = now


JobHandler = Callable[[Session, JobRequest, datetime], str]


def _job_sync_interviewer(s: Session, job: JobRequest, now: datetime) -> str:
    who = s.scalar(
        select(Interviewer)
        .where(Interviewer.id == job.payload.get("interviewer_id"))
        .options(selectinload(Interviewer.calendars))
    )
    if who is None:
        return "interviewer not found"
    results = calsync.sync_interviewer(s, who, now, commit=True)
    return ", ".join(f"{r.label}: {'ok' if r.ok else r.error}" for r in results) or "no calendars"


def _job_sync_all(s: Session, job: JobRequest, now: datetime) -> str:
    results = calsync.sync_all(s, now, commit=True)
    return f"{sum(r.ok for r in results)} of {len(results)} calendars synced"


def _job_expire(s: Session, job: JobRequest, now: datetime) -> str:
    return f"{services.expire_requests(s, now)} request(s) expired"


def _booking() -> Any:
    from web.domain import booking  # imported late: web.domain.booking imports web.domain.jobs

    return booking


HANDLERS: dict[str, JobHandler] = {
    "sync_interviewer": _job_sync_interviewer,
    "sync_all": _job_sync_all,
    "expire_requests": _job_expire,
    "deliver_mail": lambda s, job, now: "mail is delivered on every poll",
    "calendar_writeback": lambda s, job, now: _booking().job_writeback(s, job, now),
    "refresh_options": lambda s, job, now: _booking().job_refresh_options(s, job, now),
}


@dataclass
class Worker:
    settings: AppSettings
    db: Database
    mailer: Mailer
    name: str = field(default_factory=lambda: f"worker@{socket.gethostname()}:{os.getpid()}")
    clock: Callable[[], datetime] = utcnow
    started: datetime | None = None  # None: the worker's clock at construction
    scheduler: Any = None

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.clock()
        calsync.configure(calsync.SyncConfig.from_settings(self.settings))

    def heartbeat(self) -> None:
        beat(self.db, self.name, self.clock(), started=self.started)

    def run_jobs(self, limit: int = 20) -> int:
        """Run pending job rows; each in its own transaction. Returns how many ran."""
        done = 0
        for _ in range(limit):
            with self.db.session() as s:
                job = claim_next(s, self.clock())
                if job is None:
                    break
                job_id = job.id
            with self.db.session() as s:
                job = s.get(JobRequest, job_id)
                assert job is not None
                handler = HANDLERS.get(job.kind)
                try:
                    if handler is None:
                        raise ValueError(f"unknown job kind {job.kind!r}")
                    note = handler(s, job, self.clock())
                except Exception as exc:  # noqa: BLE001 - one bad job must not stop the worker
                    s.rollback()
                    job = s.get(JobRequest, job_id)
                    assert job is not None
                    job.status = "failed"
                    job.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("job %s (%s) failed", job_id, job.kind)
                else:
                    job.status = "done"
                    job.last_error = note[:2000] if note else None
                job.finished_at = self.clock()
            done += 1
        return done

    def deliver(self) -> tuple[int, int]:
        return deliver_due(
            self.db,
            self.mailer,
            self.clock(),
            max_attempts=int(self.settings.mail.max_attempts),
        )

    def poll(self) -> None:
        """One round: job rows, then due mail."""
        self.run_jobs()
        self.deliver()

    def expire(self) -> None:
        with self.db.session() as s:
            services.expire_requests(s, self.clock())

    def sync(self) -> None:
        with self.db.session() as s:
            calsync.sync_all(s, self.clock(), commit=True)

    # ---- APScheduler -----------------------------------------------------

    def start(self, *, blocking: bool) -> None:
        """Run the scheduler (blocking for `panelslot worker`, background for the demo)."""
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler

        cls = BlockingScheduler if blocking else BackgroundScheduler
        sched = cls(
            jobstores={"default": SQLAlchemyJobStore(engine=self.db.engine)},
            executors={"default": WorkerExecutor(self)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone="UTC",
        )
        poll = float(self.settings.server.worker_poll_seconds)
        for method, seconds in (
            ("heartbeat", 15),
            ("poll", poll),
            ("expire", 300),
            ("sync", float(self.settings.sync.interval_minutes) * 60),
        ):
            sched.add_job(
                "web.domain.worker:periodic",
                "interval",
                args=(method,),
                seconds=seconds,
                id=f"job_{method}",
                replace_existing=True,
            )
        self.scheduler = sched
        self.heartbeat()
        sched.start()

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run_periodic(self, method: str) -> None:
        """One periodic job (``heartbeat``, ``poll``, ``expire`` or ``sync``); a failure is
        logged and the next run tries again."""
        if method not in PERIODIC:
            raise ValueError(f"unknown periodic job {method!r}")
        try:
            getattr(self, method)()
        except Exception:  # noqa: BLE001 - logged; the next run tries again
            log.exception("worker job %s failed", method)


PERIODIC = ("heartbeat", "poll", "expire", "sync")


class WorkerExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Runs the stored periodic jobs on the worker that owns this scheduler.

    A stored job names :func:`periodic` and the method (its argument), since the job store
    keeps only references and arguments it can pickle. The job the scheduler hands over is
    read afresh from the store for this run; its ``func`` becomes this worker's
    :meth:`Worker.run_periodic` (the store writes back ``func_ref``, never ``func``)."""

    def __init__(self, worker: Worker, max_workers: int = 2) -> None:
        super().__init__(max_workers)
        self.worker = worker

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        job.func = self.worker.run_periodic
        super().submit_job(job, run_times)


def periodic(method: str) -> None:
    """The stored reference of every periodic job; the worker's executor runs the worker's
    own method instead (:class:`WorkerExecutor`), so there is no process-wide worker."""
    raise RuntimeError(f"periodic job {method!r} runs only on a worker's executor")
