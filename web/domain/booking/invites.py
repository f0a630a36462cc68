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
    return OutboxMail(
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


def _candidate_invites(
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    method: Any,
    sequence: int,
) -> list[Any]:
    """The candidate's copies: one per session, or one for the loop (``candidate_invites``)."""
    one = policy.candidate_invites == "loop" and len(groups) > 1
    extra: dict[str, Any] = {}
    if one:
        extra = {
            "loop_uid": loop_uid(b.uid_base, policy.domain),
            "agenda_tz": ZoneInfo(candidate_zone(req, b)),
        }
    return build_invites(
        times(groups, with_people=bool(req.loop.show_interviewer_names)),
        grouping="loop" if one else "session",
        organizer=organizer_of(req),
        attendees=[candidate_participant(req)],
        sequence=sequence,
        now=now,
        summary=f"Interview: {req.loop.name}",
        video_url=video_url(req, b),
        method=method,
        **extra,
    )


def invites(
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    method: str,
    sequence: int,
) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes, str]]]:
    """(candidate copies [(summary, ics)], interviewer copies [(email, ics, summary)])."""
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
    return [(inv.summary, inv.ics) for inv in mine], staff_copies


def download_ics(req: SchedulingRequest, b: Booking, now: datetime, policy: BookingPolicy) -> bytes:
    groups = session_groups(b)
    show = bool(req.loop.show_interviewer_names)
    grouping: Any = "loop" if policy.candidate_invites == "loop" and len(groups) > 1 else "session"
    return ics_download(
        times(groups, with_people=show),
        organizer=organizer_of(req),
        now=now,
        summary=f"Interview: {req.loop.name}",
        grouping=grouping,
        loop_uid=loop_uid(b.uid_base, policy.domain) if grouping == "loop" else None,
        sequence=b.sequence,
        video_url=video_url(req, b),
        agenda_tz=ZoneInfo(candidate_zone(req, b)),
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
