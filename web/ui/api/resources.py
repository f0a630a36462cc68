"""The API's resources: one serializer and one JSON Schema each (the OpenAPI document is
built from these schemas), and cursor pagination by id."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from scheduler.explain import hours_text
from scheduler.optionjson import iso_z
from web.store.models import Interviewer, Loop, SchedulingRequest
from web.ui.api.problems import ApiProblem


class _Row(Protocol):
    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=_Row)
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


def _when(moment: datetime | None) -> str | None:
    return iso_z(moment) if moment is not None else None


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
INT_OR_NULL = {"type": ["integer", "null"]}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def interviewer_json(row: Interviewer) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "email": row.email,
        "timezone": row.timezone,
        "working_hours": row.working_hours,
        "max_interviews_per_day": row.max_interviews_per_day,
        "max_interviews_per_week": row.max_interviews_per_week,
        "active": row.active,
    }


INTERVIEWER_SCHEMA = _obj(
    {
        "id": INT,
        "key": STR,
        "name": STR,
        "email": STR,
        "timezone": STR,
        "working_hours": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": STR},
        },
        "max_interviews_per_day": INT_OR_NULL,
        "max_interviews_per_week": INT_OR_NULL,
        "active": BOOL,
    }
)


def loop_json(row: Loop) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "order": row.order,
        "min_gap_minutes": row.min_gap_minutes,
        "max_gap_minutes": row.max_gap_minutes,
        "active": row.active,
        "sessions": [
            {
                "name": s.name,
                "duration_minutes": s.duration_minutes,
                "required": s.required,
                "interviewers": [p.key for p in s.pool],
            }
            for s in row.sessions
        ],
    }


LOOP_SCHEMA = _obj(
    {
        "id": INT,
        "key": STR,
        "name": STR,
        "order": {"type": "string", "enum": ["fixed", "any"]},
        "min_gap_minutes": INT,
        "max_gap_minutes": INT,
        "active": BOOL,
        "sessions": {
            "type": "array",
            "items": _obj(
                {
                    "name": STR,
                    "duration_minutes": INT,
                    "required": INT,
                    "interviewers": {"type": "array", "items": STR},
                }
            ),
        },
    }
)


def request_json(row: SchedulingRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "loop_id": row.loop_id,
        "candidate_name": row.candidate_name,
        "candidate_email": row.candidate_email,
        "candidate_tz": row.candidate_tz,
        "status": row.status,
        "live": row.live,
        "from": row.date_from.isoformat(),
        "to": row.date_to.isoformat(),
        "candidate_hours": hours_text((row.candidate_hours_start, row.candidate_hours_end)),
        "created_at": _when(row.created_at),
        "sent_at": _when(row.sent_at),
        "expires_at": _when(row.expires_at),
    }


REQUEST_SCHEMA = _obj(
    {
        "id": INT,
        "loop_id": INT,
        "candidate_name": STR,
        "candidate_email": STR,
        "candidate_tz": {"type": ["string", "null"]},
        "status": STR,
        "live": BOOL,
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "candidate_hours": STR,
        "created_at": TIME_OR_NULL,
        "sent_at": TIME_OR_NULL,
        "expires_at": TIME_OR_NULL,
    }
)

SESSION_SLOT_SCHEMA = _obj(
    {
        "name": STR,
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "interviewers": {"type": "array", "items": STR},
    }
)
SEARCH_RESULT_SCHEMA = {
    "type": "object",
    "required": ["options"],
    "properties": {
        "options": {
            "type": "array",
            "items": _obj(
                {
                    "score": {"type": "number"},
                    "sessions": {"type": "array", "items": SESSION_SLOT_SCHEMA},
                }
            ),
        },
        "why": {"type": "array", "items": {"type": "object"}},
        "suggestions": {"type": "array", "items": {"type": "object"}},
    },
}
SEARCH_BODY_SCHEMA = {
    "type": "object",
    "required": ["from", "to", "candidate_tz"],
    "properties": {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "candidate_tz": STR,
        "candidate_hours": {"type": "string", "default": "08:00-20:00"},
        "limit": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": 20},
    },
    "additionalProperties": False,
}
PROBLEM_SCHEMA = _obj({"type": STR, "title": STR, "status": INT, "detail": STR, "instance": STR})


def page_schema(ref: str) -> dict[str, Any]:
    return _obj(
        {
            "data": {"type": "array", "items": {"$ref": ref}},
            "next_cursor": {"type": ["string", "null"]},
        }
    )


# ---------------------------------------------------------------- cursor pagination


def encode_cursor(after_id: int) -> str:
    raw = json.dumps({"after": after_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiProblem(
            400, f"cursor {text!r} is not a cursor this API gave", field="cursor"
        ) from None
    if not isinstance(after, int) or isinstance(after, bool):
        raise ApiProblem(400, f"cursor {text!r} is not a cursor this API gave", field="cursor")
    return after


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiProblem(
            400, f"limit {text!r}: a whole number from 1 to {MAX_LIMIT}", field="limit"
        )
    return int(text)


def page(
    s: Session,
    query: Select[tuple[T]],
    id_column: Any,
    serialize: Callable[[T], dict[str, Any]],
    *,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """One page of ``query`` by ascending id, and the cursor of the next page (or None)."""
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows: Sequence[T] = list(s.scalars(query.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].id if rows and more else None
    return {
        "data": [serialize(r) for r in rows],
        "next_cursor": encode_cursor(last) if last is not None else None,
    }
