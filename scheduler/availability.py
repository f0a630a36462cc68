"""Per-interviewer feasible session starts, as closed ranges of POSIX seconds."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.busy import Busy, BusyIndex, BusyTables, busy_between, busy_tables
from scheduler.clock import DAY, LocalClock, week_of_day, working_spans
from scheduler.intervals import Span, to_seconds
from scheduler.localtime import zone
from scheduler.model import Interval, Interviewer
from scheduler.ranking import comfort_at


def allowed_starts(work: Sequence[Span], busy: Sequence[Span], need: int, pad: Span) -> list[Span]:
    """Closed ranges ``[a, b]`` of starts ``t`` with ``[t, t+need)`` inside one working span
    and ``[t - pad_before, t + need + pad_after)`` clear of every (merged) busy span."""
    before, after = pad
    holes = [(bs - need - after, be + before) for bs, be in busy]  # forbidden: open (l, r)
    result: list[Span] = []
    for ws, we in work:
        result.extend(_cut(ws, we - need, holes))
    return result


def allowed_starts_within(
    work: Sequence[Span], busy: Sequence[Span], need: int, pad: Span, within: Sequence[Span]
) -> list[Span]:
    """:func:`allowed_starts` inside the sorted, disjoint closed ranges ``within`` only."""
    if not within:
        return []
    before, after = pad
    holes = [(bs - need - after, be + before) for bs, be in busy]
    result: list[Span] = []
    first, count = 0, len(within)
    for ws, we in work:
        last = we - need
        while first < count and within[first][1] < ws:
            first += 1
        index = first
        while index < count and within[index][0] <= last:
            low, high = within[index]
            result.extend(_cut(ws if ws > low else low, last if last < high else high, holes))
            index += 1
        if first == count:
            break
    return result


def _cut(low: int, high: int, holes: Sequence[Span]) -> list[Span]:
    if low > high:
        return []
    pieces = []
    cursor = low
    first = bisect_right(holes, (low - 1, 2**62)) - 1
    for index in range(first if first > 0 else 0, len(holes)):
        left, right = holes[index]
        if left >= high:
            break
        if right <= cursor:
            continue
        if left >= cursor:
            pieces.append((cursor, left))
        cursor = right
        if cursor > high:
            return pieces
    pieces.append((cursor, high))
    return pieces


def covered(range_lists: Sequence[Sequence[Span]], needed: int) -> list[Span]:
    """Closed ranges where at least ``needed`` of the closed range lists overlap."""
    if needed == len(range_lists) and needed:
        common = list(range_lists[0])
        for ranges in range_lists[1:]:
            common = _both(common, ranges)
        return common
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


def _both(left: Sequence[Span], right: Sequence[Span]) -> list[Span]:
    """Where two sorted lists of disjoint closed ranges overlap."""
    result: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start <= end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def contains(ranges: Sequence[Span], moment: int) -> bool:
    """Whether ``moment`` lies in one of the closed, sorted ``ranges``."""
    index = bisect_right(ranges, (moment, 2**62)) - 1
    return index >= 0 and ranges[index][0] <= moment <= ranges[index][1]


@dataclass
class Person:
    """One interviewer prepared for a search: spans in seconds, caches per duration."""

    interviewer: Interviewer
    clock: LocalClock
    work: list[Span]
    busy: list[Span]
    pad: Span
    booked_days: dict[int, int]  # local day number -> interviews booked that day
    booked_weeks: dict[int, int]  # local ISO week number -> interviews booked that week
    _starts: dict[int, list[Span]] = field(default_factory=dict)
    _fractions: dict[Span, float] = field(default_factory=dict)
    _work_starts: list[int] = field(init=False)
    # Busy starts, ends and busy seconds before each span: a prepared index's own
    # tables (a superset of ``busy``, which gives the same sums inside the horizon),
    # or built from ``busy`` on first use.
    tables: BusyTables | None = None
    # Per working span (by index): its one UTC offset (None when it changes inside),
    # its load and its edges, for the parts of the sessions it holds.
    _span_info: dict[int, tuple[int | None, float, int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._work_starts = [start for start, _ in self.work]

    def starts_within(self, need: int, within: Sequence[Span]) -> list[Span]:
        """Allowed starts of a session of ``need`` seconds inside ``within``."""
        if need in self._starts:
            return covered([self._starts[need], within], 2)
        return allowed_starts_within(self.work, self.busy, need, self.pad, within)

    def starts(self, need: int) -> list[Span]:
        if need not in self._starts:
            self._starts[need] = allowed_starts(self.work, self.busy, need, self.pad)
        return self._starts[need]

    @property
    def capped(self) -> bool:
        who = self.interviewer
        return who.max_interviews_per_day is not None or who.max_interviews_per_week is not None

    def load(self, span: Span, day: int) -> float:
        """How full the working ``span`` on local ``day`` already is: its busy share,
        + 0.25 per interview already booked that day, + 0.05 per interview already
        booked that local ISO week (that day's included)."""
        if not self.booked_days:
            found = self._fractions.get(span)
            return min(1.0, busy_fraction(self, span) if found is None else found)
        booked = self.booked_days.get(day, 0)
        week = self.booked_weeks.get(week_of_day(day), 0)
        return min(1.0, busy_fraction(self, span) + 0.25 * booked + 0.05 * week)

    def under_cap(self, moment: int) -> bool:
        """Whether one more interview starting at ``moment`` stays within the daily and
        weekly caps (interviews already booked that local day / ISO week, + 1)."""
        return not self.cap_problems(moment)

    def cap_problems(self, moment: int) -> list[str]:
        """The caps one more interview at ``moment`` would break: "day", "week"."""
        who = self.interviewer
        local = self.clock.local(moment)
        found = []
        daily, weekly = who.max_interviews_per_day, who.max_interviews_per_week
        if daily is not None and self.booked_days.get(local // DAY, 0) + 1 > daily:
            found.append("day")
        if weekly is not None and self.booked_weeks.get(week_of_day(local // DAY), 0) + 1 > weekly:
            found.append("week")
        return found

    def parts(self, start: int, end: int) -> tuple[float, float]:
        """Seat comfort and load of a session ``[start, end)``: their local clock and the
        edges of the working span holding it, and how full that span already is."""
        index = bisect_right(self._work_starts, start) - 1
        if index >= 0:
            info = self._span_info.get(index)
            if info is None:
                info = self._span_info[index] = self._steady_parts(self.work[index])
            offset, load, low, high = info
            if end <= high:
                if offset is not None:
                    return comfort_at((start + offset) % DAY // 60, start, end, low, high), load
                span = low, high
            else:
                span = (start, end)
        else:
            span = (start, end)
        local = self.clock.local(start)
        seat = comfort_at(local % DAY // 60, start, end, span[0], span[1])
        return seat, self.load(span, local // DAY)

    def _steady_parts(self, span: Span) -> tuple[int | None, float, int, int]:
        clock = self.clock
        guess = clock.offset(span[0])
        # A working span lies within one local day: when that day and the hours around
        # it keep one offset, so does the span; else ask about the span itself.
        offset = clock.steady_offset((span[0] + guess) // DAY)
        if offset != guess:
            offset = clock.steady_between(span[0], span[1])
        if offset is None:
            return None, 0.0, span[0], span[1]
        return offset, self.load(span, (span[0] + offset) // DAY), span[0], span[1]

    def busy_seconds(self, low: int, high: int) -> int:
        """How much of ``[low, high)`` is busy (the busy spans are merged)."""
        if self.tables is None:
            self.tables = busy_tables(self.busy)
        starts, ends, before = self.tables
        first = bisect_right(ends, low)
        last = bisect_left(starts, high, first)
        if first >= last:
            return 0
        taken = before[last] - before[first]
        if starts[first] < low:
            taken -= low - starts[first]
        if ends[last - 1] > high:
            taken -= ends[last - 1] - high
        return taken


def prepare_person(
    interviewer: Interviewer,
    busy: Busy,
    booked: Sequence[Interval],
    horizon: Span,
    pad: Span,
    clock: LocalClock | None = None,
) -> Person:
    """``interviewer`` for a search over ``horizon``: working spans that overlap it and
    the busy time that can touch them (with the buffers ``pad``), in seconds.
    ``clock`` is their zone's clock when the caller shares one among people."""
    clock = clock or LocalClock(zone(interviewer.timezone))
    low, high = horizon
    work = working_spans(interviewer.working_hours, clock, low, high)
    if work:
        low, high = min(low, work[0][0] - pad[0]), max(high, max(e for _, e in work) + pad[1])
    days: dict[int, int] = {}
    weeks: dict[int, int] = {}
    for item in booked:
        day = clock.day(to_seconds(item.start))
        days[day] = days.get(day, 0) + 1
        weeks[week_of_day(day)] = weeks.get(week_of_day(day), 0) + 1
    tables = busy.tables() if isinstance(busy, BusyIndex) else None
    spans = busy_between(busy, low, high)
    return Person(interviewer, clock, work, spans, pad, days, weeks, tables=tables)


def busy_fraction(person: Person, span: Span) -> float:
    """Share of the working span ``span`` that is already busy."""
    found = person._fractions.get(span)
    if found is None:
        total = span[1] - span[0]
        found = min(1.0, person.busy_seconds(*span) / total) if total > 0 else 0.0
        person._fractions[span] = found
    return found
