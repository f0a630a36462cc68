"""A coordinator's search for a new request, with the engine's explanation when it finds
too few options, and a re-run with one of the engine's suggested changes.

A change of ``to`` or ``candidate_hours`` is a change of what the coordinator typed (the
form carries it); a change of the loop (``max_gap_minutes``, ``required``, ``order``) is
applied to this one search only: the stored loop is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import SchedulerError
from scheduler.explain import LATER_DAYS, Explanation, Search, explain, needs_explaining
from scheduler.explain import Hold as EngineHold
from scheduler.model import Interval, Loop, Option
from web.domain import services
from web.domain.engine_values import loop_picture
from web.store.models import Hold, Interviewer, SchedulingRequest

LOOP_CHANGES = ("max_gap_minutes", "required", "order")
FORM_CHANGES = ("to", "candidate_hours")


class ChangeError(ValueError):
    """A suggested change that cannot apply; ``field`` and ``value`` name it."""

    def __init__(self, field: str, value: str, message: str) -> None:
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field} {value!r}: {message}")


@dataclass(frozen=True)
class LoopChange:
    """One change of the loop, for one search: ``parameter`` of LOOP_CHANGES."""

    parameter: str
    session: str | None
    value: str

    def describe(self) -> str:
        if self.parameter == "max_gap_minutes":
            return f"gaps of up to {self.value} minutes between sessions"
        if self.parameter == "required":
            return f"{self.value} interviewer(s) in {self.session}"
        return "the sessions in any order"


@dataclass(frozen=True)
class Criteria:
    """What one search takes (the form's fields, already validated)."""

    loop_id: int
    candidate_tz: str
    date_from: date
    date_to: date
    hours: tuple[int, int]


@dataclass(frozen=True)
class Found:
    options: list[Option]
    explanation: Explanation | None  # None: enough options, nothing to explain


def _number(change: LoopChange, low: int, high: int) -> int:
    try:
        n = int(change.value)
    except ValueError:
        raise ChangeError(change.parameter, change.value, "not a whole number") from None
    if not low <= n <= high:
        raise ChangeError(change.parameter, change.value, f"must be {low} to {high}")
    return n


def apply_change(loop: Loop, change: LoopChange | None) -> Loop:
    """``loop`` with ``change`` (raises :class:`ChangeError` when it does not fit)."""
    if change is None:
        return loop
    if change.parameter == "max_gap_minutes":
        return replace(loop, max_gap_minutes=_number(change, loop.min_gap_minutes, 1440))
    if change.parameter == "order":
        if change.value != "any":
            raise ChangeError("order", change.value, 'only "any" can be tried')
        return replace(loop, order="any")
    if change.parameter != "required":
        raise ChangeError("parameter", change.parameter, "not a change that can be tried")
    names = [spec.name for spec in loop.sessions]
    if change.session not in names:
        raise ChangeError("session", change.session or "", "no such session in the loop")
    index = names.index(change.session)
    spec = loop.sessions[index]
    sessions = list(loop.sessions)
    sessions[index] = replace(spec, required=_number(change, 1, spec.required))
    return replace(loop, sessions=tuple(sessions))


def holds_of(
    s: Session, people: dict[int, str], window: Interval, now: datetime, exclude: int | None
) -> dict[str, list[EngineHold]]:
    """Other requests' live holds of ``people`` in ``window``, each named by its request."""
    q = (
        select(Hold.interviewer_id, Hold.start, Hold.end, Hold.request_id, SchedulingRequest)
        .join(SchedulingRequest, SchedulingRequest.id == Hold.request_id)
        .where(
            Hold.interviewer_id.in_(list(people)),
            Hold.start < window.end,
            Hold.end > window.start,
            (Hold.expires_at.is_(None)) | (Hold.expires_at > now),
        )
    )
    if exclude is not None:
        q = q.where(Hold.request_id != exclude)
    out: dict[str, list[EngineHold]] = {}
    for iid, start, end, rid, req in s.execute(q):
        name = f"request #{rid} ({req.candidate_name})"
        out.setdefault(people[iid], []).append(EngineHold(Interval(start, end), name))
    return out


def engine_search(
    s: Session,
    criteria: Criteria,
    *,
    now: datetime,
    change: LoopChange | None = None,
    exclude_request_id: int | None = None,
) -> Search:
    """The engine's search for ``criteria``: busy time, bookings, and holds by request."""
    picture = loop_picture(s, criteria.loop_id)
    if picture.loop is None:
        raise services.SearchProblem("loop", picture.problem)
    rows = s.scalars(select(Interviewer).where(Interviewer.key.in_(list(picture.interviewers))))
    people = {row.id: row.key for row in rows}
    reach = criteria.date_to + timedelta(days=LATER_DAYS)  # a later 'to' is looked for
    window = services.search_window(criteria.date_from, reach)
    pic = services.load_busy(s, people, window, now=now, include_holds=False)
    return Search(
        loop=apply_change(picture.loop, change),
        interviewers=picture.interviewers,
        busy=pic.busy,
        candidate_tz=criteria.candidate_tz,
        date_from=criteria.date_from,
        date_to=criteria.date_to,
        now=now,
        candidate_hours=criteria.hours,
        booked=pic.booked,
        holds=holds_of(s, people, window, now, exclude_request_id),
    )


def find(
    s: Session,
    criteria: Criteria,
    *,
    now: datetime,
    limit: int,
    wanted: int,
    change: LoopChange | None = None,
    exclude_request_id: int | None = None,
) -> Found:
    """Up to ``limit`` options; with fewer than ``wanted``, the engine's explanation."""
    search = engine_search(
        s, criteria, now=now, change=change, exclude_request_id=exclude_request_id
    )
    try:
        options = search.options(limit)
        if not needs_explaining(len(options), wanted):
            return Found(options, None)
        found = len(options) if len(options) < limit or limit == 0 else None
        return Found(options, explain(search, wanted, found))
    except SchedulerError as exc:
        raise services.SearchProblem("search", str(exc)) from None
