"""A brute-force slot checker, written from the rules of issue 2 and nothing else.

It is deliberately slow and plain: every grid start in the window is tested
against every rule directly, with no interval algebra and no cleverness, so that
it can be trusted as an oracle for ``scheduler.engine.find_options``.  It does
not import anything from ``scheduler`` except the value types.

The rules, as checked here:

* The grid: every UTC instant whose minutes since UTC midnight are a multiple of
  ``granularity_minutes`` (with zero seconds).
* Working hours are wall-clock ranges per local weekday.  They become instants per
  LOCAL DATE: ``datetime(y, m, d, h, mi, tzinfo=ZoneInfo(tz))`` (fold=0, so a time
  in a DST gap takes the offset before the gap); ``24:00`` is the next local
  midnight.  A session fits when it lies inside ONE range: ``range_start <= start``
  and ``end <= range_end``.
* ``[start - buffer_before, end + buffer_after)`` overlaps no busy interval.
* Per-day cap: the number of ``booked`` intervals that start on the interviewer's
  local date of the session start, plus this session, is at most
  ``max_interviews_per_day``.
* Per-week cap: the number of ``booked`` intervals that start in the interviewer's
  local ISO week (``date.isocalendar()``: Monday to Sunday) of the session start,
  plus this session, is at most ``max_interviews_per_week``.
* Each session: exactly ``required`` distinct interviewers from its pool; nobody in
  two sessions; gaps between consecutive sessions (chronological) within
  ``[min_gap, max_gap]``; ``order="fixed"`` means the written order, ``"any"`` any
  permutation.
* The first start is at or after ``now + min_notice_hours``.
* The whole loop lies inside the candidate's hours on ONE candidate-local date in
  ``date_from .. date_to`` (inclusive); those hours are converted like working hours.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, permutations
from zoneinfo import ZoneInfo

from scheduler.model import Interval, Interviewer, Loop, Option, SessionSlot, SessionSpec

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)

Busy = Mapping[str, Sequence[Interval]]


# --- wall clock -> UTC ---------------------------------------------------------------


@functools.cache
def local_instant(tz: str, day: date, minute: int) -> datetime:
    """The UTC instant of ``minute`` minutes after local midnight of ``day`` in ``tz``.

    ``minute == 1440`` is the next local midnight.  Times in a DST gap use fold=0.
    """
    if minute == 1440:
        return local_instant(tz, day + DAY, 0)
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def local_date(tz: str, instant: datetime) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def dates_between(first: date, last: date) -> list[date]:
    return [first + DAY * k for k in range((last - first).days + 1)]


def on_grid(instant: datetime, granularity: int) -> bool:
    u = instant.astimezone(UTC)
    return u.second == 0 and u.microsecond == 0 and (u.hour * 60 + u.minute) % granularity == 0


# --- the rules for one interviewer in one session -------------------------------------


def inside_working_hours(iv: Interviewer, start: datetime, end: datetime) -> bool:
    """True when ``[start, end)`` lies inside one working range of ``iv``."""
    around = local_date(iv.timezone, start)
    for day in (around - DAY, around, around + DAY):
        for lo, hi in iv.working_hours.on(day.weekday()):
            if local_instant(iv.timezone, day, lo) <= start and end <= local_instant(
                iv.timezone, day, hi
            ):
                return True
    return False


def free_of_busy(
    busy: Sequence[Interval], start: datetime, end: datetime, before: int, after: int
) -> bool:
    lo = start - before * MINUTE
    hi = end + after * MINUTE
    return not any(b.start < hi and lo < b.end for b in busy)


def _under_cap(
    cap: int | None,
    booked: Sequence[Interval],
    start: datetime,
    period: Callable[[datetime], object],
) -> bool:
    """Whether the booked interviews starting in ``start``'s period, + 1, stay within ``cap``."""
    if cap is None:
        return True
    mine = period(start)
    return sum(1 for b in booked if period(b.start) == mine) + 1 <= cap


def under_daily_cap(iv: Interviewer, booked: Sequence[Interval], start: datetime) -> bool:
    day = functools.partial(local_date, iv.timezone)
    return _under_cap(iv.max_interviews_per_day, booked, start, day)


def iso_week(tz: str, instant: datetime) -> tuple[int, int]:
    year, week, _ = local_date(tz, instant).isocalendar()
    return year, week


def under_weekly_cap(iv: Interviewer, booked: Sequence[Interval], start: datetime) -> bool:
    week = functools.partial(iso_week, iv.timezone)
    return _under_cap(iv.max_interviews_per_week, booked, start, week)


def why_cannot_sit(
    iv: Interviewer,
    start: datetime,
    end: datetime,
    busy: Busy,
    loop: Loop,
    booked: Busy | None,
) -> list[str]:
    problems = []
    if not inside_working_hours(iv, start, end):
        problems.append(f"{iv.id}: {start:%Y-%m-%d %H:%M}Z-{end:%H:%M}Z outside working hours")
    s = loop.settings
    if not free_of_busy(
        busy.get(iv.id, ()), start, end, s.buffer_before_minutes, s.buffer_after_minutes
    ):
        problems.append(f"{iv.id}: busy around {start:%Y-%m-%d %H:%M}Z (with buffers)")
    if not under_daily_cap(iv, (booked or {}).get(iv.id, ()), start):
        problems.append(f"{iv.id}: over max_interviews_per_day on {local_date(iv.timezone, start)}")
    if not under_weekly_cap(iv, (booked or {}).get(iv.id, ()), start):
        week = iso_week(iv.timezone, start)
        problems.append(f"{iv.id}: over max_interviews_per_week in week {week}")
    return problems


# --- the rules for a whole loop ---------------------------------------------------------


def candidate_day(
    candidate_tz: str,
    candidate_hours: tuple[int, int],
    date_from: date,
    date_to: date,
    start: datetime,
    end: datetime,
) -> date | None:
    """The candidate-local date whose hours hold ``[start, end)``, or None."""
    for day in dates_between(date_from, date_to):
        lo = local_instant(candidate_tz, day, candidate_hours[0])
        hi = local_instant(candidate_tz, day, candidate_hours[1])
        if lo <= start and end <= hi:
            return day
    return None


def earliest_start(loop: Loop, now: datetime) -> datetime:
    return now + timedelta(hours=loop.settings.min_notice_hours)


def option_problems(
    option: Option,
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Busy,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (480, 1200),
    booked: Busy | None = None,
) -> list[str]:
    """Every rule ``option`` breaks; an empty list means the option is valid."""
    problems = loop_problems(option, loop, interviewers, busy, now=now, booked=booked)
    if not option.sessions:
        return problems
    first = min(slot.start for slot in option.sessions)
    last = max(slot.end for slot in option.sessions)
    if candidate_day(candidate_tz, candidate_hours, date_from, date_to, first, last) is None:
        problems.append(f"{first}..{last} is not inside the candidate's hours on one window date")
    return problems


def loop_problems(
    option: Option,
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Busy,
    *,
    now: datetime,
    booked: Busy | None = None,
) -> list[str]:
    """Every rule ``option`` breaks except the candidate's hours and window."""
    problems: list[str] = []
    got = option.sessions
    specs = {spec.name: spec for spec in loop.sessions}
    if len(got) != len(loop.sessions):
        return [f"{len(got)} sessions, loop has {len(loop.sessions)}"]
    names = [slot.name for slot in got]
    if loop.order == "fixed" and names != [spec.name for spec in loop.sessions]:
        problems.append(f"order {names} is not the written order")
    if sorted(names) != sorted(spec.name for spec in loop.sessions):
        return problems + [f"session names {names} do not match the loop"]

    used: list[str] = []
    for slot in got:
        spec = specs[slot.name]
        for t in (slot.start, slot.end):
            if t.tzinfo is None or t.utcoffset() != timedelta(0):
                problems.append(f"{slot.name}: {t!r} is not an aware UTC datetime")
        if slot.end - slot.start != spec.duration:
            problems.append(f"{slot.name}: lasts {slot.end - slot.start}, not {spec.duration}")
        if not on_grid(slot.start, loop.settings.granularity_minutes):
            problems.append(f"{slot.name}: start {slot.start} is off the grid")
        people = list(slot.interviewers)
        if len(people) != spec.required or len(set(people)) != len(people):
            problems.append(f"{slot.name}: interviewers {people}, needs {spec.required} distinct")
        for person in people:
            if person not in spec.pool:
                problems.append(f"{slot.name}: {person} is not in the pool {spec.pool}")
            if person in used:
                problems.append(f"{slot.name}: {person} is already in another session")
            used.append(person)
            if person not in interviewers:
                problems.append(f"{slot.name}: unknown interviewer {person}")
                continue
            problems += why_cannot_sit(
                interviewers[person], slot.start, slot.end, busy, loop, booked
            )

    for prev, nxt in zip(got, got[1:], strict=False):
        gap = nxt.start - prev.end
        if not loop.min_gap_minutes * MINUTE <= gap <= loop.max_gap_minutes * MINUTE:
            problems.append(f"gap {gap} between {prev.name} and {nxt.name}")

    first = min(slot.start for slot in got)
    if first < earliest_start(loop, now):
        problems.append(f"first start {first} is before now + notice {earliest_start(loop, now)}")
    return problems


# --- exhaustive enumeration -----------------------------------------------------------


def grid_starts(
    candidate_tz: str, date_from: date, date_to: date, granularity: int
) -> list[datetime]:
    """Every grid instant from the window's first local midnight to its last."""
    lo = local_instant(candidate_tz, date_from, 0)
    hi = local_instant(candidate_tz, date_to, 1440)
    t = datetime(lo.year, lo.month, lo.day, tzinfo=UTC)  # a UTC midnight: on every grid
    out = []
    while t < hi:
        if t >= lo:
            assert on_grid(t, granularity)
            out.append(t)
        t += granularity * MINUTE
    return out


def valid_starts_single_all_of(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Busy,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (480, 1200),
    booked: Busy | None = None,
) -> set[datetime]:
    """All valid starts of a one-session loop whose whole pool is required."""
    assert len(loop.sessions) == 1
    spec = loop.sessions[0]
    assert spec.required == len(spec.pool) == len(set(spec.pool))
    found = set()
    for start in grid_starts(candidate_tz, date_from, date_to, loop.settings.granularity_minutes):
        slot = SessionSlot(spec.name, start, start + spec.duration, tuple(spec.pool))
        problems = option_problems(
            Option(1.0, (slot,)),
            loop,
            interviewers,
            busy,
            candidate_tz=candidate_tz,
            date_from=date_from,
            date_to=date_to,
            now=now,
            candidate_hours=candidate_hours,
            booked=booked,
        )
        if not problems:
            found.add(start)
    return found


def _start_sequences(
    specs: Sequence[SessionSpec], first: datetime, loop: Loop
) -> Iterator[list[datetime]]:
    """Every list of grid starts for ``specs`` in that order, the first at ``first``."""
    if len(specs) == 1:
        yield [first]
        return
    prev_end = first + specs[0].duration
    for gap in range(loop.min_gap_minutes, loop.max_gap_minutes + 1):
        nxt = prev_end + gap * MINUTE
        if on_grid(nxt, loop.settings.granularity_minutes):
            for rest in _start_sequences(specs[1:], nxt, loop):
                yield [first, *rest]


def _assignments(
    choices: Sequence[Sequence[str]], required: Sequence[int], used: frozenset[str]
) -> Iterator[list[tuple[str, ...]]]:
    """Every way to pick ``required[k]`` people from ``choices[k]``, nobody twice."""
    if not choices:
        yield []
        return
    for combo in combinations([p for p in choices[0] if p not in used], required[0]):
        for rest in _assignments(choices[1:], required[1:], used | set(combo)):
            yield [combo, *rest]


def iter_options(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Busy,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (480, 1200),
    booked: Busy | None = None,
    recheck: bool = True,
) -> Iterator[tuple[SessionSlot, ...]]:
    """Every valid option of ``loop`` (as its chronological sessions), by brute force.

    Exponential; only for tiny inputs.  With ``recheck`` each option yielded is
    re-checked by ``option_problems``, so the enumeration can only lose options,
    never invent them.
    """
    orders = [tuple(loop.sessions)] if loop.order == "fixed" else list(permutations(loop.sessions))
    can_sit: dict[tuple[str, datetime, datetime], bool] = {}

    def sits(person: str, start: datetime, end: datetime) -> bool:
        key = (person, start, end)
        if key not in can_sit:
            can_sit[key] = not why_cannot_sit(interviewers[person], start, end, busy, loop, booked)
        return can_sit[key]

    earliest = earliest_start(loop, now)
    for first in grid_starts(candidate_tz, date_from, date_to, loop.settings.granularity_minutes):
        if first < earliest:
            continue
        # (a shortcut: a loop starting here must at least start inside the candidate's hours)
        if not candidate_day(candidate_tz, candidate_hours, date_from, date_to, first, first):
            continue
        for specs in orders:
            for starts in _start_sequences(specs, first, loop):
                end = starts[-1] + specs[-1].duration
                if candidate_day(candidate_tz, candidate_hours, date_from, date_to, first, end):
                    choices = [
                        [p for p in spec.pool if sits(p, t, t + spec.duration)]
                        for spec, t in zip(specs, starts, strict=True)
                    ]
                    for people in _assignments(choices, [s.required for s in specs], frozenset()):
                        slots = tuple(
                            SessionSlot(spec.name, t, t + spec.duration, who)
                            for spec, t, who in zip(specs, starts, people, strict=True)
                        )
                        assert not recheck or not option_problems(
                            Option(1.0, slots),
                            loop,
                            interviewers,
                            busy,
                            candidate_tz=candidate_tz,
                            date_from=date_from,
                            date_to=date_to,
                            now=now,
                            candidate_hours=candidate_hours,
                            booked=booked,
                        )
                        yield slots


def has_any_option(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Busy,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (480, 1200),
    booked: Busy | None = None,
) -> bool:
    """Whether ``loop`` has any valid option in the window (exhaustive; tiny inputs)."""
    for _ in iter_options(
        loop,
        interviewers,
        busy,
        candidate_tz=candidate_tz,
        date_from=date_from,
        date_to=date_to,
        now=now,
        candidate_hours=candidate_hours,
        booked=booked,
    ):
        return True
    return False


def days_with_options(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Busy,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (480, 1200),
    booked: Busy | None = None,
) -> set[date]:
    """The candidate-local dates in the window that have at least one valid option."""
    return {
        day
        for day in dates_between(date_from, date_to)
        if has_any_option(
            loop,
            interviewers,
            busy,
            candidate_tz=candidate_tz,
            date_from=day,
            date_to=day,
            now=now,
            candidate_hours=candidate_hours,
            booked=booked,
        )
    }


def option_day(
    option: Option,
    candidate_tz: str,
    candidate_hours: tuple[int, int],
    date_from: date,
    date_to: date,
) -> date | None:
    first = min(slot.start for slot in option.sessions)
    last = max(slot.end for slot in option.sessions)
    return candidate_day(candidate_tz, candidate_hours, date_from, date_to, first, last)
