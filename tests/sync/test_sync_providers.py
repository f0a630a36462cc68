"""Sync of CalDAV (a real Radicale on loopback) and Google Calendar (the real client against
the loopback emulator) into the database: encrypted credentials, refreshed tokens and sync
state written back, revoked access -> reconnect, rate limits and server errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import caldav
import pytest
from google.oauth2.credentials import Credentials
from sqlalchemy import select

from integrations.crypto import decrypt_secret
from integrations.google_auth import encrypt_credentials
from tests.fixtures.sync import add_source, blocks, day_events, ics, run_sync, source, utc
from tests.fixtures.webapp import NOW
from tests.integrations.google_emulator import GoogleEmulator
from tests.integrations.radicale_server import RadicaleServer, start_radicale
from web.domain.sync.config import SyncConfig
from web.domain.sync.readers import encrypt_json
from web.store.db import Database
from web.store.models import CalendarSource

REFRESH = "refresh-token-value-1"
PASSWORD = "Radicale-pa55word"


def timed(start: Any, end: Any, **extra: Any) -> dict[str, Any]:
    return {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}, **extra}


def google_source(db: Database, cfg: SyncConfig, key: str = "alice", **fields: Any) -> int:
    creds = Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=REFRESH,
        token_uri=cfg.google.token_uri,
        client_id=cfg.google.client_id,
        client_secret=cfg.google.client_secret,
    )
    return add_source(
        db,
        key,
        kind="google",
        label="Google Calendar",
        credentials=encrypt_credentials(creds),
        **fields,
    )


def columns_text(db: Database, sid: int) -> str:
    row = source(db, sid)
    return " ".join(
        str(getattr(row, c.key)) for c in CalendarSource.__table__.columns if c.key != "snapshot"
    )


# ---------------------------------------------------------------- Google


@pytest.fixture
def google(db: Database, company: Any, emulator: GoogleEmulator, cfg: SyncConfig) -> int:
    emulator.issue_refresh_token(REFRESH)
    emulator.add_event("primary", timed(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    emulator.add_event("primary", timed(utc(2027, 3, 3, 13), utc(2027, 3, 3, 14)))
    return google_source(db, cfg)


def test_google_freebusy_sync_stores_blocks_and_saves_the_refreshed_token(
    db: Database, google: int, emulator: GoogleEmulator, cfg: SyncConfig
) -> None:
    before = source(db, google).credentials
    results = run_sync(db, NOW, cfg)
    assert results["Google Calendar"].ok
    assert blocks(db, google) == [
        (utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),
        (utc(2027, 3, 3, 13), utc(2027, 3, 3, 14)),
    ]
    row = source(db, google)
    assert row.credentials != before  # the refreshed access token was stored back ...
    assert row.credentials and "access-" in decrypt_secret(row.credentials)
    assert REFRESH not in columns_text(db, google)  # ... encrypted
    assert emulator.api_requests("POST", "freeBusy")
    # the next run reuses the stored access token: no new refresh
    refreshes = emulator.token_requests
    assert run_sync(db, NOW + timedelta(minutes=10), cfg)["Google Calendar"].ok
    assert emulator.token_requests == refreshes


def test_google_chosen_calendars_count(
    db: Database, google: int, emulator: GoogleEmulator, cfg: SyncConfig
) -> None:
    emulator.add_calendar("team@group.calendar.google.com")
    emulator.add_event(
        "team@group.calendar.google.com", timed(utc(2027, 3, 4, 8), utc(2027, 3, 4, 9))
    )
    with db.session() as s:
        src = s.get(CalendarSource, google)
        assert src is not None
        src.selected_calendars = ["primary", "team@group.calendar.google.com"]
    run_sync(db, NOW, cfg)
    assert (utc(2027, 3, 4, 8), utc(2027, 3, 4, 9)) in blocks(db, google)
    body = emulator.api_requests("POST", "freeBusy")[-1].body
    assert [i["id"] for i in body["items"]] == ["primary", "team@group.calendar.google.com"]


def test_google_sync_mode_keeps_encrypted_state_and_survives_410(
    db: Database, google: int, emulator: GoogleEmulator, cfg: SyncConfig
) -> None:
    with db.session() as s:
        src = s.get(CalendarSource, google)
        assert src is not None
        src.mode = "sync"
    assert run_sync(db, NOW, cfg)["Google Calendar"].ok
    row = source(db, google)
    assert row.sync_state and "sync_token" in decrypt_secret(row.sync_state)
    assert "dateTime" not in (row.sync_state or "")  # event details are encrypted too
    emulator.add_event("primary", timed(utc(2027, 3, 5, 9), utc(2027, 3, 5, 10)))
    second = run_sync(db, NOW + timedelta(minutes=10), cfg)["Google Calendar"]
    assert second.ok
    listed = emulator.api_requests("GET", "/events")
    assert "syncToken" in listed[-1].args  # incremental, from the stored state
    assert (utc(2027, 3, 5, 9), utc(2027, 3, 5, 10)) in blocks(db, google)

    emulator.invalidate_sync_tokens()  # 410 Gone -> full resync
    third = run_sync(db, NOW + timedelta(minutes=20), cfg)["Google Calendar"]
    assert third.ok and len(blocks(db, google)) == 3


def test_google_revoked_asks_to_reconnect_and_keeps_data(
    db: Database,
    google: int,
    emulator: GoogleEmulator,
    cfg: SyncConfig,
    app: Any,
    signed_in: Any,
    tmp_path: Path,
) -> None:
    path = tmp_path / "bob.ics"
    path.write_bytes(ics(*day_events("b", utc(2027, 3, 2), [11])))
    add_source(db, "bob", kind="ics", label="bob-file", url=str(path))
    run_sync(db, NOW, cfg)
    good = blocks(db, google)
    emulator.revoke(REFRESH)

    results = run_sync(db, NOW + timedelta(minutes=10), cfg)

    g = results["Google Calendar"]
    assert not g.ok and g.reconnect and "reconnect" in (g.error or "")
    assert results["bob-file"].ok
    assert blocks(db, google) == good
    row = source(db, google)
    assert row.needs_reconnect and row.last_good_sync_at == NOW
    listing = signed_in.get("/interviewers").get_data(as_text=True)
    assert "reconnect needed" in listing
    from web.domain import services

    with db.session() as s:
        from web.store.models import Interviewer

        alice = s.scalars(select(Interviewer).where(Interviewer.key == "alice")).one()
        token = services.interviewer_token(app.config["SECRET_KEY"], alice, now=NOW)
    page = signed_in.get(f"/i/{token}").get_data(as_text=True)
    assert "revoked or has expired" in page and "Connect Google Calendar" in page


@pytest.mark.parametrize("status", [429, 500, 503])
def test_google_transient_errors_are_retried(
    db: Database, google: int, emulator: GoogleEmulator, cfg: SyncConfig, status: int
) -> None:
    emulator.fail_next(status, times=2, path_contains="freeBusy")
    assert run_sync(db, NOW, cfg)["Google Calendar"].ok
    assert len(blocks(db, google)) == 2


@pytest.mark.parametrize("status", [429, 500])
def test_google_persistent_errors_keep_last_good_data(
    db: Database, google: int, emulator: GoogleEmulator, cfg: SyncConfig, status: int
) -> None:
    run_sync(db, NOW, cfg)
    emulator.fail_next(status, times=50, path_contains="freeBusy")
    result = run_sync(db, NOW + timedelta(minutes=10), cfg)["Google Calendar"]
    assert not result.ok and not result.reconnect and f"HTTP {status}" in (result.error or "")
    assert len(blocks(db, google)) == 2 and result.kept_blocks == 2
    assert not source(db, google).needs_reconnect


def test_google_not_configured_says_what_to_set(db: Database, google: int, cfg: SyncConfig) -> None:
    result = run_sync(db, NOW, SyncConfig())["Google Calendar"]
    assert not result.ok and "PANELSLOT_GOOGLE_CLIENT_ID" in (result.error or "")


# ---------------------------------------------------------------- CalDAV


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"), users={"alice": PASSWORD})
    yield server
    server.stop()


def caldav_source(db: Database, radicale: RadicaleServer, password: str) -> int:
    secret = encrypt_json({"username": "alice", "password": password}, SyncConfig())
    return add_source(
        db, "alice", kind="caldav", label="alice-dav", url=radicale.url, credentials=secret
    )


def test_caldav_sync_and_auth_failure(db: Database, company: Any, radicale: RadicaleServer) -> None:
    client = caldav.DAVClient(url=radicale.url, username="alice", password=PASSWORD)
    name = f"work-{uuid.uuid4().hex[:6]}"
    cal = client.principal().make_calendar(name=name, cal_id=name)
    for event in day_events("w", utc(2027, 3, 2), [9, 15]):  # one UID per resource
        cal.add_event(ical=ics(event).decode())
    sid = caldav_source(db, radicale, PASSWORD)

    first = run_sync(db, NOW)["alice-dav"]
    assert first.ok and (utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)) in blocks(db, sid)
    good = blocks(db, sid)
    assert PASSWORD not in columns_text(db, sid)

    with db.session() as s:
        src = s.get(CalendarSource, sid)
        assert src is not None
        src.credentials = encrypt_json(
            {"username": "alice", "password": "wrong-password-xyz"}, SyncConfig()
        )
    failed = run_sync(db, NOW + timedelta(minutes=10))["alice-dav"]
    assert not failed.ok and failed.reconnect
    assert "wrong-password-xyz" not in (failed.error or "") and PASSWORD not in (failed.error or "")
    assert blocks(db, sid) == good
    assert source(db, sid).needs_reconnect


def test_unreadable_stored_secret_is_an_error_not_a_crash(
    db: Database, company: Any, radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.crypto import KEY_ENV_VAR, generate_key

    sid = caldav_source(db, radicale, PASSWORD)
    monkeypatch.setenv(KEY_ENV_VAR, generate_key())  # the key was rotated without re-encrypting
    result = run_sync(db, NOW)["alice-dav"]
    assert not result.ok and "cannot be decrypted" in (result.error or "")
    assert source(db, sid).last_error
