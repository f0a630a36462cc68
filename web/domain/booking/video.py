"""The video link of a booking: the loop's URL template, Google Meet or Microsoft Teams.

A loop's ``video`` is ``"template"`` (the URL template, with ``{request}`` and ``{booking}``
filled in), ``"google_meet"`` or ``"teams"``. With a provider, the organiser's calendar is
the provider's calendar (Google Calendar for Meet, Microsoft 365 for Teams) of the **first
interviewer of the booking** (sessions in time order, then interviewer id) that has it
connected (credentials stored, no reconnect needed). The write-back job creates that
interviewer's event as an online meeting, reads the join URL, stores it on the booking
(``Booking.video_link``) and sends everyone an updated REQUEST (same UIDs, SEQUENCE + 1)
carrying it. Without such a calendar, or when the provider gives no link, the template's URL
is used and the coordinator is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from integrations.urls import safe_link
from web.domain.booking.policy import BookingPolicy
from web.store.models import Booking, BookingSession, CalendarSource, SchedulingRequest

TEMPLATE = "template"
GOOGLE_MEET = "google_meet"
TEAMS = "teams"
VIDEO_CHOICES = (TEMPLATE, GOOGLE_MEET, TEAMS)


@dataclass(frozen=True)
class VideoProvider:
    """A provider-made video link: which calendar kind makes it and how it is named."""

    choice: str
    kind: str  # CalendarSource.kind of the organiser's calendar
    name: str  # "Google Meet"
    calendar: str  # "Google Calendar"
    vendor: str  # "Google"
    option: str  # the backend option that makes written events online meetings


PROVIDERS = {
    GOOGLE_MEET: VideoProvider(
        GOOGLE_MEET, "google", "Google Meet", "Google Calendar", "Google", "create_meet"
    ),
    TEAMS: VideoProvider(
        TEAMS, "msgraph", "Microsoft Teams", "Microsoft 365 calendar", "Microsoft", "create_teams"
    ),
}


@dataclass(frozen=True)
class MeetOrganiser:
    """Whose calendar creates the meeting: one booked session and its calendar source."""

    session: BookingSession
    source: CalendarSource
    provider: VideoProvider


def template_url(req: SchedulingRequest, b: Booking) -> str:
    template = req.loop.video_url_template or ""
    url = template.replace("{request}", str(req.id)).replace("{booking}", b.uid_base)
    return safe_link(url)  # a javascript: template stored before the form refused it


def video_provider(req: SchedulingRequest) -> VideoProvider | None:
    """The provider that makes the loop's video link, or None for the template."""
    return PROVIDERS.get(req.loop.video or TEMPLATE)


def wants_meet(req: SchedulingRequest) -> bool:
    """The loop's video link is made by a provider (Google Meet or Teams)."""
    return video_provider(req) is not None


def meet_organiser(b: Booking) -> MeetOrganiser | None:
    """The first interviewer of the booking with the provider's calendar connected, if any."""
    provider = video_provider(b.request)
    if provider is None:
        return None
    for bs in sorted(b.sessions, key=lambda x: (x.start, x.interviewer_id)):
        for src in sorted(bs.interviewer.calendars, key=lambda c: c.id):
            if src.kind == provider.kind and src.credentials and not src.needs_reconnect:
                return MeetOrganiser(bs, src, provider)
    return None


def meet_pending(req: SchedulingRequest, b: Booking) -> bool:
    """A provider link is wanted and possible, and the write-back has not stored it yet."""
    return b.video_link is None and wants_meet(req) and meet_organiser(b) is not None


def pending_name(req: SchedulingRequest, b: Booking) -> str:
    """The provider's name ("Google Meet") while its link is being created, else ""."""
    provider = video_provider(req)
    return provider.name if provider and meet_pending(req, b) else ""


def video_url(req: SchedulingRequest, b: Booking) -> str:
    """The link to join ("" while a provider link is being created, or with no template)."""
    if b.video_link is not None:
        return b.video_link
    if meet_pending(req, b):
        return ""
    return template_url(req, b)


def no_organiser_note(provider: VideoProvider) -> str:
    return (
        f"Video: {provider.name} was chosen for this loop, but no interviewer of this booking "
        f"has a connected {provider.calendar}, so the loop's link template is used"
    )


def video_note(req: SchedulingRequest, b: Booking) -> str:
    """One line for the coordinator on how the video link is (to be) made; "" for templates."""
    provider = video_provider(req)
    if provider is None or b.video_link is not None:
        return ""
    who = meet_organiser(b)
    if who is not None:
        return (
            f"Video: a {provider.name} link is being created in "
            f"{who.session.interviewer.name}'s {provider.calendar}; everyone gets an updated "
            "invitation with it."
        )
    return no_organiser_note(provider) + (
        "." if req.loop.video_url_template else " (the template is empty: no video link)."
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
        candidate_invites=str(data.get("candidate_invites", "itinerary")),
        domain=str(data.get("domain", "panelslot.local")),
        reminders=tuple(timedelta(minutes=int(m)) for m in data.get("reminder_minutes", [])),
    )
    return policy, str(data.get("link", ""))
