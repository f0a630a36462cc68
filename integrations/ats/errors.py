"""Errors raised by the ATS connectors; each carries the data its message needs."""

from __future__ import annotations

from integrations.errors import IntegrationError


class AtsError(IntegrationError):
    """A call to the ATS failed.

    ``endpoint`` names the call (for Ashby, the RPC name such as
    ``interviewSchedule.create``), ``code`` the ATS's own error code when it
    gave one, ``status`` the HTTP status when there was a response, and
    ``retryable`` whether trying again later may succeed (throttling, an
    outage, a lost connection) as opposed to a request the ATS refused.
    """

    def __init__(
        self,
        endpoint: str,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.message = message
        self.code = code
        self.status = status
        self.retryable = retryable
        super().__init__(f"{endpoint}: {message}")


class AtsAuthError(AtsError):
    """The ATS refused the credentials: the API key must be replaced."""


class WebhookRejected(ValueError):
    """An inbound webhook failed verification; ``reason`` is a stable code.

    Codes: ``no_secret`` (none configured), ``missing_signature``,
    ``malformed_signature``, ``unsupported_algorithm``, ``bad_signature``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


class WebhookPayloadError(ValueError):
    """A verified webhook's body lacks a field we need; ``field`` is its JSON path."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
