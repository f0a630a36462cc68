"""The job workers: any number share the queue; one of them (the ticker) runs APScheduler 3.

APScheduler must not share a job store between schedulers and does not see jobs written by
another process, so web processes never schedule anything: they insert ``job_requests`` rows
(and ``outbox_mails`` rows) that every worker claims on a lease (:mod:`web.domain.leases`).
Jobs and mail run in separate threads, so a slow SMTP server never holds up a job. The
periodic schedule (sync, expiry) runs only on the elected ticker (:mod:`web.domain.ticker`);
its job store lives in the same database (``apscheduler_jobs``) and survives restarts.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.feed import FeedSnapshots
from integrations.errors import IntegrationError
from integrations.mail import PASSWORD_VARIABLE, USERNAME_VARIABLE, Mailer, make_mailer
from web.domain import services
from web.domain.jobs import claim_next, job_failed
from web.domain.leases import Holdings
from web.domain.outbox import deliver_due, outgoing
from web.domain.sync.config import SyncConfig
from web.domain.sync.sync import sync_all, sync_interviewer
from web.domain.ticker import TickerLock, run_loop, start_thread
from web.domain.usecases.api_tokens import prune_idempotency
from web.domain.usecases.scheduling_requests import expire_drafts
from web.domain.wakeup import QueueListener
from web.store.db import Database, utcnow
from web.store.models import Interviewer, JobRequest, WorkerHeartbeat
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


def beat(db: Database, name: str, now: datetime, *, started: datetime | None = None) -> None:
    with db.session() as s:
        row = s.get(WorkerHeartbeat, name)
        if row is None:
            row = WorkerHeartbeat(name=name, started_at=started or now)
            s.add(row)
        row.host = socket.gethostname()[:200]
        row.pid = os.getpid()
        row.beat_at = now


JobHandler = Callable[[Session, JobRequest, datetime, SyncConfig], str]


def _job_sync_interviewer(s: Session, job: JobRequest, now: datetime, cfg: SyncConfig) -> str:
    who = s.scalar(
        select(Interviewer)
        .where(Interviewer.id == job.payload.get("interviewer_id"))
        .options(selectinload(Interviewer.calendars))
    )
    if who is None:
        return "interviewer not found"
    results = sync_interviewer(s, who, now, cfg, commit=True)
    return ", ".join(f"{r.label}: {'ok' if r.ok else r.error}" for r in results) or "no calendars"


def _job_sync_all(s: Session, job: JobRequest, now: datetime, cfg: SyncConfig) -> str:
    results = sync_all(s, now, cfg, commit=True)
    return f"{sum(r.ok for r in results)} of {len(results)} calendars synced"


def _job_expire(s: Session, job: JobRequest, now: datetime, cfg: SyncConfig) -> str:
    return f"{services.expire_requests(s, now)} request(s) expired"


def _booking() -> Any:
    from web.domain import booking  # imported late: web.domain.booking imports web.domain.jobs

    return booking


# the sync job kinds, and whose calendars each synced (None: everyone's)
SYNC_KINDS: dict[str, Callable[[dict[str, Any]], Sequence[int] | None]] = {
    "sync_interviewer": lambda p: [int(p.get("interviewer_id") or 0)],
    "sync_all": lambda p: None,
}

HANDLERS: dict[str, JobHandler] = {
    "sync_interviewer": _job_sync_interviewer,
    "sync_all": _job_sync_all,
    "expire_requests": _job_expire,
    "deliver_mail": lambda s, job, now, cfg: "mail is delivered on every poll",
    "calendar_writeback": lambda s, job, now, cfg: _booking().job_writeback(
        s, job, now, _booking().calendar_writers(cfg)
    ),
    "refresh_options": lambda s, job, now, cfg: _booking().job_refresh_options(s, job, now),
    "ping": lambda s, job, now, cfg: _ping(job),
}

__all__ = ["HANDLERS", "Worker", "build_mailer", "deliver_due", "outgoing"]


def _ping(job: JobRequest) -> str:
    """A probe job (benchmarks, fault tests): holds its worker ``hold_seconds`` (at most 30)."""
    hold = min(max(float(job.payload.get("hold_seconds", 0) or 0), 0.0), 30.0)
    if hold:
        time.sleep(hold)
    return "pong"


@dataclass
class Worker:
    settings: AppSettings
    db: Database
    mailer: Mailer
    name: str = field(default_factory=lambda: f"worker@{socket.gethostname()}:{os.getpid()}")
    clock: Callable[[], datetime] = utcnow
    started: datetime | None = None  # None: the worker's clock at construction
    scheduler: Any = None
    sync_config: SyncConfig | None = None  # None: from the settings (with its own feed cache)
    grace_seconds: float = 3.0  # on shutdown, how long running work may still finish
    holdings: Holdings = field(init=False)
    ticker: TickerLock = field(init=False)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _wake: dict[str, threading.Event] = field(init=False, default_factory=dict)
    idle: dict[str, threading.Event] = field(init=False, default_factory=dict)  # loop waits
    listener: QueueListener | None = field(init=False, default=None)  # PostgreSQL only
    _threads: list[threading.Thread] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.clock()
        if self.sync_config is None:
            self.sync_config = SyncConfig.from_settings(self.settings, snapshots=FeedSnapshots())
        self.holdings = Holdings(self.name, float(self.settings.server.worker_lease_seconds))
        self.ticker = TickerLock(self.db)
        self._wake = {"jobs": threading.Event(), "mail": threading.Event()}
        self.idle = {"jobs": threading.Event(), "mail": threading.Event()}
        if self.db.engine.dialect.name == "postgresql":
            self.listener = QueueListener(self.db, self._wake, self._stop)

    @property
    def config(self) -> SyncConfig:
        """How this worker reads calendars (built once, at construction)."""
        assert self.sync_config is not None
        return self.sync_config

    @property
    def max_attempts(self) -> int:
        return int(self.settings.server.job_max_attempts)

    def heartbeat(self) -> None:
        beat(self.db, self.name, self.clock(), started=self.started)

    def run_jobs(self, limit: int = 20) -> int:
        """Run due job rows, each claimed on a lease and run in its own transaction.
        Returns how many ran."""
        done = 0
        for _ in range(limit):
            with self.db.session(immediate=True) as s:
                job = claim_next(
                    s, self.clock(), holdings=self.holdings, max_attempts=self.max_attempts
                )
                if job is None:
                    break
                job_id = job.id
            try:
                self._run_claimed(job_id)
            finally:
                self.holdings.drop(JobRequest, job_id)
            done += 1
        return done

    def _run_claimed(self, job_id: int) -> None:
        synced: Callable[[dict[str, Any]], Sequence[int] | None] | None = None
        who: Sequence[int] | None = ()
        with self.db.session() as s:
            job = s.get(JobRequest, job_id)
            assert job is not None
            handler = HANDLERS.get(job.kind)
            try:
                if handler is None:
                    raise LookupError(f"unknown job kind {job.kind!r}")
                note = handler(s, job, self.clock(), self.config)
            except Exception as exc:  # noqa: BLE001 - one bad job must not stop the worker
                s.rollback()
                job = s.get(JobRequest, job_id)
                assert job is not None
                log.exception("job %s (%s) failed", job_id, job.kind)
                job_failed(
                    job,
                    f"{type(exc).__name__}: {exc}",
                    self.clock(),
                    retry=handler is not None,
                    max_attempts=self.max_attempts,
                )
            else:
                job.status = "done"
                job.last_error = note[:2000] if note else None
                job.finished_at = self.clock()
                job.locked_until = job.locked_by = None
                synced = SYNC_KINDS.get(job.kind)
                who = synced(job.payload or {}) if synced else ()
        if synced is not None:
            self.repair(who)

    def repair(self, interviewer_ids: Sequence[int] | None) -> None:
        """After a sync: declines and new conflicts on booked sessions, repaired or brought
        to the coordinator (issue 13). A failure is logged; the next sync tries again."""
        from web.domain.repair.detect import check_after_sync

        policy = _booking().BookingPolicy.from_settings(self.settings, sync=self.config)
        writers = _booking().calendar_writers(self.config)
        try:
            for result in check_after_sync(self.db, self.clock(), policy, writers, interviewer_ids):
                log.info("repair: %s %s", result.action, result.reason or result.replacement)
        except (IntegrationError, SQLAlchemyError, _booking().BookingError) as exc:
            log.warning("repair after sync failed: %s: %s", type(exc).__name__, exc)

    def deliver(self, batch: int = 50) -> tuple[int, int]:
        return deliver_due(
            self.db,
            self.mailer,
            self.clock(),
            max_attempts=int(self.settings.mail.max_attempts),
            batch=batch,
            holdings=self.holdings,
            clock=self.clock,
        )

    def poll(self) -> None:
        """One round, in the calling thread: job rows, then due mail."""
        self.run_jobs()
        self.deliver()

    def expire(self) -> None:
        """Expire requests past their link's life, drafts never sent, and API
        Idempotency-Key responses older than a day."""
        days = int(self.settings.server.draft_expiry_days)
        with self.db.session() as s:
            services.expire_requests(s, self.clock())
            expire_drafts(s, self.clock(), days)
            prune_idempotency(s, self.clock())

    def sync(self) -> None:
        with self.db.session() as s:
            sync_all(s, self.clock(), self.config, commit=True)
        self.repair(None)
        self.read_replies()

    def read_replies(self, environ: Mapping[str, str] | None = None) -> None:
        """Interviewers' REPLY mails in the organiser's mailbox (when one is configured)."""
        from web.domain.repair.replies import imap_settings, repair_from_replies

        try:
            mailbox = imap_settings(self.settings.mail, os.environ if environ is None else environ)
            if mailbox is None:
                return
            policy = _booking().BookingPolicy.from_settings(self.settings, sync=self.config)
            for result in repair_from_replies(self.db, mailbox, self.clock(), policy):
                log.info("repair (iMIP): %s %s", result.action, result.reason or result.replacement)
        except (ValueError, IntegrationError, SQLAlchemyError, _booking().BookingError) as exc:
            log.warning("reading REPLY mails failed: %s: %s", type(exc).__name__, exc)

    def housekeep(self) -> int:
        """Heartbeat, renew this worker's leases, and keep (or take, or give up) the ticker."""
        self.heartbeat()
        with self.db.session() as s:
            self.holdings.renew(s, self.clock())
        leads = self.ticker.try_hold()
        if leads and self.scheduler is None and not self._stop.is_set():
            self._start_scheduler()
        elif not leads and self.scheduler is not None:
            log.warning("worker %s lost the ticker lock; its schedule stops", self.name)
            self._stop_scheduler()
        return 0

    # ---- running -----------------------------------------------------------

    def start(self, *, blocking: bool) -> None:
        """Run the loops (jobs, mail, housekeeping) and, if elected, the schedule; blocking
        for `panelslot worker` (until :meth:`request_stop`), background for the demo."""
        self._stop.clear()
        self.heartbeat()
        if self.ticker.try_hold():
            self._start_scheduler()
        poll = float(self.settings.server.worker_poll_seconds)
        every = min(5.0, max(0.2, float(self.settings.server.worker_lease_seconds) / 3))
        loops: list[tuple[str, float, Callable[[], int], threading.Event]] = [
            ("jobs", poll, lambda: self.run_jobs(limit=1), self._wake["jobs"]),
            ("mail", poll, lambda: self.deliver(batch=1)[0], self._wake["mail"]),
            ("housekeeping", every, self.housekeep, threading.Event()),
        ]
        for name, seconds, step, wake in loops:
            idle = self.idle.get(name)
            loop = functools.partial(run_loop, self._stop, wake, seconds, step, name, idle)
            self._threads.append(start_thread(loop, f"{self.name}-{name}"))
        if self.listener is not None:  # wake at once on NOTIFY; the poll is the fallback
            self._threads.append(start_thread(self.listener.run, f"{self.name}-listen"))
        if blocking:
            while not self._stop.wait(0.5):
                pass
            self.shutdown()

    def request_stop(self) -> None:
        """Ask a blocking :meth:`start` to shut down (safe in a signal handler)."""
        self._stop.set()
        for wake in self._wake.values():
            wake.set()

    def shutdown(self) -> None:
        """Stop: schedule first, then the loops (each may finish within ``grace_seconds``);
        work still running gives back its lease, and the ticker lock is let go."""
        self.request_stop()
        self._stop_scheduler()
        deadline = time.monotonic() + self.grace_seconds
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]
        with self.db.session() as s:
            released = self.holdings.release(s, self.clock())
        if released:
            log.warning("worker %s gave back %d claim(s) on shutdown", self.name, released)
        self.ticker.drop()

    def _start_scheduler(self) -> None:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        sched = BackgroundScheduler(
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
        sched.start()
        log.info("worker %s now runs the periodic schedule", self.name)

    def _stop_scheduler(self) -> None:
        sched, self.scheduler = self.scheduler, None
        if sched is not None and sched.running:
            sched.shutdown(wait=False)

    def run_periodic(self, method: str) -> None:
        """One periodic job (``heartbeat``, ``poll``, ``expire`` or ``sync``); a failure is
        logged and the next run tries again. ``poll`` wakes the loops when they run."""
        if method not in PERIODIC:
            raise ValueError(f"unknown periodic job {method!r}")
        try:
            if method == "poll" and self._threads:
                for wake in self._wake.values():
                    wake.set()
            else:
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
