"""Leases on queued work: a claim holds a job or mail row until ``locked_until``.

A worker claims a row in one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
many workers share a queue; a compare-and-set on the attempt count everywhere), counts the
attempt and commits before it starts the work. While the work runs, the worker renews the
lease; a worker that dies stops renewing, and once ``locked_until`` has passed another worker
claims the row again, its attempt already counted. On shutdown a worker releases its leases.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session

from web.store.models import JobRequest, OutboxMail
from web.store.queue_notify import notify_queue

Leased = type[JobRequest] | type[OutboxMail]


def lease_free(model: Leased, now: datetime) -> ColumnElement[bool]:
    """No worker holds the row: never claimed, released, or its lease ran out."""
    return or_(model.locked_until.is_(None), model.locked_until < now)


def due_job(now: datetime, max_attempts: int | None = None) -> ColumnElement[bool]:
    """A job any worker may claim: pending and due, or running on a lease that ran out
    (with attempts left, when ``max_attempts`` is given)."""
    pending = and_(
        JobRequest.status == "pending",
        or_(JobRequest.next_attempt_at.is_(None), JobRequest.next_attempt_at <= now),
    )
    orphaned = and_(JobRequest.status == "running", lease_free(JobRequest, now))
    if max_attempts is not None:
        orphaned = and_(orphaned, JobRequest.attempts < max_attempts)
    return or_(pending, orphaned)


def due_mail(now: datetime, max_attempts: int | None = None) -> ColumnElement[bool]:
    due = and_(
        OutboxMail.status == "pending",
        OutboxMail.next_attempt_at <= now,
        lease_free(OutboxMail, now),
    )
    if max_attempts is not None:
        fresh = or_(OutboxMail.locked_until.is_(None), OutboxMail.attempts < max_attempts)
        due = and_(due, fresh)
    return due


def claim_row(
    s: Session, model: Leased, where: ColumnElement[bool], **values: object
) -> int | None:
    """Claim the first row matching ``where`` in one statement, counting its attempt:
    ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id`` on
    PostgreSQL (rows other workers hold are skipped); on SQLite the caller's ``BEGIN
    IMMEDIATE`` makes the statement the only writer."""
    order = (model.id,) if model is JobRequest else (OutboxMail.next_attempt_at, OutboxMail.id)
    first = select(model.id).where(where).order_by(*order).limit(1)
    if s.get_bind().dialect.name == "postgresql":
        first = first.with_for_update(skip_locked=True)
    found = s.scalar(
        update(model)
        .where(model.id == first.scalar_subquery())
        .values(attempts=model.attempts + 1, **values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return int(found) if found is not None else None


def fail_exhausted(s: Session, model: Leased, now: datetime, max_attempts: int) -> int:
    """Mark failed, with the reason, the rows whose lease ran out on their last attempt."""
    holder = func.coalesce(model.locked_by, "?")
    values: dict[str, object] = {"status": "failed", "locked_until": None}
    if model is JobRequest:
        values["finished_at"] = now
        why = literal("LeaseExpired: its worker (") + holder + ") stopped answering on the "
        values["last_error"] = why + literal(f"last of {max_attempts} attempts")
        where = [JobRequest.status == "running"]
    else:
        why = literal("LeaseExpired: its worker (") + holder + ") stopped answering during "
        values["last_error"] = why + literal("the last attempt; it may have been delivered")
        where = [OutboxMail.status == "pending", OutboxMail.locked_until.is_not(None)]
    res = s.execute(
        update(model)
        .where(*where, model.locked_until < now, model.attempts >= max_attempts)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0)


@dataclass
class Holdings:
    """The rows this worker holds a lease on, by table (shared by its threads)."""

    owner: str
    seconds: float
    _held: set[tuple[str, int]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def hold(self, model: Leased, row_id: int) -> None:
        with self._lock:
            self._held.add((model.__tablename__, row_id))

    def drop(self, model: Leased, row_id: int) -> None:
        with self._lock:
            self._held.discard((model.__tablename__, row_id))

    def ids(self, model: Leased) -> list[int]:
        with self._lock:
            return sorted(i for t, i in self._held if t == model.__tablename__)

    def renew(self, s: Session, now: datetime) -> int:
        """Push the leases this worker still holds to ``now + seconds``; rows another
        transaction of ours has locked (a job finishing) are skipped, not waited for."""
        renewed = 0
        for model in (JobRequest, OutboxMail):
            ids = self.ids(model)
            if not ids:
                continue
            mine = select(model.id).where(model.id.in_(ids), model.locked_by == self.owner)
            if s.get_bind().dialect.name == "postgresql":
                mine = mine.with_for_update(skip_locked=True)
            res = s.execute(
                update(model)
                .where(model.id.in_(mine.scalar_subquery()))
                .values(locked_until=self.until(now))
                .execution_options(synchronize_session=False)
            )
            renewed += int(getattr(res, "rowcount", 0) or 0)
        return renewed

    def release(self, s: Session, now: datetime) -> int:
        """Give back every lease still held (on shutdown): jobs go back to pending, due now,
        without the attempt the shutdown interrupted; mail keeps its attempt counted (the
        SMTP transaction may have begun)."""
        released = 0
        for model in (JobRequest, OutboxMail):
            ids = self.ids(model)
            if not ids:
                continue
            values: dict[str, object] = {"locked_until": None, "locked_by": None}
            where = [model.id.in_(ids), model.locked_by == self.owner]
            if model is JobRequest:
                values.update(status="pending", next_attempt_at=now)
                values["attempts"] = JobRequest.attempts - 1
                where.append(JobRequest.status == "running")
            res = s.execute(
                update(model)
                .where(*where)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            count = int(getattr(res, "rowcount", 0) or 0)
            if count:
                notify_queue(s, "jobs" if model is JobRequest else "mail")  # others take it
            released += count
            for row_id in ids:
                self.drop(model, row_id)
        return released
