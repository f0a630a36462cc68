"""The shared calendar contract, run against CalDAVBackend on a real Radicale."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import caldav
import pytest

from integrations.calendars.base import CalendarBackend
from integrations.calendars.caldav_backend import CalDAVBackend
from tests.integrations.contract import CalendarContract, SeedEvent, events_to_ics
from tests.integrations.radicale_server import RadicaleServer, start_radicale


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale-contract"))
    yield server
    server.stop()


class _CalDAVContract(CalendarContract):
    expand = "auto"

    @pytest.fixture(autouse=True)
    def _server(self, radicale: RadicaleServer) -> None:
        self.radicale = radicale
        self.user = f"c{uuid.uuid4().hex[:10]}"
        client = caldav.DAVClient(
            url=radicale.url, username=self.user, password="pw", auth_type="basic"
        )
        self.calendar = client.principal().make_calendar(name="work", cal_id="work")

    def make_backend(self) -> CalendarBackend:
        return CalDAVBackend(self.radicale.url, self.user, "pw", expand=self.expand)  # type: ignore[arg-type]

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        for event in events:  # CalDAV keeps one UID per resource
            self.calendar.add_event(ical=events_to_ics([event]).decode("utf-8"))


class TestCalDAVContractServerExpand(_CalDAVContract):
    expand = "auto"  # Radicale expands recurrences on the server


class TestCalDAVContractClientExpand(_CalDAVContract):
    expand = "client"
