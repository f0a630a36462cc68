"""Interval algebra over half-open ``[start, end)`` spans.

Works on :class:`~scheduler.model.Interval` and, for the engine's inner
loops, on ``(start, end)`` pairs of POSIX seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from scheduler.model import Interval

Span = tuple[int, int]


def to_seconds(moment: datetime) -> int:
    """POSIX seconds of an aware datetime (sub-second parts dropped downwards)."""
    return math.floor(moment.timestamp())


def from_seconds(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans; touching spans are joined."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract_spans(base: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """``base`` minus ``holes``; both must be merged (sorted, disjoint)."""
    result: list[Span] = []
    index = 0
    for start, end in base:
        cursor = start
        while index < len(holes) and holes[index][1] <= cursor:
            index += 1
        probe = index
        while probe < len(holes) and holes[probe][0] < end:
            if holes[probe][0] > cursor:
                result.append((cursor, holes[probe][0]))
            cursor = max(cursor, holes[probe][1])
            probe += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect_spans(left: Sequence[Span], right: Sequence[Span]) -> list[Span]:
    """Common parts of two merged span lists."""
    result: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def _spans(intervals: Iterable[Interval]) -> list[Span]:
    return [(to_seconds(i.start), ceil_seconds(i.end)) for i in intervals]


def ceil_seconds(moment: datetime) -> int:
    """POSIX seconds of an aware datetime, rounded up."""
    return math.ceil(moment.timestamp())


def _intervals(spans: Iterable[Span]) -> list[Interval]:
    return [Interval(from_seconds(s), from_seconds(e)) for s, e in spans]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of ``intervals``, with overlapping and touching ones joined."""
    return _intervals(merge_spans(_spans(intervals)))


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    return _intervals(subtract_spans(merge_spans(_spans(base)), merge_spans(_spans(holes))))


def intersect(left: Iterable[Interval], right: Iterable[Interval]) -> list[Interval]:
    return _intervals(intersect_spans(merge_spans(_spans(left)), merge_spans(_spans(right))))


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """Merged ``intervals`` cut to ``window``."""
    return intersect(intervals, [window])
