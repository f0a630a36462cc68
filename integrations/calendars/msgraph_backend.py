"""Microsoft 365 (Outlook / Exchange Online) calendars through Microsoft Graph v1.0.

Busy time is read in one of two ways, chosen per interviewer like Google's:

* ``mode="freebusy"``: ``POST /me/calendar/getSchedule`` for the interviewer's
  address, in chunks of at most 20 schedules and windows shorter than 62 days
  (the documented limits). Exchange applies its own rules (cancelled meetings
  and declined invitations are not in the schedule).
* ``mode="sync"``: ``GET /me/calendarView/delta`` over a window (the read window
  plus ``delta_slack``), keeping the events and the ``@odata.deltaLink`` between
  reads. A delta link that expired (``410 Gone``, or ``syncStateNotFound`` /
  ``resyncRequired``) is dropped and the window is read in full again; so is one
  whose window no longer covers the read window.

Either way ``showAs`` decides: ``free`` and ``workingElsewhere`` are not busy;
``tentative``, ``busy``, ``oof`` (and ``unknown``) are. Cancelled events and
invitations the interviewer declined are free, as in the other backends.

Interviews are written to the default calendar with ``POST /me/calendar/events`` (the
calendar getSchedule and calendarView read; a ``transactionId``
derived from the interview makes a retried create idempotent), moved with
``PATCH /me/events/{id}`` and deleted with ``DELETE /me/events/{id}``. With
``create_teams`` the event is an online meeting (``isOnlineMeeting`` with
``onlineMeetingProvider = teamsForBusiness``) and :meth:`conference_link`
returns its ``onlineMeeting.joinUrl``. Updates never send the body, so the
Teams meeting blob Outlook keeps there survives a move.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from integrations.backoff import Backoff
from integrations.calendars.base import BusyRead, CalendarBackend, InterviewEvent
from integrations.calendars.msgraph_http import (
    GRAPH_ENDPOINT,
    GraphApiError,
    GraphClient,
    TokenSource,
    error_codes,
)
from integrations.errors import CalendarError
from integrations.ics import to_utc
from scheduler.localtime import find_zone
from scheduler.model import Interval

MAX_SCHEDULES = 20  # getSchedule: "up to 20 entities at once"
MAX_SCHEDULE_SPAN = timedelta(days=61)  # getSchedule: "must be less than 62 days"
FREE_STATUSES = frozenset({"free", "workingelsewhere"})  # compared case-insensitively
RESYNC_CODES = frozenset({"syncStateNotFound", "resyncRequired"})
TEAMS = "teamsForBusiness"

ReadMode = Literal["freebusy", "sync"]


@dataclass(frozen=True)
class GraphOptions:
    """How one interviewer's Microsoft 365 account is read and written."""

    email: str | None = None  # the interviewer's address: the schedule getSchedule reads
    mode: ReadMode = "freebusy"
    schedules: tuple[str, ...] = ()  # addresses to read in freebusy mode (default: email)
    create_teams: bool = False  # make written interviews Teams meetings
    api_endpoint: str = GRAPH_ENDPOINT
    timezone: str = "UTC"  # zone of all-day events in sync mode
    label: str = "Microsoft 365"
    timeout_seconds: float = 30.0
    page_size: int = 100  # Prefer: odata.maxpagesize for delta pages
    availability_interval: int = 30  # getSchedule availabilityViewInterval (5..1440)
    delta_slack: timedelta = timedelta(days=7)  # read ahead so the delta link lasts
    max_retry_after_seconds: float = 120.0
    ca_bundle: str | None = None  # PEM file to trust instead of the system store (tests)

    def __post_init__(self) -> None:
        if self.mode not in ("freebusy", "sync"):
            raise ValueError(f"GraphOptions.mode must be 'freebusy' or 'sync', got {self.mode!r}")
        if not 5 <= self.availability_interval <= 1440:
            raise ValueError("GraphOptions.availability_interval must be 5..1440 minutes")

    def schedule_ids(self) -> tuple[str, ...]:
        if self.schedules:
            return self.schedules
        if self.email:
            return (self.email,)
        raise CalendarError(
            self.label, "reading free/busy time needs the interviewer's email address"
        )


@dataclass
class DeltaState:
    """What ``mode="sync"`` keeps between reads: the delta link, its window, the events."""

    delta_link: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def covers(self, window: Interval) -> bool:
        return (
            self.delta_link is not None
            and self.start is not None
            and self.end is not None
            and self.start <= window.start
            and window.end <= self.end
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "delta_link": self.delta_link,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "events": self.events,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> DeltaState:
        """Inverse of :meth:`to_json`; unreadable state gives an empty one (a full read)."""
        try:
            data = json.loads(text)
            return cls(
                delta_link=data.get("delta_link"),
                start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
                end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
                events=dict(data.get("events") or {}),
            )
        except (ValueError, TypeError, AttributeError, KeyError):
            return cls()


def chunk_windows(window: Interval, span: timedelta = MAX_SCHEDULE_SPAN) -> list[Interval]:
    """Split ``window`` into consecutive pieces no longer than ``span``."""
    pieces, start = [], window.start
    while start < window.end:
        end = min(window.end, start + span)
        pieces.append(Interval(start, end))
        start = end
    return pieces


def chunk_ids(ids: Sequence[str], size: int = MAX_SCHEDULES) -> list[tuple[str, ...]]:
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


def graph_time(value: dict[str, Any], source: str) -> datetime:
    """A Graph ``dateTimeTimeZone`` (7 fraction digits allowed) as aware UTC."""
    text = str(value.get("dateTime", "")).rstrip("Z")
    main, _, fraction = text.partition(".")
    zone_name = str(value.get("timeZone") or "UTC")
    zone = UTC if zone_name.upper() in ("UTC", "Z") else find_zone(zone_name)
    try:
        naive = datetime.fromisoformat(main + (f".{fraction[:6]}" if fraction else ""))
    except ValueError:
        naive = None
    if naive is None or zone is None:
        raise CalendarError(source, f"Graph sent a time panelslot cannot read: {value!r}")
    return naive.replace(tzinfo=naive.tzinfo or zone).astimezone(UTC)


def graph_date(value: dict[str, Any]) -> date:
    return date.fromisoformat(str(value.get("dateTime", ""))[:10])


def _utc_value(moment: datetime) -> dict[str, str]:
    return {
        "dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "timeZone": "UTC",
    }


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_is_busy(status: str) -> bool:
    """A getSchedule ``status`` / event ``showAs``: free and workingElsewhere are free."""
    return status.casefold() not in FREE_STATUSES


def event_is_busy(event: dict[str, Any]) -> bool:
    """Cancelled, shown-as-free and declined events are free; the rest is busy."""
    if event.get("isCancelled"):
        return False
    if not status_is_busy(str(event.get("showAs") or "busy")):
        return False
    response = (event.get("responseStatus") or {}).get("response")
    return str(response or "").casefold() != "declined"


def transaction_id(event: InterviewEvent) -> str:
    """The same interview write gets the same id, so Graph drops a retried duplicate."""
    key = f"{event.uid}|{event.sequence}|{_iso_z(event.start)}|{_iso_z(event.end)}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "panelslot:" + key))


class MicrosoftGraphBackend(CalendarBackend):
    """One interviewer's Microsoft 365 calendar."""

    kind = "msgraph"

    def __init__(
        self,
        credentials: TokenSource,
        options: GraphOptions | None = None,
        *,
        backoff: Backoff | None = None,
        delta_state: DeltaState | None = None,
    ) -> None:
        self.credentials = credentials
        self.options = options or GraphOptions()
        self.delta_state = delta_state or DeltaState()
        self.meeting_links: dict[str, str] = {}
        self.client = GraphClient(
            credentials,
            label=self.options.label,
            base_url=self.options.api_endpoint,
            backoff=backoff or Backoff(),
            verify=self.options.ca_bundle or True,
            timeout_seconds=self.options.timeout_seconds,
            max_retry_after=self.options.max_retry_after_seconds,
        )

    # -- reading -------------------------------------------------------------

    def read_busy(self, window: Interval) -> BusyRead:
        if self.options.mode == "sync":
            return self._read_by_delta(window)
        return self._read_by_schedule(window)

    def _read_by_schedule(self, window: Interval) -> BusyRead:
        busy: set[Interval] = set()
        items = 0
        for piece in chunk_windows(window):
            for ids in chunk_ids(self.options.schedule_ids()):
                answer = self.client.call(
                    "POST",
                    "me/calendar/getSchedule",
                    what="read free/busy time",
                    json_body={
                        "schedules": list(ids),
                        "startTime": _utc_value(piece.start),
                        "endTime": _utc_value(piece.end),
                        "availabilityViewInterval": self.options.availability_interval,
                    },
                )
                for found in self._schedule_items(answer):
                    items += 1
                    if status_is_busy(str(found.get("status", ""))):
                        interval = self._clip(found, window)
                        if interval is not None:
                            busy.add(interval)
        return BusyRead(busy=tuple(sorted(busy)), events_read=items)

    def _schedule_items(self, answer: dict[str, Any]) -> Iterable[dict[str, Any]]:
        for info in answer.get("value", []):
            error = info.get("error")
            if error:
                raise CalendarError(
                    f"{self.options.label} schedule {info.get('scheduleId', '?')}",
                    f"Exchange could not read this schedule ({error.get('responseCode') or '?'}:"
                    f" {error.get('message') or 'no message'}); check the address",
                )
            yield from info.get("scheduleItems") or []

    def _clip(self, item: dict[str, Any], window: Interval) -> Interval | None:
        source = self.options.label
        start, end = graph_time(item["start"], source), graph_time(item["end"], source)
        start, end = max(start, window.start), min(end, window.end)
        return Interval(start, end) if start < end else None

    def _read_by_delta(self, window: Interval) -> BusyRead:
        received, incremental = self.sync_events(window)
        busy: list[Interval] = []
        seen = 0
        for event in self.delta_state.events.values():
            span = self._event_span(event)
            if span is None or not (span.start < window.end and window.start < span.end):
                continue
            seen += 1
            if event_is_busy(event):
                clipped = self._clip_interval(span, window)
                if clipped is not None:
                    busy.append(clipped)
        return BusyRead(
            busy=tuple(sorted(busy)), events_read=seen, unchanged=incremental and received == 0
        )

    def sync_events(self, window: Interval) -> tuple[int, bool]:
        """Bring the kept events up to date: (items received, was it incremental)."""
        state = self.delta_state
        if state.covers(window):
            assert state.delta_link is not None
            try:
                return self._delta_round(state.delta_link, dict(state.events)), True
            except GraphApiError as exc:
                if exc.status != 410 and exc.code not in RESYNC_CODES:
                    raise
        start, end = window.start, window.end + self.options.delta_slack
        self.delta_state = DeltaState(start=start, end=end)
        first = self.client.url("me/calendarView/delta")
        params = {"startDateTime": _iso_z(start), "endDateTime": _iso_z(end)}
        return self._delta_round(first, {}, params=params), False

    def _delta_round(
        self, url: str, events: dict[str, dict[str, Any]], params: dict[str, str] | None = None
    ) -> int:
        received = 0
        headers = {"Prefer": f"odata.maxpagesize={self.options.page_size}"}
        while True:
            page = self.client.call(
                "GET", url, what="read calendar changes", params=params, headers=headers
            )
            params = None  # the links carry every parameter of the round
            for item in page.get("value", []):
                received += 1
                _apply_change(events, item)
            next_link = page.get("@odata.nextLink")
            if next_link:
                url = str(next_link)
                continue
            delta_link = page.get("@odata.deltaLink")
            if not delta_link:
                raise CalendarError(
                    self.options.label, "Graph ended a delta round without an @odata.deltaLink"
                )
            self.delta_state.events = events
            self.delta_state.delta_link = str(delta_link)
            return received

    def _event_span(self, event: dict[str, Any]) -> Interval | None:
        if "start" not in event or "end" not in event or event.get("type") == "seriesMaster":
            return None
        if event.get("isAllDay"):
            zone = ZoneInfo(self.options.timezone)
            start = to_utc(graph_date(event["start"]), zone)
            end = to_utc(graph_date(event["end"]), zone)
        else:
            source = self.options.label
            start, end = graph_time(event["start"], source), graph_time(event["end"], source)
        return Interval(start, end) if start < end else None

    @staticmethod
    def _clip_interval(span: Interval, window: Interval) -> Interval | None:
        start, end = max(span.start, window.start), min(span.end, window.end)
        return Interval(start, end) if start < end else None

    # -- writing -------------------------------------------------------------

    def _event_body(self, event: InterviewEvent) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": event.summary,
            "start": _utc_value(event.start),
            "end": _utc_value(event.end),
            "attendees": [
                {"emailAddress": {"address": email}, "type": "required"}
                for email in event.attendees
            ],
            "showAs": "busy",
        }
        if event.location:
            body["location"] = {"displayName": event.location}
        return body

    def _need_write(self) -> None:
        if not getattr(self.credentials, "can_write", True):
            raise CalendarError(
                self.options.label,
                "the account was connected read-only (Calendars.Read); reconnect Microsoft 365 "
                "with write-back on to let panelslot write interviews",
            )

    def write_event(self, event: InterviewEvent) -> str:
        self._need_write()
        body = self._event_body(event)
        body["body"] = {"contentType": "text", "content": event.description}
        body["transactionId"] = transaction_id(event)
        if self.options.create_teams:
            body["isOnlineMeeting"] = True
            body["onlineMeetingProvider"] = TEAMS
        created = self.client.call(
            "POST", "me/calendar/events", what="create the interview event", json_body=body
        )
        event_id = str(created["id"])
        if self.options.create_teams:
            link = _join_url(created) or self._read_join_url(event_id, created)
            if link:
                self.meeting_links[event_id] = link
        return event_id

    def _read_join_url(self, event_id: str, created: dict[str, Any]) -> str | None:
        """Graph may fill ``onlineMeeting`` a moment after the create: read it once."""
        if not created.get("isOnlineMeeting"):
            return None  # the mailbox does not allow Teams meetings: no link will come
        found = self.client.call(
            "GET",
            f"me/events/{quote(event_id, safe='')}",
            what="read the Teams link",
            params={"$select": "isOnlineMeeting,onlineMeeting"},
        )
        return _join_url(found)

    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        self._need_write()
        self.client.call(
            "PATCH",
            f"me/events/{quote(event_id, safe='')}",
            what="update the interview event",
            json_body=self._event_body(event),
        )

    def cancel_event(self, event_id: str) -> None:
        self._need_write()
        try:
            self.client.call(
                "DELETE", f"me/events/{quote(event_id, safe='')}", what="delete the interview"
            )
        except GraphApiError as exc:
            if exc.status in (404, 410):
                return  # already gone
            raise

    def conference_link(self, event_id: str) -> str | None:
        """The Teams join link created with the event, if any."""
        return self.meeting_links.get(event_id)


def _join_url(event: dict[str, Any]) -> str | None:
    meeting = event.get("onlineMeeting") or {}
    url = meeting.get("joinUrl") if isinstance(meeting, dict) else None
    return str(url) if url else None


def _apply_change(events: dict[str, dict[str, Any]], item: dict[str, Any]) -> None:
    """Fold one delta item into the kept events (an update may carry only what changed)."""
    event_id = str(item.get("id", ""))
    if not event_id:
        return
    if "@removed" in item:
        events.pop(event_id, None)
        return
    events[event_id] = {**events.get(event_id, {}), **item}


__all__ = [
    "DeltaState",
    "GraphApiError",
    "GraphOptions",
    "MicrosoftGraphBackend",
    "chunk_ids",
    "chunk_windows",
    "error_codes",
    "event_is_busy",
    "status_is_busy",
]
