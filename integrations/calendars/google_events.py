"""Google Calendar resources as plain data: stored sync state, request chunking,
stable event ids, the interview event body, and events turned into VEVENTs for the
shared ICS busy rules. Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import icalendar

from integrations.calendars.answers import GOOGLE_PARTSTAT
from integrations.calendars.base import InterviewEvent
from scheduler.localtime import find_zone
from scheduler.model import Interval

if TYPE_CHECKING:  # the TypedDicts of google-api-python-client-stubs
    from googleapiclient._apis.calendar.v3.schemas import Event, EventDateTime, FreeBusyRequest

MAX_FREEBUSY_CALENDARS = 50
MAX_FREEBUSY_SPAN = timedelta(days=90)


@dataclass
class CalendarSyncState:
    """What ``mode="sync"`` remembers about one calendar between reads."""

    sync_token: str | None = None
    events: dict[str, Event] = field(default_factory=dict)


def sync_state_to_json(state: dict[str, CalendarSyncState]) -> str:
    """``GoogleCalendarBackend.sync_state`` as JSON, to keep between runs."""
    return json.dumps(
        {cal_id: {"sync_token": s.sync_token, "events": s.events} for cal_id, s in state.items()}
    )


def sync_state_from_json(text: str) -> dict[str, CalendarSyncState]:
    """Inverse of :func:`sync_state_to_json`; unreadable state gives an empty one (full sync)."""
    try:
        data = json.loads(text)
        return {
            str(cal_id): CalendarSyncState(
                sync_token=entry.get("sync_token"), events=dict(entry.get("events", {}))
            )
            for cal_id, entry in data.items()
        }
    except (ValueError, AttributeError, TypeError):
        return {}


def google_event_id(uid: str) -> str:
    """A stable event id for ``uid`` in the alphabet Google requires (base32hex, lowercase).

    Writing with our own id makes ``write_event`` idempotent: a retried insert
    that already went through answers 409 instead of creating a duplicate.
    """
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def chunk_windows(window: Interval, span: timedelta = MAX_FREEBUSY_SPAN) -> list[Interval]:
    """Split ``window`` into consecutive pieces no longer than ``span``."""
    pieces = []
    start = window.start
    while start < window.end:
        end = min(window.end, start + span)
        pieces.append(Interval(start, end))
        start = end
    return pieces


def chunk_ids(ids: Sequence[str], size: int = MAX_FREEBUSY_CALENDARS) -> list[tuple[str, ...]]:
    """Split ``ids`` into tuples of at most ``size``."""
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def freebusy_request(piece: Interval, ids: Sequence[str]) -> FreeBusyRequest:
    """The ``freebusy.query`` body for the calendars ``ids`` over ``piece``."""
    return {
        "timeMin": rfc3339(piece.start),
        "timeMax": rfc3339(piece.end),
        "items": [{"id": cal_id} for cal_id in ids],
    }


def interview_body(event: InterviewEvent) -> Event:
    """The Google event resource for an interview (no id, no iCalUID, no Meet)."""
    body: Event = {
        "summary": event.summary,
        "description": event.description,
        "start": {"dateTime": rfc3339(event.start), "timeZone": "UTC"},
        "end": {"dateTime": rfc3339(event.end), "timeZone": "UTC"},
        "attendees": [{"email": email} for email in event.attendees],
        # no "sequence": Google keeps it and refuses values below its own
        "transparency": "opaque",
    }
    if event.location:
        body["location"] = event.location
    return body


def new_interview_body(event: InterviewEvent, event_id: str, *, create_meet: bool) -> Event:
    """The body of ``events.insert``: our own id and UID, and a Meet request if wanted."""
    body = interview_body(event)
    body["iCalUID"] = event.uid
    body["id"] = event_id
    if create_meet:
        body["conferenceData"] = {
            "createRequest": {
                "requestId": uuid.uuid5(uuid.NAMESPACE_URL, event.uid).hex,
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body


def video_entry_point(event: Event) -> str | None:
    for entry in event.get("conferenceData", {}).get("entryPoints", []):
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return None


def apply_change(events: dict[str, Event], item: Event) -> None:
    """Fold one ``events.list`` item into the stored events."""
    event_id = str(item["id"])
    if item.get("status") == "cancelled" and "recurringEventId" not in item:
        events.pop(event_id, None)
        # the exceptions of a deleted series go with it
        for other_id in [k for k, v in events.items() if v.get("recurringEventId") == event_id]:
            events.pop(other_id)
        return
    events[event_id] = item


def _google_time(value: EventDateTime) -> date | datetime | None:
    if "dateTime" in value:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        zone = find_zone(value.get("timeZone"))
        return moment.astimezone(zone) if zone is not None else moment
    if "date" in value:
        return date.fromisoformat(str(value["date"]))
    return None


def _recurrence_lines(lines: Sequence[str]) -> Iterator[tuple[str, Any]]:
    text = "BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT\r\n"
    parsed = icalendar.Event.from_ical(text)
    for name, value in parsed.property_items(recursive=False):
        if name in ("RRULE", "EXDATE", "RDATE", "EXRULE"):
            yield name, value


def google_event_to_vevent(event: Event) -> icalendar.Event | None:
    """Translate a Google event resource into a VEVENT for the shared busy rules."""
    start = _google_time(event.get("start", {}))
    original = _google_time(event.get("originalStartTime", {}))
    if start is None and original is None:
        return None
    vevent = icalendar.Event()
    vevent.add("uid", event.get("iCalUID") or event["id"])
    if start is not None:
        vevent.add("dtstart", start)
        end = _google_time(event.get("end", {}))
        if end is not None:
            vevent.add("dtend", end)
    elif original is not None:
        vevent.add("dtstart", original)
        vevent.add("duration", timedelta(0))
    if original is not None and event.get("recurringEventId"):
        vevent.add("recurrence-id", original)
    if event.get("recurrence"):
        for name, value in _recurrence_lines(event["recurrence"]):
            vevent.add(name, value)
    vevent.add("summary", event.get("summary", "Busy"))
    vevent.add("status", str(event.get("status", "confirmed")).upper())
    if event.get("transparency") == "transparent":
        vevent.add("transp", "TRANSPARENT")
    for attendee in event.get("attendees", []):
        if not attendee.get("email"):
            continue
        prop = icalendar.vCalAddress(f"mailto:{attendee['email']}")
        prop.params["PARTSTAT"] = GOOGLE_PARTSTAT.get(
            attendee.get("responseStatus", ""), "NEEDS-ACTION"
        )
        vevent.add("attendee", prop, encode=False)
    return vevent
