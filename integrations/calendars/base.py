"""The one interface every calendar backend implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.model import Interval


@dataclass(frozen=True)
class BusyRead:
    """What one read of a calendar found in a window."""

    busy: tuple[Interval, ...]
    events_read: int
    unchanged: bool = False  # the provider said "not modified" (ETag, syncToken)


@dataclass(frozen=True)
class InterviewEvent:
    """An interview as written to a participant's calendar."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    organizer_email: str
    attendees: tuple[str, ...] = ()
    description: str = ""
    location: str = ""
    sequence: int = 0
    extra: dict[str, str] = field(default_factory=dict)


class CalendarBackend(abc.ABC):
    """Read busy time; write, update and cancel interview events."""

    kind: str = "abstract"

    @abc.abstractmethod
    def read_busy(self, window: Interval) -> BusyRead:
        """Busy intervals (not merged) overlapping ``window``."""

    @abc.abstractmethod
    def write_event(self, event: InterviewEvent) -> str:
        """Create the event; return the provider's id for it."""

    @abc.abstractmethod
    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        """Replace the event written earlier under ``event_id``."""

    @abc.abstractmethod
    def cancel_event(self, event_id: str) -> None:
        """Delete (or cancel) the event; a missing event is not an error."""
