"""Regression: the booking's own written-back event (stored as busy time of the calendar it
was written to, as a sync stores it) no longer blocks moving that booking, while other busy
time at the same moment still does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from integrations.calendars.memory import MemoryCalendar
from scheduler.model import Interval, Option, SessionSlot
from tests.fixtures.booking import interviewer_id, policy, send_request
from tests.fixtures.webapp import NOW
from web.domain import booking
from web.store.db import Database
from web.store.models import Booking, BusyBlock, CalendarSource, JobRequest, SchedulingRequest


def option(hour: int, minute: int = 0) -> Option:
    at = datetime(2027, 3, 3, hour, minute, tzinfo=UTC)
    return Option(
        0.9,
        (
            SessionSlot("System design", at, at + timedelta(hours=1), ("alice",)),
            SessionSlot("Coding", at + timedelta(hours=1), at + timedelta(minutes=105), ("devi",)),
        ),
    )


def _written_and_synced(db: Database) -> tuple[Any, dict[int, MemoryCalendar]]:
    calendars: dict[int, MemoryCalendar] = {}

    def factory(src: CalendarSource, who: Any) -> MemoryCalendar:
        return calendars.setdefault(src.id, MemoryCalendar(f"cal-{who.key}"))

    with db.session() as s:
        for key in ("alice", "devi"):
            s.add(CalendarSource(interviewer_id=interviewer_id(db, key), kind="memory", label=key))
    sent = send_request(db, options=[option(10), option(10, 30)])
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="own-event-12345678",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    window = Interval(NOW, NOW + timedelta(days=30))
    with db.session() as s:
        for job in s.scalars(select(JobRequest).where(JobRequest.status == "pending")):
            booking.job_writeback(s, job, NOW, {"memory": factory})
            job.status = "done"
        s.flush()
        for src in s.scalars(select(CalendarSource)):
            for iv in calendars[src.id].read_busy(window).busy:  # what a sync stores
                s.add(
                    BusyBlock(
                        interviewer_id=src.interviewer_id,
                        source_id=src.id,
                        start=iv.start,
                        end=iv.end,
                    )
                )
    return sent, calendars


def test_own_written_event_does_not_block_its_reschedule(db: Database, company: Any) -> None:
    sent, calendars = _written_and_synced(db)
    assert sum(len(c.events) for c in calendars.values()) == 2
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        b = s.scalar(select(Booking).where(Booking.request_id == req.id))
        ok = booking.valid_options(s, req, NOW, ignore_booking=b)
        assert [r.id for r in ok] == [sent.option_ids[1]]
    out = booking.reschedule(
        db,
        sent.request_id,
        sent.option_ids[1],
        idempotency_key="own-event-move-1234",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    assert out.created


def test_other_busy_time_at_that_moment_still_blocks(db: Database, company: Any) -> None:
    sent, _ = _written_and_synced(db)
    with db.session() as s:
        feed = CalendarSource(interviewer_id=interviewer_id(db, "alice"), kind="ics", label="feed")
        s.add(feed)
        s.flush()
        at = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)  # the very same hour, in another calendar
        s.add(
            BusyBlock(
                interviewer_id=feed.interviewer_id,
                source_id=feed.id,
                start=at,
                end=at + timedelta(hours=1),
            )
        )
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        b = s.scalar(select(Booking).where(Booking.request_id == req.id))
        assert booking.valid_options(s, req, NOW, ignore_booking=b) == []
