"""Feed faults against a real loopback HTTP server: each must be a clear
CalendarError (naming the feed, never its credentials) that keeps the last
good copy, or a correct read."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from integrations.calendars.feed import (
    SPAN_AFTER,
    FeedSnapshot,
    FeedSnapshots,
    ICSFeedBackend,
    redact_url,
)
from integrations.errors import CalendarError
from scheduler.model import Interval
from tests.integrations.contract import WEEK, SeedEvent, events_to_ics, utc
from tests.integrations.feed_server import (
    Drip,
    FeedServer,
    Huge,
    Redirect,
    Slow,
    Static,
    Status,
    serve,
)

GOOD = events_to_ics([SeedEvent("good", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))])
GOOD_BUSY = (Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),)
MB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[FeedServer]:
    state, stop = serve()
    yield state
    stop()


def feed(server: FeedServer, path: str, **kwargs: object) -> ICSFeedBackend:
    return ICSFeedBackend(server.url(path), timezone="Europe/Berlin", **kwargs)  # type: ignore[arg-type]


def good_then(server: FeedServer, route: object) -> ICSFeedBackend:
    """A feed that read GOOD once and now serves ``route``."""
    server.routes["/f.ics"] = Static(GOOD)
    backend = feed(server, "/f.ics")
    assert backend.read_busy(WEEK).busy == GOOD_BUSY
    server.routes["/f.ics"] = route  # type: ignore[assignment]
    return backend


def assert_kept_last_good(backend: ICSFeedBackend) -> None:
    assert backend.last_good is not None and backend.last_good.data == GOOD
    kept = backend.read_last_good(WEEK)
    assert kept is not None and kept.busy == GOOD_BUSY
    assert backend.last_error is not None


# ---- unreachable, status codes, timeouts ----------------------------------------


def test_unreachable_feed(refused_port: int) -> None:
    backend = ICSFeedBackend(f"http://127.0.0.1:{refused_port}/cal.ics", timezone="UTC")
    with pytest.raises(CalendarError, match="cannot connect to 127.0.0.1") as err:
        backend.read_busy(WEEK)
    assert err.value.source.endswith("/cal.ics")
    assert backend.last_good is None and backend.last_error is err.value


def test_server_gone_keeps_last_good(server: FeedServer, refused_port: int) -> None:
    server.routes["/f.ics"] = Static(GOOD)
    backend = ICSFeedBackend(server.url("/f.ics"), timezone="UTC")
    backend.read_busy(WEEK)
    backend.location = f"http://127.0.0.1:{refused_port}/f.ics"  # the host went away
    with pytest.raises(CalendarError, match="cannot connect"):
        backend.read_busy(WEEK)
    assert_kept_last_good(backend)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (404, "HTTP 404 Not Found: the feed does not exist"),
        (410, "HTTP 410 Gone"),
        (401, "HTTP 401 Unauthorized: access refused"),
        (500, "HTTP 500 Internal Server Error: the calendar server failed"),
        (503, "HTTP 503"),
    ],
)
def test_http_errors_keep_last_good(server: FeedServer, code: int, words: str) -> None:
    backend = good_then(server, Status(code))
    with pytest.raises(CalendarError) as err:
        backend.read_busy(WEEK)
    assert words in str(err.value)
    assert str(err.value).startswith(server.url("/f.ics"))
    assert_kept_last_good(backend)


def test_timeout(server: FeedServer) -> None:
    server.routes["/slow.ics"] = Slow(delay=120, body=GOOD)  # answers only if still asked
    backend = feed(server, "/slow.ics", timeout=0.3)
    with pytest.raises(CalendarError, match=r"no answer within 0.3 s"):
        backend.read_busy(WEEK)
    assert server.hung_up.wait(30), "the client still waits for the answer"
    assert [hit.status for hit in server.seen] == [-1]  # hung up before any answer, no retry
    assert backend.last_good is None and backend.last_error is not None


def test_dripping_server_is_cut_off_by_the_total_timeout(server: FeedServer) -> None:
    server.routes["/drip.ics"] = Drip(size=1000, every=0.05)  # each read is quick
    backend = feed(server, "/drip.ics", timeout=2, total_timeout=0.6)
    with pytest.raises(CalendarError, match="download took longer than 0.6 s"):
        backend.read_busy(WEEK)
    assert server.hung_up.wait(30), "the connection stayed open after the deadline"
    assert server.seen[-1].status == -1
    assert 0 < server.bytes_sent < 1000  # cut off mid-body, not read to the end


# ---- redirects --------------------------------------------------------------------


def test_redirects_are_followed(server: FeedServer) -> None:
    server.routes["/old.ics"] = Redirect("/moved.ics", 301)
    server.routes["/moved.ics"] = Redirect(server.url("/new.ics"), 307)
    server.routes["/new.ics"] = Static(GOOD)
    assert feed(server, "/old.ics").read_busy(WEEK).busy == GOOD_BUSY


def test_redirects_between_paths_that_redact_alike_are_not_a_loop(server: FeedServer) -> None:
    server.routes["/a/x/cal.ics"] = Redirect("/b/y/cal.ics")
    server.routes["/b/y/cal.ics"] = Static(GOOD)
    assert feed(server, "/a/x/cal.ics").read_busy(WEEK).busy == GOOD_BUSY


def test_redirect_loop_is_a_clear_error(server: FeedServer) -> None:
    server.routes["/a.ics"] = Redirect("/b.ics")
    server.routes["/b.ics"] = Redirect("/a.ics")
    with pytest.raises(CalendarError, match="redirect loop") as err:
        feed(server, "/a.ics").read_busy(WEEK)
    assert f"{server.url('/a.ics')} -> {server.url('/b.ics')} -> {server.url('/a.ics')}" in str(
        err.value
    )
    assert len(server.seen) == 2  # noticed at once, not after max_redirects


def test_too_many_redirects(server: FeedServer) -> None:
    for i in range(10):
        server.routes[f"/r{i}.ics"] = Redirect(f"/r{i + 1}.ics")
    with pytest.raises(CalendarError, match="more than 3 redirects"):
        feed(server, "/r0.ics", max_redirects=3).read_busy(WEEK)
    assert len(server.seen) == 4


# ---- size cap -----------------------------------------------------------------------


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_50_mb_body_is_refused_without_reading_it(server: FeedServer, declare_length: bool) -> None:
    server.routes["/huge.ics"] = Huge(50 * MB, declare_length=declare_length)
    backend = feed(server, "/huge.ics")
    tracemalloc.start()
    try:
        with pytest.raises(CalendarError, match="larger than the 10 MB limit"):
            backend.read_busy(WEEK)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 25 * MB, f"peak {peak / MB:.1f} MB: the body was read into memory"
    assert server.bytes_sent < 40 * MB
    assert backend.last_good is None


def test_size_cap_is_configurable(server: FeedServer) -> None:
    server.routes["/f.ics"] = Static(GOOD)
    with pytest.raises(CalendarError, match=r"\d+ bytes is larger than the 100 bytes limit"):
        feed(server, "/f.ics", max_bytes=100).read_busy(WEEK)


def test_gzip_bomb_is_refused(server: FeedServer) -> None:
    bomb = GOOD.replace(b"END:VCALENDAR", b"X-PAD:" + b"x" * (60 * MB) + b"\r\nEND:VCALENDAR")
    server.routes["/bomb.ics"] = Static(bomb, gzip=True)
    with pytest.raises(CalendarError, match="larger than the 10 MB limit"):
        feed(server, "/bomb.ics").read_busy(WEEK)


# ---- content ----------------------------------------------------------------------


def test_gzip_feed(server: FeedServer) -> None:
    server.routes["/z.ics"] = Static(GOOD, gzip=True)
    backend = feed(server, "/z.ics")
    assert backend.read_busy(WEEK).busy == GOOD_BUSY
    assert "gzip" in server.seen[-1].headers["accept-encoding"]


def test_not_icalendar(server: FeedServer) -> None:
    backend = good_then(server, Static(b"<!DOCTYPE html>\n<html>Sign in</html>\n"))
    with pytest.raises(CalendarError, match="not an iCalendar file") as err:
        backend.read_busy(WEEK)
    assert err.value.line == 1
    assert err.value.source == server.url("/f.ics")
    assert_kept_last_good(backend)


def test_truncated(server: FeedServer) -> None:
    cut = GOOD[: GOOD.index(b"END:VEVENT")]
    backend = good_then(server, Static(cut))
    with pytest.raises(CalendarError, match=r"ends inside BEGIN:VEVENT .*truncated") as err:
        backend.read_busy(WEEK)
    assert err.value.line == cut.count(b"\n")
    assert f"{server.url('/f.ics')}, line {err.value.line}:" in str(err.value)
    assert_kept_last_good(backend)


def test_garbage_bytes(server: FeedServer) -> None:
    backend = good_then(server, Static(b"BEGIN:VCALENDAR\r\n\x00\x01\x02\xff\xfe\r\n"))
    with pytest.raises(CalendarError, match="control character 0x00") as err:
        backend.read_busy(WEEK)
    assert err.value.line == 2
    assert_kept_last_good(backend)


def test_unknown_tzid_falls_back_to_the_interviewer_zone(server: FeedServer) -> None:
    server.routes["/tz.ics"] = Static(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        b"DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Mars/Olympus_Mons:20270302T090000\r\n"
        b"DTEND;TZID=Mars/Olympus_Mons:20270302T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    read = feed(server, "/tz.ics").read_busy(WEEK)  # Europe/Berlin: UTC+1 in March
    assert read.busy == (Interval(utc(2027, 3, 2, 8), utc(2027, 3, 2, 9)),)
    assert read.unknown_tzids == ("Mars/Olympus_Mons",)
    assert any("Mars/Olympus_Mons" in w and "Europe/Berlin" in w for w in read.warnings)


def test_unbounded_rrule_is_bounded_by_the_window(server: FeedServer) -> None:
    endless = SeedEvent(
        "e", utc(2000, 1, 3, 9), utc(2000, 1, 3, 10), rrule="FREQ=MINUTELY;INTERVAL=90"
    )
    server.routes["/e.ics"] = Static(events_to_ics([endless]))
    read = feed(server, "/e.ics").read_busy(WEEK)
    step, length = timedelta(minutes=90), timedelta(hours=1)
    expected, start = [], utc(2000, 1, 3, 9)
    start += step * ((WEEK.start - start) // step - 1)
    while start < WEEK.end:
        if start + length > WEEK.start:
            expected.append(Interval(start, start + length))
        start += step
    assert list(read.busy) == expected
    assert read.events_read == len(expected) == 112
    assert all(iv.overlaps(WEEK) for iv in read.busy)


# ---- conditional GET -------------------------------------------------------------


def test_etag_304_reuses_the_parsed_copy(server: FeedServer) -> None:
    server.routes["/f.ics"] = Static(GOOD, etag='"abc"')
    backend = feed(server, "/f.ics")
    first = backend.read_busy(WEEK)
    snapshot = backend.last_good
    second = backend.read_busy(WEEK)
    assert not first.unchanged and second.unchanged
    assert second.busy == first.busy == GOOD_BUSY
    assert server.seen[-1].headers["if-none-match"] == '"abc"'
    assert server.seen[-1].status == 304
    assert backend.fetches == 1 and backend.last_good is snapshot
    # not even re-expanded: the one expansion of the copy answers again
    assert snapshot is not None and len(snapshot.expansions) == 1
    expansion = snapshot.expansions[("Europe/Berlin", None)]
    later = Interval(WEEK.start + timedelta(hours=5), WEEK.end + timedelta(days=3))
    backend.read_busy(later)
    assert snapshot.expansions[("Europe/Berlin", None)] is expansion


def test_a_new_backend_for_the_same_feed_revalidates(server: FeedServer) -> None:
    """A sync that makes a new backend each time still gets 304s and reuses the
    expansion: an unchanged resync downloads and expands nothing."""
    server.routes["/f.ics"] = Static(GOOD, etag='"abc"')
    shared = FeedSnapshots()
    feed(server, "/f.ics", snapshots=shared).read_busy(WEEK)
    again = feed(server, "/f.ics", snapshots=shared)
    read = again.read_busy(WEEK)
    assert read.unchanged and read.busy == GOOD_BUSY
    assert again.fetches == 0 and server.seen[-1].status == 304
    alone = feed(server, "/f.ics")
    assert not alone.read_busy(WEEK).unchanged and alone.fetches == 1


def test_window_outside_the_expanded_span_is_expanded_again(server: FeedServer) -> None:
    weekly = SeedEvent("w", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10), rrule="FREQ=WEEKLY")
    server.routes["/w.ics"] = Static(events_to_ics([weekly]), etag='"w"')
    backend = feed(server, "/w.ics")
    assert len(backend.read_busy(WEEK).busy) == 1
    far = Interval(WEEK.start + SPAN_AFTER * 2, WEEK.end + SPAN_AFTER * 2)
    read = backend.read_busy(far)
    assert read.unchanged
    assert read.busy == (Interval(utc(2027, 3, 30, 9), utc(2027, 3, 30, 10)),)


def test_last_modified_304(server: FeedServer) -> None:
    stamp = "Mon, 01 Mar 2027 08:00:00 GMT"
    server.routes["/f.ics"] = Static(GOOD, last_modified=stamp)
    backend = feed(server, "/f.ics")
    backend.read_busy(WEEK)
    assert backend.read_busy(WEEK).unchanged
    assert server.seen[-1].headers["if-modified-since"] == stamp
    assert server.seen[-1].status == 304


def test_same_bytes_without_validators_count_as_unchanged(server: FeedServer) -> None:
    server.routes["/f.ics"] = Static(GOOD)
    backend = feed(server, "/f.ics")
    backend.read_busy(WEEK)
    assert backend.read_busy(WEEK).unchanged


def test_stored_copy_is_revalidated(server: FeedServer) -> None:
    """A sync can persist the last good copy and its ETag and start from it."""
    server.routes["/f.ics"] = Static(GOOD, etag='"e1"')
    stored = FeedSnapshot.from_bytes(GOOD, "stored", etag='"e1"')
    backend = feed(server, "/f.ics", last_good=stored)
    read = backend.read_busy(WEEK)
    assert read.unchanged and read.busy == GOOD_BUSY and backend.fetches == 0


# ---- credentials ---------------------------------------------------------------------


def test_credentials_never_appear_in_errors(server: FeedServer, refused_port: int) -> None:
    url = server.url("/private.ics").replace("http://", "http://alice:s3cr3t-pw@")
    server.routes["/private.ics"] = Status(404)
    backend = ICSFeedBackend(url, timezone="UTC")
    assert "s3cr3t" not in backend.source and "alice" not in backend.source
    with pytest.raises(CalendarError) as err:
        backend.read_busy(WEEK)
    assert "s3cr3t" not in str(err.value) and "alice" not in str(err.value)
    assert "***@127.0.0.1" in str(err.value)
    assert server.seen[-1].headers["authorization"].startswith("Basic ")  # still used
    gone = ICSFeedBackend(f"https://bob:hunter2@127.0.0.1:{refused_port}/x.ics", timezone="UTC")
    with pytest.raises(CalendarError) as err2:
        gone.read_busy(WEEK)
    assert "hunter2" not in str(err2.value) and "bob" not in str(err2.value)


def test_redact_url() -> None:
    assert (
        redact_url("https://u:p@h.example:8443/c.ics?x=1") == "https://***@h.example:8443/c.ics?..."
    )
    assert redact_url("https://h.example/c.ics") == "https://h.example/c.ics"
    google = "https://calendar.google.com/calendar/ical/a%40b.com/private-0123abcd/basic.ics"
    assert redact_url(google) == "https://calendar.google.com/.../basic.ics"
    assert redact_url("http://[::1]:99999/x") == "<unreadable URL>"


def test_private_feed_path_never_appears_in_errors(server: FeedServer) -> None:
    url = server.url("/owa/calendar/5f3e/s3cr3t-t0ken/calendar.ics")
    with pytest.raises(CalendarError) as err:
        ICSFeedBackend(url, timezone="UTC").read_busy(WEEK)
    assert "s3cr3t" not in str(err.value)
    assert str(err.value).startswith(f"http://127.0.0.1:{server.port}/.../calendar.ics: HTTP 404")


# ---- files and writes -----------------------------------------------------------------


def test_webcal_scheme_means_https() -> None:
    assert ICSFeedBackend("webcal://h.example/c.ics", timezone="UTC").location == (
        "https://h.example/c.ics"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read the file") as err:
        ICSFeedBackend(tmp_path / "nope.ics", timezone="UTC").read_busy(WEEK)
    assert err.value.source == str(tmp_path / "nope.ics")


def test_unchanged_file_is_not_reparsed(tmp_path: Path) -> None:
    path = tmp_path / "c.ics"
    path.write_bytes(GOOD)
    backend = ICSFeedBackend(path, timezone="UTC")
    assert not backend.read_busy(WEEK).unchanged
    first = backend.last_good
    assert backend.read_busy(WEEK).unchanged and backend.last_good is first
    path.write_bytes(GOOD.replace(b"T090000Z", b"T080000Z"))  # same size, new content
    changed = backend.read_busy(WEEK)
    assert not changed.unchanged
    assert changed.busy == (Interval(utc(2027, 3, 2, 8), utc(2027, 3, 2, 10)),)


def test_malformed_file_keeps_last_good(tmp_path: Path) -> None:
    path = tmp_path / "c.ics"
    path.write_bytes(GOOD)
    backend = ICSFeedBackend(path, timezone="UTC")
    backend.read_busy(WEEK)
    path.write_bytes(
        GOOD.replace(b"DTSTART", b"DTSTART;VALUE=DATE-TIME", 1).replace(
            b"20270302T090000Z", b"2027032T090000Z", 1
        )
    )
    with pytest.raises(CalendarError, match="DTSTART") as err:
        backend.read_busy(WEEK)
    assert err.value.line is not None and str(path) in str(err.value)
    assert_kept_last_good(backend)


def test_private_addresses_can_be_refused(server: FeedServer) -> None:
    server.routes["/f.ics"] = Static(GOOD)
    backend = feed(server, "/f.ics", block_private_networks=True)
    with pytest.raises(CalendarError, match="127.0.0.1 is a private or local address"):
        backend.read_busy(WEEK)
    assert server.seen == []
