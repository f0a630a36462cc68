"""The app's prepared busy indexes (``PreparedBusy``): the same busy time as ``load_busy``,
kept per interviewer and busy version, read again once a sync, a booking or a hold
changes it, and bounded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from scheduler import prepare_busy
from scheduler.model import Interval
from tests.fixtures.booking import NOW, book_first, interviewer_id, request_row, send_request
from tests.fixtures.sync import add_source, day_events, ics, run_sync, utc
from tests.integrations.feed_server import FeedServer, Static
from web.domain import services
from web.domain.busy import load_busy
from web.domain.busy_cache import PreparedBusy
from web.store.db import Database
from web.store.models import Hold, Interviewer, Loop

WEEK = Interval(utc(2027, 3, 1), utc(2027, 3, 15))
DAY = utc(2027, 3, 2)


def _people(db: Database) -> dict[int, str]:
    with db.session() as s:
        return {row.id: row.key for row in s.scalars(select(Interviewer))}


def _same_as_load_busy(db: Database, cache: PreparedBusy, **kw: Any) -> dict[str, Any]:
    people = _people(db)
    with db.session() as s:
        busy, booked = cache.load(s, people, WEEK, now=NOW, **kw)
        fresh = load_busy(s, people, WEEK, now=NOW, **kw)
    for key in people.values():
        assert busy[key] == prepare_busy(fresh.busy[key]), key
        assert sorted(booked[key]) == sorted(fresh.booked[key]), key
    return busy


def test_a_sync_that_changes_busy_time_misses(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    feeds.routes["/alice.ics"] = Static(ics(*day_events("a", DAY, [9])), etag='"1"')
    add_source(db, "alice", kind="ics", label="alice", url=feeds.url("/alice.ics"))
    run_sync(db, NOW)
    cache = PreparedBusy()
    first = _same_as_load_busy(db, cache)
    hits = cache.hits
    again = _same_as_load_busy(db, cache)
    assert cache.hits == hits + len(_people(db)) and again == first  # nothing read again
    feeds.routes["/alice.ics"] = Static(ics(*day_events("a", DAY, [9, 14])), etag='"2"')
    run_sync(db, NOW)
    misses = cache.misses
    changed = _same_as_load_busy(db, cache)
    assert cache.misses == misses + 1  # alice only
    assert changed["alice"] != first["alice"]


def test_a_booking_and_a_hold_miss(db: Database, company: Any) -> None:
    cache = PreparedBusy()
    _same_as_load_busy(db, cache)
    sent = send_request(db, hold=True)  # holds for the loop's interviewers
    misses = cache.misses
    _same_as_load_busy(db, cache)
    assert cache.misses > misses
    book_first(db, sent, "busy-cache-0001")
    [b] = request_row(db, sent.request_id).bookings
    who = b.sessions[0].interviewer_id
    misses = cache.misses
    busy = _same_as_load_busy(db, cache, include_holds=False)
    assert cache.misses > misses
    key = _people(db)[who]
    start = int(b.sessions[0].start.timestamp())
    assert start in busy[key].starts or any(
        s <= start < e for s, e in zip(busy[key].starts, busy[key].ends, strict=True)
    )


def test_an_expired_hold_misses(db: Database, company: Any) -> None:
    sent = send_request(db, hold=True)
    cache = PreparedBusy()
    _same_as_load_busy(db, cache)
    with db.session() as s:
        for row in s.scalars(select(Hold).where(Hold.request_id == sent.request_id)):
            row.expires_at = NOW
    misses = cache.misses
    _same_as_load_busy(db, cache)
    assert cache.misses > misses


def test_bounded(db: Database, company: Any) -> None:
    cache = PreparedBusy(max_size=1)
    _same_as_load_busy(db, cache)
    assert len(cache) == 1
    assert interviewer_id(db, "alice")


def test_a_search_with_the_cache_gives_the_same_options(db: Database, company: Any) -> None:
    send_request(db, hold=True)  # other requests' holds count in both
    cache = PreparedBusy()
    with db.session() as s:
        loop = s.scalars(select(Loop)).first()
        assert loop is not None
        ask: dict[str, Any] = dict(
            candidate_tz="Europe/London",
            date_from=NOW.date(),
            date_to=NOW.date() + timedelta(days=7),
            hours=(8 * 60, 20 * 60),
            now=NOW,
        )
        plain = services.search(s, loop, **ask).options
        cold = services.search(s, loop, prepared=cache, **ask).options
        warm = services.search(s, loop, prepared=cache, **ask).options
    assert plain and plain == cold == warm
    assert cache.hits and cache.misses
