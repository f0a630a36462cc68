"""Calendar invites for booked interviews: iTIP objects (RFC 5546) built with icalendar.

Pure functions: no I/O, no clock (``now`` is always a parameter). The rules these
builders keep, because calendar clients depend on them:

* One UID per interview session, stable for the life of the booking
  (:func:`session_uid`); a loop sent as one event has its own UID (:func:`loop_uid`).
* A ``REQUEST`` or ``CANCEL`` object holds exactly one event (one UID): clients such
  as Gmail and Outlook only act on one, and RFC 5546 requires every component of an
  iTIP message to share the UID. "One invite per session" therefore means one
  object (one mail) per session; see :func:`build_invites`.
* Rescheduling re-sends ``REQUEST`` with the same UID and a higher ``SEQUENCE``;
  cancelling sends ``CANCEL`` with ``STATUS:CANCELLED`` and ``SEQUENCE`` one above the
  last one sent (:func:`invite_cancel`).
* ``DTSTART``/``DTEND``/``DTSTAMP`` are written in UTC (``...Z``), so no VTIMEZONE is
  needed and every client shows the same instants.
* A ``.ics`` download (and the candidate's itinerary mail) is ``METHOD:PUBLISH``
  (:func:`ics_download`), one VEVENT per session under the sessions' UIDs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal
from urllib.parse import quote, urlencode

from icalendar import Calendar, Event, vCalAddress

from integrations.calendars.base import InterviewEvent

PRODID = "-//panelslot//panelslot interview invites//EN"
GOOGLE_CALENDAR_URL = "https://calendar.google.com/calendar/render"

Method = Literal["REQUEST", "CANCEL"]
Grouping = Literal["session", "loop"]
Role = Literal["CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"]
_ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")


class InviteError(ValueError):
    """An invite cannot be built from the data given; names the field and value."""

    def __init__(self, field: str, value: object, hint: str) -> None:
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(f"invite {field}={value!r}: {hint}")


@dataclass(frozen=True)
class Participant:
    """A person on an invite: the organiser or an attendee."""

    email: str
    name: str = ""
    role: Role = "REQ-PARTICIPANT"


@dataclass(frozen=True)
class SessionTime:
    """One booked interview session.

    ``attendees`` are the people of this session only (its interviewers); the
    invite-wide ``attendees`` (usually the candidate) are added to every event.
    """

    uid: str
    name: str
    start: datetime
    end: datetime
    attendees: tuple[Participant, ...] = ()


@dataclass(frozen=True)
class Invite:
    """One iTIP object ready to mail: send ``ics`` to every address in ``recipients``."""

    uid: str
    method: Method
    sequence: int
    start: datetime
    end: datetime
    summary: str
    recipients: tuple[str, ...]
    ics: bytes


# --------------------------------------------------------------------------- UIDs


def session_uid(booking_id: str | int, session_index: int, domain: str) -> str:
    """The UID of session ``session_index`` (0-based) of a booking; stable across reschedules."""
    _check_uid_parts(booking_id, domain)
    if session_index < 0:
        raise InviteError("session_index", session_index, "must be 0 or more")
    return f"panelslot-{booking_id}-s{session_index}@{domain}"


def loop_uid(booking_id: str | int, domain: str) -> str:
    """The UID of a whole loop sent as one event; never equal to a session's UID."""
    _check_uid_parts(booking_id, domain)
    return f"panelslot-{booking_id}-loop@{domain}"


def _check_uid_parts(booking_id: str | int, domain: str) -> None:
    text = str(booking_id)
    if not text or any(c.isspace() or c == "@" for c in text):
        raise InviteError("booking_id", booking_id, "must be non-empty, without spaces or '@'")
    if not domain or any(c.isspace() or c == "@" for c in domain):
        raise InviteError("domain", domain, "must be a host name such as panelslot.example.com")


# ------------------------------------------------------------------ iTIP objects


def invite_request(
    sessions: Sequence[SessionTime],
    *,
    organizer: Participant,
    attendees: Sequence[Participant],
    sequence: int,
    now: datetime,
    summary: str,
    uid: str | None = None,
    description: str = "",
    location: str = "",
    video_url: str = "",
    method: Method = "REQUEST",
    agenda_tz: tzinfo = UTC,
) -> bytes:
    """An iTIP ``REQUEST`` (or ``CANCEL``) holding exactly one VEVENT.

    One session: the event is that session, with its UID (``uid`` overrides it).
    Its attendees are ``attendees`` plus the session's own people.
    Several sessions: the event spans the loop, from the first start to the last end,
    under ``uid`` (required, use :func:`loop_uid`); its attendees are ``attendees`` only,
    and the description lists the sessions (times in ``agenda_tz``, people by name).

    For a reschedule pass the same UID with ``sequence`` above the last one sent.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise InviteError("method", method, "must be REQUEST or CANCEL")
    event = _event(
        sessions,
        organizer=organizer,
        attendees=attendees,
        sequence=sequence,
        now=now,
        summary=summary,
        uid=uid,
        description=description,
        location=location,
        video_url=video_url,
        cancelled=method == "CANCEL",
        with_attendees=True,
        agenda_tz=agenda_tz,
    )
    return _calendar(method, [event])


def invite_cancel(
    sessions: Sequence[SessionTime],
    *,
    organizer: Participant,
    attendees: Sequence[Participant],
    last_sequence: int,
    now: datetime,
    summary: str,
    uid: str | None = None,
    description: str = "",
    location: str = "",
    video_url: str = "",
    agenda_tz: tzinfo = UTC,
) -> bytes:
    """An iTIP ``CANCEL`` for an event sent before: same UID, ``SEQUENCE`` = ``last_sequence`` + 1.

    ``last_sequence`` is the SEQUENCE of the last REQUEST sent for that UID.
    """
    return invite_request(
        sessions,
        organizer=organizer,
        attendees=attendees,
        sequence=last_sequence + 1,
        now=now,
        summary=summary,
        uid=uid,
        description=description,
        location=location,
        video_url=video_url,
        method="CANCEL",
        agenda_tz=agenda_tz,
    )


def build_invites(
    sessions: Sequence[SessionTime],
    *,
    grouping: Grouping,
    organizer: Participant,
    attendees: Sequence[Participant],
    sequence: int,
    now: datetime,
    summary: str,
    loop_uid: str | None = None,
    description: str = "",
    location: str = "",
    video_url: str = "",
    method: Method = "REQUEST",
    agenda_tz: tzinfo = UTC,
) -> list[Invite]:
    """The invites of a booking: one per session (``grouping="session"``) or one for the loop.

    Per session, each event's attendees are ``attendees`` plus that session's own, and
    its ``recipients`` are exactly those people. For the loop (``loop_uid`` required),
    the event's attendees and recipients are ``attendees`` only (the candidate); the
    sessions' people are named in its agenda and get their own per-session invites:
    ``build_invites(..., grouping="session", attendees=[])``.
    For ``CANCEL`` pass ``sequence`` already raised above the last one sent.
    """
    invites: list[Invite] = []
    for group, uid in _groups(sessions, grouping, loop_uid):
        ics = invite_request(
            group,
            organizer=organizer,
            attendees=attendees,
            sequence=sequence,
            now=now,
            summary=summary if grouping == "loop" else f"{summary}: {group[0].name}",
            uid=uid,
            description=description,
            location=location,
            video_url=video_url,
            method=method,
            agenda_tz=agenda_tz,
        )
        people = _people(attendees, group, organizer)
        invites.append(
            Invite(
                uid=uid or group[0].uid,
                method=method,
                sequence=sequence,
                start=min(s.start for s in group).astimezone(UTC),
                end=max(s.end for s in group).astimezone(UTC),
                summary=summary if grouping == "loop" else f"{summary}: {group[0].name}",
                recipients=tuple(p.email for p in people),
                ics=ics,
            )
        )
    return invites


def _groups(
    sessions: Sequence[SessionTime], grouping: Grouping, loop_uid: str | None
) -> list[tuple[list[SessionTime], str | None]]:
    """The sessions of each invite with the invite's own UID (None: the session's)."""
    if grouping not in ("session", "loop"):
        raise InviteError("grouping", grouping, "must be 'session' or 'loop'")
    if not sessions:
        raise InviteError("sessions", [], "at least one session is needed")
    if grouping == "session":
        return [([s], None) for s in sessions]
    if not loop_uid:
        raise InviteError("loop_uid", loop_uid, "a loop invite needs its own UID (loop_uid())")
    return [(list(sessions), loop_uid)]


def ics_download(
    sessions: Sequence[SessionTime],
    *,
    organizer: Participant,
    now: datetime,
    summary: str,
    grouping: Grouping = "session",
    loop_uid: str | None = None,
    sequence: int = 0,
    description: str = "",
    location: str = "",
    video_url: str = "",
    agenda_tz: tzinfo = UTC,
    cancelled: bool = False,
) -> bytes:
    """A ``METHOD:PUBLISH`` file to import: one VEVENT per session, or one for the loop.

    The events keep the invites' UIDs and carry no attendees (RFC 5546 3.2.1: a published
    event has none). A file with the same UIDs and a higher ``sequence`` updates them;
    ``cancelled`` marks every event ``STATUS:CANCELLED`` (a CANCEL keeps to one UID).
    """
    if grouping not in ("session", "loop"):
        raise InviteError("grouping", grouping, "must be 'session' or 'loop'")
    if not sessions:
        raise InviteError("sessions", [], "at least one session is needed")
    if grouping == "loop" and not loop_uid:
        raise InviteError("loop_uid", loop_uid, "a loop event needs its own UID (loop_uid())")
    groups: list[tuple[Sequence[SessionTime], str, str | None]]
    if grouping == "loop":
        groups = [(sessions, summary, loop_uid)]
    else:
        groups = [([s], f"{summary}: {s.name}", None) for s in sessions]
    events = [
        _event(
            group,
            organizer=organizer,
            attendees=(),
            sequence=sequence,
            now=now,
            summary=title,
            uid=uid,
            description=description,
            location=location,
            video_url=video_url,
            cancelled=cancelled,
            with_attendees=False,
            agenda_tz=agenda_tz,
        )
        for group, title, uid in groups
    ]
    return _calendar("PUBLISH", events)


def session_from_event(event: InterviewEvent, name: str = "") -> SessionTime:
    """A :class:`SessionTime` for an event of the calendar layer (attendees without names)."""
    return SessionTime(
        uid=event.uid,
        name=name or event.summary,
        start=event.start,
        end=event.end,
        attendees=tuple(Participant(email=a) for a in event.attendees),
    )


# ----------------------------------------------------------- add-to-calendar link


def google_calendar_url(
    *,
    title: str,
    start: datetime,
    end: datetime,
    details: str = "",
    location: str = "",
) -> str:
    """An "Add to Google Calendar" link for one event (times in UTC)."""
    _check_times("start", start, end)
    params = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc_stamp(start)}/{_utc_stamp(end)}",
    }
    if details:
        params["details"] = details
    if location:
        params["location"] = location
    return f"{GOOGLE_CALENDAR_URL}?{urlencode(params, safe='/', quote_via=quote)}"


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# ------------------------------------------------------------------- internals


def _calendar(method: str, events: Sequence[Event]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    for event in events:
        cal.add_component(event)
    ics: bytes = cal.to_ical()
    return ics


def _event(
    sessions: Sequence[SessionTime],
    *,
    organizer: Participant,
    attendees: Sequence[Participant],
    sequence: int,
    now: datetime,
    summary: str,
    uid: str | None,
    description: str,
    location: str,
    video_url: str,
    cancelled: bool,
    with_attendees: bool,
    agenda_tz: tzinfo,
) -> Event:
    if not sessions:
        raise InviteError("sessions", [], "at least one session is needed")
    for s in sessions:
        _check_times(f"session {s.name!r}", s.start, s.end)
    _check_aware("now", now)
    if sequence < 0:
        raise InviteError("sequence", sequence, "must be 0 or more")
    if not summary.strip():
        raise InviteError("summary", summary, "must not be empty")
    if len(sessions) > 1 and not uid:
        raise InviteError("uid", uid, "an event covering several sessions needs its own UID")
    event_uid = uid or sessions[0].uid
    if not event_uid or any(c.isspace() for c in event_uid):
        raise InviteError("uid", event_uid, "must be non-empty and without spaces")
    ordered = sorted(sessions, key=lambda s: s.start)
    start = ordered[0].start.astimezone(UTC)
    end = max(s.end for s in ordered).astimezone(UTC)

    event = Event()
    event.add("uid", event_uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    text = _description(description, video_url, ordered if len(ordered) > 1 else (), agenda_tz)
    if text:
        event.add("description", text)
    where = location or video_url
    if where:
        event.add("location", where)
    if video_url:
        event.add("url", video_url)
    event.add("organizer", _address(organizer, attendee=False))
    if with_attendees:
        for person in _people(attendees, ordered, organizer):
            event.add("attendee", _address(person, attendee=True))
    return event


def _people(
    attendees: Sequence[Participant], sessions: Sequence[SessionTime], organizer: Participant
) -> list[Participant]:
    """The event's attendees, once per address, without the organiser.

    A single session's event holds the invite-wide attendees and the session's own
    people; a loop event only the invite-wide ones (the session people get their own
    per-session events and are named in the loop event's agenda).
    """
    seen = {organizer.email.lower()}
    people: list[Participant] = []
    own = [p for p in sessions[0].attendees] if len(sessions) == 1 else []
    for person in [*attendees, *own]:
        key = person.email.lower()
        if key not in seen:
            seen.add(key)
            people.append(person)
    return people


def _address(person: Participant, *, attendee: bool) -> vCalAddress:
    email = person.email.strip()
    if "@" not in email or any(c.isspace() for c in email) or email.count("@") != 1:
        raise InviteError("email", person.email, "must be an address like name@example.com")
    if person.role not in _ROLES:
        raise InviteError("role", person.role, f"must be one of {', '.join(_ROLES)}")
    address = vCalAddress(f"mailto:{email}")
    if person.name:
        address.params["CN"] = person.name
    if attendee:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = person.role
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
    return address


def _description(
    text: str, video_url: str, agenda: Sequence[SessionTime], agenda_tz: tzinfo
) -> str:
    parts = [text.strip()] if text.strip() else []
    if agenda:
        zone = getattr(agenda_tz, "key", None) or agenda_tz.tzname(agenda[0].start) or "UTC"
        lines = [f"Sessions (times in {zone}):"]
        for s in agenda:
            a = s.start.astimezone(agenda_tz)
            b = s.end.astimezone(agenda_tz)
            names = ", ".join(p.name for p in s.attendees if p.name)
            line = f"- {a:%a %d %b %H:%M}-{b:%H:%M} {s.name}"
            lines.append(f"{line} (with {names})" if names else line)
        parts.append("\n".join(lines))
    if video_url and video_url not in text:
        parts.append(f"Join: {video_url}")
    return "\n\n".join(parts)


def _check_aware(field: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InviteError(field, value, "must be a timezone-aware datetime")


def _check_times(field: str, start: datetime, end: datetime) -> None:
    _check_aware(f"{field} start", start)
    _check_aware(f"{field} end", end)
    if end <= start:
        raise InviteError(f"{field} end", end.isoformat(), "must be after the start")
