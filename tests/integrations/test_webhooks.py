"""Outbound Standard Webhooks: signing and delivery to a loopback receiver (real HTTP).

The receiver verifies every request with ``standardwebhooks.Webhook.verify``,
as a customer's endpoint would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from integrations.errors import IntegrationError
from integrations.webhooks import (
    RETRY_SCHEDULE,
    Outcome,
    WebhookMessage,
    deliver,
    generate_secret,
    new_message_id,
    next_attempt_at,
    signed_headers,
)

SECRET = generate_secret()
BODY_SECRET = "internal-stack-trace-and-token-xyz"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Receiver:
    """``status`` decides the answer; ``hold`` keeps the answer back until released."""

    status: int = 200
    location: str = ""
    verified: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    hold: threading.Event | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.headers.append(headers)
        try:
            self.verified.append(Webhook(SECRET).verify(request.get_data(), headers))
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
        if self.hold is not None:
            self.hold.wait(10)
        response = Response(BODY_SECRET, status=self.status)
        if self.location:
            response.headers["Location"] = self.location
        return response(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    server = make_server("127.0.0.1", 0, rec, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield rec, f"http://127.0.0.1:{server.server_port}/hooks"
    if rec.hold is not None:
        rec.hold.set()
    server.shutdown()
    server.server_close()


def allow_all(url: str) -> None:
    return None


def message(event_type: str = "booking.created") -> WebhookMessage:
    data = {"booking_id": 42, "candidate": "Dana", "sessions": [{"start": "2027-03-02T14:00Z"}]}
    return WebhookMessage(new_message_id(), event_type, data, datetime(2027, 3, 1, tzinfo=UTC))


def now() -> datetime:
    # Webhook.verify checks the timestamp against the real clock (5 minutes' tolerance).
    return datetime.now(UTC)


def test_a_delivery_is_signed_and_verifies(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    msg = message()
    result = deliver(url, SECRET, msg, now=now(), url_guard=allow_all, allow_private=True)
    assert result.outcome is Outcome.DELIVERED and result.delivered
    assert (result.response_code, result.error, result.next_attempt_at) == (200, "", None)
    assert rec.rejected == []
    assert rec.verified == [
        {
            "type": "booking.created",
            "timestamp": "2027-03-01T00:00:00Z",
            "data": {
                "booking_id": 42,
                "candidate": "Dana",
                "sessions": [{"start": "2027-03-02T14:00Z"}],
            },
        }
    ]
    sent = rec.headers[0]
    assert sent["webhook-id"] == msg.msg_id
    assert sent["webhook-signature"].startswith("v1,")
    assert sent["content-type"] == "application/json"


def test_a_retry_keeps_the_message_id(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    msg = message()
    deliver(url, SECRET, msg, now=now(), url_guard=allow_all, allow_private=True)
    second = deliver(
        url, SECRET, msg, now=now(), url_guard=allow_all, allow_private=True, attempt=2
    )
    assert second.attempt == 2
    assert [h["webhook-id"] for h in rec.headers] == [msg.msg_id, msg.msg_id]


def test_another_secret_does_not_verify(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    deliver(url, generate_secret(), message(), now=now(), url_guard=allow_all, allow_private=True)
    assert rec.verified == [] and rec.rejected == ["No matching signature found"]


def test_a_failed_answer_is_logged_without_its_body(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.status = 500
    at = now()
    result = deliver(
        url, SECRET, message(), now=at, url_guard=allow_all, allow_private=True, attempt=3
    )
    assert result.outcome is Outcome.FAILED
    assert (result.response_code, result.error) == (500, "HTTP 500")
    assert BODY_SECRET not in repr(result)
    assert result.next_attempt_at == at + RETRY_SCHEDULE[2]


def test_a_redirect_is_not_followed(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.status, rec.location = 302, "http://169.254.169.254/latest/meta-data/"
    result = deliver(url, SECRET, message(), now=now(), url_guard=allow_all, allow_private=True)
    assert result.outcome is Outcome.FAILED and result.response_code == 302
    assert len(rec.headers) == 1


def test_a_slow_endpoint_times_out(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.hold = threading.Event()
    result = deliver(
        url, SECRET, message(), now=now(), url_guard=allow_all, allow_private=True, timeout=0.2
    )
    rec.hold.set()
    assert result.outcome is Outcome.FAILED and result.response_code is None
    assert result.error == "no answer within 0.2 s"


def test_no_server_is_a_failure_to_retry(refused_port: int) -> None:
    url = f"http://127.0.0.1:{refused_port}/hooks"
    result = deliver(url, SECRET, message(), now=now(), url_guard=allow_all, allow_private=True)
    assert (result.outcome, result.error) == (Outcome.FAILED, "could not connect")
    assert result.next_attempt_at is not None


class GuardRefusal(IntegrationError):
    pass


@pytest.mark.parametrize("error", [ValueError("127.0.0.1 is local"), GuardRefusal("private")])
def test_the_url_guard_is_asked_first(receiver: tuple[Receiver, str], error: Exception) -> None:
    rec, url = receiver
    asked: list[str] = []

    def guard(candidate: str) -> None:
        asked.append(candidate)
        raise error

    result = deliver(url, SECRET, message(), now=now(), url_guard=guard)
    assert asked == [url] and rec.headers == []
    assert result.outcome is Outcome.REFUSED and result.next_attempt_at is None
    assert str(error) in result.error


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http:///nohost", "https://user:pw@example.com/hook"]
)
def test_unusable_urls_are_refused_without_a_request(url: str) -> None:
    result = deliver(url, SECRET, message(), now=now(), url_guard=allow_all, allow_private=True)
    assert result.outcome is Outcome.REFUSED and "pw" not in result.error


def test_headers_match_the_library_and_the_schedule_ends() -> None:
    at = datetime(2027, 3, 1, 12, 0, 5, tzinfo=UTC)
    headers = signed_headers(SECRET, "msg_1", b"{}", at)
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert headers["webhook-signature"] == Webhook(SECRET).sign("msg_1", at, b"{}")
    assert next_attempt_at(len(RETRY_SCHEDULE) + 1, at) is None
    assert next_attempt_at(1, at) == at + timedelta(seconds=5)


def test_messages_check_their_inputs() -> None:
    with pytest.raises(ValueError):
        WebhookMessage("msg_1", "booking.exploded", {}, datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        WebhookMessage("msg_1", "booking.created", {}, datetime(2027, 1, 1)).body()
    assert generate_secret(lambda n: b"\0" * n) == "whsec_" + "A" * 43 + "="
