"""PostgreSQL LISTEN/NOTIFY: work queued by another process wakes an idle worker at once,
long before its poll (30 s here); SQLite keeps polling."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from integrations.mail import MemoryMailer, OutgoingMail
from web.domain.jobs import enqueue
from web.domain.worker import Worker
from web.store.db import Database, utcnow
from web.store.models import JobRequest, OutboxMail
from web.store.queue_notify import CHANNEL

WAIT = 20.0  # a generous bound, well inside the 30 s poll the worker would otherwise wait


class SignallingMailer(MemoryMailer):
    """Keeps mail in memory and sets ``delivered`` when one is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered = threading.Event()

    def send(self, message: OutgoingMail) -> None:
        super().send(message)
        self.delivered.set()


def _eventually(check: Callable[[], bool], timeout: float = WAIT) -> bool:
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if check():
            return True
        pause.wait(0.05)
    return check()


def _job_done(db: Database, job_id: int) -> bool:
    with db.session() as s:
        job = s.get(JobRequest, job_id)
        return job is not None and job.status == "done"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_queued_work_wakes_an_idle_worker_before_its_poll(
    app: Any, db: Database, database_url: str
) -> None:
    settings = app.extensions["panelslot.settings"].updated({"server.worker_poll_seconds": 30})
    mailer = SignallingMailer()
    worker = Worker(settings, db, mailer, name="listening-worker")
    assert worker.listener is not None
    web = Database(database_url)  # the web process: its own engine and connections
    worker.start(blocking=False)
    try:
        assert worker.listener.listening.wait(WAIT)
        assert worker.idle["jobs"].wait(WAIT) and worker.idle["mail"].wait(WAIT)
        with web.session() as s:  # both loops now wait up to 30 s for their next poll
            job = enqueue(s, "ping", now=utcnow())
            s.add(OutboxMail(to_addr="a@example.org", subject="Hello", text_body="Hi"))
            s.flush()
            job_id = job.id
        assert mailer.delivered.wait(WAIT), "the mail waited for the poll"
        assert _eventually(lambda: _job_done(db, job_id)), "the job waited for the poll"
        assert worker.listener.woken["jobs"] >= 1 and worker.listener.woken["mail"] >= 1
        assert [m.to for m in mailer.sent] == [("a@example.org",)]
    finally:
        worker.shutdown()
        web.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_notifications_come_on_commit_only_and_name_the_schema(
    app: Any, db: Database, database_url: str
) -> None:
    listen = db.engine.raw_connection()
    try:
        conn = listen.driver_connection
        conn.rollback()
        conn.autocommit = True
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        conn.execute(f"LISTEN {CHANNEL}")
        web = Database(database_url)
        with web.session() as s:
            enqueue(s, "ping", now=utcnow())
            s.rollback()  # a job that was never committed wakes nobody
        assert list(conn.notifies(timeout=0.5)) == []
        with web.session() as s:
            enqueue(s, "ping", now=utcnow())
            enqueue(s, "ping", now=utcnow())
        notes = [n.payload for n in conn.notifies(timeout=5, stop_after=1)]
        assert notes == [f"{schema}:jobs"]  # one per transaction and queue
        web.dispose()
    finally:
        listen.invalidate()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_keeps_polling(app: Any, db: Database) -> None:
    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(), name="sqlite")
    assert worker.listener is None  # no notifications: the poll interval is the only wake-up
    with db.session() as s:
        enqueue(s, "ping", now=utcnow())  # the flush hook is not installed: no pg_notify
    assert worker.run_jobs() == 1
