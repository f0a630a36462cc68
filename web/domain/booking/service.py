"""The booking service: book, reschedule and cancel a candidate's interview.

Every operation is one database transaction that re-checks the chosen option, writes
the booking, releases holds, and puts the invites, reminders and the calendar
write-back job into the outbox/job tables, so they exist exactly when the booking does.

Racing bookers: on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (one writer
at a time, and the re-check sees every committed booking); on PostgreSQL the request
row is locked (``FOR UPDATE``) and the exclusion constraint of migration 0002 refuses an
overlapping active session of the same interviewer, whatever the re-check saw. Both
databases also carry the overlap guard in the schema (triggers on SQLite).

Idempotency: each booking form carries a key; submitting it again returns the booking
it made instead of booking twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from web.domain import jobs, services
from web.domain.audit import record_request
from web.domain.booking.checks import LiveRead, live_busy, offered, recheck, record_fallbacks
from web.domain.booking.errors import BookingClosed, OptionTaken, OptionUnknown, Outcome
from web.domain.booking.outbox import outbox_booked, outbox_cancelled
from web.domain.booking.picture import stored_option
from web.domain.booking.policy import BOOKED, OPEN, BookingPolicy, can_change, cutoff_message
from web.domain.booking.reminders import cancel_reminders
from web.domain.booking.transactions import (
    carry_event_ids,
    is_overlap,
    lock_interviewers,
    lock_request,
    new_booking,
    replay_of,
    write_transaction,
)
from web.domain.booking.video import writeback_payload
from web.store.db import Database
from web.store.models import (
    Booking,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Change:
    """What a book or reschedule call asks for, handed to the code inside the transaction."""

    option_id: int
    key: str
    candidate_tz: str | None
    now: datetime
    policy: BookingPolicy
    actor: str
    link: str
    live: LiveRead


def book(
    db: Database,
    request_id: int,
    option_id: int,
    *,
    idempotency_key: str,
    candidate_tz: str | None,
    now: datetime,
    policy: BookingPolicy,
    actor: str = "candidate",
    link: str = "",
) -> Outcome:
    """Book an offered option: re-check, write, invite, in one transaction.

    ``link`` is the candidate's personal page, quoted in their mails for changes."""
    live = live_busy(db, request_id, option_id, now, policy)
    change = _Change(option_id, idempotency_key, candidate_tz, now, policy, actor, link, live)
    return _guarded(db, request_id, idempotency_key, lambda s, req: _book_in(s, req, change))


def _guarded(
    db: Database,
    request_id: int,
    key: str,
    body: Callable[[Session, SchedulingRequest], Outcome],
) -> Outcome:
    """Run ``body`` in a serialised transaction on the locked request; a replayed key returns
    its booking, and an overlap refused by the database means the time was taken."""
    try:
        with write_transaction(db) as s:
            req = lock_request(s, request_id)
            replay = replay_of(s, req, key)
            return replay if replay is not None else body(s, req)
    except IntegrityError as exc:
        return after_integrity_error(db, request_id, key, exc)
    except OperationalError as exc:
        if is_overlap(exc):
            raise OptionTaken("Sorry, that time was just taken.") from None
        raise


def _book_in(s: Session, req: SchedulingRequest, c: _Change) -> Outcome:
    if req.status in BOOKED:
        raise BookingClosed("This interview is already booked.")
    if req.status not in OPEN:
        raise BookingClosed(f"This request is {req.status}; it cannot be booked.")
    row = offered(s, req, c.option_id)
    opt = stored_option(row)
    lock_interviewers(s, opt)
    problems = recheck(s, req, opt, c.now, c.live.busy)
    if problems:
        raise OptionTaken("Sorry, that time was just taken.", problems=problems)
    b = new_booking(
        s, req, row, opt, c.key, c.candidate_tz, c.now, sequence=0, domain=c.policy.domain
    )
    req.status = "booked"
    services.release_holds(s, req)
    s.flush()
    outbox_booked(s, req, b, c.now, c.policy, previous=None, link=c.link)
    payload = writeback_payload(req, [b.id], c.policy, c.link)
    jobs.enqueue(
        s, "calendar_writeback", payload, now=c.now, requested_by=c.actor, request_id=req.id
    )
    record_request(s, c.now, c.actor, "booking_created", req, booking=b.id, option=row.rank)
    record_fallbacks(s, req, b.id, c.live, c.now)
    s.flush()
    return Outcome(b.id, True, b.status)


def after_integrity_error(db: Database, request_id: int, key: str, exc: IntegrityError) -> Outcome:
    with db.session() as s:
        row = s.scalar(select(Booking).where(Booking.idempotency_key == key)) if key else None
        if row is not None and row.request_id == request_id:
            return Outcome(row.id, False, row.status)
    if is_overlap(exc):
        raise OptionTaken("Sorry, that time was just taken.") from None
    raise exc


def reschedule(
    db: Database,
    request_id: int,
    option_id: int,
    *,
    idempotency_key: str,
    candidate_tz: str | None,
    now: datetime,
    policy: BookingPolicy,
    actor: str = "candidate",
    enforce_cutoff: bool = True,
    link: str = "",
) -> Outcome:
    """Move the booking to another offered option; the old times stay booked unless it works."""
    live = live_busy(db, request_id, option_id, now, policy)
    change = _Change(option_id, idempotency_key, candidate_tz, now, policy, actor, link, live)
    return _guarded(
        db,
        request_id,
        idempotency_key,
        lambda s, req: _reschedule_in(s, req, change, enforce_cutoff=enforce_cutoff),
    )


def _reschedule_in(
    s: Session, req: SchedulingRequest, c: _Change, *, enforce_cutoff: bool
) -> Outcome:
    old = services.active_booking(req)
    if old is None or req.status not in BOOKED:
        raise BookingClosed("There is no booked interview to move.")
    if enforce_cutoff and not can_change(old, c.now, c.policy):
        raise BookingClosed(cutoff_message(c.policy))
    row = offered(s, req, c.option_id)
    if row.id == old.option_id:
        raise OptionUnknown("That is the time you already have; pick another one.")
    opt = stored_option(row)
    lock_interviewers(s, opt)
    # Free the old times inside this transaction only: a failure rolls back.
    for bs in old.sessions:
        bs.active = False
    old.status = "replaced"
    s.flush()
    problems = recheck(s, req, opt, c.now, c.live.busy, exclude_booking=old)
    if problems:
        raise OptionTaken("Sorry, that time was just taken.", problems=problems)
    b = new_booking(
        s,
        req,
        row,
        opt,
        c.key,
        c.candidate_tz or old.candidate_tz,
        c.now,
        sequence=old.sequence + 1,
        domain=c.policy.domain,
        uid_base=old.uid_base,
    )
    carry_event_ids(old, b)
    b.video_link = old.video_link  # the Meet (or template) link stays with the interview
    req.status = "rescheduled"
    cancel_reminders(s, req)
    s.flush()
    outbox_booked(s, req, b, c.now, c.policy, previous=old, link=c.link)
    payload = writeback_payload(req, [b.id, old.id], c.policy, c.link)
    jobs.enqueue(
        s, "calendar_writeback", payload, now=c.now, requested_by=c.actor, request_id=req.id
    )
    record_request(s, c.now, c.actor, "booking_rescheduled", req, booking=b.id, replaced=old.id)
    record_fallbacks(s, req, b.id, c.live, c.now)
    s.flush()
    return Outcome(b.id, True, b.status)


def cancel(
    db: Database,
    request_id: int,
    *,
    now: datetime,
    policy: BookingPolicy,
    actor: str = "candidate",
    reason: str = "",
    enforce_cutoff: bool = True,
) -> int:
    """Cancel the booked interview (and the request); returns the booking id."""
    with write_transaction(db) as s:
        req = lock_request(s, request_id)
        b = services.active_booking(req)
        if b is None or req.status not in BOOKED:
            raise BookingClosed("There is no booked interview to cancel.")
        if enforce_cutoff and not can_change(b, now, policy):
            raise BookingClosed(cutoff_message(policy))
        cancel_in_session(s, req, now=now, policy=policy, actor=actor, reason=reason)
        req.status = "cancelled"
        req.cancelled_at = now
        s.flush()
        return b.id


def cancel_in_session(
    s: Session,
    req: SchedulingRequest,
    *,
    now: datetime,
    policy: BookingPolicy,
    actor: str,
    reason: str = "",
) -> list[int]:
    """Cancel the request's confirmed bookings in the caller's transaction (CANCEL invites,
    reminders withdrawn, holds released, calendar events deleted by the worker)."""
    done = []
    services.release_holds(s, req)
    for b in req.bookings:
        if b.status != "confirmed":
            continue
        b.status = "cancelled"
        b.cancelled_at = now
        b.sequence += 1
        for bs in b.sessions:
            bs.active = False
        s.flush()
        outbox_cancelled(s, req, b, now, policy, reason=reason)
        jobs.enqueue(
            s,
            "calendar_writeback",
            {"booking_ids": [b.id]},
            now=now,
            requested_by=actor,
            request_id=req.id,
        )
        record_request(s, now, actor, "booking_cancelled", req, booking=b.id, reason=reason[:500])
        done.append(b.id)
    cancel_reminders(s, req)
    return done
