"""The shared calendar contract, run against GoogleCalendarBackend and the loopback emulator.

The real google-api-python-client talks HTTP to the emulator, in both read
modes: ``sync`` (events.list + syncToken, recurrences expanded on the client)
and ``freebusy`` (the provider expands recurrences).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials

from integrations.backoff import Backoff
from integrations.calendars.base import CalendarBackend
from integrations.calendars.google_backend import GoogleCalendarBackend, GoogleOptions
from tests.integrations.contract import CalendarContract, SeedEvent
from tests.integrations.google_emulator import GoogleEmulator


def _time(value: datetime) -> dict[str, str]:
    out = {"dateTime": value.isoformat()}
    if isinstance(value.tzinfo, ZoneInfo):
        out["timeZone"] = value.tzinfo.key
    return out


def _exdate(value: datetime) -> str:
    if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key != "UTC":
        return f"EXDATE;TZID={value.tzinfo.key}:{value.strftime('%Y%m%dT%H%M%S')}"
    return f"EXDATE:{value.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def seed_to_google(seed: SeedEvent) -> dict[str, Any]:
    """A SeedEvent as the Calendar API would store it."""
    body: dict[str, Any] = {
        "iCalUID": seed.uid,
        "summary": seed.summary,
        "start": _time(seed.start),
        "end": _time(seed.end),
    }
    if seed.rrule:
        body["recurrence"] = [f"RRULE:{seed.rrule}", *(_exdate(x) for x in seed.exdates)]
    if seed.transparent:
        body["transparency"] = "transparent"
    if seed.cancelled:
        body["status"] = "cancelled"
    return body


class _GoogleContract(CalendarContract):
    mode = "sync"

    @pytest.fixture(autouse=True)
    def _emulator(self) -> Iterator[None]:
        with GoogleEmulator(page_size=2) as emu:
            emu.add_calendar("primary")
            emu.issue_refresh_token("refresh")
            self.emulator = emu
            yield

    def make_backend(self) -> CalendarBackend:
        creds = Credentials(
            token=None,
            refresh_token="refresh",
            token_uri=self.emulator.token_uri,
            client_id="id",
            client_secret="secret",
        )
        options = GoogleOptions(api_endpoint=self.emulator.api_endpoint, mode=self.mode)  # type: ignore[arg-type]
        return GoogleCalendarBackend(creds, options, backoff=Backoff(sleep=lambda _: None))

    def seed(self, backend: CalendarBackend, events: list[SeedEvent]) -> None:
        for event in events:
            self.emulator.add_event("primary", seed_to_google(event))


class TestGoogleSyncContract(_GoogleContract):
    mode = "sync"


class TestGoogleFreeBusyContract(_GoogleContract):
    mode = "freebusy"  # recurrences are expanded by the provider (here: the emulator)
