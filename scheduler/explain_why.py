"""Per session: which constraint removes the most candidate start times.

A candidate start of a session is a grid start on one of the searched dates
where the candidate's hours, the minimum notice and the gaps to the loop's
neighbouring sessions allow it, and at least ``required`` of its pool can sit
it (working hours, busy time, other requests' holds, daily caps). Lifting one
constraint alone and counting again tells how many starts that constraint
removes; the one that removes the most is the session's "why".
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from scheduler.availability import allowed_starts, contains, prepare_person
from scheduler.explain import Search, Why, hours_text
from scheduler.grid import grid_points
from scheduler.intervals import Span, merge_spans, to_seconds
from scheduler.localtime import local_instant, zone
from scheduler.model import Interval, SessionSpec

CONSTRAINTS = {
    "candidate_hours": "the candidate's hours",
    "working_hours": "interviewers' working hours",
    "busy": "interviewers' busy time",
    "holds": "holds of other requests",
    "daily_cap": "interviewers' daily caps",
    "min_notice": "the minimum notice",
    "gaps": "the gaps allowed between sessions",
    "pool_size": "the pool size against required",
}
# The constraints in tiers: a session's "why" is the constraint whose lifting alone frees the
# most starts in the first tier where any lifting frees some (the first listed wins a tie).
# The candidate's and interviewers' hours frame everything else, so the blockers inside that
# frame come first; the hours are then lifted by widening them by REACH at each end, and only
# when that frees nothing are they lifted wholly (which always frees the whole night).
TIERS: tuple[tuple[tuple[str, frozenset[str]], ...], ...] = (
    tuple(
        (key, frozenset({key}))
        for key in ("holds", "busy", "daily_cap", "min_notice", "pool_size", "gaps")
    ),
    (
        ("candidate_hours", frozenset({"candidate_hours"})),
        ("working_hours", frozenset({"working_hours"})),
    ),
    (
        ("candidate_hours", frozenset({"candidate_hours", "candidate_far"})),
        ("working_hours", frozenset({"working_hours", "working_far"})),
    ),
)
REACH = 2 * 3600


@dataclass(frozen=True)
class Point:
    """One grid start of one session: what rules it out, for the loop and per person."""

    start: int
    loop_fails: frozenset[str]
    person_fails: tuple[frozenset[str], ...]
    blockers: frozenset[str]  # requests whose holds block someone in the pool here


def _spans(intervals: Sequence[Interval]) -> list[Span]:
    return merge_spans((to_seconds(i.start), to_seconds(i.end)) for i in intervals)


class _Pool:
    """Per-person start rules of one search, one duration at a time."""

    def __init__(self, search: Search, horizon: Span) -> None:
        settings = search.loop.settings
        self.search = search
        self.pad = (settings.buffer_before_minutes * 60, settings.buffer_after_minutes * 60)
        self.horizon = horizon
        members = {m for spec in search.loop.sessions for m in spec.pool}
        self.people = {
            m: prepare_person(
                search.interviewers[m], (), search.booked.get(m, ()), horizon, self.pad
            )
            for m in members
        }
        self.busy = {m: _spans(search.busy.get(m, ())) for m in members}
        self.holds = {m: list(search.holds.get(m, ())) for m in members}
        self._cache: dict[tuple[str, int], tuple[list[Span], list[Span], list[Span]]] = {}

    def _ranges(self, member: str, need: int) -> tuple[list[Span], list[Span], list[Span]]:
        """Starts inside working hours, inside them widened by REACH, and clear of busy."""
        key = (member, need)
        if key not in self._cache:
            work = self.people[member].work
            wide = merge_spans((lo - REACH, hi + REACH) for lo, hi in work)
            everywhere = [(self.horizon[0] - 86400, self.horizon[1] + 86400)]
            self._cache[key] = (
                allowed_starts(work, [], need, (0, 0)),
                allowed_starts(wide, [], need, (0, 0)),
                allowed_starts(everywhere, self.busy[member], need, self.pad),
            )
        return self._cache[key]

    def fails(self, member: str, start: int, need: int) -> tuple[frozenset[str], set[str]]:
        person = self.people[member]
        work, wide, clear = self._ranges(member, need)
        found = set()
        if not contains(work, start):
            found.add("working_hours")
            if not contains(wide, start):
                found.add("working_far")
        if not contains(clear, start):
            found.add("busy")
        lo, hi = start - self.pad[0], start + need + self.pad[1]
        blockers = {
            h.request
            for h in self.holds[member]
            if to_seconds(h.interval.start) < hi and lo < to_seconds(h.interval.end)
        }
        if blockers:
            found.add("holds")
        if not person.under_cap(start):
            found.add("daily_cap")
        return frozenset(found), blockers


def _points(search: Search, pool: _Pool, spec: SessionSpec) -> list[Point]:
    tz = zone(search.candidate_tz)
    need = spec.duration_minutes * 60
    step = search.loop.settings.granularity_minutes * 60
    notice = timedelta(hours=search.loop.settings.min_notice_hours)
    earliest = math.ceil((search.now + notice).timestamp())
    present = math.ceil(search.now.timestamp())  # the past stays out when notice is lifted
    points = []
    day = search.date_from
    while day <= search.date_to:
        midnight = to_seconds(local_instant(day, 0, tz))
        low = to_seconds(local_instant(day, search.candidate_hours[0], tz))
        high = to_seconds(local_instant(day, search.candidate_hours[1], tz))
        for start in grid_points(midnight, to_seconds(local_instant(day, 1440, tz)) - need, step):
            loop_fails = set()
            if start < low or start + need > high:
                loop_fails.add("candidate_hours")
            if start < low - REACH or start + need > high + REACH:
                loop_fails.add("candidate_far")
            if start < earliest:
                loop_fails.add("min_notice" if start >= present else "past")
            checks = [pool.fails(m, start, need) for m in spec.pool]
            blockers = frozenset(r for _, names in checks for r in names)
            fails = tuple(f for f, _ in checks)
            points.append(Point(start, frozenset(loop_fails), fails, blockers))
        day += timedelta(days=1)
    return points


def _passes(point: Point, spec: SessionSpec, lifted: frozenset[str]) -> bool:
    if point.loop_fails - lifted:
        return False
    needed = 1 if "pool_size" in lifted else spec.required
    free = sum(1 for f in point.person_fails if not f - lifted)
    return free >= needed


def _has_in(starts: list[int], low: int, high: int) -> bool:
    index = bisect_left(starts, low)
    return index < len(starts) and starts[index] <= high


def _linked(search: Search, sets: list[list[int]], index: int, start: int) -> bool:
    """Whether a neighbouring session can start within the gaps of ``start``."""
    loop = search.loop
    low, high = loop.min_gap_minutes * 60, loop.max_gap_minutes * 60
    durations = [s.duration_minutes * 60 for s in loop.sessions]

    def before(j: int) -> bool:  # session j can end a gap before ``start``
        return _has_in(sets[j], start - durations[j] - high, start - durations[j] - low)

    def after(j: int) -> bool:  # session j can start a gap after ``start`` ends
        end = start + durations[index]
        return _has_in(sets[j], end + low, end + high)

    count = len(loop.sessions)
    if loop.order == "any":
        return any(before(j) or after(j) for j in range(count) if j != index)
    return (index == 0 or before(index - 1)) and (index == count - 1 or after(index + 1))


def _counts(search: Search, table: list[list[Point]], lifted: frozenset[str]) -> list[int]:
    specs = search.loop.sessions
    sets = [
        [p.start for p in pts if _passes(p, spec, lifted)]
        for pts, spec in zip(table, specs, strict=True)
    ]
    if len(specs) < 2 or "gaps" in lifted:
        return [len(s) for s in sets]
    return [sum(1 for t in s if _linked(search, sets, i, t)) for i, s in enumerate(sets)]


def _detail(
    search: Search, key: str, gain: int, left: int, own: list[Point], tables: list[list[Point]]
) -> str:
    label = CONSTRAINTS[key]
    if key == "candidate_hours":
        label = f"{label} ({hours_text(search.candidate_hours)})"
    if key == "holds":
        # this session's blockers first; a neighbour's when only the link to it is blocked
        names = sorted({r for p in own for r in p.blockers}) or sorted(
            {r for table in tables for p in table for r in p.blockers}
        )
        label = f"{label} ({', '.join(names)})"
    return f"{label} rule out {gain} start time(s) the other constraints allow ({left} left)"


def _reason(base: int, counts: dict[tuple[str, frozenset[str]], int]) -> tuple[str, int] | None:
    for tier in TIERS:
        key, lifted = max(tier, key=lambda item: counts[item])
        if counts[(key, lifted)] > base:
            return key, counts[(key, lifted)] - base
    return None


def why(search: Search) -> list[Why]:
    """One ``Why`` per session for which lifting some constraint alone adds starts."""
    tz = zone(search.candidate_tz)
    first = to_seconds(local_instant(search.date_from, 0, tz)) - 86400
    last = to_seconds(local_instant(search.date_to + timedelta(days=2), 0, tz))
    pool = _Pool(search, (first, last))
    table = [_points(search, pool, spec) for spec in search.loop.sessions]
    base = _counts(search, table, frozenset())
    lifted = {item: _counts(search, table, item[1]) for tier in TIERS for item in tier}
    result = []
    for index, spec in enumerate(search.loop.sessions):
        found = _reason(base[index], {item: counts[index] for item, counts in lifted.items()})
        if found is not None:
            detail = _detail(search, found[0], found[1], base[index], table[index], table)
            result.append(Why(spec.name, found[0], detail))
    return result


__all__ = ["CONSTRAINTS", "why"]
