"""Why a loop has too few options, and which single relaxations would give more.

Every suggestion is verified: its ``options`` is the number of options
``find_options(..., limit=0)`` returns with that one change applied. The
``value`` of a suggestion has the form the parameter takes on the command line
or in the configuration file: ``to`` a ``YYYY-MM-DD`` date, ``candidate_hours``
an ``HH:MM-HH:MM`` range, ``max_gap_minutes`` and ``required`` integers and
``order`` the string ``"any"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from scheduler.engine import count_options, find_options
from scheduler.localtime import format_minutes
from scheduler.model import Interval, Interviewer, Loop, Option
from scheduler.problem import MAX_DAYS

LATER_DAYS = 14  # how far past ``to`` a later end date is looked for
WIDEN_MINUTES = 120  # candidate hours are widened by at most this much at either end
GAP_REACH_MINUTES = 240  # a larger max gap is looked for up to this much above the current


@dataclass(frozen=True)
class Hold:
    """Time another request holds for an interviewer; ``request`` names that request."""

    interval: Interval
    request: str


@dataclass(frozen=True)
class Search:
    """Everything one ``find_options`` call takes, plus other requests' holds."""

    loop: Loop
    interviewers: Mapping[str, Interviewer]
    busy: Mapping[str, Sequence[Interval]]
    candidate_tz: str
    date_from: date
    date_to: date
    now: datetime
    candidate_hours: tuple[int, int] = (8 * 60, 20 * 60)
    booked: Mapping[str, Sequence[Interval]] = field(default_factory=dict)
    holds: Mapping[str, Sequence[Hold]] = field(default_factory=dict)

    def all_busy(self) -> dict[str, list[Interval]]:
        """Busy time with the holds added: what the engine must avoid."""
        merged = {person: list(spans) for person, spans in self.busy.items()}
        for person, holds in self.holds.items():
            merged.setdefault(person, []).extend(h.interval for h in holds)
        return merged

    def options(self, limit: int = 0) -> list[Option]:
        return find_options(
            self.loop,
            self.interviewers,
            self.all_busy(),
            candidate_tz=self.candidate_tz,
            date_from=self.date_from,
            date_to=self.date_to,
            now=self.now,
            candidate_hours=self.candidate_hours,
            limit=limit,
            booked=self.booked,
        )

    def count(self) -> int:
        """The number of options ``limit=0`` gives."""
        return count_options(
            self.loop,
            self.interviewers,
            self.all_busy(),
            candidate_tz=self.candidate_tz,
            date_from=self.date_from,
            date_to=self.date_to,
            now=self.now,
            candidate_hours=self.candidate_hours,
            booked=self.booked,
        )


@dataclass(frozen=True)
class Suggestion:
    parameter: str  # "to", "candidate_hours", "max_gap_minutes", "required" or "order"
    session: str | None
    value: str | int
    options: int

    def as_json(self) -> dict[str, object]:
        return {
            "parameter": self.parameter,
            "session": self.session,
            "value": self.value,
            "options": self.options,
        }


@dataclass(frozen=True)
class Why:
    session: str
    constraint: str  # a key of scheduler.explain_why.CONSTRAINTS
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"session": self.session, "constraint": self.constraint, "detail": self.detail}


@dataclass(frozen=True)
class Explanation:
    found: int
    why: tuple[Why, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()


def needs_explaining(found: int, limit: int) -> bool:
    """Whether ``found`` options fall short of what ``limit`` asked (0 = all)."""
    return found == 0 or (limit > 0 and found < limit)


def hours_text(hours: tuple[int, int]) -> str:
    return f"{format_minutes(hours[0])}-{format_minutes(hours[1])}"


# --- the relaxations -------------------------------------------------------------------


class Prefilter(Protocol):
    """What :class:`scheduler.explain_reach.Reach` answers: whether a relaxation can give
    an option at all (a necessary condition; a search still counts every suggestion)."""

    def possible(self, loop: Loop | None = None, hours: tuple[int, int] | None = None) -> bool:
        """Whether ``loop`` (the search's by default) with the candidate's ``hours`` can."""

    def day_possible(self, day: date) -> bool:
        """Whether the search's loop can have an option on ``day``."""


def suggest_to(search: Search, found: int, reach: Prefilter) -> list[Suggestion]:
    """The earliest later ``to`` date that adds options, one cheap day at a time."""
    furthest = search.date_from + timedelta(days=MAX_DAYS - 1)
    last = min(search.date_to + timedelta(days=LATER_DAYS), furthest)
    day = search.date_to + timedelta(days=1)
    while day <= last:
        if reach.day_possible(day) and replace(search, date_from=day, date_to=day).options(1):
            count = replace(search, date_to=day).count()
            if count > found:
                return [Suggestion("to", None, day.isoformat(), count)]
        day += timedelta(days=1)
    return []


def _widened(search: Search, hours: tuple[int, int], found: int) -> Suggestion | None:
    if hours == search.candidate_hours:
        return None
    count = replace(search, candidate_hours=hours).count()
    if count <= found:
        return None
    return Suggestion("candidate_hours", None, hours_text(hours), count)


def _least_widening(search: Search, side: int, found: int, reach: Prefilter) -> Suggestion | None:
    """The least widening at one end (0: earlier start, 1: later end) that adds options:
    the least that can give one at all, then by bisection over whole grid steps up to
    WIDEN_MINUTES (more hours never lose one)."""
    low, high = search.candidate_hours
    step = search.loop.settings.granularity_minutes

    def hours(steps: int) -> tuple[int, int]:
        minutes = min(WIDEN_MINUTES, steps * step)
        return (max(0, low - minutes), high) if side == 0 else (low, min(1440, high + minutes))

    top = -(-WIDEN_MINUTES // step)  # in steps
    lo = 0  # in steps; lo does not work, hi does
    while (
        lo < top
        and hours(lo + 1) != search.candidate_hours
        and not reach.possible(hours=hours(lo + 1))
    ):
        lo += 1
    if lo == top or hours(lo + 1) == search.candidate_hours:
        return None
    best = _widened(search, hours(lo + 1), found)
    if best is not None:
        return best
    lo, hi = lo + 1, top
    best = _widened(search, hours(top), found)
    if best is None:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        tried = _widened(search, hours(mid), found)
        if tried is None:
            lo = mid
        else:
            hi, best = mid, tried
    return best


def suggest_hours(search: Search, found: int, reach: Prefilter) -> list[Suggestion]:
    """Candidate hours starting earlier, or ending later, by the least that adds options."""
    low, high = search.candidate_hours
    sides = (_least_widening(search, 0, found, reach), _least_widening(search, 1, found, reach))
    result = [s for s in sides if s is not None]
    if not result:
        wide = (max(0, low - WIDEN_MINUTES), min(1440, high + WIDEN_MINUTES))
        both = _widened(search, wide, found) if reach.possible(hours=wide) else None
        result.extend([both] if both else [])
    return result


def _gap_values(loop: Loop) -> list[int]:
    """The larger ``max_gap_minutes`` worth trying: the widest gap of an option is a start
    less an end, so with a grid that divides the day only the residues of the durations."""
    step = loop.settings.granularity_minutes
    reach = min(1440, loop.max_gap_minutes + GAP_REACH_MINUTES)
    values = range(loop.max_gap_minutes + 1, reach + 1)
    if 1440 % step:
        return list(values)
    residues = {-s.duration_minutes % step for s in loop.sessions}
    return [v for v in values if v % step in residues]


def suggest_gap(search: Search, found: int, reach: Prefilter) -> list[Suggestion]:
    """The smallest larger ``max_gap_minutes`` that adds options (a larger gap never
    loses one, so the first that adds some is the least)."""
    loop = search.loop
    if len(loop.sessions) < 2 or loop.max_gap_minutes >= 1440:
        return []
    values = _gap_values(loop)
    if not values or not reach.possible(replace(loop, max_gap_minutes=values[-1])):
        return []
    for gap in values:
        wider = replace(loop, max_gap_minutes=gap)
        if reach.possible(wider):
            count = replace(search, loop=wider).count()
            if count > found:
                return [Suggestion("max_gap_minutes", None, gap, count)]
    return []


def suggest_required(search: Search, found: int, reach: Prefilter) -> list[Suggestion]:
    """One fewer interviewer in a session, for each session that needs more than one."""
    loop = search.loop
    result = []
    for index, spec in enumerate(loop.sessions):
        if spec.required <= 1:
            continue
        sessions = list(loop.sessions)
        sessions[index] = replace(spec, required=spec.required - 1)
        fewer = replace(loop, sessions=tuple(sessions))
        if not reach.possible(fewer):
            continue
        count = replace(search, loop=fewer).count()
        if count > found:
            result.append(Suggestion("required", spec.name, spec.required - 1, count))
    return result


def suggest_order(search: Search, found: int, reach: Prefilter) -> list[Suggestion]:
    loop = search.loop
    if loop.order != "fixed" or len(loop.sessions) < 2:
        return []
    anyway = replace(loop, order="any")
    if not reach.possible(anyway):
        return []
    count = replace(search, loop=anyway).count()
    return [Suggestion("order", None, "any", count)] if count > found else []


def suggestions(search: Search, found: int, reach: Prefilter) -> list[Suggestion]:
    """Every single relaxation that gives more than ``found`` options, with its count;
    ``reach`` spares the searches of those that cannot give any."""
    result: list[Suggestion] = []
    for finder in (suggest_to, suggest_hours, suggest_gap, suggest_required, suggest_order):
        result.extend(finder(search, found, reach))
    return result


def explain(search: Search, limit: int, found: int | None = None) -> Explanation:
    """Why ``search`` gives fewer options than ``limit`` asks (0 = all) and what would
    give more; an empty explanation when it gives enough. ``found`` is the count
    ``limit=0`` gives, when the caller already has it."""
    # the per-session half, and the prefilter built on it, are kept in their own modules
    from scheduler.explain_reach import Reach
    from scheduler.explain_why import tables, why

    count = search.count() if found is None else found
    if not needs_explaining(count, limit):
        return Explanation(count)
    later = min(
        search.date_to + timedelta(days=LATER_DAYS), search.date_from + timedelta(days=MAX_DAYS - 1)
    )
    table = tables(search, later)
    reasons = why(search, table)
    return Explanation(
        count, tuple(reasons), tuple(suggestions(search, count, Reach(search, table)))
    )


__all__ = ["Explanation", "Hold", "Search", "Suggestion", "Why", "explain", "needs_explaining"]
