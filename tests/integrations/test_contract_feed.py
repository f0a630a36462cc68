"""The shared calendar contract against ICS feeds: over loopback HTTP and from a file.

A feed is read-only: the write tests are skipped and "seed the served
document, then read" stands in for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.calendars.base import CalendarBackend
from integrations.calendars.feed import ICSFeedBackend
from scheduler.model import Interval
from tests.integrations.contract import WEEK, CalendarContract, SeedEvent, events_to_ics, utc
from tests.integrations.feed_server import Static, serve

EMPTY = events_to_ics([])


class TestHTTPFeedContract(CalendarContract):
    writable = False

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        self.server, stop = serve()
        self.server.routes["/cal.ics"] = Static(EMPTY, etag='"v0"')
        yield
        stop()

    def make_backend(self) -> CalendarBackend:
        return ICSFeedBackend(self.server.url("/cal.ics"), timezone="Europe/Berlin")

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        self.events = [*getattr(self, "events", []), *events]
        version = len(self.server.seen)
        self.server.routes["/cal.ics"] = Static(
            events_to_ics(self.events), etag=f'"v{version + 1}"'
        )


class TestFileFeedContract(CalendarContract):
    writable = False

    @pytest.fixture(autouse=True)
    def _file(self, tmp_path: Path) -> None:
        self.path = tmp_path / "cal.ics"
        self.path.write_bytes(EMPTY)

    def make_backend(self) -> CalendarBackend:
        return ICSFeedBackend(self.path, timezone="Europe/Berlin")

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        self.events = [*getattr(self, "events", []), *events]
        self.path.write_bytes(events_to_ics(self.events))


def test_reseeding_is_seen_after_a_first_read() -> None:
    """A changed document replaces the first one (the ETag changes)."""
    server, stop = serve()
    try:
        server.routes["/c.ics"] = Static(EMPTY, etag='"a"')
        feed = ICSFeedBackend(server.url("/c.ics"), timezone="UTC")
        assert feed.read_busy(WEEK).busy == ()
        seeded = [SeedEvent("x", utc(2027, 3, 2, 9), utc(2027, 3, 2, 10))]
        server.routes["/c.ics"] = Static(events_to_ics(seeded), etag='"b"')
        read = feed.read_busy(WEEK)
        assert read.busy == (Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),)
        assert not read.unchanged
    finally:
        stop()
