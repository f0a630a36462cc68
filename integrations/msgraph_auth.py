"""Microsoft 365 sign-in for interviewers (msal, authorization code flow with PKCE).

The routes in ``web/`` call :func:`start_authorization` and keep the returned
``flow`` (a JSON-serialisable dict holding state, PKCE verifier and nonce) in
the session; the callback hands it back to :func:`finish_authorization`, which
returns :class:`MicrosoftCredentials`. Those wrap msal's serialisable token
cache (access and refresh tokens of one account, never the client secret) and
are stored encrypted with :func:`encrypt_credentials` like Google's tokens.

Scopes are least privilege: ``Calendars.Read`` for reading, or
``Calendars.ReadWrite`` (which also reads) when write-back is on. msal always
adds ``openid``, ``profile`` and ``offline_access`` itself (the last one is what
yields a refresh token). A revoked or expired consent raises
:class:`MicrosoftReconnectRequired`, a :class:`ReconnectRequired`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msal
import requests

from integrations.crypto import decrypt_secret, encrypt_secret
from integrations.errors import CalendarError, IntegrationError, ReconnectRequired

SCOPE_READ = "Calendars.Read"
SCOPE_READWRITE = "Calendars.ReadWrite"
MSAL_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/organizations"
RECONNECT_HINT = "the interviewer must reconnect Microsoft 365 from their page"
# token endpoint errors that only a new sign-in (consent) can cure
RECONNECT_ERRORS = frozenset(
    {"invalid_grant", "interaction_required", "consent_required", "login_required"}
)
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})
STORE_VERSION = 1


class MicrosoftAuthError(IntegrationError):
    """The sign-in flow failed; ``step`` says where, ``message`` what to do."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        self.message = message
        super().__init__(f"Microsoft sign-in ({step}): {message}")


class MicrosoftReconnectRequired(ReconnectRequired):
    """Microsoft refused the stored consent; ``error``/``error_codes`` are the token
    endpoint's (e.g. ``invalid_grant`` with AADSTS code 70008 for an expired grant)."""

    def __init__(
        self, source: str, message: str, *, error: str = "", error_codes: tuple[int, ...] = ()
    ) -> None:
        super().__init__(source, message)
        self.error = error
        self.error_codes = error_codes


@dataclass(frozen=True)
class MicrosoftClientConfig:
    """The app registered in Microsoft Entra ("Web" platform, with a client secret).

    ``authority`` is ``https://login.microsoftonline.com/{tenant}`` (``organizations``,
    ``common`` or a tenant id). ``instance_discovery=False`` skips msal's check that
    the authority is a known Microsoft host (needed for a loopback emulator only).
    ``ca_bundle`` is a PEM file to trust instead of the system store (tests).
    """

    client_id: str
    client_secret: str
    redirect_uri: str
    authority: str = DEFAULT_AUTHORITY
    instance_discovery: bool = True
    ca_bundle: str | None = None
    timeout_seconds: float = 30.0

    @property
    def verify(self) -> str | bool:
        return self.ca_bundle or True


@dataclass(frozen=True)
class AuthorizationStart:
    """Where to send the interviewer, and the flow the session must keep until the callback."""

    url: str
    flow: dict[str, Any]

    @property
    def state(self) -> str:
        return str(self.flow["state"])


def scopes_for(*, write: bool) -> tuple[str, ...]:
    """The least delegated scopes: read-only, or read-write when write-back is on."""
    return (SCOPE_READWRITE,) if write else (SCOPE_READ,)


def build_app(
    config: MicrosoftClientConfig, cache: msal.SerializableTokenCache | None = None
) -> msal.ConfidentialClientApplication:
    """A confidential client for ``config`` (raises CalendarError when the authority
    cannot be reached or is not an identity platform authority)."""
    discovery: dict[str, Any] = {}
    if not config.instance_discovery:
        discovery = {"validate_authority": False, "instance_discovery": False}
    if config.ca_bundle:
        # requests lets REQUESTS_CA_BUNDLE override a session's own ``verify``: a session
        # that ignores the environment is the only way to trust exactly this bundle
        session = requests.Session()
        session.trust_env = False
        session.verify = config.ca_bundle
        discovery["http_client"] = session
    try:
        return msal.ConfidentialClientApplication(
            config.client_id,
            client_credential=config.client_secret,
            authority=config.authority,
            token_cache=cache,
            verify=config.verify,
            timeout=config.timeout_seconds,
            **discovery,
        )
    except (ValueError, OSError) as exc:  # requests errors are OSErrors too
        raise CalendarError(
            "Microsoft 365",
            f"the sign-in authority {config.authority} could not be used "
            f"({type(exc).__name__}); the administrator must check the authority setting",
        ) from None


def start_authorization(
    config: MicrosoftClientConfig,
    scopes: tuple[str, ...],
    *,
    login_hint: str | None = None,
    response_mode: str = "query",
) -> AuthorizationStart:
    """Build the consent URL (PKCE S256, a fresh random state and nonce).

    ``response_mode="query"`` brings the code back on a GET to the redirect URI, which
    carries a SameSite=Lax session cookie; ``"form_post"`` (msal's recommendation, which
    it warns about otherwise) POSTs it cross-site, where such a cookie is not sent, so
    the flow must then be kept server-side under its ``state``.
    """
    if response_mode not in ("query", "form_post"):
        raise ValueError(f"response_mode must be 'query' or 'form_post', got {response_mode!r}")
    app = build_app(config)
    flow = app.initiate_auth_code_flow(
        list(scopes),
        redirect_uri=config.redirect_uri,
        login_hint=login_hint,
        prompt="consent",
        response_mode=response_mode,
    )
    return AuthorizationStart(url=str(flow["auth_uri"]), flow=dict(flow))


def finish_authorization(
    config: MicrosoftClientConfig,
    scopes: tuple[str, ...],
    *,
    callback_args: Mapping[str, str],
    flow: Mapping[str, Any] | None,
) -> MicrosoftCredentials:
    """Exchange the callback's code for tokens; ``flow`` comes from the session."""
    _check_callback(callback_args, flow)
    assert flow is not None
    cache = msal.SerializableTokenCache()
    app = build_app(config, cache)
    try:
        result = app.acquire_token_by_auth_code_flow(
            dict(flow), dict(callback_args), scopes=list(scopes)
        )
    except (ValueError, RuntimeError):  # msal's own checks: state, nonce
        raise MicrosoftAuthError(
            "callback", "the sign-in answer does not match this session; start connecting again"
        ) from None
    except requests.RequestException as exc:
        raise MicrosoftAuthError(
            "token exchange", f"could not reach Microsoft ({type(exc).__name__}); try again"
        ) from None
    if "error" in result:
        raise MicrosoftAuthError(
            "token exchange",
            f"Microsoft refused the authorization code ({result['error']}); start connecting again",
        )
    return _credentials_from_result(config, cache, app, result, scopes)


def _check_callback(callback_args: Mapping[str, str], flow: Mapping[str, Any] | None) -> None:
    if "error" in callback_args:
        denied = callback_args["error"] in ("access_denied", "consent_required")
        raise MicrosoftAuthError(
            "callback",
            "access was not granted; open your page again and allow calendar access"
            if denied
            else f"Microsoft returned error '{callback_args['error']}'; try connecting again",
        )
    if not flow or not flow.get("state"):
        raise MicrosoftAuthError(
            "callback", "the sign-in session expired or was lost; start connecting again"
        )
    state = str(callback_args.get("state", ""))
    if not hmac.compare_digest(state.encode(), str(flow["state"]).encode()):
        raise MicrosoftAuthError(
            "callback", "the sign-in answer does not match this session; start connecting again"
        )
    if not callback_args.get("code"):
        raise MicrosoftAuthError("callback", "Microsoft sent no authorization code; try again")


def _credentials_from_result(
    config: MicrosoftClientConfig,
    cache: msal.SerializableTokenCache,
    app: msal.ConfidentialClientApplication,
    result: Mapping[str, Any],
    scopes: tuple[str, ...],
) -> MicrosoftCredentials:
    granted = frozenset(_short_scope(s) for s in str(result.get("scope", " ".join(scopes))).split())
    missing = sorted(s for s in scopes if s.casefold() not in {g.casefold() for g in granted})
    if missing:
        raise MicrosoftAuthError(
            "consent",
            f"calendar access was only partly allowed (missing: {', '.join(missing)}); connect "
            "again and accept every calendar permission",
        )
    claims = result.get("id_token_claims") or {}
    accounts = app.get_accounts()
    if not accounts or "refresh_token" not in result:
        raise MicrosoftAuthError(
            "token exchange",
            "Microsoft sent no refresh token (offline access); connect again",
        )
    account = accounts[0]
    return MicrosoftCredentials(
        config=config,
        cache=cache,
        home_account_id=str(account["home_account_id"]),
        username=str(claims.get("preferred_username") or account.get("username") or ""),
        scopes=tuple(sorted(granted - MSAL_RESERVED_SCOPES)),
    )


def _short_scope(scope: str) -> str:
    """``https://graph.microsoft.com/Calendars.Read`` and ``Calendars.Read`` are one scope."""
    return scope.rsplit("/", 1)[-1]


@dataclass
class MicrosoftCredentials:
    """One interviewer's tokens (msal cache) and what they were granted."""

    config: MicrosoftClientConfig
    cache: msal.SerializableTokenCache
    home_account_id: str
    username: str = ""
    scopes: tuple[str, ...] = ()
    label: str = "Microsoft 365"
    _app: msal.ConfidentialClientApplication | None = field(default=None, repr=False)

    def can(self, scope: str) -> bool:
        return scope.casefold() in {s.casefold() for s in self.scopes}

    @property
    def can_write(self) -> bool:
        return self.can(SCOPE_READWRITE)

    @property
    def changed(self) -> bool:
        """True when msal refreshed a token since the cache was loaded (store it again)."""
        return bool(self.cache.has_state_changed)

    def access_token(self, force_refresh: bool = False) -> str:
        """A valid access token for Graph; msal refreshes it when it is near expiry
        (or always with ``force_refresh``, after Graph answered 401)."""
        if self._app is None:
            self._app = build_app(self.config, self.cache)
        account = next(
            (
                a
                for a in self._app.get_accounts()
                if a.get("home_account_id") == self.home_account_id
            ),
            None,
        )
        if account is None:
            raise MicrosoftReconnectRequired(
                self.label, f"no stored Microsoft sign-in for this account; {RECONNECT_HINT}"
            )
        try:
            result = self._app.acquire_token_silent_with_error(
                list(self.scopes), account, force_refresh=force_refresh
            )
        except requests.RequestException as exc:
            raise CalendarError(
                self.label,
                f"could not reach Microsoft's sign-in service ({type(exc).__name__}); "
                "the next sync will try again",
            ) from None
        if result is None:
            raise MicrosoftReconnectRequired(
                self.label, f"the stored Microsoft token cannot be refreshed; {RECONNECT_HINT}"
            )
        if "access_token" not in result:
            raise _token_error(self.label, result)
        return str(result["access_token"])

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STORE_VERSION,
                "home_account_id": self.home_account_id,
                "username": self.username,
                "scopes": list(self.scopes),
                "cache": self.cache.serialize(),
            }
        )

    @classmethod
    def from_json(cls, text: str, config: MicrosoftClientConfig) -> MicrosoftCredentials:
        try:
            data = json.loads(text)
            cache = msal.SerializableTokenCache()
            cache.deserialize(data["cache"])
            return cls(
                config=config,
                cache=cache,
                home_account_id=str(data["home_account_id"]),
                username=str(data.get("username", "")),
                scopes=tuple(str(s) for s in data.get("scopes", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise MicrosoftReconnectRequired(
                "Microsoft 365", f"the stored Microsoft token is unreadable; {RECONNECT_HINT}"
            ) from None


def _token_error(source: str, result: Mapping[str, Any]) -> CalendarError:
    error = str(result.get("error", ""))
    codes = tuple(int(c) for c in result.get("error_codes", ()) if str(c).isdigit())
    shown = f"{error}{', AADSTS' + str(codes[0]) if codes else ''}"
    if error in RECONNECT_ERRORS:
        return MicrosoftReconnectRequired(
            source,
            f"Microsoft refused to refresh the access token ({shown}: consent revoked or "
            f"expired); {RECONNECT_HINT}",
            error=error,
            error_codes=codes,
        )
    if error in CLIENT_ERRORS:
        return CalendarError(
            source,
            f"Microsoft refused panelslot's app registration ({shown}); the administrator must "
            "check the Microsoft client id and secret",
        )
    return CalendarError(
        source,
        f"Microsoft's sign-in service failed ({shown or 'no answer'}); the next sync will try "
        "again",
    )


def encrypt_credentials(
    creds: MicrosoftCredentials, *, environ: Mapping[str, str] | None = None
) -> str:
    return encrypt_secret(creds.to_json(), environ=environ)


def decrypt_credentials(
    ciphertext: str, config: MicrosoftClientConfig, *, environ: Mapping[str, str] | None = None
) -> MicrosoftCredentials:
    return MicrosoftCredentials.from_json(decrypt_secret(ciphertext, environ=environ), config)
