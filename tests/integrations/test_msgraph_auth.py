"""Microsoft 365 sign-in with the real msal against the identity platform emulator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.crypto import KEY_ENV_VAR, TokenKeyError, generate_key
from integrations.errors import CalendarError, ReconnectRequired
from integrations.msgraph_auth import (
    SCOPE_READ,
    SCOPE_READWRITE,
    MicrosoftAuthError,
    MicrosoftCredentials,
    MicrosoftReconnectRequired,
    decrypt_credentials,
    encrypt_credentials,
    finish_authorization,
    scopes_for,
    start_authorization,
)
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from tests.integrations.msgraph_fixtures import (
    REDIRECT,
    USER,
    browser_callback,
    config_for,
    connect,
    prepare,
)

pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")


@pytest.fixture
def emulator() -> Iterator[MicrosoftEmulator]:
    with MicrosoftEmulator() as emu:
        prepare(emu)
        yield emu


@pytest.fixture
def key_env() -> dict[str, str]:
    return {KEY_ENV_VAR: generate_key()}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_scopes_are_least_privilege() -> None:
    assert scopes_for(write=False) == (SCOPE_READ,)
    assert scopes_for(write=True) == (SCOPE_READWRITE,)


def test_read_only_connect_asks_for_calendars_read_with_pkce(emulator: MicrosoftEmulator) -> None:
    config = config_for(emulator)
    started = start_authorization(config, scopes_for(write=False), login_hint=USER)
    args = query(started.url)
    assert set(args["scope"].split()) == {"Calendars.Read", "openid", "profile", "offline_access"}
    assert args["code_challenge_method"] == "S256" and len(args["code_challenge"]) >= 43
    assert args["state"] == started.state and args["login_hint"] == USER
    assert args["redirect_uri"] == REDIRECT and args["response_mode"] == "query"
    callback = browser_callback(emulator, started.url)
    creds = finish_authorization(
        config, scopes_for(write=False), callback_args=callback, flow=started.flow
    )
    assert creds.scopes == ("Calendars.Read",) and not creds.can_write
    assert creds.username == USER
    exchange = emulator.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code_verifier"] == started.flow["code_verifier"]
    assert exchange["client_secret"] and "offline_access" in exchange["scope"]


def test_write_back_connect_asks_for_readwrite_only(emulator: MicrosoftEmulator) -> None:
    started = start_authorization(config_for(emulator), scopes_for(write=True))
    assert "Calendars.Read " not in query(started.url)["scope"] + " "
    creds = connect(emulator, write=True)
    assert creds.scopes == ("Calendars.ReadWrite",) and creds.can_write


def test_form_post_response_mode(emulator: MicrosoftEmulator) -> None:
    config, scopes = config_for(emulator), scopes_for(write=True)
    started = start_authorization(config, scopes, response_mode="form_post")
    page = requests.get(started.url, verify=emulator.ca_path, timeout=10)
    assert f'action="{REDIRECT}"' in page.text and 'method="POST"' in page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    creds = finish_authorization(config, scopes, callback_args=fields, flow=started.flow)
    assert creds.can_write


def test_state_mismatch_and_lost_session_are_refused(emulator: MicrosoftEmulator) -> None:
    config, scopes = config_for(emulator), scopes_for(write=True)
    started = start_authorization(config, scopes)
    callback = browser_callback(emulator, started.url)
    with pytest.raises(MicrosoftAuthError, match="does not match") as info:
        finish_authorization(
            config, scopes, callback_args={**callback, "state": "forged"}, flow=started.flow
        )
    assert info.value.step == "callback"
    with pytest.raises(MicrosoftAuthError, match="expired or was lost"):
        finish_authorization(config, scopes, callback_args=callback, flow=None)


def test_denied_consent_is_explained(emulator: MicrosoftEmulator) -> None:
    emulator.sign_in(USER, consent=set())
    config, scopes = config_for(emulator), scopes_for(write=False)
    started = start_authorization(config, scopes)
    callback = browser_callback(emulator, started.url)
    assert callback["error"] == "access_denied"
    with pytest.raises(MicrosoftAuthError, match="access was not granted"):
        finish_authorization(config, scopes, callback_args=callback, flow=started.flow)


def test_partly_granted_consent_is_refused(emulator: MicrosoftEmulator) -> None:
    emulator.sign_in(USER, consent={"Calendars.Read", "openid", "profile", "offline_access"})
    config, scopes = config_for(emulator), (SCOPE_READ, SCOPE_READWRITE)
    started = start_authorization(config, scopes)
    callback = browser_callback(emulator, started.url)
    with pytest.raises(MicrosoftAuthError, match="only partly allowed.*Calendars.ReadWrite"):
        finish_authorization(config, scopes, callback_args=callback, flow=started.flow)


def test_wrong_pkce_verifier_is_refused_by_the_token_endpoint(emulator: MicrosoftEmulator) -> None:
    config, scopes = config_for(emulator), scopes_for(write=True)
    started = start_authorization(config, scopes)
    callback = browser_callback(emulator, started.url)
    flow = {**started.flow, "code_verifier": "x" * 43}
    with pytest.raises(MicrosoftAuthError, match="invalid_grant"):
        finish_authorization(config, scopes, callback_args=callback, flow=flow)


def test_tokens_round_trip_encrypted(emulator: MicrosoftEmulator, key_env: dict[str, str]) -> None:
    creds = connect(emulator)
    stored = encrypt_credentials(creds, environ=key_env)
    for secret in [*emulator.refresh_tokens, *emulator.access_tokens, "client-secret-value"]:
        assert secret not in stored
    again = decrypt_credentials(stored, config_for(emulator), environ=key_env)
    assert again.scopes == creds.scopes and again.home_account_id == creds.home_account_id
    before = len(emulator.token_requests)
    assert again.access_token() == creds.access_token()  # still valid: from the cache
    assert len(emulator.token_requests) == before
    with pytest.raises(TokenKeyError):
        decrypt_credentials(stored, config_for(emulator), environ={KEY_ENV_VAR: generate_key()})


def test_unreadable_stored_token_asks_to_reconnect(emulator: MicrosoftEmulator) -> None:
    with pytest.raises(ReconnectRequired, match="unreadable"):
        MicrosoftCredentials.from_json("{not json", config_for(emulator))


def test_expiring_access_token_is_refreshed_and_cache_marked_changed(
    emulator: MicrosoftEmulator, key_env: dict[str, str]
) -> None:
    emulator.access_token_lifetime = 60  # msal refreshes tokens with under 5 minutes left
    creds = connect(emulator)
    stored = encrypt_credentials(creds, environ=key_env)
    loaded = decrypt_credentials(stored, config_for(emulator), environ=key_env)
    assert not loaded.changed
    first = loaded.access_token()
    assert emulator.token_requests[-1]["grant_type"] == "refresh_token"
    assert loaded.changed  # the refresh token rotated: store the cache again
    assert first in emulator.access_tokens
    rotated = decrypt_credentials(
        encrypt_credentials(loaded, environ=key_env), config_for(emulator), environ=key_env
    )
    assert rotated.access_token() != first


def test_revoked_consent_raises_reconnect(emulator: MicrosoftEmulator) -> None:
    creds = connect(emulator)
    emulator.revoke(USER)
    with pytest.raises(MicrosoftReconnectRequired, match="reconnect Microsoft 365") as info:
        creds.access_token(force_refresh=True)
    assert info.value.error == "invalid_grant" and info.value.error_codes == (70008,)


def test_wrong_client_secret_is_an_admin_problem_not_a_reconnect(
    emulator: MicrosoftEmulator, key_env: dict[str, str]
) -> None:
    stored = encrypt_credentials(connect(emulator), environ=key_env)
    from dataclasses import replace

    wrong = replace(config_for(emulator), client_secret="rotated-away")
    creds = decrypt_credentials(stored, wrong, environ=key_env)
    with pytest.raises(CalendarError, match="client id and secret") as info:
        creds.access_token(force_refresh=True)
    assert not isinstance(info.value, ReconnectRequired)


def test_token_service_outage_is_retried_next_sync(emulator: MicrosoftEmulator) -> None:
    creds = connect(emulator)
    emulator.fail_token_next(400, "temporarily_unavailable")
    with pytest.raises(CalendarError, match="next sync will try again") as info:
        creds.access_token(force_refresh=True)
    assert not isinstance(info.value, ReconnectRequired)


def test_unreachable_authority_is_a_calendar_error() -> None:
    with MicrosoftEmulator() as emu:
        config = config_for(emu)
    with pytest.raises(CalendarError, match="could not be used"):
        start_authorization(config, scopes_for(write=False))
