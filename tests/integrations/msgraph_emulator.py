"""A loopback emulator of the Microsoft identity platform and Microsoft Graph calendars.

It serves TLS on 127.0.0.1 (msal accepts only ``https`` authorities; clients
trust :attr:`MicrosoftEmulator.ca_path`) and follows the documented request and
response shapes:

* OpenID configuration ``/{tenant}/v2.0/.well-known/openid-configuration``,
  ``/{tenant}/oauth2/v2.0/authorize`` (code flow, PKCE ``S256``, ``state``, ``nonce``)
  and ``/{tenant}/oauth2/v2.0/token`` (``authorization_code`` and ``refresh_token``
  grants; errors as ``error``/``error_description``/``error_codes``), from
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
* ``POST /v1.0/me/calendar/getSchedule`` (at most 20 schedules, less than 62
  days; ``scheduleInformation`` with ``scheduleItems`` and ``availabilityView``;
  an unknown address gets an ``error``), from
  https://learn.microsoft.com/graph/api/calendar-getschedule and
  https://learn.microsoft.com/graph/outlook-get-free-busy-schedule
* ``GET /v1.0/me/calendarView/delta`` with ``Prefer: odata.maxpagesize``,
  ``@odata.nextLink`` (``$skiptoken``) and ``@odata.deltaLink`` (``$deltatoken``),
  removals as ``@removed``, expired tokens as ``410`` ``syncStateNotFound``, from
  https://learn.microsoft.com/graph/api/event-delta,
  https://learn.microsoft.com/graph/delta-query-events and
  https://learn.microsoft.com/graph/delta-query-overview
* ``POST /v1.0/me/calendar/events`` (``201``; ``transactionId`` drops a repeated
  create; ``isOnlineMeeting`` + ``onlineMeetingProvider=teamsForBusiness`` gives
  ``onlineMeeting.joinUrl``), ``GET|PATCH|DELETE /v1.0/me/events/{id}`` (a PATCH
  of the body that drops the meeting blob ends the online meeting), from
  https://learn.microsoft.com/graph/api/user-post-events,
  https://learn.microsoft.com/graph/api/event-update and
  https://learn.microsoft.com/graph/api/event-delete
* errors as ``{"error": {"code", "message", "innerError"}}``; ``429`` with
  ``Retry-After``, from https://learn.microsoft.com/graph/errors and
  https://learn.microsoft.com/graph/throttling

Faults: :meth:`fail_next`, :meth:`expire_delta_tokens`, :meth:`revoke`,
:meth:`expire_access_tokens`. Every Graph request is kept in :attr:`requests`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.integrations.loopback_tls import LoopbackTLS
from tests.integrations.msgraph_graph import GraphRoutes
from tests.integrations.msgraph_store import Mailbox

TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
SCOPE_PREFIX = "https://graph.microsoft.com/"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    return Response(
        json.dumps(payload), status=status, mimetype="application/json", headers=headers
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    status: int
    code: str
    remaining: int
    path_contains: str = ""
    retry_after: str | None = None
    after_processing: bool = False


@dataclass
class Grant:
    """A user's consent to a client: what its refresh token stands for."""

    address: str
    client_id: str
    scopes: frozenset[str]
    revoked: bool = False


@dataclass
class Client:
    client_id: str
    secret: str
    redirect_uris: set[str] = field(default_factory=set)


class MicrosoftEmulator:
    """``with MicrosoftEmulator() as emu:``; ``emu.authority`` and ``emu.graph_endpoint``."""

    def __init__(self, *, page_size: int = 10, tenant: str = "organizations") -> None:
        self.tenant = tenant
        self.page_size = page_size
        self.requests: list[RecordedRequest] = []
        self.token_requests: list[dict[str, str]] = []
        self.lock = threading.RLock()
        self.version = itertools.count(1)
        self.mailboxes: dict[str, Mailbox] = {}
        self.clients: dict[str, Client] = {}
        self.faults: list[Fault] = []
        self.token_faults: list[Fault] = []
        self.access_tokens: dict[str, tuple[str, frozenset[str]]] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.signed_in: str | None = None
        self.consent: frozenset[str] | None = None  # None: grant what is asked
        self.access_token_lifetime = 3600
        self.tls = LoopbackTLS()
        self.graph = GraphRoutes(self)
        self._server = make_server(
            "127.0.0.1",
            0,
            self._wsgi,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=self.tls.server_context(),
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> MicrosoftEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.tls.close()

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant}"

    @property
    def graph_endpoint(self) -> str:
        return f"{self.base_url}/v1.0"

    @property
    def ca_path(self) -> str:
        return self.tls.ca_path

    # -- test controls -------------------------------------------------------------

    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        with self.lock:
            self.clients[client_id] = Client(client_id, secret, {redirect_uri})

    def add_mailbox(self, address: str, name: str = "", *, teams: bool = True) -> Mailbox:
        with self.lock:
            box = Mailbox(address, name or address.split("@")[0].title(), teams_enabled=teams)
            self.mailboxes[address.casefold()] = box
            return box

    def mailbox(self, address: str) -> Mailbox:
        return self.mailboxes[address.casefold()]

    def add_event(self, address: str, body: dict[str, Any]) -> str:
        """Store an event in ``address``'s calendar as Graph would after a create."""
        return self.graph.add_event(self.mailbox(address), body)

    def change_event(self, address: str, event_id: str, changes: dict[str, Any]) -> None:
        self.graph.change_event(self.mailbox(address), event_id, changes)

    def remove_event(self, address: str, event_id: str) -> None:
        with self.lock:
            self.mailbox(address).events.pop(event_id)

    def delete_occurrence(self, address: str, master_id: str, day: date) -> None:
        """Delete one occurrence (its local date) of a series, as Outlook does for one day."""
        with self.lock:
            box = self.mailbox(address)
            box.deleted_occurrences.setdefault(master_id, set()).add(day)
            box.events[master_id].version = next(self.version)

    def event(self, address: str, event_id: str) -> dict[str, Any] | None:
        with self.lock:
            stored = self.mailbox(address).events.get(event_id)
            return dict(stored.body) if stored else None

    def sign_in(self, address: str, *, consent: set[str] | None = None) -> None:
        """The person at the browser: who signs in, and which scopes they allow."""
        with self.lock:
            self.signed_in = address
            self.consent = frozenset(consent) if consent is not None else None

    def issue_tokens(self, address: str, client_id: str, scopes: set[str]) -> str:
        """A refresh token as if ``address`` had consented earlier (no browser)."""
        with self.lock:
            refresh = "rt-" + secrets.token_urlsafe(12)
            self.refresh_tokens[refresh] = Grant(address, client_id, frozenset(scopes))
            return refresh

    def revoke(self, address: str) -> None:
        """The user (or an admin) revoked the consent: every token of ``address`` stops."""
        with self.lock:
            for grant in self.refresh_tokens.values():
                if grant.address == address:
                    grant.revoked = True
            self.expire_access_tokens()

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        code: str = "",
        path_contains: str = "",
        retry_after: str | None = None,
        after_processing: bool = False,
    ) -> None:
        """Answer the next ``times`` Graph requests (matching ``path_contains``) with an error;
        ``after_processing`` carries the request out first and only loses the answer."""
        default = {429: "TooManyRequests", 503: "ServiceNotAvailable"}.get(
            status, "generalException"
        )
        with self.lock:
            self.faults.append(
                Fault(status, code or default, times, path_contains, retry_after, after_processing)
            )

    def fail_token_next(self, status: int, error: str, times: int = 1) -> None:
        with self.lock:
            self.token_faults.append(Fault(status, error, times))

    def expire_delta_tokens(self, *, with_location: bool = False) -> None:
        self.graph.expire_delta_tokens(with_location=with_location)

    def graph_requests(self, method: str | None = None, path_contains: str = "") -> list[Any]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and path_contains in r.path
            ]

    # -- WSGI -------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Any:
        parts = request.path.strip("/").split("/")
        if parts[0] == "v1.0":
            return self.graph.dispatch(request)
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self._openid_configuration(parts[0])
        if parts[1:] == ["oauth2", "v2.0", "authorize"] and request.method == "GET":
            return self._authorize(request)
        if parts[1:] == ["oauth2", "v2.0", "token"] and request.method == "POST":
            return self._token(request)
        return json_response({"error": "not_found"}, 404)

    # -- identity platform -------------------------------------------------------------

    def _openid_configuration(self, tenant: str) -> Any:
        base = f"{self.base_url}/{tenant}"
        return json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "code_challenge_methods_supported": ["plain", "S256"],
            }
        )

    def _authorize(self, request: Request) -> Any:
        args = request.args
        client = self.clients.get(args.get("client_id", ""))
        redirect = args.get("redirect_uri", "")
        if client is None or redirect not in client.redirect_uris:
            return json_response({"error": "invalid_request"}, 400)  # never redirect there
        if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
            return self._redirect(redirect, error="invalid_request", state=args.get("state"))
        asked = {_short(s) for s in args.get("scope", "").split()}
        with self.lock:
            granted = asked if self.consent is None else asked & self.consent
            if self.signed_in is None or not (granted - {"openid", "profile", "offline_access"}):
                return self._redirect(redirect, error="access_denied", state=args.get("state"))
            code = "code-" + secrets.token_urlsafe(16)
            self.codes[code] = {
                "client_id": client.client_id,
                "redirect_uri": redirect,
                "challenge": args.get("code_challenge", ""),
                "nonce": args.get("nonce"),
                "address": self.signed_in,
                "scopes": frozenset(granted),
            }
        if args.get("response_mode") == "form_post":
            return _form_post(redirect, code=code, state=args.get("state"))
        return self._redirect(redirect, code=code, state=args.get("state"))

    @staticmethod
    def _redirect(uri: str, **params: str | None) -> Any:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return Response(status=302, headers={"Location": f"{uri}?{query}"})

    def _token(self, request: Request) -> Any:
        form = request.form
        with self.lock:
            self.token_requests.append(dict(form))
            for fault in self.token_faults:
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return _token_error(fault.code, fault.status)
            client = self.clients.get(form.get("client_id", ""))
            if client is None or form.get("client_secret") != client.secret:
                return _token_error("invalid_client", 401, 7000215)
            if form.get("grant_type") == "authorization_code":
                return self._redeem_code(form, client)
            if form.get("grant_type") == "refresh_token":
                return self._refresh(form, client)
        return _token_error("unsupported_grant_type", 400)

    def _redeem_code(self, form: Any, client: Client) -> Any:
        data = self.codes.pop(form.get("code", ""), None)
        if data is None or data["client_id"] != client.client_id:
            return _token_error("invalid_grant", 400, 70008)
        if form.get("redirect_uri") != data["redirect_uri"]:
            return _token_error("invalid_grant", 400, 50011)
        digest = hashlib.sha256(form.get("code_verifier", "").encode("ascii")).digest()
        if b64url(digest) != data["challenge"]:
            return _token_error("invalid_grant", 400, 501481)  # PKCE verifier mismatch
        refresh = self.issue_tokens(data["address"], client.client_id, set(data["scopes"]))
        return self._tokens(self.refresh_tokens[refresh], refresh, nonce=data["nonce"])

    def _refresh(self, form: Any, client: Client) -> Any:
        grant = self.refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None or grant.client_id != client.client_id:
            return _token_error("invalid_grant", 400, 9002313)
        if grant.revoked:
            return _token_error("invalid_grant", 400, 70008)
        old = form.get("refresh_token", "")
        self.refresh_tokens.pop(old)
        refresh = "rt-" + secrets.token_urlsafe(12)  # refresh tokens rotate
        self.refresh_tokens[refresh] = grant
        return self._tokens(grant, refresh, nonce=None)

    def _tokens(self, grant: Grant, refresh: str, *, nonce: str | None) -> Any:
        access = "at-" + secrets.token_urlsafe(16)
        resource_scopes = grant.scopes - {"openid", "profile", "offline_access"}
        self.access_tokens[access] = (grant.address, frozenset(resource_scopes))
        box = self.mailboxes.get(grant.address.casefold())
        oid = hashlib.sha256(grant.address.encode()).hexdigest()[:32]
        payload = {
            "token_type": "Bearer",
            "scope": " ".join(sorted(resource_scopes) + ["openid", "profile"]),
            "expires_in": self.access_token_lifetime,
            "ext_expires_in": self.access_token_lifetime,
            "access_token": access,
            "refresh_token": refresh,
            "client_info": b64url(json.dumps({"uid": oid, "utid": TENANT_ID}).encode()),
            "id_token": self._id_token(grant, oid, box, nonce),
        }
        return json_response(payload)

    def _id_token(self, grant: Grant, oid: str, box: Mailbox | None, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "aud": grant.client_id,
            "iss": f"{self.base_url}/{self.tenant}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": box.display_name if box else grant.address,
            "oid": oid,
            "preferred_username": grant.address,
            "sub": oid,
            "tid": TENANT_ID,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        header = {"typ": "JWT", "alg": "RS256", "kid": "emulator"}
        parts = [b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode())]
        return ".".join([*parts, b64url(b"emulator-does-not-sign")])


def _form_post(uri: str, **params: str | None) -> Any:
    """``response_mode=form_post``: a page whose form the browser POSTs to ``uri``."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
        for k, v in params.items()
        if v is not None
    )
    page = (
        f'<html><body onload="document.forms[0].submit()"><form method="POST" '
        f'action="{html.escape(uri)}">{fields}</form></body></html>'
    )
    return Response(page, status=200, mimetype="text/html")


def _short(scope: str) -> str:
    return scope.removeprefix(SCOPE_PREFIX)


def _token_error(error: str, status: int, code: int | None = None) -> Any:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    codes = [code] if code else []
    description = f"AADSTS{code}: emulated {error}." if code else f"emulated {error}."
    return json_response(
        {
            "error": error,
            "error_description": description,
            "error_codes": codes,
            "timestamp": stamp,
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        },
        status,
    )
