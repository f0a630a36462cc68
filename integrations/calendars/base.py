"""The one interface every calendar backend implements."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from scheduler.model import Interval


@dataclass(frozen=True)
class BusyRead:
    """What one read of a calendar found in a window."""

    busy: tuple[Interval, ...]
    events_read: int
    unchanged: bool = False  # the provider said "not modified" (ETag, syncToken)


class BusyReader(Protocol):
    """A calendar made ready for one sync, read once.

    ``use_stored`` is True after a read that found the calendar unchanged since the
    busy time already stored for it was computed: that read's ``busy`` is empty and the
    stored busy time stands."""

    @property
    def use_stored(self) -> bool: ...

    def read(self, window: Interval) -> BusyRead: ...


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


PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")


@dataclass(frozen=True)
class AttendeeResponse:
    """One attendee's answer to an interview event, as a calendar or an iTIP REPLY shows it.

    ``attendee`` is the lower-cased e-mail address (no ``mailto:``); ``partstat`` is the
    RFC 5545 participation status, upper case (see ``PARTSTATS``; other values are kept as
    given). ``sequence`` is the event's SEQUENCE the answer belongs to, ``dtstamp`` (aware,
    UTC) when the answer was made, if known. ``source`` names where it was read.
    """

    uid: str
    sequence: int
    attendee: str
    partstat: str
    dtstamp: datetime | None = None
    source: str = ""

    @property
    def declined(self) -> bool:
        return self.partstat == "DECLINED"


def latest_responses(responses: Iterable[AttendeeResponse]) -> list[AttendeeResponse]:
    """The newest answer per (uid, attendee): higher SEQUENCE wins, then the later DTSTAMP.

    An answer without DTSTAMP loses to one with it at the same SEQUENCE; among equals
    the later one in ``responses`` wins. The result keeps first-seen order.
    """
    best: dict[tuple[str, str], AttendeeResponse] = {}
    for response in responses:
        key = (response.uid, response.attendee)
        kept = best.get(key)
        if kept is None or _rank(response) >= _rank(kept):
            best[key] = response
    return list(best.values())


def _rank(response: AttendeeResponse) -> tuple[int, bool, float]:
    stamp = response.dtstamp.timestamp() if response.dtstamp is not None else 0.0
    return (response.sequence, response.dtstamp is not None, stamp)


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

    def read_responses(self, uids: Sequence[str]) -> list[AttendeeResponse]:
        """The attendees' answers on the events written with these UIDs.

        One entry per attendee of each event found (``NEEDS-ACTION`` when they have not
        answered); UIDs without an event here give nothing. Backends that cannot read
        answers (read-only feeds) return an empty list.
        """
        return []
