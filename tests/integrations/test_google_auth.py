"""OAuth web-server flow helpers, token storage and encryption at rest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.calendars.google_backend import GoogleCalendarBackend, GoogleOptions
from integrations.crypto import (
    KEY_ENV_VAR,
    TokenKeyError,
    decrypt_secret,
    encrypt_secret,
    generate_key,
)
from integrations.google_auth import (
    SCOPE_EVENTS,
    SCOPE_EVENTS_READONLY,
    SCOPE_FREEBUSY,
    GoogleAuthError,
    GoogleClientConfig,
    credentials_from_json,
    credentials_to_json,
    decrypt_credentials,
    encrypt_credentials,
    finish_authorization,
    scopes_for,
    start_authorization,
)
from scheduler.model import Interval
from tests.integrations.google_emulator import GoogleEmulator

SECRET = "client-secret-value"


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emu:
        emu.add_calendar("primary")
        yield emu


@pytest.fixture
def config(emulator: GoogleEmulator) -> GoogleClientConfig:
    return GoogleClientConfig(
        client_id="panelslot-client",
        client_secret=SECRET,
        redirect_uri="https://panelslot.example.com/oauth/google/callback",
        token_uri=emulator.token_uri,
    )


@pytest.fixture
def key_env() -> dict[str, str]:
    return {KEY_ENV_VAR: generate_key()}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def connect(
    emulator: GoogleEmulator, config: GoogleClientConfig, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], object]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator's token URL is http
    scopes = scopes_for(mode="freebusy", write=True)
    started = start_authorization(config, scopes, login_hint="alice@example.com")
    args = query(started.url)
    emulator.authorize("the-code", args["code_challenge"], "refresh-1", scope=args["scope"])
    creds = finish_authorization(
        config,
        scopes,
        callback_args={"code": "the-code", "state": started.state},
        session_state=started.state,
        code_verifier=started.code_verifier,
    )
    return args, creds


def test_scopes_are_least_privilege() -> None:
    assert scopes_for(mode="freebusy", write=False) == (SCOPE_FREEBUSY,)
    assert scopes_for(mode="freebusy", write=True) == (SCOPE_FREEBUSY, SCOPE_EVENTS)
    assert scopes_for(mode="sync", write=False) == (SCOPE_EVENTS_READONLY,)
    assert scopes_for(mode="sync", write=True) == (SCOPE_EVENTS,)
    everything = {
        s for m in ("freebusy", "sync") for w in (True, False) for s in scopes_for(mode=m, write=w)
    }
    assert "https://www.googleapis.com/auth/calendar" not in everything
    with pytest.raises(ValueError, match="mode"):
        scopes_for(mode="everything")


def test_authorization_url_has_state_pkce_and_offline_access(config: GoogleClientConfig) -> None:
    started = start_authorization(config, scopes_for(), login_hint="alice@example.com")
    args = query(started.url)
    assert started.url.startswith("https://accounts.google.com/o/oauth2/auth?")
    assert args["client_id"] == "panelslot-client"
    assert args["redirect_uri"] == config.redirect_uri
    assert args["state"] == started.state
    assert args["code_challenge_method"] == "S256"
    assert args["code_challenge"] and args["code_challenge"] != started.code_verifier
    assert args["access_type"] == "offline"
    assert args["login_hint"] == "alice@example.com"
    assert set(args["scope"].split()) == set(scopes_for())
    assert SECRET not in started.url
    again = start_authorization(config, scopes_for())
    assert again.state != started.state and again.code_verifier != started.code_verifier


def test_code_exchange_with_pkce_gives_working_credentials(
    emulator: GoogleEmulator, config: GoogleClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, creds = connect(emulator, config, monkeypatch)
    assert creds.refresh_token == "refresh-1"  # type: ignore[attr-defined]
    backend = GoogleCalendarBackend(
        creds,  # type: ignore[arg-type]
        GoogleOptions(api_endpoint=emulator.api_endpoint),
    )
    window = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))
    assert backend.read_busy(window).busy == ()


def test_wrong_code_verifier_is_refused(
    emulator: GoogleEmulator, config: GoogleClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    started = start_authorization(config, scopes_for())
    emulator.authorize("code-2", query(started.url)["code_challenge"], "r2", SCOPE_FREEBUSY)
    other = start_authorization(config, scopes_for())
    with pytest.raises(GoogleAuthError, match="refused the authorization code"):
        finish_authorization(
            config,
            scopes_for(),
            callback_args={"code": "code-2", "state": started.state},
            session_state=started.state,
            code_verifier=other.code_verifier,
        )


def test_partly_granted_consent_names_the_missing_permission(
    emulator: GoogleEmulator, config: GoogleClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    scopes = scopes_for(mode="freebusy", write=True)
    started = start_authorization(config, scopes)
    emulator.authorize("code-3", query(started.url)["code_challenge"], "r3", SCOPE_FREEBUSY)
    with pytest.raises(GoogleAuthError, match=r"partly allowed \(missing: calendar\.events\)"):
        finish_authorization(
            config,
            scopes,
            callback_args={"code": "code-3", "state": started.state},
            session_state=started.state,
            code_verifier=started.code_verifier,
        )


def test_extra_previously_granted_scopes_are_accepted(
    emulator: GoogleEmulator, config: GoogleClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    scopes = scopes_for(mode="freebusy", write=False)
    started = start_authorization(config, scopes)
    granted = f"{SCOPE_FREEBUSY} {SCOPE_EVENTS} openid"  # include_granted_scopes adds old grants
    emulator.authorize("code-4", query(started.url)["code_challenge"], "r4", granted)
    creds = finish_authorization(
        config,
        scopes,
        callback_args={"code": "code-4", "state": started.state},
        session_state=started.state,
        code_verifier=started.code_verifier,
    )
    assert creds.refresh_token == "r4"


@pytest.mark.parametrize(
    ("callback", "session_state", "verifier", "message"),
    [
        ({"error": "access_denied", "state": "s"}, "s", "v" * 43, "not granted"),
        ({"code": "c", "state": "forged"}, "s", "v" * 43, "does not match"),
        ({"code": "c", "state": "s"}, None, None, "expired or was lost"),
        ({"state": "s"}, "s", "v" * 43, "no authorization code"),
    ],
)
def test_bad_callbacks_are_clear_errors(
    config: GoogleClientConfig,
    callback: dict[str, str],
    session_state: str | None,
    verifier: str | None,
    message: str,
) -> None:
    with pytest.raises(GoogleAuthError, match=message) as caught:
        finish_authorization(
            config,
            scopes_for(),
            callback_args=callback,
            session_state=session_state,
            code_verifier=verifier,
        )
    assert "\n" not in str(caught.value)


def test_token_json_round_trip_leaves_out_the_client_secret(
    emulator: GoogleEmulator, config: GoogleClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, creds = connect(emulator, config, monkeypatch)
    text = credentials_to_json(creds)  # type: ignore[arg-type]
    assert SECRET not in text
    back = credentials_from_json(text, config)
    assert back.refresh_token == "refresh-1"
    assert back.token == creds.token  # type: ignore[attr-defined]
    assert back.client_secret == SECRET and back.token_uri == emulator.token_uri
    assert back.expiry == creds.expiry  # type: ignore[attr-defined]
    with pytest.raises(GoogleAuthError, match="reconnect"):
        credentials_from_json("{not json", config)


def test_encrypted_credentials_hide_the_tokens(
    emulator: GoogleEmulator,
    config: GoogleClientConfig,
    monkeypatch: pytest.MonkeyPatch,
    key_env: dict[str, str],
) -> None:
    _, creds = connect(emulator, config, monkeypatch)
    stored = encrypt_credentials(creds, environ=key_env)  # type: ignore[arg-type]
    assert "refresh-1" not in stored and str(creds.token) not in stored  # type: ignore[attr-defined]
    back = decrypt_credentials(stored, config, environ=key_env)
    assert back.refresh_token == "refresh-1"


def test_crypto_round_trip_and_key_errors(key_env: dict[str, str]) -> None:
    sealed = encrypt_secret("ya29.token", environ=key_env)
    assert "ya29" not in sealed
    assert decrypt_secret(sealed, environ=key_env) == "ya29.token"

    with pytest.raises(TokenKeyError, match=f"{KEY_ENV_VAR}: the environment variable is not set"):
        encrypt_secret("x", environ={})
    with pytest.raises(TokenKeyError, match="not a valid key") as caught:
        encrypt_secret("x", environ={KEY_ENV_VAR: "too-short-key"})
    assert "too-short-key" not in str(caught.value)

    other = {KEY_ENV_VAR: generate_key()}
    with pytest.raises(TokenKeyError, match="cannot be decrypted with the current key") as caught:
        decrypt_secret(sealed, environ=other)
    assert other[KEY_ENV_VAR] not in str(caught.value)
    assert key_env[KEY_ENV_VAR] not in str(caught.value)


def test_key_comes_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv(KEY_ENV_VAR, key)
    assert decrypt_secret(encrypt_secret("abc")) == "abc"
    monkeypatch.delenv(KEY_ENV_VAR)
    with pytest.raises(TokenKeyError, match="not set"):
        encrypt_secret("abc")
