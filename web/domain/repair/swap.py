"""Putting another interviewer into a booked session: the row, the mails, the write-back.

The new interviewer gets a REQUEST for the session's UID, the one who leaves a CANCEL
with the same UID, both at the booking's SEQUENCE + 1; interviewers who stay in the
session get the updated REQUEST (its attendees changed); the candidate's copy is sent
again only when the candidate sees interviewer names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from web.domain import jobs
from web.domain.audit import record_request
from web.domain.booking.invites import SessionGroup, invites, outbox_mail, session_groups
from web.domain.booking.outbox import coordinator_notice, join_text, leaver_cancel, staff_text
from web.domain.booking.policy import BookingPolicy
from web.domain.booking.reminders import add_reminders
from web.store.models import Booking, BookingSession, Interviewer, OutboxMail, SchedulingRequest


@dataclass(frozen=True)
class _Swap:
    """One swap, as the mail and reminder steps need it."""

    req: SchedulingRequest
    b: Booking
    group: SessionGroup  # the session after the swap
    leaver: Interviewer
    joiner: Interviewer
    now: datetime
    policy: BookingPolicy


def swap_interviewer(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    bs: BookingSession,
    joiner: Interviewer,
    now: datetime,
    policy: BookingPolicy,
    *,
    actor: str,
    cause: str,
) -> None:
    """Replace ``bs``'s interviewer by ``joiner`` in the caller's transaction (the caller
    has checked ``joiner`` with :func:`web.domain.repair.staffing.replacements`)."""
    leaver = bs.interviewer
    old_events = bs.calendar_event_id
    b.sequence += 1
    bs.interviewer_id, bs.interviewer = joiner.id, joiner
    bs.calendar_event_id = None
    s.flush()
    group = next(g for g in session_groups(b) if g.uid == bs.uid)
    swap = _Swap(req, b, group, leaver, joiner, now, policy)
    _mails(s, swap)
    _move_reminders(s, swap)
    payload: dict[str, object] = {"booking_ids": [b.id]}
    if old_events:
        payload["drop_events"] = [{"interviewer_id": leaver.id, "events": json.loads(old_events)}]
    jobs.enqueue(s, "calendar_writeback", payload, now=now, requested_by=actor)
    record_request(
        s,
        now,
        actor,
        "interviewer_swapped",
        req,
        booking=b.id,
        booking_session=bs.id,
        session=bs.session_name,
        uid=bs.uid,
        left=leaver.key,
        joined=joiner.key,
        cause=cause,
        sequence=b.sequence,
    )


def _mails(s: Session, w: _Swap) -> None:
    req, b, group, now = w.req, w.b, w.group, w.now
    _, staff = invites(req, b, [group], now, w.policy, method="REQUEST", sequence=b.sequence)
    join = join_text(req, b)
    for addr, ics, summary in staff:
        prefix = "" if addr.lower() == w.joiner.email.lower() else "Updated: "
        text = staff_text(req, [group], addr, join)
        subject = prefix + summary
        mail = outbox_mail(req, "invite", addr, subject, text, now, ics=ics, method="REQUEST")
        s.add(mail)
    leaver_cancel(s, req, w.leaver, group, b.sequence, now, f"{w.joiner.name} takes your place")
    if req.loop.show_interviewer_names:
        _candidate_update(s, w)
    coordinator_notice(
        s,
        req,
        session_groups(b),
        now,
        subject=f"Interviewer replaced: {req.candidate_name}, {group.name}",
        intro=f"{w.joiner.name} takes {w.leaver.name}'s place in {group.name} "
        f"({req.candidate_name}, {req.loop.name}):",
    )


def _candidate_update(s: Session, w: _Swap) -> None:
    """The candidate sees names: their copy of the session (or of the loop) again."""
    req, b, group = w.req, w.b, w.group
    whole = w.policy.candidate_invites in ("loop", "itinerary") and len(session_groups(b)) > 1
    groups = session_groups(b) if whole else [group]
    mine, _ = invites(req, b, groups, w.now, w.policy, method="REQUEST", sequence=b.sequence)
    body = (
        f"Hello {req.candidate_name},\n\nA change in your interview ({req.loop.name}): "
        f"{group.name} is now with {', '.join(p.name for p in group.people)}. "
        "The time stays the same; the attached invitation updates your calendar."
    )
    for summary, ics, method in mine:
        subject = f"Updated: {summary}"
        mail = outbox_mail(
            req, "invite", req.candidate_email, subject, body, w.now, ics=ics, method=method
        )
        s.add(mail)


def _move_reminders(s: Session, w: _Swap) -> None:
    """The leaver's pending reminders go (unless they sit in another session of the
    booking); the joiner gets theirs."""
    if not any(x.interviewer_id == w.leaver.id for x in w.b.sessions if x.active):
        s.execute(
            delete(OutboxMail).where(
                OutboxMail.request_id == w.req.id,
                OutboxMail.kind == "reminder",
                OutboxMail.status == "pending",
                OutboxMail.to_addr == w.leaver.email,
            )
        )
    g = w.group
    mine = SessionGroup(g.uid, g.name, g.start, g.end, (w.joiner,))
    add_reminders(s, w.req, w.b, [mine], w.now, w.policy, candidate=False)
