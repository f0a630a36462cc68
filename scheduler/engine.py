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
from scheduler.busy import Busy
from scheduler.checks import check_option
from scheduler.clock import DAY, LocalClock, day_number
from scheduler.errors import SearchError
from scheduler.grid import grid_points
from scheduler.intervals import from_seconds, to_seconds
from scheduler.localtime import zone
from scheduler.matching import Candidates, Matching, all_assignments, best_assignment, matching
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
    start: int  # candidate's hours on this date, POSIX seconds
    end: int


@dataclass
class Problem:
    loop: Loop
    people: dict[str, Person]
    days: list[Day]
    earliest: int
    candidate: LocalClock
    durations: list[int]
    _avail: dict[tuple[int, int], Candidates] = field(default_factory=dict)
    _parts: dict[tuple[str, int, int], tuple[float, float]] = field(default_factory=dict)
    _covered: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    _staffings: dict[tuple[tuple[Candidates, ...], tuple[int, ...]], Matching | None] = field(
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

    def staffing(self, avail: tuple[Candidates, ...], required: tuple[int, ...]) -> Matching | None:
        """A complete matching of the sessions so far, or None (cached). A longer loop
        extends the matching of its prefix, which ``_extend`` has always asked for."""
        key = (avail, required)
        if key not in self._staffings:
            prefix = self._staffings.get((avail[:-1], required[:-1])) if len(avail) > 1 else None
            if len(avail) > 1 and prefix is None:
                self._staffings[key] = None
            else:
                self._staffings[key] = matching(avail, required, prefix)
        return self._staffings[key]


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


def _days(request: _Request, clock: LocalClock) -> list[Day]:
    first = day_number(request.date_from)
    count = (request.date_to - request.date_from).days + 1
    low, high = request.hours
    return [
        Day(index, clock.instant(first + index, low), clock.instant(first + index, high))
        for index in range(count)
    ]


def _problem(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Busy],
    booked: Mapping[str, Sequence[Interval]],
    request: _Request,
) -> Problem:
    candidate = LocalClock(zone(request.candidate_tz))
    days = _days(request, candidate)
    horizon = (days[0].start - DAY, days[-1].end + DAY)
    pad = (loop.settings.buffer_before_minutes * 60, loop.settings.buffer_after_minutes * 60)
    members = {m for spec in loop.sessions for m in spec.pool}
    people = {
        m: prepare_person(interviewers[m], busy.get(m, ()), booked.get(m, ()), horizon, pad)
        for m in sorted(members)
    }
    notice = timedelta(hours=loop.settings.min_notice_hours)
    earliest = -(-int((request.now + notice).timestamp() * 1_000_000) // 1_000_000)
    durations = [s.duration_minutes * 60 for s in loop.sessions]
    return Problem(loop, people, days, earliest, candidate, durations)


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
    staffing: Matching  # one complete matching of the sessions


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
    if len(avail[-1]) < required[-1]:
        return
    staffing = problem.staffing(avail, required)
    if staffing is None:
        return
    if depth == len(order):
        yield Timing(order, starts, avail, staffing)
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


def _parts(problem: Problem, person: str, start: int, end: int) -> tuple[float, float]:
    """``person``'s seat comfort and load for a session ``[start, end)`` (cached)."""
    key = (person, start, end)
    parts = problem._parts.get(key)
    if parts is None:
        who = problem.people[person]
        span = who.working_span(start, end) or (start, end)
        seat = seat_comfort(Seat(who.clock.minute(start), start, end, span[0], span[1]))
        booked = who.booked_days.get(who.clock.day(start), 0)
        parts = problem._parts[key] = (seat, min(1.0, busy_fraction(who, span) + 0.25 * booked))
    return parts


def _cost(problem: Problem, timing: Timing, position: int, person: str) -> float:
    start = timing.starts[position]
    seat, load = _parts(problem, person, start, start + problem.durations[timing.order[position]])
    return load - seat


# One way to hold the loop, before it becomes an Option: its day, timing and staffing.
Plan = tuple[Day, Timing, tuple[Candidates, ...]]


def _build(problem: Problem, day: Day, timing: Timing, every: bool) -> list[tuple[Ranked, Plan]]:
    """Plans for one timing: the best staffing, or every staffing when ``every``."""
    required = [problem.sessions[k].required for k in timing.order]
    if every:
        staffings = list(all_assignments(timing.avail, required))
    else:
        best = best_assignment(
            timing.avail, required, lambda pos, p: _cost(problem, timing, pos, p), timing.staffing
        )
        staffings = [best] if best is not None else []
    return [(_rank(problem, day, timing, chosen), (day, timing, chosen)) for chosen in staffings]


def _rank(problem: Problem, day: Day, timing: Timing, chosen: tuple[Candidates, ...]) -> Ranked:
    seats: list[float] = []
    loads: list[float] = []
    for position, people in enumerate(chosen):
        start = timing.starts[position]
        end = start + problem.durations[timing.order[position]]
        for person in people:
            seat, load = _parts(problem, person, start, end)
            seats.append(seat)
            loads.append(load)
    first = timing.starts[0]
    last = timing.starts[-1] + problem.durations[timing.order[-1]]
    seats.append(
        seat_comfort(Seat(problem.candidate.minute(first), first, last, day.start, day.end))
    )
    score = combine(
        {
            "comfort": comfort(seats),
            "compact": compactness(sum(problem.durations), last - first),
            "load": 1 - sum(loads) / len(loads) if loads else 1.0,
            "soon": soonness(day.index, len(problem.days)),
        }
    )
    names = [problem.sessions[k].name for k in timing.order]
    return Ranked(score, day.index, first, last, tuple(zip(names, chosen, strict=True)))


def _option(problem: Problem, ranked: Ranked, plan: Plan) -> Option:
    _, timing, chosen = plan
    slots = []
    for position, people in enumerate(chosen):
        spec = problem.sessions[timing.order[position]]
        start = timing.starts[position]
        end = start + problem.durations[timing.order[position]]
        slots.append(SessionSlot(spec.name, from_seconds(start), from_seconds(end), people))
    return Option(ranked.score, tuple(slots))


def find_options(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Busy],
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

    ``busy`` maps interviewer id -> busy intervals (any order, may overlap), or
    the :class:`~scheduler.busy.BusyIndex` of :func:`~scheduler.busy.prepare_busy`
    for them (the same results; only the spans near the window are read).
    ``booked`` maps interviewer id -> interviews already booked, counted
    against ``max_interviews_per_day`` (they should also be in ``busy``).
    ``candidate_hours`` are minutes after local midnight in ``candidate_tz``;
    ``date_from``/``date_to`` are candidate-local dates, both inclusive.
    """
    request = _Request(candidate_tz, date_from, date_to, now, candidate_hours, limit)
    _validate(loop, interviewers, request)
    problem = _problem(loop, interviewers, busy, booked or {}, request)
    built = list(_generate(problem, Mode.EVERY)) if limit == 0 else _enough(problem, limit)
    plans = {id(ranked): plan for ranked, plan in built}
    return [_option(problem, r, plans[id(r)]) for r in select([r for r, _ in built], limit)]


class Mode:
    """How much of the search space to turn into options."""

    BEST = "best"  # one option per (day, first start): its best order, timing and staffing
    TIMINGS = "timings"  # every order and timing, each with its best staffing
    EVERY = "every"  # every order, timing and staffing


def _generate(problem: Problem, mode: str) -> Iterator[tuple[Ranked, Plan]]:
    for day in problem.days:
        for group in _timings(problem, day, first_only=mode == Mode.BEST):
            results = [r for t in group for r in _build(problem, day, t, mode == Mode.EVERY)]
            if mode == Mode.BEST and results:
                results = [min(results, key=lambda r: (-r[0].score, r[0].key))]
            yield from results


def _identity(plan: Plan) -> tuple[object, ...]:
    _, timing, chosen = plan
    return (timing.order, timing.starts, chosen)


def _widening_modes(loop: Loop) -> list[str]:
    """The modes that can add options to the best-per-start set of ``loop``."""
    modes = []
    if len(loop.sessions) > 1:  # other orders or gaps after the same first start
        modes.append(Mode.TIMINGS)
    if any(spec.required < len(spec.pool) for spec in loop.sessions):
        modes.append(Mode.EVERY)  # other staffings of the same timing
    return modes


def _enough(problem: Problem, limit: int) -> list[tuple[Ranked, Plan]]:
    """The best option of each (day, first start); when that gives fewer than ``limit``,
    more orders and timings, then more staffings, until there are ``limit`` or no more."""
    built = list(_generate(problem, Mode.BEST))
    seen = {_identity(plan) for _, plan in built}
    for mode in _widening_modes(problem.loop):
        if len(built) >= limit:
            break
        for ranked, plan in _generate(problem, mode):
            if _identity(plan) not in seen:
                seen.add(_identity(plan))
                built.append((ranked, plan))
                if len(built) >= limit and mode == Mode.EVERY:
                    break
    return built


def pick_diverse(options: Sequence[Option], limit: int, candidate_tz: str) -> list[Option]:
    """The ``limit`` options to show first out of ``options``, chosen as the engine
    chooses its own list: every candidate-local day gets a turn before any gets a
    second, and picks on one day are spaced; the result is ordered best first."""
    clock = LocalClock(zone(candidate_tz))
    by_item = {}
    for index, option in enumerate(options):
        day = clock.day(to_seconds(option.start))
        start, end = to_seconds(option.start), to_seconds(option.end)
        by_item[Ranked(option.score, day, start, end, (index,))] = option
    return [by_item[item] for item in select(list(by_item), limit)]


__all__ = ["check_option", "find_options", "pick_diverse"]
