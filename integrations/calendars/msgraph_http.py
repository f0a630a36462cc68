"""HTTP calls to Microsoft Graph with ``requests``: bearer tokens, retries, throttling.

* ``429`` (and ``503``/``504`` when they carry it) waits the ``Retry-After`` the
  answer names (seconds, or an HTTP date measured against the answer's ``Date``),
  as Graph's throttling guidance asks; without it, exponential backoff with jitter.
  A wait longer than ``max_retry_after`` is not slept: it raises
  :class:`GraphThrottled` so the next sync tries again.
* ``500``/``502``/``503``/``504`` and connection errors are retried with backoff.
* ``401`` refreshes the access token once (msal) and repeats the request; a
  second ``401`` means the consent is gone: :class:`MicrosoftReconnectRequired`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests

from integrations.backoff import Backoff
from integrations.errors import CalendarError
from integrations.msgraph_auth import RECONNECT_HINT, MicrosoftReconnectRequired

GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class TokenSource(Protocol):
    """What hands out access tokens (``MicrosoftCredentials`` does)."""

    def access_token(self, force_refresh: bool = False) -> str: ...


class GraphApiError(CalendarError):
    """Graph answered with an error: ``status`` (HTTP) and ``code`` (the error body's)."""

    def __init__(self, source: str, message: str, *, status: int, code: str = "") -> None:
        super().__init__(source, message)
        self.status = status
        self.code = code


class GraphThrottled(GraphApiError):
    """Graph asked to wait ``retry_after`` seconds, longer than panelslot waits in one sync."""

    def __init__(self, source: str, message: str, *, status: int, retry_after: float) -> None:
        super().__init__(source, message, status=status, code="TooManyRequests")
        self.retry_after = retry_after


def error_codes(body: Any) -> list[str]:
    """The ``code`` of a Graph error body and of its nested ``innerError`` objects."""
    codes: list[str] = []
    node = body.get("error") if isinstance(body, dict) else None
    while isinstance(node, dict):
        if isinstance(node.get("code"), str):
            codes.append(node["code"])
        node = node.get("innerError") or node.get("innererror")
    return codes


def retry_after_seconds(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (a number, or an HTTP date relative to ``Date``)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        until = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (until - sent).total_seconds())


@dataclass
class GraphClient:
    """Graph requests for one interviewer's account (``label`` names it in errors)."""

    tokens: TokenSource
    label: str = "Microsoft 365"
    base_url: str = GRAPH_ENDPOINT
    backoff: Backoff = field(default_factory=Backoff)
    verify: str | bool = True
    timeout_seconds: float = 30.0
    max_retry_after: float = 120.0
    session: requests.Session = field(default_factory=requests.Session)

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url  # an @odata.nextLink / @odata.deltaLink, used as given
        return self.base_url.rstrip("/") + "/" + path_or_url.lstrip("/")

    def call(
        self,
        method: str,
        path_or_url: str,
        *,
        what: str,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request (with retries); the JSON answer, ``{}`` for an empty one."""
        url = self.url(path_or_url)
        tries, refreshed, force = 0, False, False
        while True:
            tries += 1
            auth = {"Authorization": f"Bearer {self.tokens.access_token(force_refresh=force)}"}
            force = False
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers={**(headers or {}), **auth},
                    timeout=self.timeout_seconds,
                    verify=self.verify,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if tries >= self.backoff.attempts:
                    raise CalendarError(
                        self.label,
                        f"could not reach Microsoft Graph while trying to {what} "
                        f"({type(exc).__name__}); the next sync will try again",
                    ) from None
                self.backoff.sleep(self.backoff.delay(tries - 1))
                continue
            status = response.status_code
            if status == 401 and not refreshed:
                refreshed, force = True, True
                tries -= 1  # a refreshed token is a new start, not a retry
                continue
            if status < 400:
                return _json(response)
            if status in RETRYABLE_STATUSES and tries < self.backoff.attempts:
                self.backoff.sleep(self._retry_delay(response, tries - 1, what))
                continue
            raise self._error(response, what, tries)

    def _retry_delay(self, response: requests.Response, retry: int, what: str) -> float:
        asked = retry_after_seconds(response)
        if asked is None:
            return self.backoff.delay(retry)
        if asked > self.max_retry_after:
            raise GraphThrottled(
                self.label,
                f"Microsoft Graph is throttling requests (HTTP {response.status_code}) while "
                f"trying to {what} and asks to wait {asked:g} s; the next sync will try again",
                status=response.status_code,
                retry_after=asked,
            )
        return asked

    def _error(self, response: requests.Response, what: str, tries: int) -> CalendarError:
        status = response.status_code
        codes = error_codes(_json(response))
        code = codes[-1] if codes else ""
        shown = ", ".join(codes) or "no error code"
        if status == 401:
            return MicrosoftReconnectRequired(
                self.label,
                f"Microsoft Graph refused the credentials while trying to {what} ({shown}); "
                f"{RECONNECT_HINT}",
                error=code,
            )
        if status in RETRYABLE_STATUSES:
            return GraphApiError(
                self.label,
                f"Microsoft Graph kept failing while trying to {what} (HTTP {status}, {shown}) "
                f"after {tries} attempts; the next sync will try again",
                status=status,
                code=code,
            )
        if status == 403:
            return GraphApiError(
                self.label,
                f"Microsoft Graph denied access while trying to {what} (HTTP 403, {shown}); "
                "check the account has an Exchange Online mailbox, or reconnect with the "
                "needed permissions",
                status=status,
                code=code,
            )
        return GraphApiError(
            self.label,
            f"Microsoft Graph answered HTTP {status} ({shown}) while trying to {what}",
            status=status,
            code=code,
        )


def _json(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"value": data}
