"""The interviewer's upcoming interviews as their page lists them first: who (the
candidate, unless the loop hides names), which loop and session, when (UTC instants,
shown in their zone), the video link. Each row keeps its booked-session id, for per-row
actions ("can't make it")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.domain.booking.video import video_url
from web.store.models import Booking, BookingSession, Interviewer, SchedulingRequest
from web.store.statuses import BookingStatus


@dataclass(frozen=True)
class UpcomingInterview:
    booked_session_id: int
    booking_id: int
    request_id: int
    candidate: str | None  # None: the loop hides candidates' names
    loop: str
    session: str
    start: datetime
    end: datetime
    video: str  # "" while none is decided


def upcoming_interviews(
    s: Session, who: Interviewer, now: datetime, days: int = 60
) -> list[UpcomingInterview]:
    """``who``'s active booked sessions not yet over, for ``days`` days, soonest first."""
    rows = s.scalars(
        select(BookingSession)
        .join(Booking, Booking.id == BookingSession.booking_id)
        .where(
            BookingSession.interviewer_id == who.id,
            BookingSession.active.is_(True),
            Booking.status == BookingStatus.CONFIRMED,
            BookingSession.end > now,
            BookingSession.start < now + timedelta(days=days),
        )
        .options(
            selectinload(BookingSession.booking)
            .selectinload(Booking.request)
            .selectinload(SchedulingRequest.loop)
        )
        .order_by(BookingSession.start, BookingSession.id)
    )
    return [_item(bs) for bs in rows]


def _item(bs: BookingSession) -> UpcomingInterview:
    b = bs.booking
    req = b.request
    return UpcomingInterview(
        booked_session_id=bs.id,
        booking_id=b.id,
        request_id=req.id,
        candidate=None if req.loop.hide_candidate_names else req.candidate_name,
        loop=req.loop.name,
        session=bs.session_name,
        start=bs.start,
        end=bs.end,
        video=video_url(req, b),
    )
