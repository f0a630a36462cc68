"""Serialised write transactions, row locks, idempotency replay and the booking rows."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.invites import (
    session_uid,
)
from scheduler.model import Option
from web.domain.booking.errors import BookingClosed, Outcome
from web.domain.zones import zone_ok
from web.store.db import Database
from web.store.models import (
    Booking,
    BookingSession,
    Interviewer,
    OfferedOption,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


def write_transaction(db: Database) -> AbstractContextManager[Session]:
    """A session whose transaction is serialised on SQLite (BEGIN IMMEDIATE)."""
    return db.session(immediate=True)


def lock_request(s: Session, request_id: int) -> SchedulingRequest:
    q = select(SchedulingRequest).where(SchedulingRequest.id == request_id)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    req = s.scalar(q)
    if req is None:
        raise BookingClosed("This interview request no longer exists.")
    return req


def lock_interviewers(s: Session, opt: Option) -> None:
    """PostgreSQL: lock the option's interviewers (in id order) so that bookings touching
    the same people run one after the other and the re-check sees the winner's rows (daily
    caps included); the exclusion constraint stays as the last guard. SQLite is already
    serialised by BEGIN IMMEDIATE."""
    if s.get_bind().dialect.name != "postgresql":
        return
    s.execute(
        select(Interviewer.id)
        .where(Interviewer.key.in_(set(opt.interviewer_ids())))
        .order_by(Interviewer.id)
        .with_for_update()
    ).all()


def replay_of(s: Session, req: SchedulingRequest, key: str) -> Outcome | None:
    if not key:
        return None
    row = s.scalar(select(Booking).where(Booking.idempotency_key == key))
    if row is None:
        return None
    if row.request_id != req.id:
        raise BookingClosed("This form belongs to another request; reload the page.")
    return Outcome(row.id, False, row.status)


EXCLUSION_VIOLATION = "23P01"  # PostgreSQL's SQLSTATE for the no-overlap exclusion constraint
# SQLite's no-overlap triggers RAISE(ABORT): SQLite gives a trigger's abort no code of its
# own, only this extended result code. It means "no overlap" because those two triggers are
# the only triggers in the schema (tests/domain/test_one_rule.py keeps it so).
TRIGGER_ABORT = "SQLITE_CONSTRAINT_TRIGGER"


def is_overlap(exc: Exception) -> bool:
    """The database refused an overlapping booking session: matched by SQLSTATE on PostgreSQL
    and by SQLite's extended error name, never by message text."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        return True
    return getattr(orig, "sqlite_errorname", None) == TRIGGER_ABORT


def new_booking(
    s: Session,
    req: SchedulingRequest,
    row: OfferedOption,
    opt: Option,
    key: str,
    candidate_tz: str | None,
    now: datetime,
    *,
    sequence: int,
    domain: str,
    uid_base: str = "",
) -> Booking:
    b = Booking(
        request_id=req.id,
        option_id=row.id,
        status="confirmed",
        idempotency_key=key or None,
        sequence=sequence,
        created_at=now,
        candidate_tz=candidate_tz if candidate_tz and zone_ok(candidate_tz) else None,
        uid_base=uid_base,
    )
    s.add(b)
    s.flush()
    if not b.uid_base:
        b.uid_base = f"r{req.id}b{b.id}"
    keys = opt.interviewer_ids()
    by_key = {
        i.key: i for i in s.scalars(select(Interviewer).where(Interviewer.key.in_(set(keys))))
    }
    order = [ls.name for ls in req.loop.sessions]
    for slot in opt.sessions:
        index = order.index(slot.name) if slot.name in order else len(order)
        uid = session_uid(b.uid_base, index, domain)
        for key_ in slot.interviewers:
            s.add(
                BookingSession(
                    booking_id=b.id,
                    interviewer_id=by_key[key_].id,
                    session_name=slot.name,
                    start=slot.start,
                    end=slot.end,
                    active=True,
                    uid=uid,
                )
            )
    s.flush()
    s.refresh(b, ["sessions"])
    return b


def carry_event_ids(old: Booking, new: Booking) -> None:
    """Calendar events written for the old booking are updated, not duplicated."""
    ids = {(bs.uid, bs.interviewer_id): bs for bs in old.sessions if bs.calendar_event_id}
    for bs in new.sessions:
        prev = ids.get((bs.uid, bs.interviewer_id))
        if prev is not None:
            bs.calendar_event_id = prev.calendar_event_id
            prev.calendar_event_id = None
