"""`panelslot worker` as real processes: a tarpit SMTP server, SIGTERM, kill -9 of one of three.

Only counts and states are asserted, never how long anything took; each wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integrations.smtp_server import SMTPTestServer
from tests.integrations.tarpit import Tarpit
from web.store.db import Database, utcnow
from web.store.models import JobRequest, OutboxMail

ROOT = Path(__file__).resolve().parents[2]
TICKER_LINE = "now runs the periodic schedule"


def _env(url: str, smtp_port: int, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PANELSLOT_DATABASE_URL": url,
        "PANELSLOT_SECRET_KEY": "a-real-secret-for-the-worker-test-0123456789",
        "PANELSLOT_SERVER_PUBLIC_URL": "https://panelslot.test/",
        "PANELSLOT_SERVER_WORKER_POLL_SECONDS": "0.2",
        "PANELSLOT_SERVER_WORKER_LEASE_SECONDS": "3",
        "PANELSLOT_MAIL_SENDER": "smtp",
        "PANELSLOT_MAIL_SMTP_HOST": "127.0.0.1",
        "PANELSLOT_MAIL_SMTP_PORT": str(smtp_port),
        "PANELSLOT_MAIL_SMTP_SECURITY": "none",
        "PANELSLOT_MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    env.pop("PANELSLOT_CONFIG", None)
    return env


@contextmanager
def _workers(n: int, env: dict[str, str], tmp_path: Path) -> Iterator[list[Any]]:
    procs = []
    for i in range(n):
        log = (tmp_path / f"worker{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", "from web.cli import main; main()", "worker"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


def _seed(db: Database, jobs: int, mails: int, hold: float) -> None:
    now = utcnow()
    with db.session() as s:
        for i in range(mails):
            s.add(
                OutboxMail(
                    to_addr=f"c{i}@example.com",
                    subject=f"S{i}",
                    text_body="hello",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        for _ in range(jobs):
            s.add(JobRequest(kind="ping", payload={"hold_seconds": hold}, created_at=now))


def _count(db: Database, model: Any, **where: Any) -> int:
    with db.session() as s:
        q = select(func.count()).select_from(model)
        for key, value in where.items():
            q = q.where(getattr(model, key) == value)
        return int(s.scalar(q) or 0)


def test_a_tarpit_smtp_server_does_not_stop_jobs_and_sigterm_gives_the_mail_back(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    with Tarpit() as pit:
        _seed(db, jobs=0, mails=1, hold=0)
        with _workers(1, _env(database_url, pit.port, tmp_path), tmp_path) as (proc,):
            _wait(lambda: pit.accepted >= 1, 60, "the worker to connect to the tarpit")
            _seed(db, jobs=5, mails=0, hold=0)
            _wait(lambda: _count(db, JobRequest, status="done") == 5, 60, "the jobs to run")
            with db.session() as s:
                mail = s.scalar(select(OutboxMail))
                assert mail is not None and mail.status == "pending" and mail.locked_by
                first_lease = mail.locked_until
            _wait(lambda: _lease(db) != first_lease, 60, "the stuck mail's lease to be renewed")
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    with db.session() as s:
        mail = s.scalar(select(OutboxMail))
        assert mail is not None and mail.status == "pending" and mail.locked_until is None
        assert mail.attempts == 1
    log = (tmp_path / "worker0.log").read_text()
    assert "gave back 1 claim(s)" in log
    db.dispose()


def _lease(db: Database) -> Any:
    with db.session() as s:
        return s.scalar(select(OutboxMail.locked_until))


def _holder_pid(db: Database, pids: set[int]) -> int | None:
    """A worker pid that holds a running job and a mail at once."""
    with db.session() as s:
        jobs = set(s.scalars(select(JobRequest.locked_by).where(JobRequest.status == "running")))
        mails = set(
            s.scalars(select(OutboxMail.locked_by).where(OutboxMail.locked_by.is_not(None)))
        )
    for owner in jobs & mails:
        pid = int(str(owner).rsplit(":", 1)[-1])
        if pid in pids:
            return pid
    return None


def test_kill_9_of_one_of_three_workers_loses_no_job_and_no_mail(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("many workers share a queue on PostgreSQL only; SQLite runs one worker")
    db = Database(database_url)
    with SMTPTestServer(data_delay=0.3) as smtp:
        _seed(db, jobs=30, mails=30, hold=0.4)
        with _workers(3, _env(database_url, smtp.port, tmp_path), tmp_path) as procs:
            logs = [tmp_path / f"worker{i}.log" for i in range(3)]

            def ticker_index() -> int | None:
                found = [i for i, p in enumerate(logs) if TICKER_LINE in p.read_text()]
                return found[0] if len(found) == 1 else None

            _wait(lambda: ticker_index() is not None, 60, "one worker to run the schedule")
            victim = ticker_index()
            assert victim is not None
            pid = procs[victim].pid
            _wait(lambda: _holder_pid(db, {pid}) == pid, 60, "the ticker to hold a job and a mail")
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait(10)
            _wait(
                lambda: (
                    _count(db, JobRequest, status="done") == 30
                    and _count(db, OutboxMail, status="sent") == 30
                ),
                180,
                "every job and mail after the kill",
            )
            others = [p for i, p in enumerate(logs) if i != victim]
            _wait(
                lambda: any(TICKER_LINE in p.read_text() for p in others),
                60,
                "another worker to take the schedule over",
            )
    ids = Counter(m.message["Message-ID"] for m in smtp.messages)
    duplicates = sum(ids.values()) - len(ids)
    print(f"kill -9 of 1 of 3 workers: 30 mails, {duplicates} duplicate(s)")
    assert len(ids) == 30 and duplicates <= 1  # at most the one mail it was sending
    with db.session() as s:
        retried = s.scalar(select(func.count()).where(JobRequest.attempts > 1))
        assert retried is not None and retried >= 1  # the job it was running, counted again
    db.dispose()


def test_a_stuck_job_does_not_hold_up_mail(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    with SMTPTestServer() as smtp:
        _seed(db, jobs=1, mails=0, hold=5)
        with _workers(1, _env(database_url, smtp.port, tmp_path), tmp_path) as (proc,):
            _wait(lambda: _count(db, JobRequest, status="running") == 1, 60, "the job to start")
            _seed(db, jobs=0, mails=3, hold=0)
            _wait(
                lambda: (
                    _count(db, JobRequest, status="done") == 1
                    and _count(db, OutboxMail, status="sent") == 3
                ),
                60,
                "the job and the mail",
            )
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    with db.session() as s:
        job = s.scalar(select(JobRequest))
        sent = list(s.scalars(select(OutboxMail.sent_at)))
    assert job is not None and job.finished_at is not None
    assert all(at is not None and at < job.finished_at for at in sent)  # sent while it ran
    assert len(smtp.messages) == 3
    db.dispose()
