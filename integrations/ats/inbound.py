"""Ashby's inbound webhooks: verify the signature, parse the event, spot repeats.

Documented by Ashby (developers.ashbyhq.com):

* *Authenticating Webhooks*: with a secret token set, each request carries
  ``Ashby-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body keyed by
  the token; the part before ``=`` names the algorithm.
* *Common Payload Data*: every payload is ``{"webhookActionId", "action",
  "data"}``; ``webhookActionId`` is the same across retries of one event.
* The ``candidateStageChange`` payload's ``data.application`` holds the
  candidate (``name``, ``primaryEmailAddress.value``), the ``job`` and the
  ``currentInterviewStage``.

Nothing here stores anything: :func:`receive_webhook` takes a ``seen``
predicate, and the app records the event id once it has acted on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.ats.errors import WebhookPayloadError, WebhookRejected
from integrations.ats.model import OtherEvent, StageChange

SIGNATURE_HEADER = "Ashby-Signature"
STAGE_CHANGE = "candidateStageChange"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> None:
    """Raise :class:`WebhookRejected` unless ``header`` signs ``body`` with ``secret``.

    The comparison is constant-time (:func:`hmac.compare_digest`).
    """
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise WebhookRejected("no_secret", "no webhook secret is configured")
    if not header:
        raise WebhookRejected("missing_signature", f"the {SIGNATURE_HEADER} header is missing")
    algorithm, sep, digest = header.strip().partition("=")
    if not sep or not digest:
        raise WebhookRejected("malformed_signature", "the signature is not '<algorithm>=<hex>'")
    if algorithm.lower() != "sha256":
        raise WebhookRejected("unsupported_algorithm", f"unsupported algorithm {algorithm!r}")
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), digest.strip().lower().encode()):
        raise WebhookRejected("bad_signature", "the signature does not match the body")


def _field(obj: Any, path: str) -> Any:
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text(obj: Any, path: str, *, required: bool = True) -> str | None:
    value = _field(obj, path)
    if value is None or value == "":
        if required:
            raise WebhookPayloadError(path, "missing")
        return None
    if not isinstance(value, str):
        raise WebhookPayloadError(path, f"expected a string, got {type(value).__name__}")
    return value


def _stage_change(event_id: str, app: Any) -> StageChange:
    if not isinstance(app, dict):
        raise WebhookPayloadError("data.application", "missing")
    email = _text(app, "candidate.primaryEmailAddress.value", required=False)
    return StageChange(
        event_id=event_id,
        application_id=str(_text(app, "id")),
        candidate_id=str(_text(app, "candidate.id")),
        candidate_name=str(_text(app, "candidate.name")),
        candidate_email=email.strip().lower() if email else None,
        job_id=str(_text(app, "job.id")),
        job_title=_text(app, "job.title", required=False) or "",
        stage_id=str(_text(app, "currentInterviewStage.id")),
        stage_title=_text(app, "currentInterviewStage.title", required=False) or "",
        stage_type=_text(app, "currentInterviewStage.type", required=False) or "",
        plan_id=_text(app, "currentInterviewStage.interviewPlanId", required=False),
    )


def parse_event(body: bytes) -> StageChange | OtherEvent:
    """The typed event of a (verified) webhook body."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookPayloadError("$", f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("$", "not a JSON object")
    action = _text(payload, "action")
    event_id = _text(payload, "webhookActionId", required=action == STAGE_CHANGE)
    if action != STAGE_CHANGE:
        return OtherEvent(event_id=event_id, action=str(action))
    try:
        return _stage_change(str(event_id), _field(payload, "data.application"))
    except WebhookPayloadError as exc:
        if exc.field.startswith("data."):
            raise
        raise WebhookPayloadError(f"data.application.{exc.field}", exc.message) from None


def first_delivery(event_id: str | None, seen: Callable[[str], bool]) -> bool:
    """Whether this is the first delivery of the event (``seen`` is the app's store).

    An event without an id (Ashby's ping) cannot repeat anything we acted on.
    """
    return event_id is None or not seen(event_id)


@dataclass(frozen=True)
class InboundWebhook:
    """A verified, parsed webhook; ``duplicate`` means: acknowledge, do nothing."""

    event: StageChange | OtherEvent
    duplicate: bool


def receive_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | bytes,
    seen: Callable[[str], bool],
) -> InboundWebhook:
    """Verify, parse and de-duplicate one delivery, in that order.

    Raises :class:`WebhookRejected` (answer 401) or :class:`WebhookPayloadError`
    (answer 400, or 200 to stop retries of a body we will never understand).
    """
    verify_signature(secret, body, _header(headers, SIGNATURE_HEADER))
    event = parse_event(body)
    return InboundWebhook(event=event, duplicate=not first_delivery(event.event_id, seen))


def sign_body(secret: str | bytes, body: bytes) -> str:
    """The ``Ashby-Signature`` value Ashby would send for ``body`` (for emulators)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
