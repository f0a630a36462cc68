"""Re-checking one option against the rules, e.g. just before it is booked."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .availability import allowed_starts, contains, prepare_person
from .grid import on_grid
from .intervals import to_seconds
from .model import Interval, Interviewer, Loop, Option, SessionSlot, SessionSpec


def check_option(
    option: Option,
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Sequence[Interval]],
    *,
    now: datetime,
    booked: Mapping[str, Sequence[Interval]] | None = None,
) -> list[str]:
    """Problems that make ``option`` invalid now (an empty list: still valid).

    Checks every rule but the candidate's hours and window, which were fixed
    when the option was offered.
    """
    problems = _shape_problems(option, loop)
    if problems:
        return problems
    if option.start < now + timedelta(hours=loop.settings.min_notice_hours):
        problems.append(f"starts {option.start.isoformat()}, inside the minimum notice")
    problems.extend(_gap_problems(option, loop))
    checker = _Checker(loop, interviewers, busy, booked or {})
    for slot in option.sessions:
        problems.extend(checker.slot_problems(slot))
    return problems


def _shape_problems(option: Option, loop: Loop) -> list[str]:
    names = [s.name for s in option.sessions]
    wanted = [s.name for s in loop.sessions]
    if sorted(names) != sorted(wanted):
        return [f"sessions {names} do not match the loop's {wanted}"]
    if loop.order == "fixed" and names != wanted:
        return [f"sessions {names} are not in the loop's order {wanted}"]
    return []


def _gap_problems(option: Option, loop: Loop) -> list[str]:
    problems = []
    low, high = timedelta(minutes=loop.min_gap_minutes), timedelta(minutes=loop.max_gap_minutes)
    for before, after in itertools.pairwise(option.sessions):
        if not low <= after.start - before.end <= high:
            problems.append(f"gap before {after.name!r} is outside {low}..{high}")
    return problems


@dataclass
class _Checker:
    """The rules about sessions and people, for the slots of one option."""

    loop: Loop
    interviewers: Mapping[str, Interviewer]
    busy: Mapping[str, Sequence[Interval]]
    booked: Mapping[str, Sequence[Interval]]
    seen: set[str] = field(default_factory=set)

    def spec(self, name: str) -> SessionSpec:
        return next(s for s in self.loop.sessions if s.name == name)

    def slot_problems(self, slot: SessionSlot) -> list[str]:
        spec = self.spec(slot.name)
        grid = self.loop.settings.granularity_minutes
        length = to_seconds(slot.end) - to_seconds(slot.start)
        problems = []
        if length != spec.duration_minutes * 60:
            problems.append(f"{slot.name!r} lasts {length}s, not {spec.duration_minutes} minutes")
        if not on_grid(to_seconds(slot.start), grid * 60):
            problems.append(f"{slot.name!r} starts off the {grid}-minute grid")
        if len(slot.interviewers) != spec.required:
            count = len(slot.interviewers)
            problems.append(f"{slot.name!r} has {count} interviewers, needs {spec.required}")
        for person in slot.interviewers:
            problems.extend(self.person_problems(slot, spec, person))
        return problems

    def person_problems(self, slot: SessionSlot, spec: SessionSpec, person: str) -> list[str]:
        if person not in spec.pool or person not in self.interviewers:
            return [f"{person!r} is not in the pool of {slot.name!r}"]
        if person in self.seen:
            return [f"{person!r} sits in two sessions"]
        self.seen.add(person)
        settings = self.loop.settings
        pad = (settings.buffer_before_minutes * 60, settings.buffer_after_minutes * 60)
        horizon = Interval(slot.start - timedelta(days=2), slot.end + timedelta(days=2))
        who = prepare_person(
            self.interviewers[person],
            self.busy.get(person, ()),
            self.booked.get(person, ()),
            horizon,
            pad,
        )
        start, end = to_seconds(slot.start), to_seconds(slot.end)
        problems = []
        if not contains(allowed_starts(who.work, who.busy, end - start, pad), start):
            problems.append(f"{person!r} is busy or outside working hours for {slot.name!r}")
        if not who.under_cap(start):
            problems.append(f"{person!r} is at their daily interview limit")
        return problems
