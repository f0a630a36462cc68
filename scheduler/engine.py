"""Slot search: the loop options for a request, ranked and diversified.

The search walks candidate-local days and grid starts, extends a loop one
session at a time inside the allowed gaps, and prunes a partial loop as soon
as its sessions can no longer be staffed (a bipartite matching test). With a
limit, each (day, first start) keeps only its best completion; ``limit=0``
returns every valid option. Only the options returned become
:class:`~scheduler.model.Option` objects.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from scheduler.busy import Busy
from scheduler.checks import check_option
from scheduler.clock import DAY, LocalClock
from scheduler.intervals import from_seconds, to_seconds
from scheduler.localtime import zone
from scheduler.matching import (
    Candidates,
    Matching,
    all_assignments,
    best_assignment,
    count_assignments,
)
from scheduler.model import Interval, Interviewer, Loop, Option, SessionSlot
from scheduler.multiday import Chains, Piece, multi_day
from scheduler.problem import Day, Problem, Request, make_problem, validate
from scheduler.ranking import (
    Ranked,
    comfort,
    comfort_at,
    compactness,
    score,
    select,
    soonness,
)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Route:
    """One order of the sessions, with what the walk needs at each depth ``d``
    (sessions placed so far, minus one)."""

    order: tuple[int, ...]
    required: tuple[tuple[int, ...], ...]  # the first d + 1 sessions' demands
    lengths: tuple[int, ...]  # the duration of the d-th session placed
    rest: tuple[int, ...]  # time the sessions after the d-th need, with their least gaps
    gaps: tuple[int, int]  # least and most seconds between sessions
    step: int  # the grid in seconds when it divides the day (a plain range), else 0


def _routes(problem: Problem) -> list[Route]:
    indices = tuple(range(len(problem.sessions)))
    orders = list(itertools.permutations(indices)) if problem.loop.order == "any" else [indices]
    low_gap = problem.gaps[0]
    routes = []
    for order in orders:
        demands = [problem.sessions[k].required for k in order]
        lengths = [problem.durations[k] for k in order]
        routes.append(
            Route(
                order,
                tuple(tuple(demands[: d + 1]) for d in range(len(order))),
                tuple(lengths),
                tuple(
                    sum(lengths[d + 1 :]) + low_gap * max(0, len(order) - d - 2)
                    for d in range(len(order))
                ),
                problem.gaps,
                problem.step if DAY % problem.step == 0 else 0,
            )
        )
    return routes


class Timing(NamedTuple):
    order: tuple[int, ...]
    starts: tuple[int, ...]
    avail: tuple[Candidates, ...]
    staffing: Matching  # one complete matching of the sessions


def _walk(
    problem: Problem,
    day: Day,
    route: Route,
    starts: tuple[int, ...],
    avail: tuple[Candidates, ...],
    found: list[Timing],
    first_only: bool,
    prefix: Matching | None = None,
) -> bool:
    """Every staffable timing of ``route`` that begins with ``starts`` into ``found``;
    True once one is found when ``first_only``. ``prefix`` staffs all but the last start."""
    depth = len(starts) - 1
    required = route.required[depth]
    staffing = problem.staffing(avail, required, prefix)
    if staffing is None:
        return False
    if depth + 1 == len(route.order):
        found.append(Timing(route.order, starts, avail, staffing))
        return first_only
    low_gap, high_gap = route.gaps
    end = starts[-1] + route.lengths[depth]
    nxt, need = route.order[depth + 1], route.required[depth + 1][-1]
    low, high = end + low_gap, min(end + high_gap, day.end - route.rest[depth])
    step = route.step
    grid = range(-(-low // step) * step, high + 1, step) if step else problem.grid(low, high)
    known = problem.available_cache(nxt)
    for start in grid:
        here = known.get(start)
        if here is None:
            here = problem.available(nxt, start)
        if len(here) < need:  # too few free for the next session
            continue
        more = (*starts, start), (*avail, here)
        if _walk(problem, day, route, *more, found, first_only, staffing):
            return True
    return False


def _heads(problem: Problem, routes: list[Route]) -> tuple[list[int], list[int]]:
    """Where a loop can start (enough of a first session's pool is free), as the starts
    and ends of merged closed ranges."""
    heads = sorted({route.order[0] for route in routes})
    merged: list[list[int]] = []
    for start, end in sorted(r for h in heads for r in problem.first_starts(h)):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [start for start, _ in merged], [end for _, end in merged]


def _timings(
    problem: Problem,
    routes: list[Route],
    heads: tuple[list[int], list[int]],
    day: Day,
    first_only: bool,
) -> Iterator[list[Timing]]:
    """For each first start on ``day``: the timings found (only the first per order
    when ``first_only``)."""
    low_gap = problem.gaps[0]
    total = sum(problem.durations) + low_gap * (len(problem.durations) - 1)
    low, high = max(day.start, problem.earliest), day.end - total
    for first in _grid_in(problem, heads, low, high):
        found: list[Timing] = []
        for route in routes:
            head = problem.head_available(route.order[0], first)
            if len(head) >= route.required[0][0]:
                _walk(problem, day, route, (first,), (head,), found, first_only)
        if found:
            yield found


def _grid_in(
    problem: Problem, heads: tuple[list[int], list[int]], low: int, high: int
) -> Iterator[int]:
    """Grid points in ``[low, high]`` inside the merged closed ranges ``heads``."""
    starts, ends = heads
    for index in range(bisect_left(ends, low), len(starts)):
        if starts[index] > high:
            return
        yield from problem.grid(max(starts[index], low), min(ends[index], high))


# One way to hold the loop, before it becomes an Option: its day, timing and staffing.
Plan = tuple[Day, Timing, tuple[Candidates, ...]]


def _build(problem: Problem, day: Day, timing: Timing, every: bool) -> list[tuple[Ranked, Plan]]:
    """Plans for one timing: the best staffing, or every staffing when ``every``."""
    required = [problem.sessions[k].required for k in timing.order]
    both = [problem.row(k, s) for k, s in zip(timing.order, timing.starts, strict=True)]
    if every:
        staffings = list(all_assignments(timing.avail, required, staffed=True))
    else:
        costs = [prices for _, prices in both]
        best = best_assignment(timing.avail, required, costs, timing.staffing)
        staffings = [best] if best is not None else []
    if not staffings:
        return []
    shared = _shared(problem, day, timing)
    rows = [parts for parts, _ in both]
    return [(_rank(shared, timing, rows, chosen), (day, timing, chosen)) for chosen in staffings]


class Shared(NamedTuple):
    """What every staffing of one timing shares in its rank."""

    day: int
    first: int
    last: int
    seat: float  # the candidate's comfort
    compact: float
    soon: float
    names: list[str]


def _shared(problem: Problem, day: Day, timing: Timing) -> Shared:
    first = timing.starts[0]
    last = timing.starts[-1] + problem.durations[timing.order[-1]]
    seat = comfort_at(problem.candidate.minute(first), first, last, day.start, day.end)
    compact = compactness(sum(problem.durations), last - first)
    soon = soonness(day.index, len(problem.days))
    names = [problem.sessions[k].name for k in timing.order]
    return Shared(day.index, first, last, seat, compact, soon, names)


def _rank(
    shared: Shared,
    timing: Timing,
    rows: list[list[tuple[float, float]]],
    chosen: tuple[Candidates, ...],
) -> Ranked:
    """The rank of one staffing; ``rows[k]`` holds the parts of ``timing.avail[k]``."""
    pairs = [
        row[avail.index(person)]
        for people, avail, row in zip(chosen, timing.avail, rows, strict=True)
        for person in people
    ]
    seats = [seat for seat, _ in pairs]
    seats.append(shared.seat)
    load = 1 - sum([load for _, load in pairs]) / len(pairs) if pairs else 1.0
    value = score(comfort(seats), shared.compact, load, shared.soon)
    key = tuple(zip(shared.names, chosen, strict=True))
    return Ranked(value, shared.day, shared.first, shared.last, key)


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
    ``booked`` maps interviewer id -> interviews already booked, counted against
    ``max_interviews_per_day`` (per local day) and ``max_interviews_per_week`` (per
    local ISO week) and in the load (they should also be in ``busy``).
    ``candidate_hours`` are minutes after local midnight in ``candidate_tz``;
    ``date_from``/``date_to`` are candidate-local dates, both inclusive.
    """
    request = Request(candidate_tz, date_from, date_to, now, candidate_hours, limit)
    validate(loop, interviewers, request)
    if len(loop.blocks()) > 1:
        return _multi_day(loop, interviewers, busy, booked or {}, request)
    problem = make_problem(loop, interviewers, busy, booked or {}, request)
    built = list(_generate(problem, Mode.EVERY)) if limit == 0 else _enough(problem, limit)
    plans = {id(ranked): plan for ranked, plan in built}
    return [_option(problem, r, plans[id(r)]) for r in select([r for r, _ in built], limit)]


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
    request = Request(candidate_tz, date_from, date_to, now, candidate_hours, 0)
    validate(loop, interviewers, request)
    if len(loop.blocks()) > 1:
        return len(_multi_day(loop, interviewers, busy, booked or {}, request))
    problem = make_problem(loop, interviewers, busy, booked or {}, request)
    routes = _routes(problem)
    heads = _heads(problem, routes)
    total = 0
    for day in problem.days:
        for group in _timings(problem, routes, heads, day, first_only=False):
            for timing in group:
                required = [problem.sessions[k].required for k in timing.order]
                total += count_assignments(timing.avail, required)
    return total


def _multi_day(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Busy],
    booked: Mapping[str, Sequence[Interval]],
    request: Request,
) -> list[Option]:
    """A loop of several blocks: each searched as a one-day loop, then chained by date."""

    def search(block: Loop, every: bool) -> list[Piece]:
        problem = make_problem(block, interviewers, busy, booked, request)
        mode = Mode.EVERY if every else Mode.BEST
        return [
            (ranked, _option(problem, ranked, plan), request.date_from + ranked.day_index * ONE_DAY)
            for ranked, plan in _generate(problem, mode)
        ]

    days = (request.date_to - request.date_from).days + 1
    chains = Chains(loop, interviewers, booked, days)
    built = multi_day(chains, search, request.limit)
    options = {id(ranked): option for ranked, option in built}
    return [options[id(r)] for r in select([r for r, _ in built], request.limit)]


class Mode:
    """How much of the search space to turn into options."""

    BEST = "best"  # one option per (day, first start): its best order, timing and staffing
    TIMINGS = "timings"  # every order and timing, each with its best staffing
    EVERY = "every"  # every order, timing and staffing


def _generate(problem: Problem, mode: str) -> Iterator[tuple[Ranked, Plan]]:
    routes = _routes(problem)
    heads = _heads(problem, routes)
    for day in problem.days:
        for group in _timings(problem, routes, heads, day, first_only=mode == Mode.BEST):
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
    if len(built) >= limit:
        return built
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


__all__ = ["check_option", "count_options", "find_options", "pick_diverse"]
