"""Fixtures of the calendar sync tests: the web tests' database/app fixtures, a loopback
feed server, a Google emulator, a token key, and helpers to add interviewers' calendars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integrations"))

from feed_server import FeedServer, Static, serve  # noqa: E402
from google_emulator import GoogleEmulator  # noqa: E402

from integrations.backoff import Backoff  # noqa: E402
from integrations.calendars.feed import clear_feed_cache  # noqa: E402
from integrations.crypto import KEY_ENV_VAR, generate_key  # noqa: E402
from tests.web.conftest import (  # noqa: E402, F401 - fixtures re-used by name
    COMPANY,
    NOW,
    SECRET,
    app,
    client,
    company,
    csrf_of,
    database_url,
    db,
    get_csrf,
    login,
    pg_schema_url,
    runner,
    signed_in,
    sqlite_session_url,
)
from web import calsync  # noqa: E402
from web.db import Database  # noqa: E402
from web.models import CalendarSource, Interviewer  # noqa: E402


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ics(*events: tuple[str, datetime, datetime], extra: str = "") -> bytes:
    """A small VCALENDAR with one VEVENT per (uid, start, end)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//panelslot tests//EN"]
    for uid, start, end in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20270101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            "SUMMARY:Busy",
            "END:VEVENT",
        ]
    if extra:
        lines.append(extra)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def day_events(
    prefix: str, day: datetime, hours: list[int]
) -> list[tuple[str, datetime, datetime]]:
    return [
        (f"{prefix}-{h}", day + timedelta(hours=h), day + timedelta(hours=h + 1)) for h in hours
    ]


@pytest.fixture(autouse=True)
def _fresh_feed_cache() -> Iterator[None]:
    clear_feed_cache()
    calsync.reset_config()
    yield
    clear_feed_cache()
    calsync.reset_config()  # a Worker built in a test configures the process default


@pytest.fixture(autouse=True)
def token_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_key()
    monkeypatch.setenv(KEY_ENV_VAR, key)
    return key


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server, stop = serve()
    yield server
    stop()


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emu:
        emu.add_calendar("primary")
        yield emu


class NoSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def cfg(emulator: GoogleEmulator) -> calsync.SyncConfig:
    from integrations.google_auth import GoogleClientConfig

    return calsync.SyncConfig(
        timeout=5.0,
        google=GoogleClientConfig(
            client_id="panelslot-test-client",
            client_secret="client-secret-value",
            redirect_uri="http://panelslot.test/i/oauth/google/callback",
            token_uri=emulator.token_uri,
        ),
        google_api_endpoint=emulator.api_endpoint,
        google_backoff=Backoff(attempts=3, base_seconds=0.01, sleep=NoSleep()),
    )


def interviewer_id(database: Database, key: str) -> int:
    with database.session() as s:
        row = s.query(Interviewer).filter_by(key=key).one()
        return int(row.id)


def add_source(database: Database, key: str, **fields: Any) -> int:
    with database.session() as s:
        row = s.query(Interviewer).filter_by(key=key).one()
        src = CalendarSource(**fields)
        row.calendars.append(src)
        s.flush()
        return int(src.id)


def run_sync(
    database: Database, now: datetime, cfg: calsync.SyncConfig | None = None, **kw: Any
) -> dict[str, calsync.SourceResult]:
    with database.session() as s:
        results = calsync.sync_all(s, now, cfg, commit=True, **kw)
    return {r.label: r for r in results}


def blocks(database: Database, source_id: int) -> list[tuple[datetime, datetime]]:
    from sqlalchemy import select

    from web.models import BusyBlock

    with database.session() as s:
        return sorted(
            (b.start, b.end)
            for b in s.scalars(select(BusyBlock).where(BusyBlock.source_id == source_id))
        )


def source(database: Database, source_id: int) -> CalendarSource:
    with database.session() as s:
        from sqlalchemy.orm import undefer

        row = s.get(CalendarSource, source_id, options=[undefer("*")])
        assert row is not None
        s.expunge(row)
        return row


__all__ = ["Static", "add_source", "blocks", "day_events", "ics", "run_sync", "source", "utc"]
