"""The worker keeps no process-wide state: its scheduler runs its own methods, on its clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED

import web.domain.worker as worker_module
from integrations.mail import MemoryMailer
from tests.fixtures.webapp import NOW
from web.domain.jobs import enqueue
from web.domain.worker import Worker, periodic
from web.store.db import Database
from web.store.models import JobRequest, WorkerHeartbeat


class _Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_there_is_no_current_worker_variable():
    assert not hasattr(worker_module, "_CURRENT")
    with pytest.raises(RuntimeError, match="runs only on a worker's executor"):
        periodic("poll")


def test_started_is_the_given_clock_or_the_workers_clock(app: Any, db: Database):
    settings = app.extensions["panelslot.settings"]
    assert Worker(settings, db, MemoryMailer(), clock=_Clock(NOW)).started == NOW
    given = NOW - timedelta(days=3)
    assert Worker(settings, db, MemoryMailer(), started=given).started == given


def test_enqueue_stamps_the_callers_now(db: Database):
    with db.session() as s:
        row = enqueue(s, "sync_all", now=NOW)
        s.flush()
        assert row.created_at == NOW
    with db.session() as s:
        assert s.get(JobRequest, row.id).created_at == NOW


def test_a_stored_periodic_job_runs_on_the_worker_that_owns_the_scheduler(app: Any, db: Database):
    clock = _Clock(NOW)
    w = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(), clock=clock)
    ran = threading.Event()
    w.start(blocking=False)
    try:
        later = NOW + timedelta(hours=1)
        clock.at = later
        w.scheduler.add_listener(
            lambda event: ran.set() if event.job_id == "job_heartbeat" else None,
            EVENT_JOB_EXECUTED,
        )
        w.scheduler.modify_job("job_heartbeat", next_run_time=datetime.now(UTC))
        assert ran.wait(timeout=30), "the heartbeat job did not run"
    finally:
        w.shutdown()
    with db.session() as s:
        beat = s.get(WorkerHeartbeat, w.name)
        assert beat is not None and beat.beat_at == later and beat.started_at == NOW
