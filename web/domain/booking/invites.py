"""Invites (iTIP REQUEST/CANCEL parts), the outbox mail row, downloads and calendar links."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from integrations.invites import (
    Participant,
    SessionTime,
    build_invites,
    google_calendar_url,
    ics_download,
    loop_uid,
)
from integrations.mail import html_paragraphs
from web.domain.booking.policy import BookingPolicy
from web.domain.booking.video import video_url
from web.domain.mailtext import mail_zone
from web.domain.zones import canonical_zone, offset_label, zone_ok
from web.store.models import (
    Booking,
    BookingSession,
    Interviewer,
    OutboxMail,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionGroup:
    """One session of a booking with its interviewers (one UID)."""

    uid: str
    name: str
    start: datetime
    end: datetime
    people: tuple[Interviewer, ...]


def session_groups(b: Booking) -> list[SessionGroup]:
    groups: dict[str, list[BookingSession]] = {}
    for bs in sorted(b.sessions, key=lambda x: (x.start, x.id or 0)):
        groups.setdefault(bs.uid, []).append(bs)
    return [
        SessionGroup(
            uid=uid,
            name=rows[0].session_name,
            start=rows[0].start,
            end=rows[0].end,
            people=tuple(r.interviewer for r in rows),
        )
        for uid, rows in groups.items()
    ]


def candidate_zone(req: SchedulingRequest, b: Booking | None = None) -> str:
    for tz in ((b.candidate_tz if b else None), req.candidate_tz, req.coordinator.timezone):
        if tz and zone_ok(tz):
            return canonical_zone(tz)
    return "UTC"


def when_text(start: datetime, end: datetime, tz: str) -> str:
    a, z = start.astimezone(ZoneInfo(tz)), end.astimezone(ZoneInfo(tz))
    return f"{a:%A %d %B %Y, %H:%M}-{z:%H:%M} ({tz}, {offset_label(tz, start)})"


def organizer_of(req: SchedulingRequest) -> Participant:
    c = req.coordinator
    return Participant(email=c.email, name=c.name or c.email, role="CHAIR")


def candidate_participant(req: SchedulingRequest) -> Participant:
    return Participant(email=req.candidate_email, name=req.candidate_name)


def times(groups: Sequence[SessionGroup], *, with_people: bool) -> list[SessionTime]:
    return [
        SessionTime(
            uid=g.uid,
            name=g.name,
            start=g.start,
            end=g.end,
            attendees=tuple(Participant(email=p.email, name=p.name) for p in g.people)
            if with_people
            else (),
        )
        for g in groups
    ]


def outbox_mail(
    req: SchedulingRequest,
    kind: str,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    *,
    ics: bytes | None = None,
    method: str | None = None,
    at: datetime | None = None,
) -> OutboxMail:
    html = html_paragraphs(body)
    coord = req.coordinator
    mine = to.lower() == coord.email.lower()
    return OutboxMail(
        from_name=None if mine else (coord.name or coord.email),
        reply_to=None if mine else coord.email,
        kind=kind,
        request_id=req.id,
        to_addr=to,
        subject=subject,
        text_body=body,
        html_body=html,
        ics=ics.decode("utf-8") if ics else None,
        ics_method=method,
        status="pending",
        attempts=0,
        next_attempt_at=at or now,
        created_at=now,
    )


def is_itinerary(policy: BookingPolicy, groups: Sequence[SessionGroup]) -> bool:
    """The candidate gets one itinerary mail (one PUBLISH file, a VEVENT per session)."""
    return policy.candidate_invites == "itinerary" and len(groups) > 1


def _candidate_invites(
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    method: Any,
    sequence: int,
) -> list[tuple[str, bytes, str]]:
    """The candidate's copies (summary, ics, METHOD): one itinerary for a multi-session
    loop (``candidate_invites = "itinerary"``), else one per session or one for the loop."""
    summary = f"Interview: {req.loop.name}"
    if is_itinerary(policy, groups):
        ics = itinerary_ics(req, b, groups, now, cancelled=method == "CANCEL")
        return [(summary, ics, "PUBLISH")]
    one = policy.candidate_invites == "loop" and len(groups) > 1
    extra: dict[str, Any] = {}
    if one:
        extra = {
            "loop_uid": loop_uid(b.uid_base, policy.domain),
            "agenda_tz": ZoneInfo(mail_zone(req, b)),
        }
    built = build_invites(
        times(groups, with_people=bool(req.loop.show_interviewer_names)),
        grouping="loop" if one else "session",
        organizer=organizer_of(req),
        attendees=[candidate_participant(req)],
        sequence=sequence,
        now=now,
        summary=summary,
        video_url=video_url(req, b),
        method=method,
        **extra,
    )
    return [(inv.summary, inv.ics, str(method)) for inv in built]


def invites(
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    method: str,
    sequence: int,
) -> tuple[list[tuple[str, bytes, str]], list[tuple[str, bytes, str]]]:
    """(candidate copies [(summary, ics, METHOD)], interviewer copies [(email, ics, summary)])."""
    organizer = organizer_of(req)
    cand = candidate_participant(req)
    summary = f"Interview: {req.loop.name} ({req.candidate_name})"
    url = video_url(req, b)
    m: Any = method
    staff = build_invites(
        times(groups, with_people=True),
        grouping="session",
        organizer=organizer,
        attendees=[cand] if policy.candidate_invites == "session" else [],
        sequence=sequence,
        now=now,
        summary=summary,
        video_url=url,
        method=m,
    )
    staff_copies = []
    for inv in staff:
        for addr in inv.recipients:
            if addr.lower() != req.candidate_email.lower():
                staff_copies.append((addr, inv.ics, inv.summary))
    mine = _candidate_invites(req, b, groups, now, policy, method=m, sequence=sequence)
    return mine, staff_copies


def itinerary_ics(
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    *,
    cancelled: bool = False,
    whole_loop_uid: str | None = None,
) -> bytes:
    """The candidate's itinerary: METHOD:PUBLISH, a VEVENT per session under its stable UID,
    ``SEQUENCE`` the booking's (raised by a reschedule or a cancellation); with
    ``whole_loop_uid``, one event for the loop instead."""
    return ics_download(
        times(groups, with_people=bool(req.loop.show_interviewer_names)),
        organizer=organizer_of(req),
        now=now,
        summary=f"Interview: {req.loop.name}",
        grouping="loop" if whole_loop_uid else "session",
        loop_uid=whole_loop_uid,
        sequence=b.sequence,
        video_url=video_url(req, b),
        agenda_tz=ZoneInfo(mail_zone(req, b)),
        cancelled=cancelled,
    )


def download_ics(req: SchedulingRequest, b: Booking, now: datetime, policy: BookingPolicy) -> bytes:
    """The confirmation page's "Add to calendar": the itinerary file (or, for a loop sent as
    one event, that event)."""
    groups = session_groups(b)
    whole = policy.candidate_invites == "loop" and len(groups) > 1
    return itinerary_ics(
        req, b, groups, now, whole_loop_uid=loop_uid(b.uid_base, policy.domain) if whole else None
    )


def google_links(req: SchedulingRequest, b: Booking) -> list[tuple[str, str]]:
    """(label, url) per session: "add to Google Calendar"."""
    url = video_url(req, b)
    return [
        (
            g.name,
            google_calendar_url(
                title=f"Interview: {req.loop.name}: {g.name}",
                start=g.start,
                end=g.end,
                details=f"Join: {url}" if url else "",
                location=url,
            ),
        )
        for g in session_groups(b)
    ]
