"""The video link of a booking: the loop's URL template, or Google Meet.

A loop's ``video`` is ``"template"`` (the URL template, with ``{request}`` and ``{booking}``
filled in) or ``"google_meet"``. With Google Meet, the organiser's calendar is the Google
Calendar of the **first interviewer of the booking** (sessions in time order, then
interviewer id) that has a connected Google source (credentials stored, no reconnect
needed). The write-back job creates that interviewer's event with conference data, reads
the Meet URL, stores it on the booking (``Booking.video_link``) and sends everyone an updated
REQUEST (same UIDs, SEQUENCE + 1) carrying it. Without such a calendar, or when Google
gives no link, the template's URL is used and the coordinator is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from web.domain.booking.policy import BookingPolicy
from web.store.models import Booking, BookingSession, CalendarSource, SchedulingRequest

TEMPLATE = "template"
GOOGLE_MEET = "google_meet"
VIDEO_CHOICES = (TEMPLATE, GOOGLE_MEET)


@dataclass(frozen=True)
class MeetOrganiser:
    """Whose Google Calendar creates the Meet: one booked session and its Google source."""

    session: BookingSession
    source: CalendarSource


def template_url(req: SchedulingRequest, b: Booking) -> str:
    template = req.loop.video_url_template or ""
    return template.replace("{request}", str(req.id)).replace("{booking}", b.uid_base)


def wants_meet(req: SchedulingRequest) -> bool:
    return (req.loop.video or TEMPLATE) == GOOGLE_MEET


def meet_organiser(b: Booking) -> MeetOrganiser | None:
    """The first interviewer of the booking with a connected Google calendar, if any."""
    for bs in sorted(b.sessions, key=lambda x: (x.start, x.interviewer_id)):
        for src in sorted(bs.interviewer.calendars, key=lambda c: c.id):
            if src.kind == "google" and src.credentials and not src.needs_reconnect:
                return MeetOrganiser(bs, src)
    return None


def meet_pending(req: SchedulingRequest, b: Booking) -> bool:
    """Google Meet is wanted and possible, and the write-back has not stored its link yet."""
    return b.video_link is None and wants_meet(req) and meet_organiser(b) is not None


def video_url(req: SchedulingRequest, b: Booking) -> str:
    """The link to join ("" while a Google Meet link is being created, or with no template)."""
    if b.video_link is not None:
        return b.video_link
    if meet_pending(req, b):
        return ""
    return template_url(req, b)


def video_note(req: SchedulingRequest, b: Booking) -> str:
    """One line for the coordinator on how the video link is (to be) made; "" for templates."""
    if not wants_meet(req) or b.video_link is not None:
        return ""
    who = meet_organiser(b)
    if who is not None:
        return (
            f"Video: a Google Meet link is being created in {who.session.interviewer.name}'s "
            "Google Calendar; everyone gets an updated invitation with it."
        )
    return (
        "Video: Google Meet was chosen for this loop, but no interviewer of this booking has a "
        "connected Google Calendar, so the loop's link template is used"
        + ("." if req.loop.video_url_template else " (the template is empty: no video link).")
    )


def policy_payload(policy: BookingPolicy, link: str) -> dict[str, Any]:
    """What the write-back job needs of the policy to send an updated invitation."""
    return {
        "candidate_invites": policy.candidate_invites,
        "domain": policy.domain,
        "reminder_minutes": [int(r.total_seconds() // 60) for r in policy.reminders],
        "link": link,
    }


def writeback_payload(
    req: SchedulingRequest, booking_ids: list[int], policy: BookingPolicy, link: str
) -> dict[str, Any]:
    """The ``calendar_writeback`` job's payload (the policy only where a Meet may be made)."""
    payload: dict[str, Any] = {"booking_ids": booking_ids}
    if wants_meet(req):
        payload["policy"] = policy_payload(policy, link)
    return payload


def policy_from_payload(data: dict[str, Any] | None) -> tuple[BookingPolicy, str]:
    if not data:
        return BookingPolicy(), ""
    policy = BookingPolicy(
        candidate_invites=str(data.get("candidate_invites", "session")),
        domain=str(data.get("domain", "panelslot.local")),
        reminders=tuple(timedelta(minutes=int(m)) for m in data.get("reminder_minutes", [])),
    )
    return policy, str(data.get("link", ""))
