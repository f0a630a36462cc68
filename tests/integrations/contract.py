"""The shared contract every calendar backend must pass.

Subclass :class:`CalendarContract` in a ``test_*.py`` module (name the subclass
``Test...``) and provide two hooks::

    from tests.integrations.contract import CalendarContract, SeedEvent, events_to_ics

    class TestMyBackend(CalendarContract):
        writable = True                 # False: write tests are skipped
        can_seed_recurring = True       # False: RRULE/EXDATE tests are skipped
        can_seed_flags = True           # False: TRANSPARENT/CANCELLED tests are skipped

        def make_backend(self) -> CalendarBackend:
            ...  # a backend on a FRESH, empty calendar

        def seed(self, backend, events: list[SeedEvent]) -> None:
            ...  # put these events into the calendar behind ``backend``
                 # (events_to_ics(events) gives an iCalendar document).
                 # Seeding ADDS: events seeded earlier in the test stay.

Servers the backend needs can be started in an ``autouse`` fixture of the
subclass (it runs before the ``backend`` fixture) and stored on ``self``:
pytest makes a new instance of the class for every test.
``cleanup(backend)`` runs after each test (default: nothing).

All datetimes in this suite are in March 2027; the window is one week.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from integrations.calendars.base import BusyRead, CalendarBackend, InterviewEvent
from integrations.errors import CalendarError
from scheduler.model import Interval

WEEK = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


def utc(*args: int) -> datetime:
    """``utc(2027, 3, 2, 14)`` -> 2027-03-02 14:00Z."""
    return datetime(*args, tzinfo=UTC)


@dataclass(frozen=True)
class SeedEvent:
    """An event placed in a calendar before reading it (any aware zone)."""

    uid: str
    start: datetime
    end: datetime
    summary: str = "Busy"
    rrule: str | None = None  # e.g. "FREQ=DAILY;COUNT=5"; no UNTIL/COUNT = endless
    exdates: tuple[datetime, ...] = ()
    transparent: bool = False
    cancelled: bool = False


def events_to_ics(events: Sequence[SeedEvent]) -> bytes:
    """One VCALENDAR holding ``events`` (with the VTIMEZONEs they use)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//panelslot//contract tests//EN")
    cal.add("version", "2.0")
    for seed in events:
        ev = icalendar.Event()
        ev.add("uid", seed.uid)
        ev.add("summary", seed.summary)
        ev.add("dtstamp", utc(2027, 1, 1))
        ev.add("dtstart", seed.start)
        ev.add("dtend", seed.end)
        if seed.rrule:
            ev.add("rrule", icalendar.vRecur.from_ical(seed.rrule))
        for ex in seed.exdates:
            ev.add("exdate", ex)
        if seed.transparent:
            ev.add("transp", "TRANSPARENT")
        if seed.cancelled:
            ev.add("status", "CANCELLED")
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()


def interview(uid: str, start: datetime, end: datetime) -> InterviewEvent:
    return InterviewEvent(
        uid=uid,
        summary=f"Interview {uid}",
        start=start,
        end=end,
        organizer_email="coordinator@example.com",
        attendees=("alice@example.com",),
        description="Contract test interview",
    )


def normalised(intervals: Sequence[Interval], window: Interval = WEEK) -> list[Interval]:
    """Clip to ``window`` and merge: what every backend must agree on."""
    clipped = sorted(
        Interval(max(i.start, window.start), min(i.end, window.end))
        for i in intervals
        if i.start < window.end and window.start < i.end
    )
    merged: list[Interval] = []
    for iv in clipped:
        if merged and iv.start <= merged[-1].end:
            if iv.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, iv.end)
        else:
            merged.append(iv)
    return merged


def assert_well_formed(read: BusyRead, window: Interval = WEEK) -> None:
    assert isinstance(read, BusyRead)
    assert isinstance(read.events_read, int) and read.events_read >= 0
    for iv in read.busy:
        assert iv.start.utcoffset() == timedelta(0), iv
        assert iv.end.utcoffset() == timedelta(0), iv
        assert iv.start < iv.end, iv
        assert iv.overlaps(window), f"{iv} lies outside the window {window}"


class CalendarContract:
    """Behaviour shared by every ``CalendarBackend``; see the module docstring."""

    writable: bool = True
    can_seed_recurring: bool = True
    can_seed_flags: bool = True

    # ---- hooks -------------------------------------------------------------
    def make_backend(self) -> CalendarBackend:
        raise NotImplementedError

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        raise NotImplementedError

    def cleanup(self, backend: CalendarBackend) -> None:
        """Called after each test."""

    @pytest.fixture
    def backend(self) -> Iterator[CalendarBackend]:
        made = self.make_backend()
        try:
            yield made
        finally:
            self.cleanup(made)

    # ---- helpers -----------------------------------------------------------
    def read(self, backend: CalendarBackend, window: Interval = WEEK) -> list[Interval]:
        result = backend.read_busy(window)
        assert_well_formed(result, window)
        return normalised(result.busy, window)

    def need_writable(self) -> None:
        if not self.writable:
            pytest.skip(f"{type(self).__name__}: backend is read-only")

    # ---- reading -----------------------------------------------------------
    def test_empty_calendar_is_free(self, backend: CalendarBackend) -> None:
        assert self.read(backend) == []

    def test_seeded_event_is_busy(self, backend: CalendarBackend) -> None:
        self.seed(backend, [SeedEvent("one", utc(2027, 3, 2, 14), utc(2027, 3, 2, 15))])
        assert self.read(backend) == [Interval(utc(2027, 3, 2, 14), utc(2027, 3, 2, 15))]

    def test_repeated_reads_agree(self, backend: CalendarBackend) -> None:
        self.seed(backend, [SeedEvent("same", utc(2027, 3, 2, 14), utc(2027, 3, 2, 15))])
        first = self.read(backend)
        assert first == [Interval(utc(2027, 3, 2, 14), utc(2027, 3, 2, 15))]
        assert self.read(backend) == first

    def test_changes_after_a_read_are_seen(self, backend: CalendarBackend) -> None:
        """No stale cache: what is added after a read shows up in the next read."""
        self.seed(backend, [SeedEvent("early", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))])
        assert self.read(backend) == [Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))]
        self.seed(backend, [SeedEvent("late", utc(2027, 3, 4, 16), utc(2027, 3, 4, 17))])
        assert self.read(backend) == [
            Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),
            Interval(utc(2027, 3, 4, 16), utc(2027, 3, 4, 17)),
        ]

    def test_local_times_become_utc(self, backend: CalendarBackend) -> None:
        ny, kolkata = ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")
        self.seed(
            backend,
            [
                # New York is UTC-5 until 2027-03-14: 09:00 EST = 14:00Z
                SeedEvent(
                    "ny", datetime(2027, 3, 2, 9, tzinfo=ny), datetime(2027, 3, 2, 10, tzinfo=ny)
                ),
                # Kolkata is UTC+5:30: 09:30 IST = 04:00Z
                SeedEvent(
                    "in",
                    datetime(2027, 3, 3, 9, 30, tzinfo=kolkata),
                    datetime(2027, 3, 3, 10, 15, tzinfo=kolkata),
                ),
            ],
        )
        assert self.read(backend) == [
            Interval(utc(2027, 3, 2, 14), utc(2027, 3, 2, 15)),
            Interval(utc(2027, 3, 3, 4), utc(2027, 3, 3, 4, 45)),
        ]

    def test_read_window_filters(self, backend: CalendarBackend) -> None:
        self.seed(
            backend,
            [
                SeedEvent("before", utc(2027, 2, 20, 9), utc(2027, 2, 20, 10)),
                SeedEvent("inside", utc(2027, 3, 4, 9), utc(2027, 3, 4, 10)),
                SeedEvent("after", utc(2027, 3, 20, 9), utc(2027, 3, 20, 10)),
            ],
        )
        result = backend.read_busy(WEEK)
        assert_well_formed(result)
        assert normalised(result.busy) == [Interval(utc(2027, 3, 4, 9), utc(2027, 3, 4, 10))]

    def test_read_window_clips_at_edges(self, backend: CalendarBackend) -> None:
        window = Interval(utc(2027, 3, 2, 12), utc(2027, 3, 2, 18))
        self.seed(
            backend,
            [
                SeedEvent("across-start", utc(2027, 3, 2, 11), utc(2027, 3, 2, 13)),
                SeedEvent("across-end", utc(2027, 3, 2, 17), utc(2027, 3, 2, 19)),
                # half-open: touching the window is not overlapping it
                SeedEvent("ends-at-start", utc(2027, 3, 2, 10), utc(2027, 3, 2, 12)),
                SeedEvent("starts-at-end", utc(2027, 3, 2, 18), utc(2027, 3, 2, 19)),
            ],
        )
        assert self.read(backend, window) == [
            Interval(utc(2027, 3, 2, 12), utc(2027, 3, 2, 13)),
            Interval(utc(2027, 3, 2, 17), utc(2027, 3, 2, 18)),
        ]

    def test_recurring_event_expanded(self, backend: CalendarBackend) -> None:
        if not self.can_seed_recurring:
            pytest.skip(f"{type(self).__name__}: cannot seed recurring events")
        berlin = ZoneInfo("Europe/Berlin")
        start = datetime(2027, 3, 1, 10, tzinfo=berlin)  # 09:00Z (CET, UTC+1)
        self.seed(
            backend,
            [
                SeedEvent(
                    "daily",
                    start,
                    start + timedelta(minutes=30),
                    rrule="FREQ=DAILY;COUNT=5",
                    exdates=(datetime(2027, 3, 3, 10, tzinfo=berlin),),
                )
            ],
        )
        assert self.read(backend) == [
            Interval(utc(2027, 3, d, 9), utc(2027, 3, d, 9, 30)) for d in (1, 2, 4, 5)
        ]

    def test_endless_recurrence_bounded_by_window(self, backend: CalendarBackend) -> None:
        if not self.can_seed_recurring:
            pytest.skip(f"{type(self).__name__}: cannot seed recurring events")
        self.seed(
            backend,
            [SeedEvent("forever", utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), rrule="FREQ=DAILY")],
        )
        assert self.read(backend) == [
            Interval(utc(2027, 3, d, 8), utc(2027, 3, d, 9)) for d in range(1, 8)
        ]

    def test_transparent_and_cancelled_are_free(self, backend: CalendarBackend) -> None:
        if not self.can_seed_flags:
            pytest.skip(f"{type(self).__name__}: cannot seed TRANSP/STATUS")
        self.seed(
            backend,
            [
                SeedEvent("free", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10), transparent=True),
                SeedEvent("off", utc(2027, 3, 2, 11), utc(2027, 3, 2, 12), cancelled=True),
                SeedEvent("busy", utc(2027, 3, 2, 13), utc(2027, 3, 2, 14)),
            ],
        )
        assert self.read(backend) == [Interval(utc(2027, 3, 2, 13), utc(2027, 3, 2, 14))]

    # ---- writing -----------------------------------------------------------
    def test_read_only_refuses_writes(self, backend: CalendarBackend) -> None:
        if self.writable:
            pytest.skip(f"{type(self).__name__}: backend is writable")
        with pytest.raises(CalendarError, match="read-only"):
            backend.write_event(interview("r", utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)))
        with pytest.raises(CalendarError, match="read-only"):
            backend.update_event("r", interview("r", utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)))
        with pytest.raises(CalendarError, match="read-only"):
            backend.cancel_event("r")

    def test_write_then_read_busy(self, backend: CalendarBackend) -> None:
        self.need_writable()
        event_id = backend.write_event(interview("w1", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
        assert isinstance(event_id, str) and event_id
        assert self.read(backend) == [Interval(utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))]

    def test_write_returns_distinct_ids(self, backend: CalendarBackend) -> None:
        self.need_writable()
        a = backend.write_event(interview("wa", utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)))
        b = backend.write_event(interview("wb", utc(2027, 3, 4, 9), utc(2027, 3, 4, 10)))
        assert a != b
        assert self.read(backend) == [
            Interval(utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)),
            Interval(utc(2027, 3, 4, 9), utc(2027, 3, 4, 10)),
        ]

    def test_write_after_a_read_is_seen(self, backend: CalendarBackend) -> None:
        self.need_writable()
        assert self.read(backend) == []
        backend.write_event(interview("late", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
        assert self.read(backend) == [Interval(utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))]

    def test_update_moves_busy(self, backend: CalendarBackend) -> None:
        self.need_writable()
        event_id = backend.write_event(interview("u1", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
        moved = interview("u1", utc(2027, 3, 5, 10), utc(2027, 3, 5, 11, 30))
        backend.update_event(event_id, moved)
        assert self.read(backend) == [Interval(utc(2027, 3, 5, 10), utc(2027, 3, 5, 11, 30))]

    def test_cancel_frees(self, backend: CalendarBackend) -> None:
        self.need_writable()
        keep = backend.write_event(interview("k1", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
        drop = backend.write_event(interview("c1", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
        backend.cancel_event(drop)
        assert self.read(backend) == [Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))]
        assert keep != drop

    def test_cancel_twice_is_fine(self, backend: CalendarBackend) -> None:
        self.need_writable()
        event_id = backend.write_event(interview("c2", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
        backend.cancel_event(event_id)
        backend.cancel_event(event_id)
        assert self.read(backend) == []

    def test_cancel_missing_is_fine(self, backend: CalendarBackend) -> None:
        self.need_writable()
        backend.cancel_event("no-such-event-id")
        assert self.read(backend) == []

    def test_written_and_seeded_events_both_count(self, backend: CalendarBackend) -> None:
        self.need_writable()
        self.seed(backend, [SeedEvent("s", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))])
        backend.write_event(interview("w", utc(2027, 3, 2, 10), utc(2027, 3, 2, 11)))
        assert self.read(backend) == [Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 11))]
