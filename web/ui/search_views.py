"""The request form's search as the coordinator sees it: the fields as typed, the engine's
explanation when too few options fit, and each suggestion as a button that posts the
form again with that one change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scheduler.explain import Explanation, Suggestion, hours_text
from web.domain.usecases.draft_search import LOOP_CHANGES, ChangeError, LoopChange
from web.store.models import SchedulingRequest

FIELDS = (
    "candidate_name",
    "candidate_email",
    "candidate_tz",
    "loop",
    "date_from",
    "date_to",
    "hours",
    "note",
)
FORM_FIELD = {"to": "date_to", "candidate_hours": "hours"}  # suggestions that are form fields


@dataclass(frozen=True)
class TryButton:
    """One suggestion: its label, the count it gives, and the fields its form posts."""

    label: str
    options: int
    fields: dict[str, str]


def typed(form: Mapping[str, str]) -> dict[str, str]:
    """The request form's fields as the coordinator typed them."""
    return {name: str(form.get(name, "")) for name in FIELDS}


def of_request(req: SchedulingRequest) -> dict[str, str]:
    """A draft's fields as the request form takes them."""
    return {
        "candidate_name": req.candidate_name,
        "candidate_email": req.candidate_email,
        "candidate_tz": req.candidate_tz or "",
        "loop": str(req.loop_id),
        "date_from": req.date_from.isoformat(),
        "date_to": req.date_to.isoformat(),
        "hours": hours_text((req.candidate_hours_start, req.candidate_hours_end)),
        "note": req.note,
        "replaces": str(req.id),
    }


def label(s: Suggestion) -> str:
    if s.parameter == "to":
        return f"Search until {s.value}"
    if s.parameter == "candidate_hours":
        return f"Candidate hours {s.value}"
    if s.parameter == "max_gap_minutes":
        return f"Allow gaps of up to {s.value} min"
    if s.parameter == "required":
        return f"{s.value} interviewer(s) in {s.session}"
    return "Sessions in any order"


def buttons(explanation: Explanation | None, fields: dict[str, str]) -> list[TryButton]:
    """A button per suggestion, posting ``fields`` with that one change."""
    out = []
    for s in explanation.suggestions if explanation else ():
        posted = dict(fields)
        if s.parameter in FORM_FIELD:
            posted[FORM_FIELD[s.parameter]] = str(s.value)
            posted["tried"] = s.parameter
        else:
            posted["change_parameter"] = s.parameter
            posted["change_session"] = s.session or ""
            posted["change_value"] = str(s.value)
        out.append(TryButton(label(s), s.options, posted))
    return out


def change_of(form: Mapping[str, str]) -> LoopChange | None:
    """The loop change a suggestion button posted (None: none); raises ChangeError."""
    parameter = str(form.get("change_parameter", "")).strip()
    if not parameter:
        return None
    if parameter not in LOOP_CHANGES:
        raise ChangeError("change_parameter", parameter, "not a change that can be tried")
    session = str(form.get("change_session", "")).strip() or None
    return LoopChange(parameter, session, str(form.get("change_value", "")).strip())


def tried_note(form: Mapping[str, str], count: int) -> str | None:
    """What the preview says after a suggestion's re-run (None: it was a plain search)."""
    tried = str(form.get("tried", ""))
    if tried in FORM_FIELD:
        what = "the later end date" if tried == "to" else "the wider candidate hours"
        return f"With {what}: {count} option(s)."
    return None
