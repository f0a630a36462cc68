"""The brute-force checker's multi-day rules, written from issue 14's text and nothing else.

* Sessions with the same ``day`` form one block; blocks go in ``day`` order.  Each block
  is a one-day loop of its own: every rule of ``bruteforce.py`` (hours, gaps, order,
  the candidate's hours on ONE candidate-local date in the window) holds per block.
* Block ``k + 1`` lies on a later candidate-local date than block ``k``; the days from
  one date to the next, counted as calendar days (with ``skip_weekends``: only the dates
  after the first, up to and including the second, that are Monday to Friday in the
  candidate's zone), are within ``[min_days_between, max_days_between]``.
* With ``skip_weekends`` no block is on a Saturday or Sunday (candidate's zone).
* An interviewer may sit in sessions of different blocks, never in two sessions that
  start on one of their own local dates.  Their sessions in the other blocks count as
  busy (with the buffers) and as booked (for the daily and weekly caps).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from scheduler.model import Interval, Interviewer, Loop, Option, SessionSlot

from . import bruteforce

Busy = Mapping[str, Sequence[Interval]]


def blocks_of(loop: Loop) -> list[Loop]:
    days = sorted({spec.day for spec in loop.sessions})
    return [
        dataclasses.replace(loop, sessions=tuple(s for s in loop.sessions if s.day == d))
        for d in days
    ]


def counted_days(first: date, second: date, skip_weekends: bool) -> int:
    days = [first + timedelta(days=k) for k in range(1, (second - first).days + 1)]
    return len([d for d in days if not skip_weekends or d.weekday() < 5])


def dates_allowed(loop: Loop, dates: Sequence[date]) -> bool:
    if loop.skip_weekends and any(d.weekday() >= 5 for d in dates):
        return False
    for before, after in zip(dates, dates[1:], strict=False):
        if after <= before:
            return False
        count = counted_days(before, after, loop.skip_weekends)
        if not loop.min_days_between <= count <= loop.max_days_between:
            return False
    return True


def _others(
    slots: Sequence[SessionSlot], block: Sequence[SessionSlot]
) -> dict[str, list[Interval]]:
    """Each person's sessions outside ``block``."""
    out: dict[str, list[Interval]] = {}
    for slot in slots:
        if slot not in block:
            for person in slot.interviewers:
                out.setdefault(person, []).append(Interval(slot.start, slot.end))
    return out


def _plus(base: Busy | None, extra: dict[str, list[Interval]]) -> dict[str, list[Interval]]:
    merged = {k: list(v) for k, v in (base or {}).items()}
    for person, spans in extra.items():
        merged.setdefault(person, []).extend(spans)
    return merged


def same_day_problems(
    slots: Sequence[SessionSlot], interviewers: Mapping[str, Interviewer]
) -> list[str]:
    seen: set[tuple[str, date]] = set()
    problems = []
    for slot in slots:
        for person in slot.interviewers:
            if person not in interviewers:
                continue
            key = (person, bruteforce.local_date(interviewers[person].timezone, slot.start))
            if key in seen:
                problems.append(f"{person} sits twice on their local date {key[1]}")
            seen.add(key)
    return problems


def option_problems(
    option: Option, loop: Loop, interviewers: Mapping[str, Interviewer], busy: Busy, **request: Any
) -> list[str]:
    """Every rule a multi-day ``option`` breaks; empty when it is valid."""
    blocks = blocks_of(loop)
    slots = list(option.sessions)
    day_of = {spec.name: spec.day for spec in loop.sessions}
    if sorted(s.name for s in slots) != sorted(day_of):
        return [f"sessions {[s.name for s in slots]} do not match the loop"]
    days = [day_of[s.name] for s in slots]
    if days != sorted(days):
        return [f"blocks out of day order: {days}"]
    problems: list[str] = []
    dates = []
    for block in blocks:
        mine = tuple(s for s in slots if day_of[s.name] == block.sessions[0].day)
        others = _others(slots, mine)
        booked = _plus(request.get("booked"), others)
        rest = {k: v for k, v in request.items() if k != "booked"}
        problems += bruteforce.option_problems(
            Option(1.0, mine), block, interviewers, _plus(busy, others), booked=booked, **rest
        )
        dates.append(
            bruteforce.option_day(
                Option(1.0, mine),
                rest["candidate_tz"],
                rest["candidate_hours"],
                rest["date_from"],
                rest["date_to"],
            )
        )
    if None not in dates and not dates_allowed(loop, [d for d in dates if d is not None]):
        problems.append(f"block dates {dates} break the days-between or weekend rule")
    return problems + same_day_problems(slots, interviewers)


def iter_options(
    loop: Loop, interviewers: Mapping[str, Interviewer], busy: Busy, **request: Any
) -> Iterator[tuple[SessionSlot, ...]]:
    """Every valid multi-day option: each block's brute-force options, chained, then the
    whole option re-checked by :func:`option_problems`."""
    per_block = []
    for block in blocks_of(loop):
        found = []
        for slots in bruteforce.iter_options(block, interviewers, busy, recheck=False, **request):
            day = bruteforce.option_day(
                Option(1.0, slots),
                request["candidate_tz"],
                request["candidate_hours"],
                request["date_from"],
                request["date_to"],
            )
            assert day is not None
            found.append((day, slots))
        per_block.append(found)

    def chain(
        depth: int, dates: list[date], slots: tuple[SessionSlot, ...]
    ) -> Iterator[tuple[SessionSlot, ...]]:
        if depth == len(per_block):
            if not option_problems(Option(1.0, slots), loop, interviewers, busy, **request):
                yield slots
            return
        for day, more in per_block[depth]:
            if dates_allowed(loop, [*dates, day]):
                yield from chain(depth + 1, [*dates, day], slots + more)

    yield from chain(0, [], ())
