"""Outbound webhooks, signed per Standard Webhooks (https://www.standardwebhooks.com).

Each delivery is a JSON ``POST`` with three headers made by the
``standardwebhooks`` package:

* ``webhook-id``: the message id, the same on every retry of one message (so
  the receiver can de-duplicate);
* ``webhook-timestamp``: seconds since the epoch when this attempt was signed;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
  keyed by the endpoint's ``whsec_...`` secret.

The body is the spec's suggested envelope: ``{"type", "timestamp", "data"}``.

:func:`deliver` makes one attempt and reports what happened; the job queue
calls it again at :attr:`DeliveryAttempt.next_attempt_at`. It never follows a
redirect (a redirect could lead past the URL guard), never reads the response
body, and so never puts any of it into an error or the delivery log. Its
connections check the address they reached, as feeds do
(:func:`integrations.urlguard.guarded_session`): one that lands on a private
address (DNS rebinding past the URL guard) is closed before anything is sent,
and the attempt is refused, unless private endpoints are allowed.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests
from standardwebhooks import Webhook

from integrations.backoff import next_in_schedule
from integrations.errors import IntegrationError
from integrations.urlguard import guarded_session, peer_refusal

EVENT_TYPES = (
    "request.sent",
    "request.candidate_replied",
    "booking.created",
    "booking.rescheduled",
    "booking.cancelled",
    "interviewer.declined",
    "booking.repaired",
)
# Delays before attempts 2, 3, ... (the schedule the Standard Webhooks spec suggests).
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
USER_AGENT = "panelslot-webhooks/1"

UrlGuard = Callable[[str], None]
"""Raises ``ValueError`` or an ``IntegrationError`` to refuse a URL (the SSRF guard)."""


def generate_secret(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A new endpoint secret, ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(token_bytes(32)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _utc_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class WebhookMessage:
    """One event for one endpoint; ``msg_id`` stays the same across retries."""

    msg_id: str
    event_type: str
    data: Mapping[str, Any]
    occurred_at: datetime

    def __post_init__(self) -> None:
        if self.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {self.event_type!r}")

    def body(self) -> bytes:
        envelope = {
            "type": self.event_type,
            "timestamp": _utc_text(self.occurred_at),
            "data": self.data,
        }
        return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def signed_headers(secret: str, msg_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` signed at ``now``."""
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    FAILED = "failed"  # no answer, or a non-2xx answer: try again later
    REFUSED = "refused"  # the URL guard refused the URL: do not try again


@dataclass(frozen=True)
class DeliveryAttempt:
    """What one attempt did, for the delivery log (no response body, ever)."""

    msg_id: str
    attempt: int
    outcome: Outcome
    response_code: int | None
    error: str
    attempted_at: datetime
    next_attempt_at: datetime | None

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def next_attempt_at(attempt: int, now: datetime) -> datetime | None:
    """When to try after attempt number ``attempt`` (1-based) failed; ``None``: give up."""
    return next_in_schedule(RETRY_SCHEDULE, attempt, now)


def _check_url(url: str, url_guard: UrlGuard) -> str | None:
    """The reason ``url`` may not be called, or ``None``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the endpoint URL must be http(s) with a host"
    if parts.username or parts.password:
        return "the endpoint URL must not carry credentials"
    try:
        url_guard(url)
    except (ValueError, IntegrationError) as exc:
        return f"refused by the URL guard: {exc}"
    return None


class _PeerRefused(Exception):
    """The connection reached a private address; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _post(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str]:
    try:
        response = session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
    except requests.Timeout:
        return None, f"no answer within {timeout:g} s"
    except requests.ConnectionError as exc:
        peer = peer_refusal(exc)
        if peer is not None:
            raise _PeerRefused(f"refused at connection: {peer}") from None
        return None, "could not connect"
    except requests.RequestException as exc:
        return None, f"request failed ({type(exc).__name__})"
    code = response.status_code
    response.close()  # the body is never read
    if 200 <= code < 300:
        return code, ""
    if 300 <= code < 400:
        return code, f"HTTP {code}: redirects are not followed"
    return code, f"HTTP {code}"


def deliver(
    url: str,
    secret: str,
    message: WebhookMessage,
    *,
    now: datetime,
    url_guard: UrlGuard,
    attempt: int = 1,
    timeout: float = 10.0,
    session: requests.Session | None = None,
    allow_private: bool = False,
    allowed_hosts: Collection[str] = (),
) -> DeliveryAttempt:
    """POST ``message`` to ``url`` once, signed at ``now``; report the attempt.

    Without ``session``, the connection's peer address is checked (a private one is
    refused unless ``allow_private``, or its ``host:port`` is in ``allowed_hosts``); a
    given ``session`` is used as it is."""

    def result(outcome: Outcome, code: int | None, error: str) -> DeliveryAttempt:
        retry = next_attempt_at(attempt, now) if outcome is Outcome.FAILED else None
        return DeliveryAttempt(message.msg_id, attempt, outcome, code, error, now, retry)

    refusal = _check_url(url, url_guard)
    if refusal is not None:
        return result(Outcome.REFUSED, None, refusal)
    body = message.body()
    headers = signed_headers(secret, message.msg_id, body, now)
    http = session
    if http is None:
        http = requests.Session() if allow_private else guarded_session(allowed_hosts)
        http.trust_env = False  # no proxies or .netrc credentials from the environment
    try:
        code, error = _post(http, url, body, headers, timeout)
    except _PeerRefused as refused:
        return result(Outcome.REFUSED, None, refused.reason)
    finally:
        if session is None:
            http.close()
    return result(Outcome.DELIVERED if not error else Outcome.FAILED, code, error)
