"""Dropouts found after a sync: interviewers' declines read back from the calendars the
interview events were written to, and new busy time over a booked session.

Reads happen in a plain session (no write transaction is held while a provider answers);
each dropout is then handled in its own transaction by :func:`handle_dropout`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import AttendeeResponse, CalendarBackend, latest_responses
from integrations.errors import IntegrationError
from integrations.invites import InviteError
from scheduler.intervals import subtract
from scheduler.model import Interval
from web.domain.booking.calendar_events import Writers
from web.domain.booking.errors import BookingError
from web.domain.booking.policy import BookingPolicy
from web.domain.busy import event_sources
from web.domain.repair.handle import handle_dropout
from web.domain.repair.model import Dropout, RepairResult
from web.domain.zones import zone_ok
from web.store.db import Database
from web.store.models import Booking, BookingSession, BusyBlock, Interviewer

log = logging.getLogger(__name__)


def future_seats(
    s: Session, now: datetime, interviewer_ids: Sequence[int] | None = None
) -> list[BookingSession]:
    """Active seats of confirmed bookings that have not ended, with interviewer and calendars."""
    q = (
        select(BookingSession)
        .join(Booking, Booking.id == BookingSession.booking_id)
        .where(
            Booking.status == "confirmed",
            BookingSession.active.is_(True),
            BookingSession.end > now,
        )
        .options(
            selectinload(BookingSession.interviewer).selectinload(Interviewer.calendars),
            selectinload(BookingSession.booking),
        )
        .order_by(BookingSession.start, BookingSession.id)
    )
    if interviewer_ids is not None:
        q = q.where(BookingSession.interviewer_id.in_(list(interviewer_ids)))
    return list(s.scalars(q))


def is_current(r: AttendeeResponse, b: Booking, backend: CalendarBackend) -> bool:
    """An answer to the invitation as it stands: CalDAV and iMIP carry our SEQUENCE; Google
    keeps its own counter on the event it holds, whose answers are always its current ones."""
    return backend.kind == "google" or r.sequence == b.sequence


def declines(who: Interviewer, seats: Sequence[BookingSession], writers: Writers) -> list[Dropout]:
    """DECLINED answers of ``who`` on the events written to their calendars for ``seats``."""
    found: list[Dropout] = []
    for src in who.calendars:
        mine = [bs for bs in seats if src.id in event_sources(bs.calendar_event_id)]
        factory = writers.get(src.kind)
        if not mine or factory is None:
            continue
        try:
            backend = factory(src, who)
            answers = backend.read_responses([bs.uid for bs in mine]) if backend else []
        except (IntegrationError, OSError, ValueError) as exc:
            log.warning("answers of %s in %s not read: %s", who.key, src.label or src.kind, exc)
            continue
        by_uid = {bs.uid: bs for bs in mine}
        for r in latest_responses(answers):
            bs = by_uid.get(r.uid)
            if bs is None or r.attendee != who.email.lower() or not r.declined:
                continue
            if backend is not None and is_current(r, bs.booking, backend):
                where = src.label or src.kind
                found.append(Dropout(bs.id, who.id, "declined", f"declined in {where}"))
    return found


def conflicts(s: Session, who: Interviewer, seats: Sequence[BookingSession]) -> list[Dropout]:
    """Seats of ``who`` that stored busy time now overlaps. The sync leaves the interviewer's
    own interview events out of the stored blocks (:func:`web.domain.sync.sync.own_events`);
    a block that is exactly the session is taken for the interview itself."""
    if not seats:
        return []
    lo, hi = min(bs.start for bs in seats), max(bs.end for bs in seats)
    blocks = s.execute(
        select(BusyBlock.start, BusyBlock.end, BusyBlock.source_id).where(
            BusyBlock.interviewer_id == who.id,
            BusyBlock.start < hi,
            BusyBlock.end > lo,
        )
    ).all()
    labels = {c.id: c.label or c.kind for c in who.calendars}
    tz = who.timezone if zone_ok(who.timezone) else "UTC"
    found = []
    for bs in seats:
        clash = next((b for b in blocks if _clashes(bs, Interval(b[0], b[1]), b[2])), None)
        if clash is not None:
            detail = _busy_text(
                Interval(clash[0], clash[1]), tz, labels.get(clash[2], "a calendar")
            )
            found.append(Dropout(bs.id, who.id, "conflict", detail))
    return found


def _clashes(bs: BookingSession, block: Interval, source_id: int) -> bool:
    """Does ``block`` overlap the seat? A block that is exactly the session is the interview
    itself. A block of a calendar the interview was written to that holds the whole session
    (a provider's merged free/busy: the interview and what touches it) counts only for its
    part outside the session, against the loop's buffers around it."""
    span = Interval(bs.start, bs.end)
    if block == span or not block.overlaps(span):
        return False
    holds_all = block.start <= span.start and block.end >= span.end
    if holds_all and source_id in event_sources(bs.calendar_event_id):
        return _in_buffers(bs, subtract([block], [span]))
    return True


def _in_buffers(bs: BookingSession, spans: Sequence[Interval]) -> bool:
    loop = bs.booking.request.loop
    before = timedelta(minutes=loop.buffer_before_minutes)
    after = timedelta(minutes=loop.buffer_after_minutes)
    padded = Interval(bs.start - before, bs.end + after)
    return any(iv.overlaps(padded) for iv in spans)


def _busy_text(iv: Interval, tz: str, label: str) -> str:
    a, z = iv.start.astimezone(ZoneInfo(tz)), iv.end.astimezone(ZoneInfo(tz))
    return f"busy {a:%a %d %b %H:%M}-{z:%H:%M} ({tz}) in {label}"


def _unique(dropouts: Iterable[Dropout]) -> list[Dropout]:
    seen: set[tuple[int, int]] = set()
    out = []
    for d in dropouts:
        if (d.booking_session_id, d.interviewer_id) not in seen:
            seen.add((d.booking_session_id, d.interviewer_id))
            out.append(d)
    return out


def find_dropouts(
    s: Session, now: datetime, writers: Writers, interviewer_ids: Sequence[int] | None = None
) -> list[Dropout]:
    """Declines first, then conflicts: one dropout per seat."""
    by_who: dict[int, list[BookingSession]] = {}
    people: dict[int, Interviewer] = {}
    for bs in future_seats(s, now, interviewer_ids):
        by_who.setdefault(bs.interviewer_id, []).append(bs)
        people[bs.interviewer_id] = bs.interviewer
    found: list[Dropout] = []
    for iid, seats in by_who.items():
        found += declines(people[iid], seats, writers)
        found += conflicts(s, people[iid], seats)
    return _unique(found)


def check_after_sync(
    db: Database,
    now: datetime,
    policy: BookingPolicy,
    writers: Writers,
    interviewer_ids: Sequence[int] | None = None,
) -> list[RepairResult]:
    """Find the dropouts of these interviewers (None: everyone) and handle each; one that
    cannot be handled (its invitation cannot be built, its request is gone) is logged and
    the others still are."""
    with db.session() as s:
        found = find_dropouts(s, now, writers, interviewer_ids)
    results = []
    for d in found:
        try:
            results.append(handle_dropout(db, d, now, policy))
        except (InviteError, BookingError) as exc:
            log.warning("dropout of seat %s not handled: %s", d.booking_session_id, exc)
    return results


def expected_sequences(s: Session, now: datetime) -> Mapping[str, int]:
    """UID -> the SEQUENCE last sent, of every future seat (what iMIP REPLYs must match)."""
    return {bs.uid: bs.booking.sequence for bs in future_seats(s, now)}


def seat_of(s: Session, uid: str, email: str, now: datetime) -> BookingSession | None:
    """The future seat of the interviewer with ``email`` in the session ``uid``."""
    for bs in future_seats(s, now):
        if bs.uid == uid and bs.interviewer.email.lower() == email.lower():
            return bs
    return None
