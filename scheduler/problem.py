"""One search prepared: its days, its people and the caches its inner loops share.

Everything is integers: POSIX seconds, local clocks from
:class:`~scheduler.clock.LocalClock`, and each answer (who is free at a start,
a staffing of a partial loop, the comfort, load and cost of those free for a
session at a start) computed once per search.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from scheduler.availability import Person, contains, covered, prepare_person
from scheduler.busy import Busy
from scheduler.clock import DAY, LocalClock, day_number
from scheduler.errors import SearchError
from scheduler.grid import grid_points
from scheduler.localtime import zone
from scheduler.matching import Candidates, Matching, matching
from scheduler.model import Interval, Interviewer, Loop, SessionSpec

MAX_DAYS = 366

# Per session: each pool member with the starts and ends of their closed ranges of
# allowed starts, and whether a daily or weekly cap applies to them.
Pool = list[tuple[str, list[int], list[int], bool]]

# Per person free for a session at a start: their (seat comfort, load), and their cost.
Row = tuple[list[tuple[float, float]], list[float]]


@dataclass(frozen=True)
class Day:
    index: int
    start: int  # candidate's hours on this date, POSIX seconds
    end: int


@dataclass(frozen=True)
class Request:
    candidate_tz: str
    date_from: date
    date_to: date
    now: datetime
    hours: tuple[int, int]
    limit: int


@dataclass
class Problem:
    loop: Loop
    people: dict[str, Person]
    days: list[Day]
    earliest: int
    candidate: LocalClock
    durations: list[int]
    _pools: dict[int, Pool] = field(default_factory=dict)
    _avail: dict[int, dict[int, Candidates]] = field(default_factory=dict)
    _rows: dict[int, dict[int, Row]] = field(default_factory=dict)
    _covered: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    staffings: dict[tuple[tuple[Candidates, ...], tuple[int, ...]], Matching | None] = field(
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

    def grid(self, low: int, high: int) -> Iterator[int] | range:
        """Grid points in ``[low, high]``; a plain range when the grid divides the day."""
        step = self.step
        if DAY % step == 0:
            return range(-(-low // step) * step, high + 1, step)
        return grid_points(low, high, step)

    def available_cache(self, session: int) -> dict[int, Candidates]:
        """What :meth:`available` has found for ``session`` so far, by start."""
        try:
            return self._avail[session]
        except KeyError:
            cache = self._avail[session] = {}
            return cache

    def available(self, session: int, start: int) -> Candidates:
        """The pool members of ``session`` who can sit in it from ``start`` (cached)."""
        cache = self.available_cache(session)
        found = cache.get(start)
        if found is None:
            found = cache[start] = tuple(
                [
                    person
                    for person, lows, highs, capped in self._pool(session)
                    if (index := bisect_right(lows, start) - 1) >= 0
                    and start <= highs[index]
                    and (not capped or self.people[person].under_cap(start))
                ]
            )
        return found

    def _pool(self, session: int) -> Pool:
        if session not in self._pools:
            need = self.durations[session]
            pool = []
            for member in self.sessions[session].pool:
                who = self.people[member]
                ranges = who.starts(need)
                pool.append((member, [a for a, _ in ranges], [b for _, b in ranges], who.capped))
            self._pools[session] = pool
        return self._pools[session]

    def first_starts(self, session: int) -> list[tuple[int, int]]:
        """Closed ranges where enough of the pool could start ``session``."""
        if session not in self._covered:
            need = self.durations[session]
            spec = self.sessions[session]
            if spec.required == len(spec.pool):  # everyone: narrow person by person
                common = self.people[spec.pool[0]].starts(need)
                for member in spec.pool[1:]:
                    common = self.people[member].starts_within(need, common)
                self._covered[session] = common
            else:
                lists = [self.people[p].starts(need) for p in spec.pool]
                self._covered[session] = covered(lists, spec.required)
        return self._covered[session]

    def head_available(self, session: int, start: int) -> Candidates:
        """:meth:`available` for a loop's first session at a start from :meth:`first_starts`:
        when the whole pool is required, everyone can start there but for their caps."""
        spec = self.sessions[session]
        if spec.required < len(spec.pool) or not contains(self.first_starts(session), start):
            return self.available(session, start)
        cache = self.available_cache(session)
        found = cache.get(start)
        if found is None:
            people = self.people
            found = cache[start] = tuple(
                [p for p in spec.pool if not people[p].capped or people[p].under_cap(start)]
            )
        return found

    def staffing(
        self,
        avail: tuple[Candidates, ...],
        required: tuple[int, ...],
        prefix: Matching | None = None,
    ) -> Matching | None:
        """A complete matching of the sessions so far, or None (cached). With more than
        one session, ``prefix`` is the (complete) matching of all but the last."""
        key = (avail, required)  # a hit costs one lookup (one hash of the key)
        try:
            return self.staffings[key]
        except KeyError:
            found = self.staffings[key] = matching(avail, required, prefix)
            return found

    def row(self, session: int, start: int) -> Row:
        """The parts and staffing costs (load less comfort) of those free for ``session``
        at ``start``, in the order of :meth:`available` (cached)."""
        try:
            cache = self._rows[session]
        except KeyError:
            cache = self._rows[session] = {}
        found = cache.get(start)
        if found is None:
            end, people = start + self.durations[session], self.people
            parts = [people[p].parts(start, end) for p in self.available(session, start)]
            found = cache[start] = (parts, [load - seat for seat, load in parts])
        return found


def validate(loop: Loop, interviewers: Mapping[str, Interviewer], request: Request) -> None:
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


def _days(request: Request, clock: LocalClock) -> list[Day]:
    first = day_number(request.date_from)
    count = (request.date_to - request.date_from).days + 1
    low, high = request.hours
    return [
        Day(index, clock.instant(first + index, low), clock.instant(first + index, high))
        for index in range(count)
    ]


def earliest_start(moment: datetime) -> int:
    """The first whole POSIX second a session may start at, ``moment`` being the notice's
    end (read to the microsecond, then rounded up)."""
    return -(-int(moment.timestamp() * 1_000_000) // 1_000_000)


def make_problem(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Busy],
    booked: Mapping[str, Sequence[Interval]],
    request: Request,
) -> Problem:
    clocks = {request.candidate_tz: LocalClock(zone(request.candidate_tz))}
    days = _days(request, clocks[request.candidate_tz])
    notice = timedelta(hours=loop.settings.min_notice_hours)
    earliest = earliest_start(request.now + notice)
    # A session lies inside the candidate's hours of one day, and starts after ``earliest``:
    # only working spans that overlap these hours matter.
    horizon = (max(days[0].start, earliest), max(days[-1].end, earliest))
    pad = (loop.settings.buffer_before_minutes * 60, loop.settings.buffer_after_minutes * 60)
    people = {}
    for member in sorted({m for spec in loop.sessions for m in spec.pool}):
        who = interviewers[member]
        if who.timezone not in clocks:
            clocks[who.timezone] = LocalClock(zone(who.timezone))
        clock = clocks[who.timezone]
        mine, booked_here = busy.get(member, ()), booked.get(member, ())
        people[member] = prepare_person(who, mine, booked_here, horizon, pad, clock)
    durations = [s.duration_minutes * 60 for s in loop.sessions]
    return Problem(loop, people, days, earliest, clocks[request.candidate_tz], durations)


__all__ = ["Day", "Problem", "Request", "earliest_start", "make_problem", "validate"]
