"""``POST /api/v1/loops/{id}/search``: the parameters of ``panelslot slots`` as JSON, the
answer in its ``--json`` shape (one serializer), the explanation when options fall short.
``Idempotency-Key`` replays the stored answer of the same body, 409 for another body."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, g, request

from scheduler.localtime import parse_range
from scheduler.optionjson import slots_json
from web.domain import services
from web.domain.usecases import api_tokens, draft_search
from web.store.models import Loop
from web.ui.api.problems import ApiProblem
from web.ui.api.resources import MAX_LIMIT
from web.ui.api.views import bp
from web.ui.helpers import db_session, now

FIELDS = ("from", "to", "candidate_tz", "candidate_hours", "limit")


def _body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        raise ApiProblem(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "the body must be a JSON object")
    extra = sorted(set(body) - set(FIELDS))
    if extra:
        raise ApiProblem(
            422, f"unknown field {extra[0]!r} (known: {', '.join(FIELDS)})", field=extra[0]
        )
    return body


def _date(body: dict[str, Any], field: str) -> date:
    value = body.get(field)
    try:
        return date.fromisoformat(value) if isinstance(value, str) else date.fromisoformat("")
    except ValueError:
        raise ApiProblem(422, f"{field} {value!r}: a date YYYY-MM-DD", field=field) from None


def _zone(value: object) -> str:
    try:
        if isinstance(value, str) and value:
            ZoneInfo(value)
            return value
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ApiProblem(422, f"candidate_tz {value!r}: not an IANA time zone", field="candidate_tz")


def _criteria(loop_id: int, body: dict[str, Any]) -> tuple[draft_search.Criteria, int]:
    first, last = _date(body, "from"), _date(body, "to")
    if last < first:
        raise ApiProblem(422, f"to {last}: before from {first}", field="to")
    hours_text = body.get("candidate_hours", "08:00-20:00")
    try:
        hours = parse_range(hours_text) if isinstance(hours_text, str) else parse_range("")
    except ValueError as exc:
        raise ApiProblem(
            422, f"candidate_hours {hours_text!r}: {exc}", field="candidate_hours"
        ) from None
    limit = body.get("limit", 20)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_LIMIT:
        raise ApiProblem(
            422, f"limit {limit!r}: a whole number from 0 to {MAX_LIMIT}", field="limit"
        )
    zone = _zone(body.get("candidate_tz"))
    return draft_search.Criteria(loop_id, zone, first, last, hours), limit


def _search(loop_id: int) -> dict[str, object]:
    s = db_session()
    if s.get(Loop, loop_id) is None:
        raise ApiProblem(404, f"no loop has id {loop_id}")
    criteria, limit = _criteria(loop_id, _body())
    try:
        found = draft_search.find(s, criteria, now=now(), limit=limit, wanted=limit)
    except services.SearchProblem as exc:
        raise ApiProblem(422, exc.message, field=exc.field) from None
    return slots_json(found.options, found.explanation)


@bp.post("/loops/<int:lid>/search")
def search(lid: int) -> Response:
    key = request.headers.get("Idempotency-Key")
    s = db_session()
    token_id = g.api_token.id
    raw = request.get_data()
    if key is not None:
        if not 1 <= len(key) <= 200:
            raise ApiProblem(400, "Idempotency-Key: 1 to 200 characters", field="Idempotency-Key")
        try:
            stored = api_tokens.replay(s, token_id, key, raw)
        except api_tokens.KeyReused as exc:
            raise ApiProblem(409, str(exc), field="Idempotency-Key") from None
        if stored is not None:
            return Response(stored.response, status=stored.status, mimetype="application/json")
    text = json.dumps(_search(lid))
    if key is not None:
        api_tokens.remember(s, token_id, key, raw, 200, text, now())
        s.commit()
    return Response(text, status=200, mimetype="application/json")
