"""Re-checking one option against the rules, e.g. just before it is booked."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.availability import allowed_starts, contains, prepare_person
from scheduler.busy import Busy, BusyIndex
from scheduler.clock import LocalClock
from scheduler.grid import on_grid
from scheduler.intervals import to_seconds
from scheduler.localtime import zone
from scheduler.model import Interval, Interviewer, Loop, Option, SessionSlot, SessionSpec


def check_option(
    option: Option,
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Busy],
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
    checker = _Checker(loop, interviewers, busy, booked or {}, option)
    for slot in option.sessions:
        problems.extend(checker.slot_problems(slot))
    return problems


def _shape_problems(option: Option, loop: Loop) -> list[str]:
    names = [s.name for s in option.sessions]
    wanted = [s.name for block in loop.blocks() for s in block]
    if sorted(names) != sorted(wanted):
        return [f"sessions {names} do not match the loop's {wanted}"]
    if loop.order == "fixed" and names != wanted:
        return [f"sessions {names} are not in the loop's order {wanted}"]
    days = [_day_of(loop, name) for name in names]
    if days != sorted(days):
        return [f"sessions {names} are not in the order of their days"]
    return []


def _day_of(loop: Loop, name: str) -> int:
    return next(s.day for s in loop.sessions if s.name == name)


def _gap_problems(option: Option, loop: Loop) -> list[str]:
    problems = []
    low, high = timedelta(minutes=loop.min_gap_minutes), timedelta(minutes=loop.max_gap_minutes)
    for before, after in itertools.pairwise(option.sessions):
        if _day_of(loop, before.name) != _day_of(loop, after.name):
            continue  # the blocks of a multi-day loop: their dates are fixed when offered
        if not low <= after.start - before.end <= high:
            problems.append(f"gap before {after.name!r} is outside {low}..{high}")
    return problems


@dataclass
class _Checker:
    """The rules about sessions and people, for the slots of one option."""

    loop: Loop
    interviewers: Mapping[str, Interviewer]
    busy: Mapping[str, Busy]
    booked: Mapping[str, Sequence[Interval]]
    option: Option
    seen: set[tuple[str, str, int]] = field(default_factory=set)

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
        start, end = to_seconds(slot.start), to_seconds(slot.end)
        local_day = LocalClock(zone(self.interviewers[person].timezone)).day(start)
        # once per block (a one-day loop: once), and once per their own local date
        marks = {(person, "block", spec.day), (person, "date", local_day)}
        if marks & self.seen:
            return [f"{person!r} sits in two sessions of one block or one local day"]
        self.seen |= marks
        settings = self.loop.settings
        pad = (settings.buffer_before_minutes * 60, settings.buffer_after_minutes * 60)
        horizon = (start - 2 * 86400, end + 2 * 86400)
        # their other sessions of this option (on other days): busy, and counted by the caps
        mine = [
            Interval(s.start, s.end)
            for s in self.option.sessions
            if s is not slot and person in s.interviewers
        ]
        theirs = self.busy.get(person, ())
        if mine:
            listed = theirs.intervals() if isinstance(theirs, BusyIndex) else list(theirs)
            theirs = [*listed, *mine]
        who = prepare_person(
            self.interviewers[person],
            theirs,
            [*self.booked.get(person, ()), *mine],
            horizon,
            pad,
        )
        problems = []
        if not contains(allowed_starts(who.work, who.busy, end - start, pad), start):
            problems.append(f"{person!r} is busy or outside working hours for {slot.name!r}")
        for cap in who.cap_problems(start):
            word = "daily" if cap == "day" else "weekly"
            problems.append(f"{person!r} is at their {word} interview limit")
        return problems
