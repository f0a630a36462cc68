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

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import google_auth_httplib2
import httplib2
import icalendar
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from integrations.backoff import Backoff
from integrations.calendars.answers import google_event_responses
from integrations.calendars.base import (
    AttendeeResponse,
    BusyRead,
    CalendarBackend,
    InterviewEvent,
)
from integrations.calendars.google_events import (
    MAX_FREEBUSY_CALENDARS,
    MAX_FREEBUSY_SPAN,
    CalendarSyncState,
    apply_change,
    chunk_ids,
    chunk_windows,
    freebusy_request,
    google_event_id,
    google_event_to_vevent,
    interview_body,
    new_interview_body,
    parse_time,
    sync_state_from_json,
    sync_state_to_json,
    video_entry_point,
)
from integrations.errors import CalendarError, ReconnectRequired
from integrations.ics import busy_from_calendar
from scheduler.model import Interval

if TYPE_CHECKING:  # the TypedDicts of google-api-python-client-stubs
    from googleapiclient._apis.calendar.v3.schemas import Event

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class _Request(Protocol[_T_co]):
    """An API request as the client builds it: ``execute()`` sends it."""

    def execute(self) -> _T_co: ...


__all__ = [  # the names callers have always imported from here
    "MAX_FREEBUSY_CALENDARS",
    "MAX_FREEBUSY_SPAN",
    "CalendarSyncState",
    "GoogleApiError",
    "GoogleCalendarBackend",
    "GoogleOptions",
    "chunk_ids",
    "chunk_windows",
    "google_event_id",
    "google_event_to_vevent",
    "is_retryable",
    "sync_state_from_json",
    "sync_state_to_json",
]

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

    def _execute(self, what: str, make_request: Callable[[], _Request[_T]]) -> _T:
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
                body = freebusy_request(piece, ids)
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
                        start, end = parse_time(block["start"]), parse_time(block["end"])
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
        fresh: dict[str, Event] = dict(state.events) if incremental else {}
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
                apply_change(fresh, item)
            page_token = page.get("nextPageToken")
            if not page_token:
                state.events = fresh
                state.sync_token = page.get("nextSyncToken")
                return received

    # -- writing -------------------------------------------------------------

    def write_event(self, event: InterviewEvent) -> str:
        event_id = google_event_id(event.uid)
        body = new_interview_body(event, event_id, create_meet=self.options.create_meet)
        insert = partial(
            self._service.events().insert,
            calendarId=self.options.write_calendar_id,
            body=body,
            sendUpdates=self.options.send_updates,
        )
        if self.options.create_meet:
            insert = partial(insert, conferenceDataVersion=1)
        try:
            created = self._execute("create the interview event", insert)
        except GoogleApiError as exc:
            if exc.status != 409:
                raise
            # the id exists: an earlier attempt got through, or the interview was cancelled
            # and is being written again; make the stored event match (and restore it)
            created = self._patch(event_id, {**interview_body(event), "status": "confirmed"})
        link = created.get("hangoutLink") or video_entry_point(created)
        if link:
            self.meet_links[event_id] = link
        return event_id

    def _patch(self, event_id: str, body: Event) -> Event:
        return self._execute(
            "update the interview event",
            lambda: self._service.events().patch(
                calendarId=self.options.write_calendar_id,
                eventId=event_id,
                body=body,
                sendUpdates=self.options.send_updates,
            ),
        )

    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        self._patch(event_id, interview_body(event))

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

    def _get_event(self, event_id: str) -> Event | None:
        try:
            return self._execute(
                "read the answers on the interview event",
                lambda: self._service.events().get(
                    calendarId=self.options.write_calendar_id, eventId=event_id
                ),
            )
        except GoogleApiError as exc:
            if exc.status in (404, 410):
                return None
            raise

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
