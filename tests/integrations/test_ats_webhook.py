"""Ashby's inbound stage-change webhook: HMAC verification, parsing, de-duplication.

The last tests deliver through real HTTP: the emulator signs and POSTs like
Ashby, a loopback receiver verifies with :func:`receive_webhook`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from integrations.ats.errors import WebhookPayloadError, WebhookRejected
from integrations.ats.inbound import (
    first_delivery,
    parse_event,
    receive_webhook,
    sign_body,
    verify_signature,
)
from integrations.ats.model import OtherEvent, StageChange
from tests.integrations.ats_emulator import AshbyEmulator

SECRET = "8b943c474f5d1e1712f13e1a870b485c9b6b2b57"


def envelope(action: str = "candidateStageChange", **data: Any) -> bytes:
    application = {
        "id": "app-1",
        "candidate": {
            "id": "cand-1",
            "name": "Dana Candidate",
            "primaryEmailAddress": {"value": "Dana@Example.org", "type": "Work", "isPrimary": True},
        },
        "job": {"id": "job-1", "title": "First Designer"},
        "currentInterviewStage": {
            "id": "stage-2",
            "title": "Onsite",
            "type": "Active",
            "orderInInterviewPlan": 2,
            "interviewPlanId": "plan-1",
        },
    }
    body = {"webhookActionId": "evt-1", "action": action, "data": {"application": application}}
    body["data"].update(data)
    return json.dumps(body).encode()


def test_the_documented_digest_is_accepted() -> None:
    body = envelope()
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    verify_signature(SECRET, body, header)
    verify_signature(SECRET.encode(), body, header.upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("f3124911d2956f10", "malformed_signature"),
        ("sha256=", "malformed_signature"),
        ("sha1=f3124911d2956f10aa3a49c43a88bdf13bba846e", "unsupported_algorithm"),
        ("sha256=" + "0" * 64, "bad_signature"),
    ],
)
def test_bad_signatures_are_rejected_with_a_reason(header: str | None, reason: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(SECRET, envelope(), header)
    assert caught.value.reason == reason


def test_a_tampered_body_or_another_secret_fails() -> None:
    header = sign_body(SECRET, envelope())
    with pytest.raises(WebhookRejected):
        verify_signature(SECRET, envelope().replace(b"Dana", b"Eve"), header)
    with pytest.raises(WebhookRejected):
        verify_signature("another-secret", envelope(), header)
    with pytest.raises(WebhookRejected) as caught:
        verify_signature("", envelope(), header)
    assert caught.value.reason == "no_secret"


def test_a_stage_change_parses_into_a_typed_event() -> None:
    event = parse_event(envelope())
    assert event == StageChange(
        event_id="evt-1",
        application_id="app-1",
        candidate_id="cand-1",
        candidate_name="Dana Candidate",
        candidate_email="dana@example.org",
        job_id="job-1",
        job_title="First Designer",
        stage_id="stage-2",
        stage_title="Onsite",
        stage_type="Active",
        plan_id="plan-1",
    )


def test_other_actions_and_pings_are_not_stage_changes() -> None:
    assert parse_event(envelope("applicationUpdate")) == OtherEvent("evt-1", "applicationUpdate")
    ping = json.dumps({"action": "ping", "data": {"webhookActionType": "ping"}}).encode()
    assert parse_event(ping) == OtherEvent(None, "ping")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "$"),
        (b"[]", "$"),
        (b'{"action": "candidateStageChange", "data": {}}', "webhookActionId"),
        (b'{"webhookActionId": "e", "action": "candidateStageChange"}', "data.application"),
        (b'{"webhookActionId": "e", "data": {}}', "action"),
    ],
)
def test_unusable_bodies_name_the_missing_field(body: bytes, field: str) -> None:
    with pytest.raises(WebhookPayloadError) as caught:
        parse_event(body)
    assert caught.value.field == field


def test_a_candidate_without_email_or_name() -> None:
    body = json.loads(envelope())
    del body["data"]["application"]["candidate"]["primaryEmailAddress"]
    assert parse_event(json.dumps(body).encode()).candidate_email is None  # type: ignore[union-attr]
    del body["data"]["application"]["candidate"]["name"]
    with pytest.raises(WebhookPayloadError) as caught:
        parse_event(json.dumps(body).encode())
    assert caught.value.field == "data.application.candidate.name"


def test_repeats_are_spotted_with_the_apps_seen_predicate() -> None:
    seen: set[str] = set()
    body = envelope()
    headers = {"ashby-signature": sign_body(SECRET, body)}  # any header case
    first = receive_webhook(body, headers, SECRET, seen.__contains__)
    assert first.duplicate is False
    seen.add(str(first.event.event_id))
    assert receive_webhook(body, headers, SECRET, seen.__contains__).duplicate is True
    assert first_delivery(None, seen.__contains__) is True


def test_verification_comes_before_parsing() -> None:
    with pytest.raises(WebhookRejected):
        receive_webhook(b"not json", {}, SECRET, lambda _id: False)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Receiver:
    """A loopback endpoint doing what the web app's inbound route will do."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.accepted: list[StageChange | OtherEvent] = []
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, request_handler=_Quiet)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/ashby"

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            with self.lock:
                result = receive_webhook(
                    request.get_data(), dict(request.headers), SECRET, self.seen.__contains__
                )
                if not result.duplicate:
                    self.accepted.append(result.event)
                    if result.event.event_id:
                        self.seen.add(result.event.event_id)
            response = Response("duplicate" if result.duplicate else "ok", status=200)
        except WebhookRejected as exc:
            response = Response(exc.reason, status=401)
        except WebhookPayloadError as exc:
            response = Response(exc.field, status=400)
        return response(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def test_a_delivery_over_http_is_verified_and_deduplicated(receiver: Receiver) -> None:
    with AshbyEmulator() as emu:
        emu.add_job_plan("job-1", "Engineering", [{"title": "Onsite", "interviews": []}])
        app = emu.add_application("job-1", "Dana Candidate", "dana@example.org")
        data = emu.stage_change(app)
        first = emu.send_webhook(
            receiver.url, "candidateStageChange", data, secret=SECRET, action_id="act-1"
        )
        retry = emu.send_webhook(
            receiver.url, "candidateStageChange", data, secret=SECRET, action_id="act-1"
        )
        forged = emu.send_webhook(receiver.url, "candidateStageChange", data, secret="guess")
        unsigned = emu.send_webhook(receiver.url, "candidateStageChange", data, secret=None)
    assert (first.status_code, first.text) == (200, "ok")
    assert (retry.status_code, retry.text) == (200, "duplicate")
    assert (forged.status_code, forged.text) == (401, "bad_signature")
    assert (unsigned.status_code, unsigned.text) == (401, "missing_signature")
    (event,) = receiver.accepted
    assert isinstance(event, StageChange)
    assert (event.application_id, event.candidate_email, event.job_id) == (
        app,
        "dana@example.org",
        "job-1",
    )
