"""What expansion produces, shared by the full and the fast path.

Nothing here imports icalendar, recurring-ical-events or dateutil: a process that only
receives readers' results (the CLI, unpickling them from its budgeted readers) needs
these classes and not the calendar libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from integrations.calendars.base import BusyRead
from scheduler.model import Interval

if TYPE_CHECKING:
    from integrations.ics.busy import Parts


@dataclass(frozen=True)
class Occurrence:
    """One event occurrence (or free/busy period) in aware UTC; ``busy`` says if it counts."""

    start: datetime
    end: datetime
    busy: bool


@dataclass(frozen=True)
class Reading:
    """How times that carry no zone of their own are read."""

    zone: tzinfo  # the interviewer's zone: all-day events (and floating ones below)
    floating: tzinfo  # floating times: the calendar's X-WR-TIMEZONE, else ``zone``
    email: str | None  # the interviewer: events they declined are free


def in_span(start: datetime, end: datetime, span: Interval) -> bool:
    """Whether an occurrence overlaps ``span`` (an instant at its start counts)."""
    return start < span.end and (span.start < end or span.start <= start == end)


def address(value: str) -> str:
    """An e-mail address as attendees are compared."""
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.strip().casefold()


@dataclass(frozen=True)
class ICSRead(BusyRead):
    """A ``BusyRead`` with what the reader had to guess or repair."""

    unknown_tzids: tuple[str, ...] = ()  # read in the interviewer's zone instead
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expansion:
    """Every occurrence of a calendar in ``span``: reads of any window inside it
    are answered by filtering, without expanding the calendar again."""

    span: Interval
    occurrences: tuple[Occurrence, ...]
    unknown_tzids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    parts: Parts | None = field(default=None, compare=False, repr=False)  # incremental reads

    def covers(self, window: Interval) -> bool:
        return self.span.start <= window.start and window.end <= self.span.end

    def read(self, window: Interval) -> ICSRead:
        if not self.covers(window):
            raise ValueError(f"{window} is outside the expanded span {self.span}")
        busy: list[Interval] = []
        count = 0
        for occ in self.occurrences:
            if in_span(occ.start, occ.end, window):
                count += 1
                if occ.busy:
                    busy.append(Interval(occ.start, occ.end))
        return ICSRead(
            busy=tuple(busy),
            events_read=count,
            unknown_tzids=self.unknown_tzids,
            warnings=self.warnings,
        )
