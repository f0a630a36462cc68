"""Connecting Microsoft 365 from the interviewer's page: the Flask client posts the button,
the consent URL is followed on the loopback emulator (the real msal PKCE flow), the callback
stores the encrypted tokens and reads the calendar at once."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.fixtures.msgraph import (
    WEB_REDIRECT,
    follow_consent,
    graph_event,
    ms_environment,
)
from tests.fixtures.sync import utc
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from tests.integrations.msgraph_fixtures import SECRET
from tests.sync import test_interviewer_page as page_tests
from web.store.db import Database
from web.store.models import AuditLog, CalendarSource

ALICE = "alice@example.com"
CALLBACK = "/i/oauth/microsoft/callback"

page = page_tests.page  # the fixture: alice's page URL
post, sources = page_tests.post, page_tests.sources


@pytest.fixture(autouse=True)
def _server_settings(monkeypatch: pytest.MonkeyPatch, ms_emulator: MicrosoftEmulator) -> None:
    ms_environment(monkeypatch, ms_emulator)
    ms_emulator.sign_in(ALICE)


def _start(client: Any, page: str) -> str:
    resp = post(client, f"{page}/microsoft/connect", page, {})
    assert resp.status_code == 302
    return str(resp.headers["Location"])


def test_connect_microsoft_through_the_consent_flow(
    client: Any, page: str, db: Database, ms_emulator: MicrosoftEmulator
) -> None:
    ms_emulator.add_event(ALICE, graph_event(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    assert "Connect Microsoft 365" in client.get(page).get_data(as_text=True)
    location = _start(client, page)
    assert location.startswith(f"{ms_emulator.authority}/oauth2/v2.0/authorize?")
    args = parse_qs(urlsplit(location).query)
    assert args["code_challenge_method"] == ["S256"]
    assert args["redirect_uri"] == [WEB_REDIRECT]
    assert args["login_hint"] == [ALICE]
    assert args["response_mode"] == ["query"]
    scopes = args["scope"][0].split()
    assert "offline_access" in scopes and any(s.endswith("Calendars.ReadWrite") for s in scopes)

    callback = follow_consent(ms_emulator, location)
    resp = client.get(CALLBACK, query_string=callback)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page)
    html = client.get(page).get_data(as_text=True)
    assert "Microsoft 365: connection works" in html and "1 busy block this week" in html
    (src,) = sources(db)
    assert src.kind == "msgraph" and src.credentials and not src.needs_reconnect
    assert "RefreshToken" not in src.credentials and SECRET not in html
    with db.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "calendar_connected"))

    # the callback cannot be replayed: the flow was used up
    assert client.get(CALLBACK, query_string=callback).status_code == 404


def test_reconnect_clears_the_reconnect_flag(
    client: Any, page: str, db: Database, ms_emulator: MicrosoftEmulator
) -> None:
    client.get(CALLBACK, query_string=follow_consent(ms_emulator, _start(client, page)))
    with db.session() as s:
        src = s.scalars(select(CalendarSource)).one()
        src.needs_reconnect, src.last_error = True, "revoked"
    client.get(CALLBACK, query_string=follow_consent(ms_emulator, _start(client, page)))
    (src,) = sources(db)  # the same source, connected again
    assert not src.needs_reconnect and src.last_error is None


def test_forged_state_is_refused(
    client: Any, page: str, db: Database, ms_emulator: MicrosoftEmulator
) -> None:
    callback = follow_consent(ms_emulator, _start(client, page))
    callback["state"] = "forged-state"
    assert client.get(CALLBACK, query_string=callback).status_code == 302
    assert "does not match this session" in client.get(page).get_data(as_text=True)
    assert sources(db) == []


def test_denied_consent(client: Any, page: str, db: Database) -> None:
    _start(client, page)
    resp = client.get(CALLBACK, query_string={"error": "access_denied", "state": "x"})
    assert resp.status_code == 302
    assert "Access was not granted" in client.get(page).get_data(as_text=True)
    assert sources(db) == []


def test_read_only_when_write_back_is_off(client: Any, page: str, app: Any) -> None:
    settings = app.extensions["panelslot.settings"]
    app.extensions["panelslot.settings"] = settings.updated({"microsoft.write_back": False})
    scopes = parse_qs(urlsplit(_start(client, page)).query)["scope"][0].split()
    assert any(s.endswith("Calendars.Read") for s in scopes)
    assert not any(s.endswith("Calendars.ReadWrite") for s in scopes)
