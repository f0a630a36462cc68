"""CalDAV calendars (Nextcloud, Fastmail, iCloud, Radicale) through the ``caldav`` library.

Calendars are discovered from the account's principal. Busy time is read with
a time-range REPORT; recurrences are expanded by the server when it can
(``expand="auto"`` checks the answer and falls back), otherwise on the client
with the shared ICS busy rules of :mod:`integrations.ics`. Interviews are
written with PUT and removed with DELETE.

The password never appears in errors: sources name the URL without userinfo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import quote, urljoin, urlsplit

import icalendar
from caldav.collection import Calendar as DAVCalendar
from caldav.collection import Principal
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from integrations.budget import Reader, run_read
from integrations.calendars.answers import vevent_responses
from integrations.calendars.base import (
    AttendeeResponse,
    BusyRead,
    CalendarBackend,
    InterviewEvent,
)
from integrations.errors import CalendarError, ReconnectRequired
from integrations.ics import busy_from_calendar, parse_calendar
from integrations.urls import redact_url
from scheduler.model import Interval

ExpandMode = Literal["auto", "server", "client"]
_RECURRENCE_PROPS = ("RRULE", "RDATE", "EXRULE")


@dataclass(frozen=True)
class CalDAVCalendarInfo:
    """One calendar found on the server."""

    url: str
    name: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


def interview_to_ical(event: InterviewEvent, *, now: datetime) -> bytes:
    """A VCALENDAR with one VEVENT for ``event`` (times in UTC, no METHOD: a stored object)."""
    if event.start.tzinfo is None or event.end.tzinfo is None:
        raise ValueError(f"InterviewEvent {event.uid!r} needs aware start and end times")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//panelslot//interviews//EN")
    cal.add("version", "2.0")
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("summary", event.summary)
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    organizer = icalendar.vCalAddress(f"mailto:{event.organizer_email}")
    vevent.add("organizer", organizer, encode=False)
    for email in event.attendees:
        attendee = icalendar.vCalAddress(f"mailto:{email}")
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        attendee.params["RSVP"] = "TRUE"
        vevent.add("attendee", attendee, encode=False)
    cal.add_component(vevent)
    return bytes(cal.to_ical())


def _resource_name(uid: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in uid)
    return quote(f"{safe}.ics", safe="@")


class CalDAVBackend(CalendarBackend):
    """One CalDAV account; ``calendar_urls=None`` counts every calendar of the principal."""

    kind = "caldav"

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        calendar_urls: Sequence[str] | None = None,
        *,
        write_calendar_url: str | None = None,
        timezone: str = "UTC",
        email: str | None = None,
        expand: ExpandMode = "auto",
        timeout_seconds: float = 30.0,
        auth_type: Literal["basic", "digest"] | None = "basic",
        label: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        reader: Reader | None = None,
    ) -> None:
        if expand not in ("auto", "server", "client"):
            raise ValueError(f"expand must be 'auto', 'server' or 'client', got {expand!r}")
        self.url = redact_url(url)
        self.source = label or self.url
        self.reader = reader  # every parse runs under its budget (None: in this process)
        self.calendar_urls = tuple(calendar_urls) if calendar_urls is not None else None
        self.write_calendar_url = write_calendar_url
        self.timezone = timezone
        self.email = email
        self.expand: ExpandMode = expand
        self.clock: Callable[[], datetime] = clock
        self._password = password
        self._client = DAVClient(
            url=self.url,
            username=username,
            password=password,
            timeout=max(1, round(timeout_seconds)),
            auth_type=auth_type,  # None: wait for the server's 401 challenge
            enable_rfc6764=False,
        )
        self._calendars: list[DAVCalendar] | None = None
        self.last_expansion: dict[str, str] = {}  # calendar URL -> "server" | "client"

    # -- plumbing ------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    @contextmanager
    def _talking(self, what: str, source: str | None = None) -> Iterator[None]:
        """Translate every failure of the caldav library into a CalendarError."""
        where = source or self.source
        try:
            yield
        except CalendarError:
            raise
        except dav_error.AuthorizationError as exc:
            if exc.status == 403:
                raise CalendarError(
                    where,
                    f"the CalDAV server denied access while trying to {what} (HTTP 403); "
                    "check the account may use this calendar",
                ) from None
            raise ReconnectRequired(
                where,
                f"the CalDAV server refused the username or password while trying to {what} "
                "(HTTP 401); enter them again on the interviewer's page",
            ) from None
        except dav_error.NotFoundError:
            raise CalendarError(
                where, f"not found on the CalDAV server while trying to {what}; check the URL"
            ) from None
        except dav_error.DAVError as exc:
            reason = _one_line(self._scrub(str(exc.reason or type(exc).__name__)))
            status = f"HTTP {exc.status}, " if exc.status else ""
            raise CalendarError(
                where, f"the CalDAV server failed while trying to {what} ({status}{reason})"
            ) from None
        except OSError as exc:
            raise CalendarError(
                where,
                f"could not reach the CalDAV server while trying to {what} ({type(exc).__name__})",
            ) from None
        except Exception as exc:  # niquests' connection errors and other transport failures
            if type(exc).__module__.split(".")[0] in ("niquests", "requests", "urllib3"):
                raise CalendarError(
                    where,
                    f"could not reach the CalDAV server while trying to {what} "
                    f"({type(exc).__name__})",
                ) from None
            raise

    # -- discovery -----------------------------------------------------------

    def discover_calendars(self) -> list[CalDAVCalendarInfo]:
        """Every calendar of the account's principal that holds events."""
        with self._talking("discover calendars"):
            principal = Principal(client=self._client)
            found: list[CalDAVCalendarInfo] = []
            # the library's types also cover its async client; this one is synchronous
            for cal in cast(list[DAVCalendar], principal.calendars()):
                components = cast(list[str], cal.get_supported_components())
                if components and "VEVENT" not in components:
                    continue
                name = cast(str | None, cal.get_display_name()) or ""
                found.append(CalDAVCalendarInfo(url=str(cal.url), name=name))
        return found

    def _counted(self) -> list[DAVCalendar]:
        if self._calendars is None:
            if self.calendar_urls is None:
                urls = [info.url for info in self.discover_calendars()]
            else:
                urls = [urljoin(self.url, u) for u in self.calendar_urls]
            self._calendars = [DAVCalendar(client=self._client, url=u) for u in urls]
        return self._calendars

    def _write_calendar(self) -> DAVCalendar:
        if self.write_calendar_url:
            return DAVCalendar(client=self._client, url=urljoin(self.url, self.write_calendar_url))
        counted = self._counted()
        if not counted:
            raise CalendarError(
                self.source, "the account has no calendar to write interviews to; create one"
            )
        return counted[0]

    # -- reading -------------------------------------------------------------

    def read_busy(self, window: Interval) -> BusyRead:
        with self._talking("list calendars"):
            calendars = self._counted()
        busy: list[Interval] = []
        events = 0
        for cal in calendars:
            read = self._read_calendar(cal, window)
            busy.extend(read.busy)
            events += read.events_read
        return BusyRead(busy=tuple(busy), events_read=events)

    def _read_calendar(self, cal: DAVCalendar, window: Interval) -> BusyRead:
        source = redact_url(str(cal.url))
        objects: list[tuple[str, str]] | None = None
        if self.expand in ("auto", "server"):
            objects = self._search(cal, window, server_expand=True, source=source)
            if self.expand == "auto" and objects is not None and _still_recurring(objects):
                objects = None  # the server ignored <expand>: do it here
        if objects is None:
            self.last_expansion[str(cal.url)] = "client"
            objects = self._search(cal, window, server_expand=False, source=source) or []
        else:
            self.last_expansion[str(cal.url)] = "server"
        busy, events = run_read(
            self.reader, source, read_objects, objects, self.timezone, window, self.email
        )
        return BusyRead(busy=tuple(busy), events_read=events)

    def _search(
        self, cal: DAVCalendar, window: Interval, *, server_expand: bool, source: str
    ) -> list[tuple[str, str]] | None:
        """(URL, data) of the objects with events in ``window``; None if expanding failed."""
        try:
            with self._talking("read events", source):
                found: list[Any] = cast(
                    list[Any],
                    cal.search(
                        start=window.start,
                        end=window.end,
                        event=True,
                        expand=server_expand,
                        server_expand=server_expand,
                        split_expanded=False,
                    ),
                )
                return [(str(obj.url), str(obj.data)) for obj in found if obj.data]
        except ReconnectRequired:
            raise
        except CalendarError:
            if server_expand and self.expand == "auto":
                return None
            raise

    # -- writing -------------------------------------------------------------

    def _resolve(self, cal: DAVCalendar, event_id: str) -> str:
        base = str(cal.url)
        target = urljoin(base if base.endswith("/") else base + "/", event_id)
        if urlsplit(target).netloc != urlsplit(base).netloc:
            raise CalendarError(
                self.source, f"event id {event_id!r} points to another server; refusing to use it"
            )
        return target

    def _put(self, target: str, event: InterviewEvent, what: str) -> None:
        body = interview_to_ical(event, now=self.clock()).decode("utf-8")
        with self._talking(what, redact_url(target)):
            response = self._client.put(
                target, body, {"Content-Type": "text/calendar; charset=utf-8"}
            )
        if response.status not in (200, 201, 204):
            raise CalendarError(
                redact_url(target),
                f"the CalDAV server refused to {what} (HTTP {response.status})",
            )

    def write_event(self, event: InterviewEvent) -> str:
        with self._talking("find the calendar to write to"):
            cal = self._write_calendar()
        target = self._resolve(cal, _resource_name(event.uid))
        self._put(target, event, "create the interview event")
        return target

    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        with self._talking("find the calendar to write to"):
            cal = self._write_calendar()
        self._put(self._resolve(cal, event_id), event, "update the interview event")

    def cancel_event(self, event_id: str) -> None:
        with self._talking("find the calendar to write to"):
            cal = self._write_calendar()
        target = self._resolve(cal, event_id)
        with self._talking("cancel the interview event", redact_url(target)):
            response = self._client.delete(target)
        if response.status not in (200, 204, 404, 410):
            raise CalendarError(
                redact_url(target),
                f"the CalDAV server refused to cancel the interview event (HTTP {response.status})",
            )

    # -- answers ----------------------------------------------------------------

    def read_responses(self, uids: Sequence[str]) -> list[AttendeeResponse]:
        """PARTSTAT of every attendee on the written events (one GET per UID).

        The interviewer's calendar client records their answer on this stored copy;
        an event that is gone (deleted by its owner) gives no answers.
        """
        with self._talking("find the calendar to write to"):
            cal = self._write_calendar()
        found: list[AttendeeResponse] = []
        for uid in uids:
            target = self._resolve(cal, _resource_name(uid))
            data = self._get(target, "read the answers on the interview event")
            if data is not None:
                found.extend(_answers_in(data, uid, redact_url(target)))
        return found

    def _get(self, target: str, what: str) -> str | None:
        """The body of ``target``; None when the server has no such object."""
        with self._talking(what, redact_url(target)):
            response = self._client.request(target, "GET")
        if response.status in (404, 410):
            return None
        if response.status != 200:
            raise CalendarError(
                redact_url(target), f"the CalDAV server refused to {what} (HTTP {response.status})"
            )
        return str(response.raw)


def _answers_in(data: str, uid: str, source: str) -> list[AttendeeResponse]:
    """Answers on the VEVENT of ``uid`` in a stored object (the master, not overrides)."""
    parsed = parse_calendar(data.encode("utf-8"), source)
    events = [c for c in parsed.walk("VEVENT") if str(c.get("UID", "")) == uid]
    masters = [c for c in events if "RECURRENCE-ID" not in c] or events
    return vevent_responses(masters[0], source) if masters else []


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _still_recurring(objects: Sequence[tuple[str, str]]) -> bool:
    """True if any object still carries a recurrence rule (the server did not expand)."""
    for url, data in objects:
        cal = parse_calendar(data.encode("utf-8"), redact_url(url))
        for comp in cal.walk("VEVENT"):
            if any(prop in comp for prop in _RECURRENCE_PROPS):
                return True
    return False


def read_objects(
    objects: Sequence[tuple[str, str]], timezone: str, window: Interval, email: str | None
) -> tuple[list[Interval], int]:
    """Busy intervals and events read of a calendar's objects ((URL, data) pairs); errors
    name the object's URL without credentials. Module-level: it runs in a read budget."""
    busy: list[Interval] = []
    events = 0
    for url, data in objects:
        where = redact_url(url)
        parsed = parse_calendar(data.encode("utf-8"), where)
        read = busy_from_calendar(
            parsed, source=where, timezone=timezone, window=window, email=email
        )
        busy.extend(read.busy)
        events += read.events_read
    return busy, events
