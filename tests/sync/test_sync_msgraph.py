"""Sync of Microsoft 365 calendars into the database: the real msal and the real HTTP client
against the loopback Graph emulator. Busy time per ``showAs``, tokens stored encrypted and
stored again when refreshed, delta state kept encrypted and a 410 survived, a revoked consent
asks to reconnect and keeps the last good blocks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from integrations.crypto import decrypt_secret
from tests.fixtures.msgraph import graph_event, ms_connect
from tests.fixtures.sync import blocks, run_sync, source, utc
from tests.fixtures.webapp import NOW
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from web.domain.sync.config import SyncConfig
from web.store.db import Database
from web.store.models import CalendarSource

ALICE = "alice@example.com"
LABEL = "Microsoft 365"


@pytest.fixture
def alice(db: Database, company: Any, ms_emulator: MicrosoftEmulator, ms_cfg: SyncConfig) -> int:
    ms_emulator.add_event(ALICE, graph_event(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    ms_emulator.add_event(ALICE, graph_event(utc(2027, 3, 3, 13), utc(2027, 3, 3, 14), "oof"))
    ms_emulator.add_event(ALICE, graph_event(utc(2027, 3, 3, 15), utc(2027, 3, 3, 16), "free"))
    ms_emulator.add_event(
        ALICE, graph_event(utc(2027, 3, 4, 8), utc(2027, 3, 4, 9), "workingElsewhere")
    )
    ms_emulator.add_event(ALICE, graph_event(utc(2027, 3, 4, 11), utc(2027, 3, 4, 12), "tentative"))
    return ms_connect(db, ms_emulator, ms_cfg, "alice")


BUSY = [
    (utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),
    (utc(2027, 3, 3, 13), utc(2027, 3, 3, 14)),
    (utc(2027, 3, 4, 11), utc(2027, 3, 4, 12)),
]


def test_freebusy_sync_stores_busy_blocks_per_show_as(
    db: Database, alice: int, ms_emulator: MicrosoftEmulator, ms_cfg: SyncConfig
) -> None:
    result = run_sync(db, NOW, ms_cfg)[LABEL]
    assert result.ok, result.error
    assert blocks(db, alice) == BUSY
    [asked] = ms_emulator.graph_requests("POST", "getSchedule")[:1]
    assert asked.body["schedules"] == [ALICE]
    row = source(db, alice)
    assert row.credentials and "refresh_token" not in row.credentials  # encrypted at rest
    assert "RefreshToken" in decrypt_secret(row.credentials)


def test_a_refreshed_token_is_stored_again(
    db: Database, alice: int, ms_emulator: MicrosoftEmulator, ms_cfg: SyncConfig
) -> None:
    before = source(db, alice).credentials
    assert run_sync(db, NOW, ms_cfg)[LABEL].ok
    assert source(db, alice).credentials == before  # the access token was still valid
    ms_emulator.expire_access_tokens()  # Graph answers 401: msal refreshes, we store it
    refreshes = len(ms_emulator.token_requests)
    assert run_sync(db, NOW + timedelta(minutes=10), ms_cfg)[LABEL].ok
    assert len(ms_emulator.token_requests) > refreshes
    assert source(db, alice).credentials != before
    assert blocks(db, alice) == BUSY


def test_sync_mode_keeps_encrypted_delta_state_and_survives_410(
    db: Database, alice: int, ms_emulator: MicrosoftEmulator, ms_cfg: SyncConfig
) -> None:
    with db.session() as s:
        src = s.get(CalendarSource, alice)
        assert src is not None
        src.mode = "sync"
    assert run_sync(db, NOW, ms_cfg)[LABEL].ok
    assert blocks(db, alice) == BUSY
    row = source(db, alice)
    assert row.sync_state and "delta_link" in decrypt_secret(row.sync_state)
    assert "deltatoken" not in row.sync_state  # encrypted

    ms_emulator.add_event(ALICE, graph_event(utc(2027, 3, 5, 9), utc(2027, 3, 5, 10)))
    assert run_sync(db, NOW + timedelta(minutes=10), ms_cfg)[LABEL].ok
    assert "$deltatoken" in ms_emulator.graph_requests("GET", "delta")[-1].args  # incremental
    assert (utc(2027, 3, 5, 9), utc(2027, 3, 5, 10)) in blocks(db, alice)

    ms_emulator.expire_delta_tokens()  # 410 Gone: a full read again
    third = run_sync(db, NOW + timedelta(minutes=20), ms_cfg)[LABEL]
    assert third.ok, third.error
    assert len(blocks(db, alice)) == 4


def test_revoked_consent_asks_to_reconnect_and_keeps_blocks(
    db: Database, alice: int, ms_emulator: MicrosoftEmulator, ms_cfg: SyncConfig
) -> None:
    assert run_sync(db, NOW, ms_cfg)[LABEL].ok
    ms_emulator.revoke(ALICE)
    failed = run_sync(db, NOW + timedelta(minutes=10), ms_cfg)[LABEL]
    assert not failed.ok
    row = source(db, alice)
    assert row.needs_reconnect
    assert row.last_error and "reconnect" in row.last_error
    assert blocks(db, alice) == BUSY  # the last good read still counts


def test_throttling_honours_retry_after(
    db: Database,
    alice: int,
    ms_emulator: MicrosoftEmulator,
    ms_cfg: SyncConfig,
    ms_sleep: Any,
) -> None:
    ms_emulator.fail_next(429, retry_after="7", path_contains="getSchedule")
    assert run_sync(db, NOW, ms_cfg)[LABEL].ok
    assert 7.0 in ms_sleep.waits
    assert blocks(db, alice) == BUSY


def test_not_configured_says_what_to_set(db: Database, alice: int, ms_cfg: SyncConfig) -> None:
    result = run_sync(db, NOW, SyncConfig())[LABEL]
    assert not result.ok
    assert result.error and "PANELSLOT_MICROSOFT_CLIENT_ID" in result.error
    assert not source(db, alice).needs_reconnect


def test_settings_build_the_microsoft_client(tmp_path: Any) -> None:
    from web.store.settings import SettingsError, load_settings

    env = {"PANELSLOT_MICROSOFT_CLIENT_ID": "app-id", "PANELSLOT_MICROSOFT_CLIENT_SECRET": "s"}
    settings = load_settings({"microsoft.mode": "sync", "microsoft.write_back": False}, environ=env)
    cfg = SyncConfig.from_settings(
        settings, microsoft_redirect_uri="https://p.example/i/oauth/microsoft/callback", environ={}
    )
    assert cfg.microsoft.client_id == "app-id" and cfg.microsoft.instance_discovery
    assert cfg.microsoft.redirect_uri == "https://p.example/i/oauth/microsoft/callback"
    assert cfg.microsoft.authority == "https://login.microsoftonline.com/organizations"
    assert cfg.microsoft_mode == "sync" and not cfg.microsoft_write_back
    assert SyncConfig.from_settings(load_settings(environ={}), environ={}).microsoft is None

    toml = tmp_path / "c.toml"
    toml.write_text('[microsoft]\nclient_secret = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(environ={}, config_path=str(toml))
    assert err.value.key == "microsoft.client_secret"
