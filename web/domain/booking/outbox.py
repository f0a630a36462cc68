"""The mails a booking, a reschedule or a cancellation puts in the outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from integrations.invites import (
    InviteError,
    Participant,
    SessionTime,
    build_invites,
)
from web.domain.audit import record_request
from web.domain.booking.errors import BookingClosed
from web.domain.booking.invites import (
    SessionGroup,
    invites,
    organizer_of,
    outbox_mail,
    session_groups,
    when_text,
)
from web.domain.booking.policy import BookingPolicy
from web.domain.booking.reminders import add_reminders, cancel_reminders
from web.domain.booking.video import pending_name, video_note, video_url
from web.domain.mailtext import candidate_clock
from web.domain.personal_links import invite_page_line
from web.domain.zones import zone_ok
from web.store.models import (
    Booking,
    Interviewer,
    OutboxMail,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


def outbox_booked(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    now: datetime,
    policy: BookingPolicy,
    *,
    previous: Booking | None,
    link: str = "",
) -> None:
    groups = session_groups(b)
    verb = "rescheduled" if previous else "booked"
    request_copies(
        s,
        req,
        b,
        groups,
        now,
        policy,
        prefix="Updated: " if previous else "",
        intro=f"Your interview ({req.loop.name}) is {verb}:",
        link=link,
    )
    if previous is not None:
        outbox_dropped_people(s, req, previous, b, now, policy)
    add_reminders(s, req, b, groups, now, policy, link=link)
    coordinator_notice(
        s,
        req,
        groups,
        now,
        subject=f"{req.candidate_name} {verb} {req.loop.name}",
        intro=f"{req.candidate_name} {verb} their interview ({req.loop.name}):",
        note=video_note(req, b),
    )


def outbox_video_update(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    now: datetime,
    policy: BookingPolicy,
    *,
    note: str,
    link: str = "",
) -> None:
    """The video link is decided after booking: an updated REQUEST (the caller has raised
    SEQUENCE) to everyone, reminders re-made with the link, and a line to the coordinator."""
    groups = session_groups(b)
    request_copies(
        s,
        req,
        b,
        groups,
        now,
        policy,
        prefix="Updated: ",
        intro=f"Your interview ({req.loop.name}) has its video link now:",
        link=link,
    )
    cancel_reminders(s, req)
    add_reminders(s, req, b, groups, now, policy, link=link)
    coordinator_notice(
        s,
        req,
        groups,
        now,
        subject=f"Video link: {req.candidate_name}, {req.loop.name}",
        intro=f"The interview of {req.candidate_name} ({req.loop.name}):",
        note=note,
    )


def join_text(req: SchedulingRequest, b: Booking) -> str:
    url = video_url(req, b)
    if url:
        return f"\n\nJoin: {url}"
    pending = pending_name(req, b)
    if pending:
        return f"\n\nThe {pending} link follows in an updated invitation."
    return ""


def request_copies(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    prefix: str,
    intro: str,
    link: str,
) -> None:
    """REQUEST invites to the candidate and every interviewer, with a text part each."""
    try:
        cand_copies, staff_copies = invites(
            req, b, groups, now, policy, method="REQUEST", sequence=b.sequence
        )
    except InviteError as exc:
        raise BookingClosed(f"The invite cannot be built: {exc}") from None
    join = join_text(req, b)
    lines = candidate_lines(req, b, groups)
    change = (
        f"To reschedule or cancel: {link}"
        if link
        else "To reschedule or cancel, use the link in your first e-mail."
    )
    for summary, ics, method in cand_copies:
        attached = (
            "The attached calendar file holds every session; open it to add them all."
            if method == "PUBLISH"
            else "The attached invitation adds it to your calendar."
        )
        body = f"Hello {req.candidate_name},\n\n{intro}\n{lines}{join}\n\n{attached} {change}"
        s.add(
            outbox_mail(
                req,
                "invite",
                req.candidate_email,
                f"{prefix}{summary}",
                body,
                now,
                ics=ics,
                method=method,
            )
        )
    for addr, ics, summary in staff_copies:
        s.add(
            outbox_mail(
                req,
                "invite",
                addr,
                f"{prefix}{summary}",
                staff_text(req, groups, addr, join) + _page_line(policy, groups, addr, now),
                now,
                ics=ics,
                method="REQUEST",
            )
        )


def candidate_lines(req: SchedulingRequest, b: Booking, groups: Sequence[SessionGroup]) -> str:
    """The sessions in the candidate's zone and clock, under a line naming the zone."""
    clock = candidate_clock(req, b)
    rows = [f"- {g.name}: {clock.span(g.start, g.end)}" for g in groups]
    return "\n".join([clock.zone_line(groups[0].start), *rows])


def _page_line(
    policy: BookingPolicy, groups: Sequence[SessionGroup], addr: str, now: datetime
) -> str:
    people = [p for g in groups for p in g.people]
    return invite_page_line(policy.personal_links, people, addr, now)


def staff_text(req: SchedulingRequest, groups: Sequence[SessionGroup], addr: str, join: str) -> str:
    who = next((p for g in groups for p in g.people if p.email.lower() == addr.lower()), None)
    ptz = who.timezone if who and zone_ok(who.timezone) else "UTC"
    mine = [g for g in groups if any(p.email.lower() == addr.lower() for p in g.people)]
    text_lines = "\n".join(f"- {g.name}: {when_text(g.start, g.end, ptz)}" for g in mine)
    return (
        f"Hello {who.name if who else ''},\n\nYou interview {req.candidate_name} "
        f"({req.loop.name}):\n{text_lines}{join}"
    )


def coordinator_notice(
    s: Session,
    req: SchedulingRequest,
    groups: Sequence[SessionGroup],
    now: datetime,
    *,
    subject: str,
    intro: str,
    note: str = "",
) -> None:
    coord = req.coordinator
    tz = coord.timezone if zone_ok(coord.timezone) else "UTC"
    lines = "\n".join(
        f"- {g.name} with {', '.join(p.name for p in g.people)}: {when_text(g.start, g.end, tz)}"
        for g in groups
    )
    body = f"{intro}\n{lines}" + (f"\n\n{note}" if note else "")
    s.add(outbox_mail(req, "booking_notice", coord.email, subject, body, now))


def outbox_dropped_people(
    s: Session, req: SchedulingRequest, old: Booking, new: Booking, now: datetime, p: BookingPolicy
) -> None:
    """Interviewers of the old booking who are not in the same session any more get CANCEL."""
    new_people = {(bs.uid, bs.interviewer_id) for bs in new.sessions}
    for bs in old.sessions:
        if (bs.uid, bs.interviewer_id) not in new_people:
            group = SessionGroup(bs.uid, bs.session_name, bs.start, bs.end, ())
            leaver_cancel(s, req, bs.interviewer, group, new.sequence, now, "it was rescheduled")


def leaver_cancel(
    s: Session,
    req: SchedulingRequest,
    who: Interviewer,
    group: SessionGroup,
    sequence: int,
    now: datetime,
    why: str,
) -> None:
    """A CANCEL of one session (its UID, ``sequence``) to an interviewer who leaves it."""
    summary = f"Interview: {req.loop.name} ({req.candidate_name}): {group.name}"
    cal = build_invites(
        [
            SessionTime(
                group.uid, group.name, group.start, group.end, (Participant(who.email, who.name),)
            )
        ],
        grouping="session",
        organizer=organizer_of(req),
        attendees=[],
        sequence=sequence,
        now=now,
        summary=f"Interview: {req.loop.name} ({req.candidate_name})",
        method="CANCEL",
    )[0]
    s.add(
        outbox_mail(
            req,
            "invite_cancel",
            who.email,
            f"Cancelled: {summary}",
            f"Hello {who.name},\n\nYou are no longer needed for this interview "
            f"({group.name} with {req.candidate_name}); {why}.",
            now,
            ics=cal.ics,
            method="CANCEL",
        )
    )


def outbox_cancelled(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    now: datetime,
    policy: BookingPolicy,
    *,
    reason: str,
) -> None:
    groups = session_groups(b)
    cand_copies, staff_copies = invites(
        req, b, groups, now, policy, method="CANCEL", sequence=b.sequence
    )
    why = f"\n\nReason given: {reason.strip()}" if reason.strip() else ""
    lines = candidate_lines(req, b, groups)
    for summary, ics, method in cand_copies:
        s.add(
            outbox_mail(
                req,
                "invite_cancel",
                req.candidate_email,
                f"Cancelled: {summary}",
                f"Hello {req.candidate_name},\n\nYour interview ({req.loop.name}) is cancelled:"
                f"\n{lines}{why}",
                now,
                ics=ics,
                method=method,
            )
        )
    for addr, ics, summary in staff_copies:
        s.add(
            outbox_mail(
                req,
                "invite_cancel",
                addr,
                f"Cancelled: {summary}",
                f"The interview with {req.candidate_name} ({req.loop.name}) is cancelled.{why}",
                now,
                ics=ics,
                method="CANCEL",
            )
        )
    coord = req.coordinator
    s.add(
        outbox_mail(
            req,
            "booking_notice",
            coord.email,
            f"Cancelled: {req.candidate_name}, {req.loop.name}",
            f"The interview of {req.candidate_name} ({req.loop.name}) was cancelled.{why}",
            now,
        )
    )


def none_work(
    s: Session, req: SchedulingRequest, ranges: str, tz: str, now: datetime
) -> OutboxMail:
    """Store the candidate's own time ranges and tell the coordinator (caller commits)."""
    req.candidate_reply = f"[{tz}] {ranges.strip()}"
    coord = req.coordinator
    mail = outbox_mail(
        req,
        "candidate_reply",
        coord.email,
        f"{req.candidate_name}: none of the offered times work",
        f"{req.candidate_name} says none of the offered times for {req.loop.name} work.\n\n"
        f"Times that suit them (their zone: {tz}):\n{ranges.strip()}",
        now,
    )
    s.add(mail)
    record_request(s, now, "candidate", "candidate_none_work", req, zone=tz)
    return mail
