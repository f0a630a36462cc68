"""Incremental re-read: when a feed changed, only the UID groups whose text changed are read.

A file is split into its VEVENT blocks (``blocks.split``) and grouped by UID
(a master and every RECURRENCE-ID override, and anything else sharing the
UID, are one group). Everything outside the groups (the calendar's
properties, VTIMEZONEs, VFREEBUSY, other components) is the *context*.

Each group is fingerprinted by the hash of its text; the context by the hash
of its text with everything else a read depends on (the reader, the zone and
address it is read for, the span, the file's TZIDs and X-WR-TIMEZONE). A
``GroupState`` keeps, for one read, each group's occurrences in the span and
its rules' load on the expansion limits. The next read of a changed
copy, with the same context, reads the context and the changed or new groups
only (the windowed/fast path, with their line numbers); the unchanged
groups' occurrences are taken from the state, their rules and occurrences
still count toward the limits; removed groups drop out.

The result is the one a full read of the file gives (tested against it):

* a state is made only from a read with no repairs, warnings or unknown
  TZIDs, where every occurrence is attributed to a group, and every UID is
  written without escapes (the blocks' UID then equals icalendar's);
* if the context changed (a VTIMEZONE, X-WR-TIMEZONE, the span ...), every
  group is read again;
* a read that fails in any way (an error, a refused expansion) is done
  again on the whole file, so errors and their lines are the normal path's.

A state is bounded: at most ``MAX_GROUPS`` groups (bigger files are read
whole every time), and their occurrences are bounded by the instance limit.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Required, TypedDict, Unpack

from integrations.budget import BudgetExceeded, Reader, ReaderCrashed, run_read
from integrations.errors import CalendarError
from integrations.ics.blocks import Segment, split, uid_key
from integrations.ics.busy import Carried, Parts
from integrations.ics.limits import Load, Recurring, rule_load
from integrations.ics.lines import Line, decode, logical_lines
from integrations.ics.model import Expansion, Occurrence
from integrations.ics.window import expand_ics_bytes, read_lines, reader_mode
from scheduler.model import Interval

MAX_GROUPS = 20_000
MAX_CUT_BYTES = 16 * 1024 * 1024  # the feed download limit is 10 MB
_GROUP_BYTES = 200  # what one group costs in a state besides its occurrences, about


class Group(NamedTuple):
    """One UID group's part of a read: its occurrences (``pack``) and its rules' load."""

    occurrences: bytes
    steps: int
    instances: int

    @property
    def load(self) -> Load:
        return Load(self.steps, self.instances)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def pack(occurrences: list[Occurrence]) -> bytes:
    """Occurrences as (start, end, busy) integers (microseconds since the epoch): cheap to
    hand between processes, exact to unpack."""
    found = array("q")
    for occ in occurrences:
        found += array("q", ((occ.start - _EPOCH) // _US, (occ.end - _EPOCH) // _US, occ.busy))
    return found.tobytes()


def unpack(data: bytes) -> list[Occurrence]:
    values = array("q")
    values.frombytes(data)
    return [
        Occurrence(_EPOCH + values[i] * _US, _EPOCH + values[i + 1] * _US, bool(values[i + 2]))
        for i in range(0, len(values), 3)
    ]


@dataclass(frozen=True)
class GroupState:
    """What a read leaves for the next one: the span, the context fingerprint, and each
    group's part by the group's fingerprint."""

    span: Interval
    context: bytes
    groups: Mapping[bytes, Group]
    size: int = 0  # ``weight``, counted once (caches of many feeds add it up often)

    @classmethod
    def of(cls, span: Interval, context: bytes, groups: Mapping[bytes, Group]) -> GroupState:
        size = sum(len(g.occurrences) + _GROUP_BYTES for g in groups.values())
        return cls(span, context, groups, size)

    def weight(self) -> int:
        """About how many bytes the state takes in memory."""
        return self.size


@dataclass(frozen=True)
class Changes:
    """An incremental read: the expansion, the repairs, the state for the next read (None
    when none could be made), and how many groups were read and reused."""

    expansion: Expansion
    notes: tuple[str, ...]
    state: GroupState | None
    read: int = 0
    reused: int = 0


class ReadOptions(TypedDict, total=False):
    """How ``expand_changes`` reads (``window.expand_ics_bytes``'s keyword arguments)."""

    source: Required[str]
    timezone: Required[str]
    span: Required[Interval]
    email: str | None
    reader: str | None


def expand_changes(
    data: bytes, previous: GroupState | None, **options: Unpack[ReadOptions]
) -> Changes:
    """``window.expand_ics_bytes(data, **options)``, reading again only the groups
    that changed since ``previous`` (the state of an earlier read, or None)."""
    mode = reader_mode(options.get("reader"))
    found: Changes | None = None
    if mode != "full":  # the reference stays the reference
        try:
            found = _incremental(data, options, mode, previous)
        except CalendarError:
            found = None  # read whole below: the error (and its line) is the normal path's
    if found is not None:
        return found
    whole: ReadOptions = {**options, "reader": mode}
    expansion, notes = expand_ics_bytes(data, **whole)
    return Changes(expansion, notes, None)


@dataclass(frozen=True)
class _Grouped:
    """A file's lines cut into the context and the UID groups."""

    context: bytes
    groups: dict[str, list[Segment]]  # uid key -> its blocks, in document order
    digests: dict[str, bytes]


def _group(
    lines: list[Line], timezone: str, email: str | None, span: Interval, mode: str
) -> _Grouped | None:
    found = split(lines)
    if found is None:
        return None
    groups: dict[str, list[Segment]] = {}
    for seg in found.segments:
        if seg.uid is None or "\\" in seg.uid:
            return None  # no UID, or one icalendar may read otherwise: read whole
        groups.setdefault(seg.uid, []).append(seg)
    if len(groups) > MAX_GROUPS:
        return None
    inside = bytearray(len(lines))
    for seg in found.segments:
        inside[seg.first : seg.last + 1] = b"\x01" * (seg.last - seg.first + 1)
    head = f"{mode}\n{timezone}\n{email}\n{span.start.isoformat()}\n{span.end.isoformat()}\n"
    context = hashlib.blake2b(digest_size=16)
    context.update(f"{head}{found.x_wr}\n{sorted(found.tzids)}\n".encode())
    for i, line in enumerate(lines):
        if not inside[i]:
            context.update(line.text.encode("utf-8", "surrogatepass") + b"\n")
    digests = {
        key: _digest(lines[seg.first : seg.last + 1] for seg in segs)
        for key, segs in groups.items()
    }
    return _Grouped(context.digest(), groups, digests)


def _digest(blocks: Iterable[list[Line]]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for block in blocks:
        for line in block:
            h.update(line.text.encode("utf-8", "surrogatepass") + b"\n")
        h.update(b"\x00")
    return h.digest()


@dataclass(frozen=True)
class _Plan:
    """A re-read cut into what must be read (``part``: the context and the changed or
    new groups, with their line numbers) and what is reused from the previous state."""

    part: list[Line]
    notes: list[str]
    grouped: _Grouped
    kept: set[str]
    known: Mapping[bytes, Group]
    reused: list[Occurrence]
    carried: Carried


def _plan(
    data: bytes, options: ReadOptions, mode: str, previous: GroupState | None
) -> _Plan | None:
    source, span = options["source"], options["span"]
    notes: list[str] = []
    lines = logical_lines(decode(data, source, notes), source, notes)
    grouped = (
        None if notes else _group(lines, options["timezone"], options.get("email"), span, mode)
    )
    if grouped is None:
        return None
    known = previous.groups if previous is not None and previous.context == grouped.context else {}
    kept = {key for key, digest in grouped.digests.items() if digest in known}
    skip = bytearray(len(lines))
    for key in kept:
        for seg in grouped.groups[key]:
            skip[seg.first : seg.last + 1] = b"\x01" * (seg.last - seg.first + 1)
    part = [line for i, line in enumerate(lines) if not skip[i]]
    reused = [known[grouped.digests[key]] for key in kept]
    occurrences = [o for g in reused for o in unpack(g.occurrences)]
    load = sum((g.load for g in reused), Load())
    return _Plan(part, notes, grouped, kept, known, occurrences, Carried(load, len(occurrences)))


def read_part(
    part: list[Line], notes: list[str], carried: Carried, mode: str, **options: Unpack[ReadOptions]
) -> tuple[Expansion | None, list[str]]:
    """The windowed/fast read of a plan's ``part`` (in a reader's child): the changed
    groups' occurrences and parts, and the repairs added to ``notes``."""
    found = read_lines(
        part,
        notes,
        options["source"],
        options["timezone"],
        options["span"],
        options.get("email"),
        fast=mode == "fast",
        carried=carried,
    )
    return (found if found is not None and found.parts is not None else None), notes


def _finish(planned: _Plan, found: Expansion, notes: list[str], span: Interval) -> Changes:
    """The whole file's expansion and the next state from the part read and the reused groups."""
    assert found.parts is not None  # read_part returns None otherwise
    occurrences = planned.reused + list(found.occurrences)
    occurrences.sort(key=lambda o: (o.start, o.end))
    merged = Expansion(span, tuple(occurrences), found.unknown_tzids, found.warnings)
    quiet = not (notes or found.warnings or found.unknown_tzids)
    grouped, kept = planned.grouped, planned.kept
    state = _state(span, grouped, kept, planned.known, found.parts) if quiet else None
    read = len(grouped.groups) - len(kept)
    return Changes(merged, tuple(dict.fromkeys(notes)), state, read, len(kept))


def _incremental(
    data: bytes, options: ReadOptions, mode: str, previous: GroupState | None
) -> Changes | None:
    planned = _plan(data, options, mode, previous)
    if planned is None:
        return None
    found, notes = read_part(planned.part, planned.notes, planned.carried, mode, **options)
    return None if found is None else _finish(planned, found, notes, options["span"])


def expand_changes_through(
    budget: Reader | None, data: bytes, previous: GroupState | None, **options: Unpack[ReadOptions]
) -> Changes:
    """``expand_changes`` under ``budget``. With a previous state, the file is cut
    into groups here and only the part to read (the context and the changed groups) goes
    to the reader's child, and only its occurrences come back: the state never crosses
    between processes. Cutting is linear in the file's bytes (at most ``MAX_CUT_BYTES``
    here); everything the data decides the cost of (parsing, expansion) stays in the
    child under the budget. A first read, a bigger file, or a part that does not read
    (an error, a refused expansion) are read whole in the child, as before."""
    mode = reader_mode(options.get("reader"))
    source = options["source"]
    planned = None
    if previous is not None and mode != "full" and len(data) <= MAX_CUT_BYTES:
        try:
            planned = _plan(data, options, mode, previous)
        except CalendarError:
            planned = None
    if planned is not None:
        try:
            found, notes = run_read(
                budget, source, read_part, planned.part, planned.notes, planned.carried, mode,
                **options,
            )  # fmt: skip
        except (BudgetExceeded, ReaderCrashed):
            raise
        except CalendarError:
            found = None  # read whole below: the error (and its line) is the normal path's
        if found is not None:
            return _finish(planned, found, notes, options["span"])
    again = previous if planned is None else None  # a part that failed fails again
    return run_read(budget, source, expand_changes, data, again, **options)


def _state(
    span: Interval,
    grouped: _Grouped,
    kept: set[str],
    known: Mapping[bytes, Group],
    parts: Parts,
) -> GroupState | None:
    """The state after this read; None if an occurrence or rule belongs to no group read."""
    fresh = [key for key in grouped.groups if key not in kept]
    occurrences: dict[str, list[Occurrence]] = {key: [] for key in fresh}
    rules: dict[str, list[Recurring]] = {key: [] for key in fresh}
    for key, occ in parts.occurrences:
        if key is None:
            continue  # free/busy periods: context, read every time
        if key not in occurrences:
            return None
        occurrences[key].append(occ)
    for rule in parts.recurring:
        key = uid_key(rule.uid)
        if key not in rules:
            return None
        rules[key].append(rule)
    groups: dict[bytes, Group] = {}
    for key, digest in grouped.digests.items():
        if key in kept:
            groups[digest] = known[digest]
        else:
            load = rule_load(rules[key], span)
            groups[digest] = Group(pack(occurrences[key]), load.steps, load.instances)
    return GroupState.of(span, grouped.context, groups)
