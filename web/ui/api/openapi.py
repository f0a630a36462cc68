"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document, built with apispec from the
resources' schemas (:mod:`web.ui.api.resources`) and the route table below."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Response, jsonify

from web.ui.api import resources as res
from web.ui.api.views import bp

ERRORS = {
    "400": "Bad request",
    "401": "No live token",
    "403": "The token lacks the scope",
    "429": "Rate limited (Retry-After)",
}
MORE_ERRORS = {"404": "Not found", "409": "Idempotency-Key reused", "422": "Invalid input"}
PAGE_PARAMS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
RESOURCES = (
    ("interviewers", "Interviewer", res.INTERVIEWER_SCHEMA),
    ("loops", "Loop", res.LOOP_SCHEMA),
    ("requests", "Request", res.REQUEST_SCHEMA),
)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any], *extra: str) -> dict[str, Any]:
    problem = {"$ref": "#/components/schemas/Problem"}
    out: dict[str, Any] = {"200": ok}
    for code in (*ERRORS, *extra):
        text = {**ERRORS, **MORE_ERRORS}[code]
        out[code] = {
            "description": text,
            "content": {"application/problem+json": {"schema": problem}},
        }
    return out


def build_spec() -> dict[str, Any]:
    spec = APISpec(title="panelslot API", version="1", openapi_version="3.1.0")
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", res.PROBLEM_SCHEMA)
    spec.components.schema("SearchBody", res.SEARCH_BODY_SCHEMA)
    spec.components.schema("SearchResult", res.SEARCH_RESULT_SCHEMA)
    for path, name, schema in RESOURCES:
        spec.components.schema(name, schema)
        spec.components.schema(f"{name}Page", res.page_schema(f"#/components/schemas/{name}"))
        page = _json({"$ref": f"#/components/schemas/{name}Page"}, f"A page of {path}")
        one = _json({"$ref": f"#/components/schemas/{name}"}, f"One of {path}")
        spec.path(
            f"/api/v1/{path}",
            operations={"get": {"parameters": PAGE_PARAMS, "responses": _responses(page)}},
        )
        spec.path(
            f"/api/v1/{path}/{{id}}",
            operations={"get": {"parameters": [ID_PARAM], "responses": _responses(one, "404")}},
        )
    body = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchBody"}}}
    }
    key = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
    found = _json(
        {"$ref": "#/components/schemas/SearchResult"}, "Options, as panelslot slots --json"
    )
    spec.path(
        "/api/v1/loops/{id}/search",
        operations={
            "post": {
                "parameters": [ID_PARAM, key],
                "requestBody": body,
                "responses": _responses(found, "404", "409", "422"),
            }
        },
    )
    doc = spec.to_dict()
    doc["security"] = [{"bearer": []}]
    return doc


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())
