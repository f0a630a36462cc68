"""Attendees' answers (PARTSTAT) read from an iCalendar VEVENT: shared by CalDAV and iMIP.

Pure functions on icalendar objects; no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar

from integrations.calendars.base import AttendeeResponse


def address_email(value: object) -> str:
    """The lower-cased e-mail address of a CAL-ADDRESS (``mailto:`` removed), or ""."""
    text = str(value).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return text.strip().lower() if "@" in text else ""


def attendee_props(vevent: icalendar.Component) -> list[Any]:
    """Every ATTENDEE property of ``vevent`` (icalendar gives one value or a list)."""
    value = vevent.get("ATTENDEE")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def partstat_of(prop: Any) -> str:
    """The PARTSTAT parameter of an ATTENDEE, upper case; NEEDS-ACTION when absent."""
    params = getattr(prop, "params", {})
    return str(params.get("PARTSTAT", "NEEDS-ACTION")).strip().upper() or "NEEDS-ACTION"


def sequence_of(vevent: icalendar.Component) -> int:
    """SEQUENCE of ``vevent`` (0 when absent); a value that is not a number raises ValueError."""
    raw = vevent.get("SEQUENCE", 0)
    return int(str(raw).strip() or 0)


def dtstamp_of(vevent: icalendar.Component) -> datetime | None:
    """DTSTAMP as an aware UTC datetime; floating times are read as UTC; None if missing."""
    if "DTSTAMP" not in vevent:
        return None
    value = vevent.decoded("DTSTAMP")
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def vevent_responses(vevent: icalendar.Component, source: str) -> list[AttendeeResponse]:
    """One answer per ATTENDEE of a stored event (the organiser's own line is kept out)."""
    uid = str(vevent.get("UID", ""))
    organizer = address_email(vevent.get("ORGANIZER", ""))
    sequence = sequence_of(vevent)
    stamp = dtstamp_of(vevent)
    found: list[AttendeeResponse] = []
    for prop in attendee_props(vevent):
        email = address_email(prop)
        if not email or email == organizer:
            continue
        found.append(AttendeeResponse(uid, sequence, email, partstat_of(prop), stamp, source))
    return found


GOOGLE_PARTSTAT = {
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
    "needsAction": "NEEDS-ACTION",
}


def google_event_responses(event: dict[str, Any], source: str) -> list[AttendeeResponse]:
    """One answer per attendee of a Google event resource (``responseStatus``).

    The organiser's own entry is left out; ``updated`` (when Google last changed the
    event, an answer included) stands in for DTSTAMP; ``sequence`` is Google's own.
    """
    uid = str(event.get("iCalUID") or event.get("id", ""))
    sequence = int(event.get("sequence", 0) or 0)
    stamp = _google_updated(event.get("updated"))
    found: list[AttendeeResponse] = []
    for attendee in event.get("attendees", []):
        email = str(attendee.get("email", "")).strip().lower()
        if not email or attendee.get("organizer"):
            continue
        status = str(attendee.get("responseStatus", "needsAction"))
        partstat = GOOGLE_PARTSTAT.get(status, "NEEDS-ACTION")
        found.append(AttendeeResponse(uid, sequence, email, partstat, stamp, source))
    return found


def _google_updated(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
