"""The one JSON shape of options (``panelslot slots --json``, the API's search, stored offers).

``{"options": [{"score", "sessions": [{"name", "start", "end", "interviewers"}]}],
"why": [...], "suggestions": [...]}``: times in UTC with ``Z``; ``why`` and
``suggestions`` only when an explanation was asked for or given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheduler.explain import Explanation
from scheduler.model import Option


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sessions_json(option: Option) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "start": iso_z(s.start),
            "end": iso_z(s.end),
            "interviewers": list(s.interviewers),
        }
        for s in option.sessions
    ]


def option_json(option: Option) -> dict[str, object]:
    return {"score": option.score, "sessions": sessions_json(option)}


def slots_json(options: list[Option], reasons: Explanation | None) -> dict[str, object]:
    result: dict[str, object] = {"options": [option_json(o) for o in options]}
    if reasons is not None:
        result["why"] = [w.as_json() for w in reasons.why]
        result["suggestions"] = [s.as_json() for s in reasons.suggestions]
    return result
