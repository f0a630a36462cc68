"""Google Calendar through the real ``google-api-python-client``.

Busy time is read either with ``freebusy.query`` (``mode="freebusy"``, least
privilege, chunked to 50 calendars and 90 days per request) or with
incremental ``events.list`` and ``syncToken`` (``mode="sync"``; events are kept
between reads and turned into busy time with the shared ICS busy rules).
Interviews are written with ``events.insert``/``patch``/``delete``.

Rate limits (403 rateLimitExceeded/userRateLimitExceeded, 429) and server
errors (5xx) are retried with exponential backoff and jitter; a revoked or
refused token raises :class:`ReconnectRequired`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Literal

import google_auth_httplib2
import httplib2
import icalendar
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from integrations.backoff import Backoff
from integrations.calendars.answers import GOOGLE_PARTSTAT, google_event_responses
from integrations.calendars.base import (
    AttendeeResponse,
    BusyRead,
    CalendarBackend,
    InterviewEvent,
)
from integrations.errors import CalendarError, ReconnectRequired
from integrations.ics import busy_from_calendar
from scheduler.localtime import find_zone
from scheduler.model import Interval

MAX_FREEBUSY_CALENDARS = 50
MAX_FREEBUSY_SPAN = timedelta(days=90)
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
RECONNECT_HINT = "the interviewer must reconnect Google Calendar from their page"

ReadMode = Literal["freebusy", "sync"]
SendUpdates = Literal["all", "externalOnly", "none"]


@dataclass(frozen=True)
class GoogleOptions:
    """How one interviewer's Google account is read and written."""

    calendar_ids: tuple[str, ...] = ("primary",)  # which calendars count as busy
    mode: ReadMode = "freebusy"
    write_calendar_id: str = "primary"
    send_updates: SendUpdates = "all"
    create_meet: bool = False  # add a Google Meet link to written interviews
    api_endpoint: str | None = None  # e.g. "http://127.0.0.1:PORT/calendar/v3/" in tests
    timezone: str = "UTC"  # zone for all-day events in ``sync`` mode
    email: str | None = None  # the interviewer; their declined invitations are free
    label: str = "Google Calendar"  # names the account in errors (never a token)
    timeout_seconds: float = 30.0
    page_size: int = 250

    def __post_init__(self) -> None:
        if not self.calendar_ids:
            raise ValueError("GoogleOptions.calendar_ids must name at least one calendar")
        if self.mode not in ("freebusy", "sync"):
            raise ValueError(f"GoogleOptions.mode must be 'freebusy' or 'sync', got {self.mode!r}")


@dataclass
class CalendarSyncState:
    """What ``mode="sync"`` remembers about one calendar between reads."""

    sync_token: str | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


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


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _error_reasons(exc: HttpError) -> set[str]:
    try:
        data = json.loads(exc.content.decode("utf-8"))
        return {str(e.get("reason", "")) for e in data["error"].get("errors", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()


def is_retryable(exc: BaseException) -> bool:
    """403 rate limits, 429 and 5xx are worth retrying; nothing else is."""
    if isinstance(exc, HttpError):
        status = exc.resp.status
        if status == 429 or 500 <= status < 600:
            return True
        return status == 403 and bool(_error_reasons(exc) & RATE_LIMIT_REASONS)
    return isinstance(exc, TransportError | ConnectionError | TimeoutError)


class GoogleApiError(CalendarError):
    """Google answered an API request with an error; ``status`` is the HTTP status."""

    def __init__(self, source: str, message: str, status: int) -> None:
        super().__init__(source, message)
        self.status = status


class GoogleCalendarBackend(CalendarBackend):
    """One interviewer's Google Calendar account."""

    kind = "google"

    def __init__(
        self,
        credentials: Credentials,
        options: GoogleOptions | None = None,
        *,
        backoff: Backoff | None = None,
        sync_state: dict[str, CalendarSyncState] | None = None,
        http: httplib2.Http | None = None,
    ) -> None:
        self.credentials = credentials
        self.options = options or GoogleOptions()
        self.backoff = backoff or Backoff()
        self.sync_state: dict[str, CalendarSyncState] = sync_state if sync_state else {}
        self.meet_links: dict[str, str] = {}
        authed = google_auth_httplib2.AuthorizedHttp(
            credentials, http=http or httplib2.Http(timeout=self.options.timeout_seconds)
        )
        client_options = (
            {"api_endpoint": self.options.api_endpoint} if self.options.api_endpoint else None
        )
        self._service = build(
            "calendar",
            "v3",
            http=authed,
            static_discovery=True,
            cache_discovery=False,
            client_options=client_options,
        )

    # -- plumbing ------------------------------------------------------------

    def _execute(self, what: str, make_request: Callable[[], Any]) -> Any:
        """Run one API request with backoff; translate failures to CalendarError."""
        source = self.options.label
        try:
            return self.backoff.run(lambda: make_request().execute(), retryable=is_retryable)
        except RefreshError as exc:
            error = _refresh_error_code(exc)
            if error == "invalid_grant":
                raise ReconnectRequired(
                    source,
                    "Google refused to refresh the access token (invalid_grant: access was "
                    f"revoked or expired); {RECONNECT_HINT}",
                ) from None
            if error in ("invalid_client", "unauthorized_client"):
                raise CalendarError(
                    source,
                    f"Google refused panelslot's OAuth client ({error}); the administrator must "
                    "check the Google client id and secret",
                ) from None
            raise CalendarError(
                source,
                f"Google's token service failed while trying to {what} ({error or 'no answer'}); "
                "the next sync will try again",
            ) from None
        except HttpError as exc:
            status = exc.resp.status
            if status == 401:
                raise ReconnectRequired(
                    source,
                    f"Google refused the credentials while trying to {what}; {RECONNECT_HINT}",
                ) from None
            reasons = ", ".join(sorted(_error_reasons(exc))) or "no reason given"
            if is_retryable(exc):
                raise GoogleApiError(
                    source,
                    f"Google kept failing while trying to {what} (HTTP {status}, {reasons}) "
                    f"after {self.backoff.attempts} attempts; the next sync will try again",
                    status,
                ) from None
            if status == 403:
                raise GoogleApiError(
                    source,
                    f"Google denied access while trying to {what} (HTTP 403, {reasons}); "
                    "check the calendar is shared with the account or reconnect with the "
                    "needed permissions",
                    status,
                ) from None
            raise GoogleApiError(
                source, f"Google answered HTTP {status} ({reasons}) while trying to {what}", status
            ) from None
        except (TransportError, OSError, httplib2.HttpLib2Error) as exc:
            raise CalendarError(
                source, f"could not reach Google while trying to {what} ({type(exc).__name__})"
            ) from None

    # -- reading -------------------------------------------------------------

    def read_busy(self, window: Interval) -> BusyRead:
        if self.options.mode == "sync":
            return self._read_by_sync(window)
        return self._read_by_freebusy(window)

    def _read_by_freebusy(self, window: Interval) -> BusyRead:
        busy: set[Interval] = set()
        blocks = 0
        for piece in chunk_windows(window):
            for ids in chunk_ids(self.options.calendar_ids):
                body = {
                    "timeMin": _rfc3339(piece.start),
                    "timeMax": _rfc3339(piece.end),
                    "items": [{"id": cal_id} for cal_id in ids],
                }
                answer = self._execute(
                    "read free/busy time", partial(self._service.freebusy().query, body=body)
                )
                for cal_id in ids:
                    entry = answer.get("calendars", {}).get(cal_id, {})
                    errors = entry.get("errors") or []
                    if errors:
                        reason = errors[0].get("reason", "unknown")
                        raise CalendarError(
                            f"{self.options.label} calendar {cal_id}",
                            f"Google could not read this calendar ({reason}); check the calendar "
                            "id and that it is shared with the account",
                        )
                    for block in entry.get("busy", []):
                        blocks += 1
                        start, end = _parse_time(block["start"]), _parse_time(block["end"])
                        if start < end and start < window.end and window.start < end:
                            busy.add(Interval(start, end))
        return BusyRead(busy=tuple(sorted(busy)), events_read=blocks)

    def _read_by_sync(self, window: Interval) -> BusyRead:
        changed = self._sync_all()
        email = self.options.email or self._own_email()
        busy: list[Interval] = []
        occurrences = 0
        for cal_id in self.options.calendar_ids:
            cal = icalendar.Calendar()
            cal.add("prodid", "-//panelslot//google sync//EN")
            cal.add("version", "2.0")
            for event in self.sync_state[cal_id].events.values():
                vevent = google_event_to_vevent(event)
                if vevent is not None:
                    cal.add_component(vevent)
            read = busy_from_calendar(
                cal,
                source=f"{self.options.label} calendar {cal_id}",
                timezone=self.options.timezone,
                window=window,
                email=email,
            )
            busy.extend(read.busy)
            occurrences += read.events_read
        # like ICS feeds, events_read counts the occurrences found in the window
        return BusyRead(busy=tuple(busy), events_read=occurrences, unchanged=not changed)

    def _own_email(self) -> str | None:
        """The account's address as Google marks it (``"self": true``) on attendees."""
        for state in self.sync_state.values():
            for event in state.events.values():
                for attendee in event.get("attendees", []):
                    if attendee.get("self") and attendee.get("email"):
                        return str(attendee["email"])
        return None

    def sync_events(self) -> int:
        """Bring the stored events of every counted calendar up to date (``events.list``).

        Uses the stored ``syncToken`` when there is one; a 410 Gone wipes the
        calendar's events and runs a full sync. Returns the items received.
        """
        received = 0
        for cal_id in self.options.calendar_ids:
            received += self._sync_calendar(cal_id)[0]
        return received

    def _sync_all(self) -> bool:
        """Sync every counted calendar; True if anything may have changed."""
        changed = False
        for cal_id in self.options.calendar_ids:
            received, incremental = self._sync_calendar(cal_id)
            changed = changed or received > 0 or not incremental
        return changed

    def _sync_calendar(self, cal_id: str) -> tuple[int, bool]:
        """Update the stored events of ``cal_id``: (items received, was it incremental)."""
        state = self.sync_state.setdefault(cal_id, CalendarSyncState())
        if state.sync_token is not None:
            try:
                return self._list_pages(cal_id, state, incremental=True), True
            except _SyncTokenGone:
                self.sync_state[cal_id] = state = CalendarSyncState()
        return self._list_pages(cal_id, state, incremental=False), False

    def _list_pages(self, cal_id: str, state: CalendarSyncState, *, incremental: bool) -> int:
        received = 0
        fresh: dict[str, dict[str, Any]] = dict(state.events) if incremental else {}
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {
                "calendarId": cal_id,
                "maxResults": self.options.page_size,
                "singleEvents": False,
            }
            if incremental:
                params["syncToken"] = state.sync_token
            if page_token:
                params["pageToken"] = page_token
            try:
                page = self._execute(
                    f"list the events of calendar {cal_id}",
                    partial(self._service.events().list, **params),
                )
            except GoogleApiError as exc:
                if incremental and exc.status == 410:
                    raise _SyncTokenGone() from None
                raise
            for item in page.get("items", []):
                received += 1
                _apply_change(fresh, item)
            page_token = page.get("nextPageToken")
            if not page_token:
                state.events = fresh
                state.sync_token = page.get("nextSyncToken")
                return received

    # -- writing -------------------------------------------------------------

    def _event_body(self, event: InterviewEvent) -> dict[str, Any]:
        body: dict[str, Any] = {
            "summary": event.summary,
            "description": event.description,
            "start": {"dateTime": _rfc3339(event.start), "timeZone": "UTC"},
            "end": {"dateTime": _rfc3339(event.end), "timeZone": "UTC"},
            "attendees": [{"email": email} for email in event.attendees],
            # no "sequence": Google keeps it and refuses values below its own
            "transparency": "opaque",
        }
        if event.location:
            body["location"] = event.location
        return body

    def write_event(self, event: InterviewEvent) -> str:
        body = self._event_body(event)
        body["iCalUID"] = event.uid
        params: dict[str, Any] = {
            "calendarId": self.options.write_calendar_id,
            "body": body,
            "sendUpdates": self.options.send_updates,
        }
        if self.options.create_meet:
            body["conferenceData"] = {
                "createRequest": {
                    "requestId": uuid.uuid5(uuid.NAMESPACE_URL, event.uid).hex,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            }
            params["conferenceDataVersion"] = 1
        event_id = google_event_id(event.uid)
        body["id"] = event_id
        try:
            created = self._execute(
                "create the interview event", lambda: self._service.events().insert(**params)
            )
        except GoogleApiError as exc:
            if exc.status != 409:
                raise
            # the id exists: an earlier attempt got through, or the interview was cancelled
            # and is being written again; make the stored event match (and restore it)
            created = self._patch(event_id, {**self._event_body(event), "status": "confirmed"})
        link = created.get("hangoutLink") or _video_entry_point(created)
        if link:
            self.meet_links[event_id] = link
        return event_id

    def _patch(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        patched: dict[str, Any] = self._execute(
            "update the interview event",
            lambda: self._service.events().patch(
                calendarId=self.options.write_calendar_id,
                eventId=event_id,
                body=body,
                sendUpdates=self.options.send_updates,
            ),
        )
        return patched

    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        self._patch(event_id, self._event_body(event))

    def cancel_event(self, event_id: str) -> None:
        try:
            self._execute(
                "cancel the interview event",
                lambda: self._service.events().delete(
                    calendarId=self.options.write_calendar_id,
                    eventId=event_id,
                    sendUpdates=self.options.send_updates,
                ),
            )
        except GoogleApiError as exc:
            if exc.status in (404, 410):
                return  # already gone
            raise

    def read_responses(self, uids: Sequence[str]) -> list[AttendeeResponse]:
        """``responseStatus`` of the attendees on the written events.

        In ``sync`` mode, when the write calendar is one of the synced calendars, the
        events stored by the last sync are used (no request; a deleted event gives
        nothing); otherwise each event is read with ``events.get``.
        """
        cal_id = self.options.write_calendar_id
        state = self.sync_state.get(cal_id)
        synced = self.options.mode == "sync" and state is not None and state.sync_token is not None
        source = f"{self.options.label} calendar {cal_id}"
        found: list[AttendeeResponse] = []
        for uid in uids:
            event_id = google_event_id(uid)
            event = state.events.get(event_id) if synced and state else self._get_event(event_id)
            if event is not None and event.get("status") != "cancelled":
                found.extend(google_event_responses({"iCalUID": uid, **event}, source))
        return found

    def _get_event(self, event_id: str) -> dict[str, Any] | None:
        try:
            event: dict[str, Any] = self._execute(
                "read the answers on the interview event",
                lambda: self._service.events().get(
                    calendarId=self.options.write_calendar_id, eventId=event_id
                ),
            )
        except GoogleApiError as exc:
            if exc.status in (404, 410):
                return None
            raise
        return event

    def conference_link(self, event_id: str) -> str | None:
        """The Google Meet link created with the event, if any."""
        return self.meet_links.get(event_id)


class _SyncTokenGone(Exception):
    """The stored syncToken expired (HTTP 410): wipe and run a full sync."""


def _refresh_error_code(exc: RefreshError) -> str:
    """The OAuth ``error`` code of a failed refresh ("" when there is none)."""
    for arg in exc.args:
        if isinstance(arg, dict) and isinstance(arg.get("error"), str):
            return str(arg["error"])
    text = str(exc.args[0]) if exc.args else ""
    code = text.split(":", 1)[0].strip()
    return code if code.replace("_", "").isalpha() and code.islower() else ""


def _video_entry_point(event: dict[str, Any]) -> str | None:
    for entry in event.get("conferenceData", {}).get("entryPoints", []):
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return None


def _apply_change(events: dict[str, dict[str, Any]], item: dict[str, Any]) -> None:
    """Fold one ``events.list`` item into the stored events."""
    event_id = str(item["id"])
    if item.get("status") == "cancelled" and "recurringEventId" not in item:
        events.pop(event_id, None)
        # the exceptions of a deleted series go with it
        for other_id in [k for k, v in events.items() if v.get("recurringEventId") == event_id]:
            events.pop(other_id)
        return
    events[event_id] = item


def _google_time(value: dict[str, Any]) -> date | datetime | None:
    if "dateTime" in value:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        zone_name = value.get("timeZone")
        zone = find_zone(zone_name)
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


def google_event_to_vevent(event: dict[str, Any]) -> icalendar.Event | None:
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
