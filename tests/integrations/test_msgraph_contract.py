"""The shared calendar contract, run against MicrosoftGraphBackend and the loopback emulator.

The real msal signs in (authorization code with PKCE) and the backend talks HTTPS
to the emulator with requests, in both read modes: ``freebusy`` (getSchedule;
Exchange expands recurrences and applies its busy rules) and ``sync`` (calendarView
delta; events kept between reads).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.calendars.base import CalendarBackend
from tests.integrations.contract import CalendarContract, SeedEvent
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from tests.integrations.msgraph_fixtures import connect, make_backend, prepare, seed

# the tests sign in with response_mode=query on purpose (see msgraph_auth.start_authorization)
pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")


class _GraphContract(CalendarContract):
    mode = "sync"

    @pytest.fixture(autouse=True)
    def _emulator(self) -> Iterator[None]:
        with MicrosoftEmulator(page_size=2) as emu:
            prepare(emu)
            self.emulator = emu
            self.credentials = connect(emu)
            yield

    def make_backend(self) -> CalendarBackend:
        return make_backend(self.emulator, self.credentials, mode=self.mode)

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        seed(self.emulator, events)


class TestGraphDeltaContract(_GraphContract):
    mode = "sync"


class TestGraphScheduleContract(_GraphContract):
    mode = "freebusy"
