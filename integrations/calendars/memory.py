"""An in-memory calendar: the reference backend for tests and demos."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import icalendar

from integrations.calendars.base import (
    AttendeeResponse,
    BusyRead,
    CalendarBackend,
    InterviewEvent,
)
from integrations.errors import CalendarError
from integrations.ics import busy_from_calendar, parse_calendar
from scheduler.model import Interval


class MemoryCalendar(CalendarBackend):
    """Stores events in a dict; busy time also from seeded intervals and ICS data.

    ``fail_reads`` (an error, or None) makes every ``read_busy`` raise it, so
    sync code can be tested against a calendar that has gone bad.
    """

    kind = "memory"

    def __init__(
        self,
        name: str = "memory",
        *,
        timezone: str = "UTC",
        email: str | None = None,
        busy: Iterable[Interval] = (),
    ) -> None:
        self.name = name
        self.timezone = timezone
        self.email = email
        self.events: dict[str, InterviewEvent] = {}
        self.busy: list[Interval] = list(busy)
        self.fail_reads: CalendarError | None = None
        self.reads = 0
        # (uid, attendee) -> (PARTSTAT, when): answers seeded with ``respond``
        self.answers: dict[tuple[str, str], tuple[str, datetime | None]] = {}
        self._calendars: list[icalendar.Calendar] = []
        self._ids = itertools.count(1)

    # ---- seeding ------------------------------------------------------------
    def add_busy(self, *intervals: Interval) -> None:
        self.busy.extend(intervals)

    def add_ics(self, data: bytes) -> None:
        """Add every event of an iCalendar document (recurrence included)."""
        self._calendars.append(parse_calendar(data, self.name))

    def respond(
        self, uid: str, attendee: str, partstat: str, *, at: datetime | None = None
    ) -> None:
        """Record an attendee's answer on a written event, as their calendar client would."""
        email = attendee.lower()
        written = [e for e in self.events.values() if e.uid == uid]
        if not written:
            raise CalendarError(self.name, f"no event with UID {uid!r} to answer")
        if email not in {a.lower() for a in written[0].attendees}:
            raise CalendarError(self.name, f"{attendee!r} is not an attendee of {uid!r}")
        self.answers[(uid, email)] = (partstat.upper(), at)

    # ---- CalendarBackend ------------------------------------------------------
    def read_busy(self, window: Interval) -> BusyRead:
        self.reads += 1
        if self.fail_reads is not None:
            raise self.fail_reads
        found = [iv for iv in self.busy if iv.overlaps(window)]
        count = len(found)
        for event in self.events.values():
            interval = Interval(event.start.astimezone(UTC), event.end.astimezone(UTC))
            if interval.overlaps(window):
                found.append(interval)
                count += 1
        for cal in self._calendars:
            read = busy_from_calendar(
                cal, source=self.name, timezone=self.timezone, window=window, email=self.email
            )
            found.extend(read.busy)
            count += read.events_read
        return BusyRead(busy=tuple(sorted(found)), events_read=count)

    def write_event(self, event: InterviewEvent) -> str:
        self._validate(event)
        event_id = f"{self.name}-{next(self._ids)}"
        self.events[event_id] = event
        return event_id

    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        self._validate(event)
        if event_id not in self.events:
            raise CalendarError(self.name, f"no event {event_id!r} to update")
        if event.sequence > self.events[event_id].sequence:
            # a new REQUEST (higher SEQUENCE) asks every attendee again (RFC 5546)
            self.answers = {k: v for k, v in self.answers.items() if k[0] != event.uid}
        self.events[event_id] = event

    def cancel_event(self, event_id: str) -> None:
        self.events.pop(event_id, None)

    def read_responses(self, uids: Sequence[str]) -> list[AttendeeResponse]:
        wanted = set(uids)
        found: list[AttendeeResponse] = []
        for event in self.events.values():
            if event.uid not in wanted:
                continue
            for attendee in event.attendees:
                email = attendee.lower()
                partstat, at = self.answers.get((event.uid, email), ("NEEDS-ACTION", None))
                found.append(
                    AttendeeResponse(event.uid, event.sequence, email, partstat, at, self.name)
                )
        return found

    def _validate(self, event: InterviewEvent) -> None:
        if event.start.tzinfo is None or event.end.tzinfo is None:
            raise CalendarError(self.name, f"event {event.uid!r} has times without a time zone")
        if event.end <= event.start:
            raise CalendarError(self.name, f"event {event.uid!r} ends before it starts")
