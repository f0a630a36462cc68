"""Per session: which constraint removes the most candidate start times.

A candidate start of a session is a grid start on one of the searched dates
where the candidate's hours, the minimum notice and the gaps to the loop's
neighbouring sessions allow it, and at least ``required`` of its pool can sit
it (working hours, busy time, other requests' holds, daily caps). Lifting one
constraint alone and counting again tells how many starts that constraint
removes; the one that removes the most is the session's "why".

Everything is interval algebra on the engine's own per-person availability, once
per search: per session, the grid starts are bit positions of a Python integer,
and each constraint (per person, or for the loop) is the mask of the starts it
rules out, built from closed ranges of allowed starts by bisection. Lifting a
constraint is leaving its mask out; "at least ``required`` of the pool" is a
bit-parallel count; the gaps to the neighbouring sessions are ranges derived from
their start sets. No search is run and no start is checked one by one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import compress
from math import floor
from zoneinfo import ZoneInfo

from scheduler.availability import Person, allowed_starts, prepare_person
from scheduler.clock import LocalClock
from scheduler.explain import Hold, Search, Why, hours_text
from scheduler.grid import DAY, grid_points
from scheduler.intervals import Span, from_seconds, merge_spans, to_seconds
from scheduler.localtime import local_instant, zone
from scheduler.model import Interval, Loop, SessionSpec
from scheduler.problem import earliest_start

CONSTRAINTS = {
    "candidate_hours": "the candidate's hours",
    "working_hours": "interviewers' working hours",
    "busy": "interviewers' busy time",
    "holds": "holds of other requests",
    "daily_cap": "interviewers' daily caps",
    "weekly_cap": "interviewers' weekly caps",
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
        for key in ("holds", "busy", "daily_cap", "weekly_cap", "min_notice", "pool_size", "gaps")
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
LOOP_KEYS = ("candidate_hours", "candidate_far", "min_notice", "past")  # "past" never lifts
PERSON_KEYS = ("working_hours", "working_far", "busy", "holds", "daily_cap", "weekly_cap")
CAP_KEYS = {"day": "daily_cap", "week": "weekly_cap"}  # Person.cap_problems -> constraint
_BITS = bytes.maketrans(b"01", b"\x00\x01")


def mask_of(points: Sequence[int], ranges: Iterable[Span]) -> int:
    """The bits of the sorted ``points`` inside the closed ``ranges``."""
    mask = 0
    for low, high in ranges:
        first, last = bisect_left(points, low), bisect_right(points, high)
        if last > first:
            mask |= ((1 << (last - first)) - 1) << first
    return mask


def chosen(points: Sequence[int], mask: int) -> list[int]:
    """The points whose bits are set in ``mask``, in order."""
    if not mask:
        return []
    return list(compress(points, format(mask, "b").encode().translate(_BITS)[::-1]))


def at_least(masks: Sequence[int], needed: int, full: int) -> int:
    """The bits set in at least ``needed`` of ``masks`` (a bit-parallel count)."""
    if needed <= 0:
        return full
    if needed > len(masks):
        return 0
    if needed == len(masks):
        common = full
        for mask in masks:
            common &= mask
        return common
    counts = [full] + [0] * needed  # counts[j]: bits set in at least j masks so far
    for mask in masks:
        for j in range(needed, 0, -1):
            counts[j] |= counts[j - 1] & mask
    return counts[needed]


def reach(starts: Sequence[int], low: int, high: int) -> list[Span]:
    """The merged closed ranges ``[s + low, s + high]`` over the sorted ``starts``."""
    if high < low:
        return []
    result: list[Span] = []
    for start in starts:
        a, b = start + low, start + high
        if result and a <= result[-1][1] + 1:
            result[-1] = (result[-1][0], b)
        else:
            result.append((a, b))
    return result


@dataclass
class Table:
    """One session's grid starts and, per constraint, the mask of the starts it rules out."""

    spec: SessionSpec
    need: int
    points: list[int]
    days: list[tuple[date, int, int]]  # each date with its first and last possible start
    loop_fails: dict[str, int]
    person_fails: list[dict[str, int]]
    holds: list[tuple[str, int]]  # each request holding someone in the pool: what it blocks
    instants: dict[tuple[date, int], int]  # local (date, minute) -> POSIX seconds, shared

    @property
    def full(self) -> int:
        return (1 << len(self.points)) - 1

    def on(self, first: date, last: date) -> int:
        """The starts on the dates ``first`` to ``last``."""
        return mask_of(self.points, [(a, b) for d, a, b in self.days if first <= d <= last])

    def blockers(self, within: int) -> set[str]:
        """The requests whose holds block someone in the pool at a start ``within``."""
        return {request for request, mask in self.holds if mask & within}

    def passing(
        self, lifted: frozenset[str], needed: int | None = None, hours: int | None = None
    ) -> int:
        """The starts allowed by every constraint but those ``lifted`` (gaps aside), with
        ``needed`` of the pool instead of ``required`` and ``hours`` as the mask the
        candidate's hours rule out, when given."""
        full = self.full
        allowed = full if hours is None else full & ~hours
        for key, mask in self.loop_fails.items():
            if key not in lifted and (hours is None or not key.startswith("candidate")):
                allowed &= ~mask
        free = []
        for fails in self.person_fails:
            ruled = 0
            for key, mask in fails.items():
                if key not in lifted:
                    ruled |= mask
            free.append(full & ~ruled)
        if needed is None:
            needed = 1 if "pool_size" in lifted else self.spec.required
        return allowed & at_least(free, needed, full)

    def hours_fails(self, hours: tuple[int, int], tz: ZoneInfo, until: date | None = None) -> int:
        """The mask of the starts that the candidate's ``hours`` rule out (all of those
        after ``until``, when given)."""
        ranges = []
        for day, midnight, last in self.days:
            if until is not None and day > until:
                break
            low, high = self.instant(day, hours[0], tz), self.instant(day, hours[1], tz)
            ranges.append((max(midnight, low), min(last, high - self.need)))
        return self.full & ~mask_of(self.points, ranges)

    def instant(self, day: date, minute: int, tz: ZoneInfo) -> int:
        """The local ``minute`` of ``day`` in POSIX seconds (memoised)."""
        found = self.instants.get((day, minute))
        if found is None:
            found = self.instants[(day, minute)] = to_seconds(local_instant(day, minute, tz))
        return found


def _spans(intervals: Sequence[Interval], low: int, high: int) -> list[Span]:
    """Merged spans of ``intervals`` (floored seconds) that overlap ``[low, high)``; only
    those near it are converted."""
    start, end = from_seconds(low), from_seconds(high)
    near = [i for i in intervals if i.start < end and i.end > start]
    return merge_spans([(floor(i.start.timestamp()), floor(i.end.timestamp())) for i in near])


PersonFails = tuple[dict[str, int], list[tuple[str, int]]]


class _Pool:
    """Per-person masks of one search, one duration at a time."""

    def __init__(self, search: Search, horizon: Span) -> None:
        settings = search.loop.settings
        self.search = search
        self.pad = (settings.buffer_before_minutes * 60, settings.buffer_after_minutes * 60)
        self.horizon = horizon
        low, high = horizon[0] - 2 * 86400, horizon[1] + 2 * 86400  # past any buffer
        members = {m for spec in search.loop.sessions for m in spec.pool}
        clocks: dict[str, LocalClock] = {}  # one per zone, as the engine shares them
        self.people: dict[str, Person] = {}
        for m in sorted(members):
            who = search.interviewers[m]
            clock = clocks.setdefault(who.timezone, LocalClock(zone(who.timezone)))
            booked = search.booked.get(m, ())
            self.people[m] = prepare_person(who, (), booked, horizon, self.pad, clock)
        self.busy = {m: _spans(search.busy.get(m, ()), low, high) for m in members}
        self.holds = {m: self._holds(search.holds.get(m, ()), low, high) for m in members}
        self._cache: dict[tuple[str, int], tuple[dict[str, int], list[tuple[str, int]]]] = {}

    @staticmethod
    def _holds(holds: Sequence[Hold], low: int, high: int) -> list[tuple[int, int, str]]:
        start, end = from_seconds(low), from_seconds(high)
        near = [h for h in holds if h.interval.start < end and h.interval.end > start]
        return [(to_seconds(h.interval.start), to_seconds(h.interval.end), h.request) for h in near]

    def fails(self, member: str, points: list[int], need: int) -> PersonFails:
        """Per person constraint, the mask of ``points`` it rules out; per request holding
        the person, the mask of what it blocks."""
        key = (member, need)  # a session's grid starts depend on its duration only
        if key not in self._cache:
            self._cache[key] = self._fails(member, points, need)
        return self._cache[key]

    def _fails(self, member: str, points: list[int], need: int) -> PersonFails:
        person = self.people[member]
        full = (1 << len(points)) - 1
        before, after = self.pad
        wide = merge_spans((lo - REACH, hi + REACH) for lo, hi in person.work)
        fails = {
            "working_hours": full & ~mask_of(points, allowed_starts(person.work, [], need, (0, 0))),
            "working_far": full & ~mask_of(points, allowed_starts(wide, [], need, (0, 0))),
            # a busy span or hold rules out the open range of starts whose padded session
            # overlaps it
            "busy": mask_of(
                points, ((s - need - after + 1, e + before - 1) for s, e in self.busy[member])
            ),
        }
        blockers = []
        holds = 0
        for s, e, request in self.holds[member]:
            mask = mask_of(points, [(s - need - after + 1, e + before - 1)])
            if mask:
                holds |= mask
                blockers.append((request, mask))
        fails["holds"] = holds
        if person.capped:
            broken = {p: person.cap_problems(p) for p in points}
            for cap, name in CAP_KEYS.items():
                fails[name] = mask_of(points, ((p, p) for p, caps in broken.items() if cap in caps))
        return fails, blockers


def _table(
    search: Search,
    pool: _Pool,
    spec: SessionSpec,
    last_day: date,
    instants: dict[tuple[date, int], int],
) -> Table:
    """The table of ``spec`` over the searched dates and on to ``last_day``."""
    tz = zone(search.candidate_tz)
    need = spec.duration_minutes * 60
    step = search.loop.settings.granularity_minutes * 60
    notice = timedelta(hours=search.loop.settings.min_notice_hours)
    earliest = earliest_start(search.now + notice)  # as the engine reads the notice
    present = math.ceil(search.now.timestamp())  # the past stays out when notice is lifted
    points: list[int] = []
    days = []
    day = search.date_from
    while day <= last_day:
        midnight = to_seconds(local_instant(day, 0, tz))
        last = to_seconds(local_instant(day, 1440, tz)) - need
        if DAY % step == 0:  # the grid is a plain range
            points.extend(range(-(-midnight // step) * step, last + 1, step))
        else:
            points.extend(grid_points(midnight, last, step))
        days.append((day, midnight, last))
        day += timedelta(days=1)
    loop_fails = {
        "min_notice": mask_of(points, [(present, earliest - 1)]),
        "past": mask_of(points, [(-(2**62), present - 1)]),
    }
    person_fails = []
    holds = []
    for member in spec.pool:
        fails, blocks = pool.fails(member, points, need)
        person_fails.append(fails)
        holds.extend(blocks)
    table = Table(spec, need, points, days, loop_fails, person_fails, holds, instants)
    low, high = search.candidate_hours
    loop_fails["candidate_hours"] = table.hours_fails((low, high), tz)
    far = table.full & ~mask_of(
        points,
        [
            (
                max(midnight, table.instant(d, low, tz) - REACH),
                min(last, table.instant(d, high, tz) + REACH - need),
            )
            for d, midnight, last in days
        ],
    )
    loop_fails["candidate_far"] = far
    return table


def linked(loop: Loop, tables: Sequence[Table], masks: Sequence[int]) -> list[int]:
    """Each session's starts in ``masks`` from which a neighbouring session's start in
    ``masks`` lies within the gaps (for a fixed order: the one before and the one after)."""
    if len(tables) < 2:
        return list(masks)
    low, high = loop.min_gap_minutes * 60, loop.max_gap_minutes * 60
    sets = [chosen(t.points, m) for t, m in zip(tables, masks, strict=True)]
    result = []
    for index, own in enumerate(tables):
        found = masks[index]
        befores = [j for j in range(len(tables)) if j != index]
        if loop.order != "any":
            befores = [index - 1] if index > 0 else []
        # session j can end a gap before the start / start a gap after its session ends
        near = [
            mask_of(own.points, reach(sets[j], tables[j].need + low, tables[j].need + high))
            for j in befores
        ]
        afters = [j for j in range(len(tables)) if j != index]
        if loop.order != "any":
            afters = [index + 1] if index < len(tables) - 1 else []
        near += [
            mask_of(own.points, reach(sets[j], -own.need - high, -own.need - low)) for j in afters
        ]
        if loop.order == "any":
            either = 0
            for mask in near:
                either |= mask
            found &= either
        else:
            for mask in near:
                found &= mask
        result.append(found)
    return result


def _counts(
    loop: Loop, tables: list[Table], lifted: frozenset[str], within: Sequence[int]
) -> list[int]:
    masks = [table.passing(lifted) & inside for table, inside in zip(tables, within, strict=True)]
    if "gaps" not in lifted:
        masks = linked(loop, tables, masks)
    return [mask.bit_count() for mask in masks]


def _detail(
    search: Search,
    key: str,
    gain: int,
    left: int,
    index: int,
    tables: list[Table],
    within: Sequence[int],
) -> str:
    label = CONSTRAINTS[key]
    if key == "candidate_hours":
        label = f"{label} ({hours_text(search.candidate_hours)})"
    if key == "holds":
        # this session's blockers first; a neighbour's when only the link to it is blocked
        names = sorted(tables[index].blockers(within[index])) or sorted(
            {r for t, inside in zip(tables, within, strict=True) for r in t.blockers(inside)}
        )
        label = f"{label} ({', '.join(names)})"
    return f"{label} rule out {gain} start time(s) the other constraints allow ({left} left)"


def _reason(base: int, counts: dict[tuple[str, frozenset[str]], int]) -> tuple[str, int] | None:
    for tier in TIERS:
        key, lifted = max(tier, key=lambda item: counts[item])
        if counts[(key, lifted)] > base:
            return key, counts[(key, lifted)] - base
    return None


def tables(search: Search, last_day: date | None = None) -> list[Table]:
    """Per session of ``search``: its grid starts and the masks of what rules them out, on
    the searched dates and on to ``last_day`` (when later)."""
    last_day = max(last_day or search.date_to, search.date_to)
    tz = zone(search.candidate_tz)
    first = to_seconds(local_instant(search.date_from, 0, tz)) - 86400
    last = to_seconds(local_instant(last_day + timedelta(days=2), 0, tz))
    pool = _Pool(search, (first, last))
    instants: dict[tuple[date, int], int] = {}
    return [_table(search, pool, spec, last_day, instants) for spec in search.loop.sessions]


def why(search: Search, table: list[Table] | None = None) -> list[Why]:
    """One ``Why`` per session for which lifting some constraint alone adds starts;
    ``table`` is :func:`tables` of ``search`` when the caller has it."""
    table = table or tables(search)
    within = [t.on(search.date_from, search.date_to) for t in table]
    loop = search.loop
    base = _counts(loop, table, frozenset(), within)
    lifted = {item: _counts(loop, table, item[1], within) for tier in TIERS for item in tier}
    result = []
    for index, spec in enumerate(loop.sessions):
        found = _reason(base[index], {item: counts[index] for item, counts in lifted.items()})
        if found is not None:
            key, gain = found
            detail = _detail(search, key, gain, base[index], index, table, within)
            result.append(Why(spec.name, key, detail))
    return result


__all__ = ["CONSTRAINTS", "Table", "linked", "tables", "why"]
