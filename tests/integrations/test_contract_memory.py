"""The shared calendar contract against the in-memory backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.calendars.base import CalendarBackend
from integrations.calendars.memory import MemoryCalendar
from integrations.errors import CalendarError
from scheduler.model import Interval
from tests.integrations.contract import CalendarContract, SeedEvent, events_to_ics, interview, utc


class TestMemoryContract(CalendarContract):
    writable = True

    def make_backend(self) -> CalendarBackend:
        return MemoryCalendar("memory-test", timezone="Europe/Berlin")

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        assert isinstance(backend, MemoryCalendar)
        backend.add_ics(events_to_ics(events))


def test_update_of_missing_event_is_an_error() -> None:
    cal = MemoryCalendar("m")
    with pytest.raises(CalendarError, match="no event 'nope'"):
        cal.update_event("nope", interview("x", utc(2027, 3, 1, 9), utc(2027, 3, 1, 10)))


def test_rejects_naive_and_backwards_events() -> None:
    cal = MemoryCalendar("m")
    with pytest.raises(CalendarError, match="without a time zone"):
        cal.write_event(interview("x", datetime(2027, 3, 1, 9), datetime(2027, 3, 1, 10)))
    with pytest.raises(CalendarError, match="ends before it starts"):
        cal.write_event(interview("x", utc(2027, 3, 1, 10), utc(2027, 3, 1, 9)))


def test_seeded_intervals_and_failure_switch() -> None:
    busy = Interval(datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 3, 1, 10, tzinfo=UTC))
    cal = MemoryCalendar("m", busy=[busy])
    window = Interval(utc(2027, 3, 1), utc(2027, 3, 2))
    assert cal.read_busy(window).busy == (busy,)
    cal.fail_reads = CalendarError("m", "provider down")
    with pytest.raises(CalendarError, match="provider down"):
        cal.read_busy(window)
    assert cal.reads == 2
