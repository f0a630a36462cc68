"""Per-interviewer feasible session starts, as closed ranges of POSIX seconds."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from .intervals import Span, from_seconds, merge_spans, to_seconds
from .localtime import working_instants, zone
from .model import Interval, Interviewer

DAY_SECONDS = 86400


def allowed_starts(work: Sequence[Span], busy: Sequence[Span], need: int, pad: Span) -> list[Span]:
    """Closed ranges ``[a, b]`` of starts ``t`` with ``[t, t+need)`` inside one working span
    and ``[t - pad_before, t + need + pad_after)`` clear of every (merged) busy span."""
    before, after = pad
    holes = [(bs - need - after, be + before) for bs, be in busy]  # forbidden: open (l, r)
    result: list[Span] = []
    for ws, we in work:
        result.extend(_cut(ws, we - need, holes))
    return result


def _cut(low: int, high: int, holes: Sequence[Span]) -> list[Span]:
    if low > high:
        return []
    pieces = []
    cursor = low
    first = bisect_right(holes, (low - 1, 2**62)) - 1
    for left, right in holes[max(first, 0) :]:
        if left >= high:
            break
        if right <= cursor:
            continue
        if left >= cursor:
            pieces.append((cursor, left))
        cursor = max(cursor, right)
        if cursor > high:
            return pieces
    pieces.append((cursor, high))
    return pieces


def covered(range_lists: Sequence[Sequence[Span]], needed: int) -> list[Span]:
    """Closed ranges where at least ``needed`` of the closed range lists overlap."""
    events = sorted(
        (moment, step)
        for ranges in range_lists
        for start, end in ranges
        for moment, step in ((start, 1), (end + 1, -1))
    )
    result: list[Span] = []
    count = 0
    opened = 0
    for moment, step in events:
        before = count
        count += step
        if before < needed <= count:
            opened = moment
        elif count < needed <= before and moment - 1 >= opened:
            result.append((opened, moment - 1))
    return result


def contains(ranges: Sequence[Span], moment: int) -> bool:
    """Whether ``moment`` lies in one of the closed, sorted ``ranges``."""
    index = bisect_right(ranges, (moment, 2**62)) - 1
    return index >= 0 and ranges[index][0] <= moment <= ranges[index][1]


@dataclass
class Person:
    """One interviewer prepared for a search: spans in seconds, caches per duration."""

    interviewer: Interviewer
    tz: ZoneInfo
    work: list[Span]
    busy: list[Span]
    pad: Span
    booked_days: dict[date, int]
    _starts: dict[int, list[Span]] = field(default_factory=dict)
    _fractions: dict[Span, float] = field(default_factory=dict)

    def starts(self, need: int) -> list[Span]:
        if need not in self._starts:
            self._starts[need] = allowed_starts(self.work, self.busy, need, self.pad)
        return self._starts[need]

    def local_date(self, moment: int) -> date:
        return datetime.fromtimestamp(moment, tz=UTC).astimezone(self.tz).date()

    def under_cap(self, moment: int) -> bool:
        cap = self.interviewer.max_interviews_per_day
        if cap is None:
            return True
        return self.booked_days.get(self.local_date(moment), 0) + 1 <= cap

    def working_span(self, start: int, end: int) -> Span | None:
        index = bisect_right(self.work, (start, 2**62)) - 1
        if index >= 0 and self.work[index][0] <= start and end <= self.work[index][1]:
            return self.work[index]
        return None


def prepare_person(
    interviewer: Interviewer,
    busy: Sequence[Interval],
    booked: Sequence[Interval],
    horizon: Interval,
    pad: Span,
) -> Person:
    tz = zone(interviewer.timezone)
    work = [
        (to_seconds(lo), to_seconds(hi))
        for lo, hi in working_instants(interviewer.working_hours, tz, horizon.start, horizon.end)
    ]
    low, high = horizon.start, horizon.end
    spans = merge_spans(
        (to_seconds(b.start), _ceil(b.end)) for b in busy if b.end > low and b.start < high
    )
    days: dict[date, int] = {}
    for item in booked:
        day = item.start.astimezone(tz).date()
        days[day] = days.get(day, 0) + 1
    return Person(interviewer, tz, work, spans, pad, days)


def _ceil(moment: datetime) -> int:
    whole = to_seconds(moment)
    return whole if whole == moment.timestamp() else whole + 1


def busy_fraction(person: Person, span: Span) -> float:
    """Share of the working span ``span`` that is already busy."""
    if span not in person._fractions:
        person._fractions[span] = _fraction(person.busy, span)
    return person._fractions[span]


def _fraction(busy: Sequence[Span], span: Span) -> float:
    total = span[1] - span[0]
    if total <= 0:
        return 0.0
    first = max(0, bisect_right(busy, (span[0], 2**62)) - 1)
    taken = 0
    for start, end in busy[first:]:
        if start >= span[1]:
            break
        taken += max(0, min(end, span[1]) - max(start, span[0]))
    return min(1.0, taken / total)


def as_datetime(seconds: int) -> datetime:
    return from_seconds(seconds)
