"""What expansion produces, shared by the full and the fast path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from scheduler.model import Interval


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
