"""An interviewer's private, revocable ICS feed of their booked interviews."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.domain.audit import record
from web.domain.usecases.own_calendars import actor
from web.store.models import Booking, BookingSession, Interviewer


def regenerate(s: Session, who: Interviewer, now: datetime) -> bool:
    """A new feed address (the old one stops working); whether there was one. Commits."""
    had = who.feed_token is not None
    who.feed_token = secrets.token_urlsafe(24)
    action = "feed_regenerated" if had else "feed_created"
    record(s, now, actor(who), action, "interviewer", who.id)
    s.commit()
    return had


def revoke(s: Session, who: Interviewer, now: datetime) -> None:
    """Turn the feed off. Commits."""
    who.feed_token = None
    record(s, now, actor(who), "feed_revoked", "interviewer", who.id)
    s.commit()


def feed_owner(s: Session, feed_token: str) -> Interviewer | None:
    """The active interviewer whose feed this is."""
    who = s.scalar(select(Interviewer).where(Interviewer.feed_token == feed_token))
    if who is None or not who.active:
        return None
    return who if secrets.compare_digest(who.feed_token or "", feed_token) else None


def _event(bs: BookingSession, at: datetime) -> icalendar.Event:
    req = bs.booking.request
    ev = icalendar.Event()
    ev.add("uid", bs.uid or f"panelslot-session-{bs.id}@panelslot")
    ev.add("dtstamp", at)
    ev.add("dtstart", bs.start.astimezone(UTC))
    ev.add("dtend", bs.end.astimezone(UTC))
    ev.add("summary", f"Interview: {bs.session_name} ({req.candidate_name})")
    ev.add("description", f"{req.loop.name}: {bs.session_name} with {req.candidate_name}")
    ev.add("sequence", bs.booking.sequence)
    ev.add("status", "CONFIRMED")
    ev.add("transp", "OPAQUE")
    return ev


def interviews_ics(s: Session, who: Interviewer, at: datetime) -> bytes:
    """A VCALENDAR of ``who``'s booked interviews (from 30 days ago on)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//panelslot//interviews feed//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Interviews: {who.name}")
    rows = s.scalars(
        select(BookingSession)
        .where(
            BookingSession.interviewer_id == who.id,
            BookingSession.active.is_(True),
            BookingSession.end > at - timedelta(days=30),
        )
        .options(selectinload(BookingSession.booking).selectinload(Booking.request))
        .order_by(BookingSession.start)
    )
    for bs in rows:
        cal.add_component(_event(bs, at))
    return bytes(cal.to_ical())
