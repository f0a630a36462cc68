"""One busy loader for search, booking re-checks and the live check's fallback.

The three old copies differed: ``services.load_busy`` counted holds (and, called
without ``now``, expired ones too), ``booking.checks.busy_now`` left holds out, and the
live check read one calendar's stored blocks with its own query. ``load_busy`` pins:
holds count only with ``include_holds``, never the excluded request's, never expired
ones; bookings count and are listed as booked; ``sources`` narrows the calendar blocks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from scheduler.model import Interval
from tests.fixtures.booking import NOW, book_first, interviewer_id, request_row, send_request
from tests.fixtures.sync import add_source, utc
from web.domain.busy import load_busy
from web.store.db import Database
from web.store.models import BusyBlock, Hold

WEEK = Interval(utc(2027, 3, 1), utc(2027, 3, 15))


def _holds(db: Database, request_id: int) -> list[Hold]:
    with db.session() as s:
        return list(s.scalars(select(Hold).where(Hold.request_id == request_id)))


def test_holds_count_only_when_asked_and_never_the_excluded_request(
    db: Database, company: Any
) -> None:
    sent = send_request(db, hold=True)
    held = _holds(db, sent.request_id)
    assert held
    who = held[0].interviewer_id
    span = Interval(held[0].start, held[0].end)
    with db.session() as s:
        people = {who: "x"}
        assert span in load_busy(s, people, WEEK, now=NOW, include_holds=True).busy["x"]
        assert load_busy(s, people, WEEK, now=NOW, include_holds=False).busy["x"] == []
        mine = load_busy(
            s, people, WEEK, now=NOW, include_holds=True, exclude_request_id=sent.request_id
        )
        assert mine.busy["x"] == []


def test_an_expired_hold_is_not_busy(db: Database, company: Any) -> None:
    sent = send_request(db, hold=True)
    with db.session() as s:
        rows = list(s.scalars(select(Hold).where(Hold.request_id == sent.request_id)))
        for row in rows:
            row.expires_at = NOW
        who = rows[0].interviewer_id
    with db.session() as s:
        assert load_busy(s, {who: "x"}, WEEK, now=NOW, include_holds=True).busy["x"] == []
        before = NOW - timedelta(minutes=1)  # still live a minute earlier
        assert load_busy(s, {who: "x"}, WEEK, now=before, include_holds=True).busy["x"]


def test_bookings_are_busy_and_booked(db: Database, company: Any) -> None:
    sent = send_request(db, hold=False)
    book_first(db, sent, "busy-loader-0001")
    [b] = request_row(db, sent.request_id).bookings
    first = b.sessions[0]
    who, span = first.interviewer_id, Interval(first.start, first.end)
    with db.session() as s:
        pic = load_busy(s, {who: "x"}, WEEK, now=NOW, include_holds=False)
        assert span in pic.booked["x"] and span in pic.busy["x"]
        bare = load_busy(s, {who: "x"}, WEEK, now=NOW, include_holds=False, include_bookings=False)
        assert bare.busy["x"] == [] and bare.booked["x"] == []


def test_sources_narrow_the_calendar_blocks(db: Database, company: Any) -> None:
    alice = interviewer_id(db, "alice")
    one = add_source(db, "alice", kind="ics", label="one", url="file:///nowhere/one.ics")
    two = add_source(db, "alice", kind="ics", label="two", url="file:///nowhere/two.ics")
    a = Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))
    b = Interval(utc(2027, 3, 2, 11), utc(2027, 3, 2, 12))
    with db.session() as s:
        s.add(BusyBlock(interviewer_id=alice, source_id=one, start=a.start, end=a.end))
        s.add(BusyBlock(interviewer_id=alice, source_id=two, start=b.start, end=b.end))
    with db.session() as s:
        every = load_busy(s, {alice: "alice"}, WEEK, now=NOW, include_holds=False)
        assert sorted(every.busy["alice"]) == [a, b]
        only = load_busy(s, {alice: "alice"}, WEEK, now=NOW, include_holds=False, sources=[two])
        assert only.busy["alice"] == [b]
        outside = Interval(utc(2027, 4, 1), utc(2027, 4, 2))
        assert load_busy(s, {alice: "alice"}, outside, now=NOW).busy["alice"] == []
