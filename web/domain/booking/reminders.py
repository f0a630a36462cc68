"""Reminder mails parked in the outbox until their time; withdrawn with the booking."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from web.domain.booking.invites import SessionGroup, outbox_mail, when_text
from web.domain.booking.policy import BookingPolicy
from web.domain.booking.video import video_url
from web.domain.mailtext import candidate_clock
from web.domain.zones import zone_ok
from web.store.models import (
    Booking,
    OutboxMail,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


def add_reminders(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    link: str = "",
    candidate: bool = True,
) -> None:
    """Reminder mails parked in the outbox until their time (the worker sends due mail);
    ``candidate=False``: the interviewers' only (one who joined a booked session)."""
    if not groups:
        return
    clock = candidate_clock(req, b)
    start, end = groups[0].start, groups[-1].end
    url = video_url(req, b)
    join = f"\n\nJoin: {url}" if url else ""
    for before in policy.reminders:
        at = start - before
        if at <= now:
            continue
        if candidate:
            s.add(
                outbox_mail(
                    req,
                    "reminder",
                    req.candidate_email,
                    f"Reminder: your interview ({req.loop.name}) {in_words(before)}",
                    f"Hello {req.candidate_name},\n\nA reminder: your interview "
                    f"({req.loop.name}) is {clock.span(start, end)}.\n"
                    f"{clock.zone_line(start)}{join}" + (f"\n\nYour page: {link}" if link else ""),
                    now,
                    at=at,
                )
            )
        for g in groups:
            for who in g.people:
                at_i = g.start - before
                if at_i <= now:
                    continue
                ptz = who.timezone if zone_ok(who.timezone) else "UTC"
                s.add(
                    outbox_mail(
                        req,
                        "reminder",
                        who.email,
                        f"Reminder: interview with {req.candidate_name} {in_words(before)}",
                        f"Hello {who.name},\n\nA reminder: {g.name} with {req.candidate_name} "
                        f"({req.loop.name}) is {when_text(g.start, g.end, ptz)}.{join}",
                        now,
                        at=at_i,
                    )
                )


def in_words(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (60 * 24) == 0:
        n, unit = minutes // (60 * 24), "day"
    elif minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"in {n} {unit}{'s' if n != 1 else ''}"


def cancel_reminders(s: Session, req: SchedulingRequest) -> None:
    s.execute(
        update(OutboxMail)
        .where(
            OutboxMail.request_id == req.id,
            OutboxMail.kind == "reminder",
            OutboxMail.status == "pending",
        )
        .values(status="cancelled")
    )
