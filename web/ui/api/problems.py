"""RFC 9457 problem details: every API error is ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail`` and ``instance`` (never a traceback)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://panelslot.dev/problems/"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
}
SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    422: "invalid",
    429: "rate-limited",
    500: "internal",
}


class ApiProblem(Exception):
    """An API error: ``status`` and ``detail``; ``field`` names the bad input, if any."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        super().__init__(f"{status}: {detail}")


def problem_response(
    status: int, detail: str, *, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + SLUGS.get(status, "error"),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if field is not None:
        body["field"] = field
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def of_problem(err: ApiProblem) -> Response:
    return problem_response(err.status, err.detail, field=err.field, headers=err.headers)


def is_api_path() -> bool:
    return request.path.startswith("/api/")
