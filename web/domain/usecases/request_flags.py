"""What makes a request need its coordinator, one small function per reason; they are
merged by :func:`web.domain.usecases.scheduling_requests.needs_coordinator`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.domain import services
from web.domain.repair.notify import open_notices_for
from web.domain.usecases.interviewers import sync_status
from web.store.models import (
    BookingSession,
    CandidateReply,
    Interviewer,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
)


@dataclass(frozen=True)
class Reason:
    """Why a request needs its coordinator: ``key`` (a CSS-safe word) and one line."""

    key: str
    text: str


OPEN_FOR_FLAGS = ("draft", "sent", "opened", "booked", "rescheduled")


CANDIDATE_REPLIED = "candidate replied: needs you"
REPLY_NEEDS_YOU = ("found", "nothing")  # the candidate's ranges: options to send, or none fit


def candidate_replied(s: Session, ids: list[int]) -> dict[int, list[Reason]]:
    """Options found inside a candidate's own times wait to be sent, or none fit them,
    until the coordinator sends or dismisses."""
    q = select(CandidateReply.request_id).where(
        CandidateReply.request_id.in_(ids), CandidateReply.state.in_(REPLY_NEEDS_YOU)
    )
    return {rid: [Reason("reply", CANDIDATE_REPLIED)] for rid in s.scalars(q)}


def failed_mail(s: Session, ids: list[int]) -> dict[int, list[Reason]]:
    q = (
        select(OutboxMail.request_id, OutboxMail.to_addr)
        .where(OutboxMail.request_id.in_(ids), OutboxMail.status == "failed")
        .order_by(OutboxMail.id)
    )
    out: dict[int, list[Reason]] = {}
    for rid, to in s.execute(q):
        if rid is not None and not out.get(rid):
            out[rid] = [Reason("mail", f"a mail to {to} failed")]
    return out


def _interviewer_ids(s: Session, rows: list[SchedulingRequest]) -> dict[int, set[str]]:
    """Request id -> keys of the interviewers of its active booking, or else of its
    options (two queries for the whole page)."""
    booked = {r.id: b.id for r in rows if (b := services.active_booking(r)) is not None}
    out: dict[int, set[str]] = {r.id: set() for r in rows}
    by_booking = {bid: rid for rid, bid in booked.items()}
    if by_booking:
        q = (
            select(BookingSession.booking_id, Interviewer.key)
            .join(Interviewer, Interviewer.id == BookingSession.interviewer_id)
            .where(BookingSession.booking_id.in_(list(by_booking)), BookingSession.active)
        )
        for bid, key in s.execute(q):
            out[by_booking[bid]].add(key)
    open_ids = [r.id for r in rows if r.id not in booked]
    if open_ids:
        q2 = select(OfferedOption.request_id, OfferedOption.sessions).where(
            OfferedOption.request_id.in_(open_ids)
        )
        for rid, sessions in s.execute(q2):
            out[rid].update(k for sl in sessions for k in sl["interviewers"])
    return out


def stale_calendars(
    s: Session, rows: list[SchedulingRequest], now: datetime, stale_after: timedelta
) -> dict[int, list[Reason]]:
    keys = _interviewer_ids(s, rows)
    wanted = set().union(*keys.values()) if keys else set()
    if not wanted:
        return {}
    people = s.scalars(
        select(Interviewer)
        .where(Interviewer.key.in_(wanted))
        .options(selectinload(Interviewer.calendars))
    )
    bad = {
        p.key: p.name
        for p in people
        if any(sync_status(c, now, stale_after)[0] != "ok" for c in p.calendars)
    }
    out: dict[int, list[Reason]] = {}
    for rid, ks in keys.items():
        names = sorted(bad[k] for k in ks if k in bad)
        if names:
            out[rid] = [Reason("calendar", f"stale calendar: {', '.join(names)}")]
    return out


DROPOUT_FLAGS = {
    "declined": ("declined", "interviewer declined"),
    "conflict": ("conflict", "calendar conflict"),
    "cant_make_it": ("cant-make-it", "can't make it"),
}


def dropouts(s: Session, ids: list[int]) -> dict[int, list[Reason]]:
    """An interviewer's decline, new conflict or "can't make it" that was not repaired
    automatically, until the coordinator reschedules, swaps or dismisses the notice."""
    out: dict[int, list[Reason]] = {}
    for rid, notices in open_notices_for(s, ids).items():
        for n in notices:
            key, words = DROPOUT_FLAGS.get(n.cause, ("dropout", n.cause_text))
            out.setdefault(rid, []).append(Reason(key, f"{words}: {n.interviewer} ({n.session})"))
    return out
