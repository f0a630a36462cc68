"""Local wall clocks in integers: one zone's UTC offsets, read once per UTC day.

The engine's inner loops ask the same questions many times: the local minute
of a session start, its local date and ISO week, the instant of "09:00" on a
local date. A :class:`LocalClock` answers them with integer arithmetic on
POSIX seconds. It asks :mod:`zoneinfo` for the offset at each UTC midnight it
needs (once per zone and day, cached in the clock, which lives for one
search) and, on a day whose two midnights differ, bisects to the second of
the change; so DST changes and :30/:45 offsets stay exact.

It relies on one fact of the time zone database: a zone does not change its
offset twice within one UTC day. Wall times near more than one change fall
back to :mod:`zoneinfo` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.intervals import Span
from scheduler.model import WorkingHours

DAY = 86400
REACH = 15 * 3600  # more than any UTC offset: the instant of a wall time is this close to it
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Piece:
    """One UTC day of a zone: the offset from its midnight, and the second it changes."""

    before: int
    change: int  # the first second with ``after``; the next midnight when nothing changes
    after: int


@dataclass
class LocalClock:
    """Integer local time of one zone (seconds, minute of the day, day and week numbers)."""

    tz: ZoneInfo
    _pieces: dict[int, Piece] = field(default_factory=dict)
    _steady: dict[int, int | None] = field(default_factory=dict)

    def offset(self, moment: int) -> int:
        """The UTC offset in seconds at POSIX second ``moment``."""
        piece = self._pieces.get(moment // DAY) or self._piece_of(moment // DAY)
        return piece.before if moment < piece.change else piece.after

    def local(self, moment: int) -> int:
        """Local wall-clock seconds since 1970-01-01 00:00 local."""
        return moment + self.offset(moment)

    def minute(self, moment: int) -> int:
        """Minutes after local midnight."""
        return self.local(moment) % DAY // 60

    def day(self, moment: int) -> int:
        """The local date as a day number (days since 1970-01-01)."""
        return self.local(moment) // DAY

    def week(self, moment: int) -> int:
        """The local ISO week (from Monday 00:00 local) as a week number."""
        return week_of_day(self.local(moment) // DAY)

    def instant(self, day: int, minute: int) -> int:
        """POSIX second of wall time ``minute`` (0..1440) after local midnight of ``day``.

        As :func:`scheduler.localtime.local_instant`: a wall time in a DST gap takes
        the offset before the gap; an ambiguous one means its first occurrence.
        """
        wall = day * DAY + minute * 60
        steady = self.steady_offset(day)
        if steady is not None:
            return wall - steady
        changes = self._changes(wall - REACH, wall + REACH)
        if not changes:
            return wall - self.offset(wall)
        if len(changes) > 1:
            return _zoneinfo_instant(day, minute, self.tz)
        piece = changes[0]
        if wall < piece.change + max(piece.before, piece.after):
            return wall - piece.before
        return wall - piece.after

    def steady_offset(self, day: int) -> int | None:
        """The one offset of local ``day`` and the hours around it, or None near a change
        (then wall times of ``day`` are ``day * DAY + minute * 60 - offset``)."""
        if day not in self._steady:
            self._steady[day] = _steady_offset(self.tz, day)
        return self._steady[day]

    def steady_between(self, low: int, high: int) -> int | None:
        """The one offset of ``[low, high]``, or None when it changes in the UTC days
        around it."""
        pieces = [self._piece_of(day) for day in range(low // DAY, high // DAY + 1)]
        offset = pieces[0].before
        return offset if all(p.before == p.after == offset for p in pieces) else None

    def _piece_of(self, day: int) -> Piece:
        piece = self._pieces.get(day)
        if piece is None:
            piece = self._pieces[day] = _day_piece(self.tz, day)
        return piece

    def _changes(self, low: int, high: int) -> list[Piece]:
        """The days with an offset change in ``(low, high]``."""
        found = []
        for day in range(low // DAY, high // DAY + 1):
            piece = self._piece_of(day)
            if piece.before != piece.after and low < piece.change <= high:
                found.append(piece)
        return found


# The zone database as pieces of UTC days: a pure function of the zone and the day,
# memoised (bounded) for the life of the process like :func:`scheduler.localtime.zone`.
@lru_cache(maxsize=32768)
def _day_piece(tz: ZoneInfo, day: int) -> Piece:
    start, end = day * DAY, (day + 1) * DAY
    before, after = _midnight_offset(tz, day), _midnight_offset(tz, day + 1)
    if before == after:
        return Piece(before, end, after)
    low, high = start, end  # offset(low) == before, offset(high) == after
    while high - low > 1:
        middle = (low + high) // 2
        if _zone_offset(middle, tz) == before:
            low = middle
        else:
            high = middle
    return Piece(before, high, after)


@lru_cache(maxsize=32768)
def _midnight_offset(tz: ZoneInfo, day: int) -> int:
    return _zone_offset(day * DAY, tz)


@lru_cache(maxsize=32768)
def _steady_offset(tz: ZoneInfo, day: int) -> int | None:
    # Local day ``day`` lies within UTC days day - 1 .. day + 1 (offsets are < 15 h).
    pieces = [_day_piece(tz, utc) for utc in (day - 1, day, day + 1)]
    return pieces[0].before if all(p.before == p.after for p in pieces) else None


def clear_memo() -> None:
    """Forget the memoised zone pieces (for cold-start measurements)."""
    for memo in (_day_piece, _midnight_offset, _steady_offset):
        memo.cache_clear()


def _zone_offset(moment: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(moment, UTC).astimezone(tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def _zoneinfo_instant(day: int, minute: int, tz: ZoneInfo) -> int:
    wall = datetime.combine(day_date(day), datetime.min.time(), tzinfo=tz)
    return int((wall + timedelta(minutes=minute)).timestamp())


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH_ORDINAL


def day_date(number: int) -> date:
    return date.fromordinal(number + EPOCH_ORDINAL)


def week_of_day(number: int) -> int:
    """The ISO week (Monday to Sunday) of a day number, as a week number (1970-01-01,
    a Thursday, is in week 0, which began on Monday 1969-12-29)."""
    return (number + 3) // 7


def weekday(number: int) -> int:
    """0 = Monday, as :meth:`datetime.date.weekday`, of a day number."""
    return (number + 3) % 7


def working_spans(hours: WorkingHours, clock: LocalClock, low: int, high: int) -> list[Span]:
    """Working ranges as POSIX-second spans overlapping ``[low, high)``, in order.

    The integer twin of :func:`scheduler.localtime.working_instants`: each range stays
    separate, and ranges that DST makes empty are dropped.
    """
    found: list[Span] = []
    table, steady_offset = hours.ranges, clock.steady_offset
    for day in range(clock.day(low) - 1, clock.day(high) + 2):
        ranges = table.get(weekday(day))
        if not ranges:
            continue
        steady = steady_offset(day)
        if steady is None:
            pairs = [(clock.instant(day, start), clock.instant(day, end)) for start, end in ranges]
        else:
            base = day * DAY - steady
            pairs = [(base + start * 60, base + end * 60) for start, end in ranges]
        found.extend((lo, hi) for lo, hi in pairs if lo < hi and lo < high and hi > low)
    return sorted(found)
