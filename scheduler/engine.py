"""Slot search: the loop options for a request, ranked and diversified.

The search walks candidate-local days and grid starts, extends a loop one
session at a time inside the allowed gaps, and prunes a partial loop as soon
as its sessions can no longer be staffed (a bipartite matching test). With a
limit, each (day, first start) keeps only its best completion; ``limit=0``
returns every valid option.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from scheduler.availability import (
    Person,
    busy_fraction,
    contains,
    covered,
    prepare_person,
)
from scheduler.checks import check_option
from scheduler.errors import SearchError
from scheduler.grid import grid_points
from scheduler.intervals import from_seconds, to_seconds
from scheduler.localtime import local_instant, zone
from scheduler.matching import Candidates, all_assignments, best_assignment, feasible
from scheduler.model import Interval, Interviewer, Loop, Option, SessionSlot, SessionSpec
from scheduler.ranking import (
    Ranked,
    Seat,
    combine,
    comfort,
    compactness,
    seat_comfort,
    select,
    soonness,
)

MAX_DAYS = 366


@dataclass(frozen=True)
class Day:
    index: int
    date: date
    start: int  # candidate's hours on this date, POSIX seconds
    end: int


@dataclass
class Problem:
    loop: Loop
    people: dict[str, Person]
    days: list[Day]
    earliest: int
    candidate_tz: str
    durations: list[int]
    _avail: dict[tuple[int, int], Candidates] = field(default_factory=dict)
    _covered: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    _feasible: dict[tuple[tuple[Candidates, ...], tuple[int, ...]], bool] = field(
        default_factory=dict
    )

    @property
    def sessions(self) -> tuple[SessionSpec, ...]:
        return self.loop.sessions

    @property
    def step(self) -> int:
        return self.loop.settings.granularity_minutes * 60

    @property
    def gaps(self) -> tuple[int, int]:
        return self.loop.min_gap_minutes * 60, self.loop.max_gap_minutes * 60

    def available(self, session: int, start: int) -> Candidates:
        key = (session, start)
        if key not in self._avail:
            need = self.durations[session]
            self._avail[key] = tuple(
                p
                for p in self.sessions[session].pool
                if contains(self.people[p].starts(need), start) and self.people[p].under_cap(start)
            )
        return self._avail[key]

    def first_starts(self, session: int) -> list[tuple[int, int]]:
        """Closed ranges where enough of the pool could start ``session``."""
        if session not in self._covered:
            need = self.durations[session]
            spec = self.sessions[session]
            lists = [self.people[p].starts(need) for p in spec.pool]
            self._covered[session] = covered(lists, spec.required)
        return self._covered[session]

    def staffable(self, avail: tuple[Candidates, ...], required: tuple[int, ...]) -> bool:
        key = (avail, required)
        if key not in self._feasible:
            self._feasible[key] = feasible(avail, required)
        return self._feasible[key]


def _validate(loop: Loop, interviewers: Mapping[str, Interviewer], request: _Request) -> None:
    if request.date_to < request.date_from:
        raise SearchError(
            "to", request.date_to.isoformat(), "the end date is before the start date"
        )
    if (request.date_to - request.date_from).days >= MAX_DAYS:
        raise SearchError("to", request.date_to.isoformat(), f"search at most {MAX_DAYS} days")
    low, high = request.hours
    if not 0 <= low < high <= 1440:
        raise SearchError("candidate_hours", request.hours, "expected a range within one day")
    if request.now.tzinfo is None:
        raise SearchError("now", request.now.isoformat(), "give an aware datetime")
    if request.limit < 0:
        raise SearchError("limit", request.limit, "must be 0 (all) or more")
    for spec in loop.sessions:
        for member in spec.pool:
            if member not in interviewers:
                raise SearchError(
                    "interviewers", member, f"session {spec.name!r} names an unknown interviewer"
                )
    try:
        zone(request.candidate_tz)
    except (ValueError, KeyError, OSError):
        raise SearchError("candidate_tz", request.candidate_tz, "unknown time zone") from None


@dataclass(frozen=True)
class _Request:
    candidate_tz: str
    date_from: date
    date_to: date
    now: datetime
    hours: tuple[int, int]
    limit: int


def _days(request: _Request) -> list[Day]:
    tz = zone(request.candidate_tz)
    count = (request.date_to - request.date_from).days + 1
    days = []
    for index in range(count):
        day = request.date_from + timedelta(days=index)
        start = to_seconds(local_instant(day, request.hours[0], tz))
        end = to_seconds(local_instant(day, request.hours[1], tz))
        days.append(Day(index, day, start, end))
    return days


def _problem(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Sequence[Interval]],
    booked: Mapping[str, Sequence[Interval]],
    request: _Request,
) -> Problem:
    days = _days(request)
    horizon = Interval(from_seconds(days[0].start - 86400), from_seconds(days[-1].end + 86400))
    pad = (loop.settings.buffer_before_minutes * 60, loop.settings.buffer_after_minutes * 60)
    members = {m for spec in loop.sessions for m in spec.pool}
    people = {
        m: prepare_person(interviewers[m], busy.get(m, ()), booked.get(m, ()), horizon, pad)
        for m in sorted(members)
    }
    notice = timedelta(hours=loop.settings.min_notice_hours)
    earliest = -(-int((request.now + notice).timestamp() * 1_000_000) // 1_000_000)
    durations = [s.duration_minutes * 60 for s in loop.sessions]
    return Problem(loop, people, days, earliest, request.candidate_tz, durations)


def _orders(loop: Loop) -> list[tuple[int, ...]]:
    indices = tuple(range(len(loop.sessions)))
    if loop.order == "any":
        return list(itertools.permutations(indices))
    return [indices]


@dataclass(frozen=True)
class Timing:
    order: tuple[int, ...]
    starts: tuple[int, ...]
    avail: tuple[Candidates, ...]


def _extend(
    problem: Problem,
    day: Day,
    order: tuple[int, ...],
    starts: tuple[int, ...],
    avail: tuple[Candidates, ...],
) -> Iterator[Timing]:
    depth = len(starts)
    session = order[depth - 1]
    required = tuple(problem.sessions[k].required for k in order[:depth])
    if len(avail[-1]) < required[-1] or not problem.staffable(avail, required):
        return
    if depth == len(order):
        yield Timing(order, starts, avail)
        return
    low_gap, high_gap = problem.gaps
    end = starts[-1] + problem.durations[session]
    rest = sum(problem.durations[k] for k in order[depth:]) + low_gap * (len(order) - depth - 1)
    nxt = order[depth]
    for start in grid_points(end + low_gap, min(end + high_gap, day.end - rest), problem.step):
        yield from _extend(
            problem, day, order, (*starts, start), (*avail, problem.available(nxt, start))
        )


def _timings(problem: Problem, day: Day, first_only: bool) -> Iterator[list[Timing]]:
    """For each first start on ``day``: the timings found (only the first per order
    when ``first_only``)."""
    low_gap = problem.gaps[0]
    total = sum(problem.durations) + low_gap * (len(problem.durations) - 1)
    orders = _orders(problem.loop)
    low, high = max(day.start, problem.earliest), day.end - total
    heads = sorted({order[0] for order in orders})
    spans = sorted(r for h in heads for r in problem.first_starts(h))
    for first in _grid_in(spans, low, high, problem.step):
        found: list[Timing] = []
        for order in orders:
            walk = _extend(problem, day, order, (first,), (problem.available(order[0], first),))
            found.extend(itertools.islice(walk, 1) if first_only else walk)
        if found:
            yield found


def _grid_in(spans: list[tuple[int, int]], low: int, high: int, step: int) -> Iterator[int]:
    """Grid points in ``[low, high]`` inside the closed ``spans`` (sorted by start), once each."""
    last = low - 1
    for start, end in spans:
        begin, finish = max(start, low, last + 1), min(end, high)
        for point in grid_points(begin, finish, step):
            last = point
            yield point


def _seat(problem: Problem, person: str, start: int, end: int) -> Seat:
    who = problem.people[person]
    span = who.working_span(start, end) or (start, end)
    return Seat(who.tz, start, end, span[0], span[1])


def _load(problem: Problem, person: str, start: int, end: int) -> float:
    who = problem.people[person]
    span = who.working_span(start, end) or (start, end)
    booked = who.booked_days.get(who.local_date(start), 0)
    return min(1.0, busy_fraction(who, span) + 0.25 * booked)


def _cost(problem: Problem, timing: Timing, position: int, person: str) -> float:
    start = timing.starts[position]
    end = start + problem.durations[timing.order[position]]
    return _load(problem, person, start, end) - seat_comfort(_seat(problem, person, start, end))


def _build(problem: Problem, day: Day, timing: Timing, every: bool) -> list[tuple[Ranked, Option]]:
    """Options for one timing: the best staffing, or every staffing when ``every``."""
    required = [problem.sessions[k].required for k in timing.order]
    if every:
        staffings = list(all_assignments(timing.avail, required))
    else:
        best = best_assignment(
            timing.avail, required, lambda pos, p: _cost(problem, timing, pos, p)
        )
        staffings = [best] if best is not None else []
    return [_option(problem, day, timing, chosen) for chosen in staffings]


def _option(
    problem: Problem, day: Day, timing: Timing, chosen: tuple[Candidates, ...]
) -> tuple[Ranked, Option]:
    slots = []
    seats: list[Seat] = []
    loads: list[float] = []
    for position, people in enumerate(chosen):
        spec = problem.sessions[timing.order[position]]
        start = timing.starts[position]
        end = start + problem.durations[timing.order[position]]
        slots.append(SessionSlot(spec.name, from_seconds(start), from_seconds(end), people))
        seats.extend(_seat(problem, p, start, end) for p in people)
        loads.extend(_load(problem, p, start, end) for p in people)
    first, last = timing.starts[0], to_seconds(slots[-1].end)
    seats.append(Seat(zone(problem.candidate_tz), first, last, day.start, day.end))
    score = combine(
        {
            "comfort": comfort(seats),
            "compact": compactness(sum(problem.durations), last - first),
            "load": 1 - sum(loads) / len(loads) if loads else 1.0,
            "soon": soonness(day.index, len(problem.days)),
        }
    )
    key = tuple((s.name, s.interviewers) for s in slots)
    return Ranked(score, day.index, first, last, key), Option(score, tuple(slots))


def find_options(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Sequence[Interval]],
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (8 * 60, 20 * 60),
    limit: int = 20,
    booked: Mapping[str, Sequence[Interval]] | None = None,
) -> list[Option]:
    """Ranked options of ``loop``; ``limit=0`` returns every valid option.

    ``busy`` maps interviewer id -> busy intervals (any order, may overlap).
    ``booked`` maps interviewer id -> interviews already booked, counted
    against ``max_interviews_per_day`` (they should also be in ``busy``).
    ``candidate_hours`` are minutes after local midnight in ``candidate_tz``;
    ``date_from``/``date_to`` are candidate-local dates, both inclusive.
    """
    request = _Request(candidate_tz, date_from, date_to, now, candidate_hours, limit)
    _validate(loop, interviewers, request)
    problem = _problem(loop, interviewers, busy, booked or {}, request)
    built = list(_generate(problem, Mode.EVERY)) if limit == 0 else _enough(problem, limit)
    options = {id(ranked): option for ranked, option in built}
    return [options[id(r)] for r in select([r for r, _ in built], limit)]


def count_options(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Sequence[Interval]],
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (8 * 60, 20 * 60),
    booked: Mapping[str, Sequence[Interval]] | None = None,
) -> int:
    """How many options ``find_options(..., limit=0)`` returns, without building them."""
    request = _Request(candidate_tz, date_from, date_to, now, candidate_hours, 0)
    _validate(loop, interviewers, request)
    problem = _problem(loop, interviewers, busy, booked or {}, request)
    timings = (t for day in problem.days for g in _timings(problem, day, False) for t in g)
    return sum(
        sum(1 for _ in all_assignments(t.avail, [problem.sessions[k].required for k in t.order]))
        for t in timings
    )


class Mode:
    """How much of the search space to turn into options."""

    BEST = "best"  # one option per (day, first start): its best order, timing and staffing
    TIMINGS = "timings"  # every order and timing, each with its best staffing
    EVERY = "every"  # every order, timing and staffing


def _generate(problem: Problem, mode: str) -> Iterator[tuple[Ranked, Option]]:
    for day in problem.days:
        for group in _timings(problem, day, first_only=mode == Mode.BEST):
            results = [r for t in group for r in _build(problem, day, t, mode == Mode.EVERY)]
            if mode == Mode.BEST and results:
                results = [min(results, key=lambda r: (-r[0].score, r[0].key))]
            yield from results


def _identity(option: Option) -> tuple[object, ...]:
    return tuple((s.name, s.start, s.interviewers) for s in option.sessions)


def _widening_modes(loop: Loop) -> list[str]:
    """The modes that can add options to the best-per-start set of ``loop``."""
    modes = []
    if len(loop.sessions) > 1:  # other orders or gaps after the same first start
        modes.append(Mode.TIMINGS)
    if any(spec.required < len(spec.pool) for spec in loop.sessions):
        modes.append(Mode.EVERY)  # other staffings of the same timing
    return modes


def _enough(problem: Problem, limit: int) -> list[tuple[Ranked, Option]]:
    """The best option of each (day, first start); when that gives fewer than ``limit``,
    more orders and timings, then more staffings, until there are ``limit`` or no more."""
    built = list(_generate(problem, Mode.BEST))
    seen = {_identity(option) for _, option in built}
    for mode in _widening_modes(problem.loop):
        if len(built) >= limit:
            break
        for ranked, option in _generate(problem, mode):
            if _identity(option) not in seen:
                seen.add(_identity(option))
                built.append((ranked, option))
                if len(built) >= limit and mode == Mode.EVERY:
                    break
    return built


def pick_diverse(options: Sequence[Option], limit: int, candidate_tz: str) -> list[Option]:
    """The ``limit`` options to show first out of ``options``, chosen as the engine
    chooses its own list: every candidate-local day gets a turn before any gets a
    second, and picks on one day are spaced; the result is ordered best first."""
    tz = zone(candidate_tz)
    by_item = {}
    for index, option in enumerate(options):
        day = option.start.astimezone(tz).date().toordinal()
        start, end = to_seconds(option.start), to_seconds(option.end)
        by_item[Ranked(option.score, day, start, end, (index,))] = option
    return [by_item[item] for item in select(list(by_item), limit)]


__all__ = ["check_option", "count_options", "find_options", "pick_diverse"]
