"""Busy time prepared once and looked up by window: :func:`prepare_busy`.

A :class:`BusyIndex` is an interviewer's busy time as sorted, merged spans of
POSIX seconds (starts rounded down, ends up, as the engine reads them), with
bisect lookups, so that a search over two weeks touches only the spans of
those two weeks however long the calendar is. ``find_options`` and
``check_option`` take, per interviewer, either one of these or plain
intervals; both give the same results.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from math import ceil, floor
from operator import sub

from scheduler.intervals import Span, ceil_seconds, from_seconds, merge_spans, to_seconds
from scheduler.model import Interval

# Sorted starts and ends of merged busy spans, and the busy seconds before each span.
BusyTables = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class BusyIndex:
    """Sorted, disjoint, non-touching ``[start, end)`` spans of POSIX seconds."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    before: tuple[int, ...] = field(default=(), compare=False, repr=False)  # busy seconds

    def __post_init__(self) -> None:
        if len(self.before) != len(self.starts) + 1:
            object.__setattr__(self, "before", _before(self.starts, self.ends))

    def __len__(self) -> int:
        return len(self.starts)

    def between(self, low: int, high: int) -> list[Span]:
        """The busy time inside ``[low, high)``, as merged spans clipped to it."""
        first = bisect_right(self.ends, low)
        last = bisect_left(self.starts, high, first)
        spans = list(zip(self.starts[first:last], self.ends[first:last], strict=True))
        return _clipped(spans, low, high)

    def tables(self) -> BusyTables:
        """Starts, ends and the busy seconds before each span."""
        return self.starts, self.ends, self.before

    def intervals(self) -> list[Interval]:
        """The prepared busy time back as merged intervals."""
        pairs = zip(self.starts, self.ends, strict=True)
        return [Interval(from_seconds(s), from_seconds(e)) for s, e in pairs]


def prepare_busy(intervals: Iterable[Interval]) -> BusyIndex:
    """An index of ``intervals`` (any order, may overlap) for repeated searches."""
    merged = merge_spans((to_seconds(i.start), ceil_seconds(i.end)) for i in intervals)
    return BusyIndex(tuple(s for s, _ in merged), tuple(e for _, e in merged))


Busy = Sequence[Interval] | BusyIndex


def busy_tables(spans: Sequence[Span]) -> BusyTables:
    """:meth:`BusyIndex.tables` of sorted, merged ``spans``."""
    starts = tuple(s for s, _ in spans)
    ends = tuple(e for _, e in spans)
    return starts, ends, _before(starts, ends)


def _before(starts: Sequence[int], ends: Sequence[int]) -> tuple[int, ...]:
    return tuple(accumulate(map(sub, ends, starts), initial=0))


def busy_between(busy: Busy, low: int, high: int) -> list[Span]:
    """Merged busy spans of ``busy`` inside ``[low, high)`` (POSIX seconds), clipped to it.

    From plain intervals this reads each interval once (two comparisons) and
    converts only those that overlap the range; from an index it bisects.
    """
    if isinstance(busy, BusyIndex):
        return busy.between(low, high)
    start, end = from_seconds(low), from_seconds(high)
    near = [b for b in busy if b.start < end and b.end > start]
    spans = [(floor(b.start.timestamp()), ceil(b.end.timestamp())) for b in near]
    return _clipped(merge_spans(spans), low, high)


def _clipped(spans: list[Span], low: int, high: int) -> list[Span]:
    if low >= high:
        return []
    if spans and spans[0][0] < low:
        spans[0] = (low, spans[0][1])
    if spans and spans[-1][1] > high:
        spans[-1] = (spans[-1][0], high)
    return spans
