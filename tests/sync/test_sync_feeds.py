"""Sync of ICS feeds from a loopback HTTP server into the database: conditional GET state kept
between runs, last good data kept on every fault, one bad feed never stops the others."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from integrations.calendars.feed import FeedSnapshots
from tests.fixtures.sync import add_source, blocks, day_events, ics, run_sync, source, utc
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import FeedServer, Huge, Redirect, Static, Status
from web.domain.sync.config import SyncConfig
from web.domain.sync.sync import SourceResult, sync_source
from web.store.db import Database
from web.store.models import BusyBlock, CalendarSource

DAY = utc(2027, 3, 2)
ALICE = ics(*day_events("a", DAY, [9, 10, 14]))  # 09-11 merge, 14-15
BOB = ics(*day_events("b", DAY, [12]))


@pytest.fixture
def two_feeds(db: Database, company: Any, feeds: FeedServer) -> dict[str, int]:
    feeds.routes["/alice.ics"] = Static(ALICE, etag='"a1"')
    feeds.routes["/bob.ics"] = Static(BOB, last_modified="Mon, 01 Mar 2027 08:00:00 GMT")
    return {
        "alice": add_source(
            db, "alice", kind="ics", label="alice-work", url=feeds.url("/alice.ics")
        ),
        "bob": add_source(db, "bob", kind="ics", label="bob-work", url=feeds.url("/bob.ics")),
    }


def test_first_sync_stores_merged_busy_time_and_validators(
    db: Database, two_feeds: dict[str, int]
) -> None:
    results = run_sync(db, NOW)
    assert results["alice-work"].ok and results["bob-work"].ok
    assert results["alice-work"].events_read == 3
    assert results["alice-work"].busy == 2
    assert blocks(db, two_feeds["alice"]) == [
        (utc(2027, 3, 2, 9), utc(2027, 3, 2, 11)),
        (utc(2027, 3, 2, 14), utc(2027, 3, 2, 15)),
    ]
    alice = source(db, two_feeds["alice"])
    assert alice.etag == '"a1"' and alice.last_good_sync_at == NOW and alice.last_error is None
    assert alice.busy_count == 2 and alice.events_read == 3
    bob = source(db, two_feeds["bob"])
    assert bob.last_modified == "Mon, 01 Mar 2027 08:00:00 GMT"


@pytest.mark.parametrize("new_process", [False, True])
def test_unchanged_feed_is_a_304_and_rewrites_nothing(
    db: Database, two_feeds: dict[str, int], feeds: FeedServer, new_process: bool
) -> None:
    cfg = SyncConfig(snapshots=FeedSnapshots())
    run_sync(db, NOW, cfg)
    with db.session() as s:
        ids_before = sorted(s.scalars(select(BusyBlock.id)))
    if new_process:  # a fresh `panelslot sync`: only the database remembers the feed
        cfg = SyncConfig(snapshots=FeedSnapshots())
    later = NOW + timedelta(minutes=10)
    results = run_sync(db, later, cfg)
    assert results["alice-work"].ok and results["alice-work"].unchanged
    assert results["bob-work"].ok and results["bob-work"].unchanged
    last_alice = feeds.hits("/alice.ics")[-1]
    assert last_alice.headers.get("if-none-match") == '"a1"' and last_alice.status == 304
    last_bob = feeds.hits("/bob.ics")[-1]
    assert last_bob.headers.get("if-modified-since") == "Mon, 01 Mar 2027 08:00:00 GMT"
    assert last_bob.status == 304
    with db.session() as s:
        assert sorted(s.scalars(select(BusyBlock.id))) == ids_before
    assert source(db, two_feeds["alice"]).last_good_sync_at == later


def test_changed_feed_replaces_only_what_changed(
    db: Database, two_feeds: dict[str, int], feeds: FeedServer
) -> None:
    run_sync(db, NOW)
    with db.session() as s:
        kept_id = s.scalar(
            select(BusyBlock.id).where(
                BusyBlock.source_id == two_feeds["alice"], BusyBlock.start == utc(2027, 3, 2, 9)
            )
        )
    feeds.routes["/alice.ics"] = Static(ics(*day_events("a", DAY, [9, 10, 16])), etag='"a2"')
    results = run_sync(db, NOW + timedelta(minutes=10))
    assert results["alice-work"].ok and not results["alice-work"].unchanged
    assert blocks(db, two_feeds["alice"]) == [
        (utc(2027, 3, 2, 9), utc(2027, 3, 2, 11)),
        (utc(2027, 3, 2, 16), utc(2027, 3, 2, 17)),
    ]
    with db.session() as s:
        assert s.get(BusyBlock, kept_id) is not None
    assert source(db, two_feeds["alice"]).etag == '"a2"'


FAULTS: dict[str, Any] = {
    "http 404": (Status(404, b"gone"), "HTTP 404"),
    "http 500": (Status(500, b"oops"), "HTTP 500"),
    "redirect loop": ("loop", "redirect"),
    "50 MB file": (Huge(50 * 1024 * 1024), "larger than the"),
    "not iCalendar": (Static(b"<html><body>Sign in</body></html>", etag='"x"'), "alice-work"),
    "truncated": (Static(ALICE[: len(ALICE) // 2], etag='"t"'), "alice-work"),
    "unreachable": ("down", "cannot connect"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_feed_keeps_its_last_good_data_and_others_sync(
    db: Database, two_feeds: dict[str, int], feeds: FeedServer, fault: str, refused_port: int
) -> None:
    run_sync(db, NOW)
    good_alice = blocks(db, two_feeds["alice"])
    route, expected = FAULTS[fault]
    if route == "loop":
        feeds.routes["/alice.ics"] = Redirect("/loop-b")
        feeds.routes["/loop-b"] = Redirect("/alice.ics")
    elif route == "down":
        with db.session() as s:
            src = s.get(CalendarSource, two_feeds["alice"])
            assert src is not None
            src.url = f"http://127.0.0.1:{refused_port}/alice.ics"
    else:
        feeds.routes["/alice.ics"] = route
    feeds.routes["/bob.ics"] = Static(ics(*day_events("b", DAY, [12, 15])))
    later = NOW + timedelta(minutes=10)

    results = run_sync(db, later)

    alice = results["alice-work"]
    assert not alice.ok and alice.error and expected in alice.error
    assert "alice-work" in alice.error and "\n" not in alice.error
    assert alice.kept_blocks == len(good_alice)
    assert blocks(db, two_feeds["alice"]) == good_alice
    row = source(db, two_feeds["alice"])
    assert row.last_good_sync_at == NOW and row.last_attempt_at == later
    assert row.last_error == alice.error and not row.needs_reconnect
    assert results["bob-work"].ok and results["bob-work"].busy == 2


def test_a_file_source_and_an_unknown_kind(db: Database, company: Any, tmp_path: Any) -> None:
    path = tmp_path / "devi.ics"
    path.write_bytes(ics(*day_events("d", DAY, [8])))
    file_id = add_source(db, "devi", kind="ics", label="devi-file", url=str(path))
    odd_id = add_source(db, "eli", kind="exchange", label="eli-ews", url="https://x.example/")
    results = run_sync(db, NOW)
    assert results["devi-file"].ok and blocks(db, file_id) == [
        (utc(2027, 3, 2, 8), utc(2027, 3, 2, 9))
    ]
    assert not results["eli-ews"].ok and "not supported" in (results["eli-ews"].error or "")
    assert source(db, odd_id).last_error


def test_busy_time_outside_the_window_is_not_stored(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    far = NOW + timedelta(days=200)
    feeds.routes["/f.ics"] = Static(
        ics(("near", DAY, DAY + timedelta(hours=1)), ("far", far, far + timedelta(hours=1)))
    )
    sid = add_source(db, "alice", kind="ics", label="f", url=feeds.url("/f.ics"))
    run_sync(db, NOW, SyncConfig(ahead=timedelta(days=30)))
    assert blocks(db, sid) == [(DAY, DAY + timedelta(hours=1))]


def test_unbounded_rrule_expansion_is_bounded_by_the_window(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    body = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:daily\r\n"
        b"DTSTAMP:20270101T000000Z\r\nDTSTART:20200101T090000Z\r\nDTEND:20200101T093000Z\r\n"
        b"RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    feeds.routes["/d.ics"] = Static(body)
    sid = add_source(db, "alice", kind="ics", label="daily", url=feeds.url("/d.ics"))
    cfg = SyncConfig(past=timedelta(days=1), ahead=timedelta(days=9), margin=timedelta(0))
    result = run_sync(db, NOW, cfg)
    assert result["daily"].ok
    assert len(blocks(db, sid)) == 10  # 28 Feb .. 9 Mar


def test_fresh_process_answers_an_unchanged_feed_from_stored_blocks_until_the_margin(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    body = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:daily\r\n"
        b"DTSTAMP:20270101T000000Z\r\nDTSTART:20270101T090000Z\r\nDTEND:20270101T093000Z\r\n"
        b"RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    feeds.routes["/d.ics"] = Static(body, etag='"d1"')
    sid = add_source(db, "alice", kind="ics", label="daily", url=feeds.url("/d.ics"))
    cfg = SyncConfig(
        past=timedelta(days=1),
        ahead=timedelta(days=9),
        margin=timedelta(days=3),
        snapshots=FeedSnapshots(),
    )
    assert run_sync(db, NOW, cfg)["daily"].ok
    assert len(blocks(db, sid)) == 13  # 28 Feb .. 12 Mar: the window and the margin

    cfg = replace(
        cfg, snapshots=FeedSnapshots()
    )  # a new process, two days later: still inside the margin
    again = run_sync(db, NOW + timedelta(days=2), cfg)["daily"]
    assert again.ok and again.unchanged and again.events_read == 13
    assert feeds.hits("/d.ics")[-1].status == 304
    assert len(blocks(db, sid)) == 13

    cfg = replace(
        cfg, snapshots=FeedSnapshots()
    )  # five days later the window leaves what is stored: expand again
    later = run_sync(db, NOW + timedelta(days=5), cfg)["daily"]
    assert later.ok and later.unchanged and feeds.hits("/d.ics")[-1].status == 304
    assert blocks(db, sid)[-1][0] == utc(2027, 3, 17, 9)  # window end: 6 Mar + 12 d, exclusive


def test_two_syncs_of_one_calendar_at_once_store_each_block_once(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    import threading

    from tests.integrations.feed_server import Slow
    from web.store.models import Interviewer

    feeds.routes["/slow.ics"] = Slow(0.3, ics(*day_events("a", DAY, [8, 10, 12, 14])))
    sid = add_source(db, "alice", kind="ics", label="slow", url=feeds.url("/slow.ics"))
    results: list[SourceResult] = []

    def one() -> None:
        with db.session() as s:
            who = s.scalars(select(Interviewer).where(Interviewer.key == "alice")).one()
            src = s.get(CalendarSource, sid)
            assert src is not None
            results.append(sync_source(s, who, src, NOW, SyncConfig()))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.ok for r in results] == [True, True, True]
    with db.session() as s:
        rows = s.execute(select(BusyBlock.start).where(BusyBlock.source_id == sid)).all()
    assert len(rows) == 4


def test_unknown_tzid_is_a_warning_not_a_failure(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    body = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:mars\r\n"
        b"DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Mars/Olympus_Mons:20270302T100000\r\n"
        b"DTEND;TZID=Mars/Olympus_Mons:20270302T110000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    feeds.routes["/mars.ics"] = Static(body)
    feeds.routes["/bob.ics"] = Static(BOB)
    sid = add_source(db, "alice", kind="ics", label="mars", url=feeds.url("/mars.ics"))
    add_source(db, "bob", kind="ics", label="bob-work", url=feeds.url("/bob.ics"))
    results = run_sync(db, NOW)
    mars = results["mars"]
    assert mars.ok and results["bob-work"].ok
    assert any("Mars/Olympus_Mons" in w for w in mars.warnings)
    assert mars.as_json()["warnings"] == list(mars.warnings)
    # alice is in Africa/Lagos (UTC+1): 10:00 there is 09:00Z
    assert blocks(db, sid) == [(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))]
