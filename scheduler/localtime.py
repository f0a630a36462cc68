"""Wall-clock rules to instants, one local date at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.model import LocalRange, WorkingHours

DAY = timedelta(days=1)


MAX_ZONE_NAME = 64  # the longest IANA name is 32 characters


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone called ``name``, kept alive (zoneinfo's own strong cache holds 8)."""
    return ZoneInfo(name)


def find_zone(name: object) -> ZoneInfo | None:
    """The zone called ``name``, or None for anything that is not one.

    The one check of a zone name, for every input (config files, forms, the
    candidate's ``?tz=``, calendars): unknown names, folders of the zone
    database ("Europe"), padding, NUL bytes and overlong names are all None.
    """
    if not isinstance(name, str) or not name or name != name.strip():
        return None
    if len(name) > MAX_ZONE_NAME or "\x00" in name:
        return None
    try:
        return zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a folder: IsADirectoryError
        return None


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """UTC instant of wall-clock ``minute`` after local midnight of ``day``.

    ``minute`` may be 1440 (``24:00``, the next local midnight). A wall time
    in a DST gap is read with the offset before the gap (``fold=0``), as
    RFC 5545 prescribes; an ambiguous one means its first occurrence.
    """
    return wall_to_utc(datetime.combine(day, time(0)) + timedelta(minutes=minute), tz)


def wall_to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of the wall-clock time ``wall`` (naive) in ``zone``.

    The one DST rule of panelslot (the engine and the calendar reader both use
    it): a time that occurs twice (DST end) is its first occurrence; a time
    that does not exist (DST gap) is read with the offset in force before the
    gap (RFC 5545 3.3.5), whatever the tzinfo implementation does by itself.
    ``zoneinfo`` with ``fold=0`` is exactly this rule (PEP 495), so it is used
    directly; any other tzinfo (a VTIMEZONE read by icalendar) is probed.
    """
    if type(zone) is ZoneInfo:
        return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return probe_wall_to_utc(wall, zone)


def probe_wall_to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """``wall_to_utc`` for any tzinfo, from the offsets in force around ``wall``."""
    offsets = {
        off
        for probe in (
            wall.replace(tzinfo=zone, fold=0),
            wall.replace(tzinfo=zone, fold=1),
            (wall - DAY).replace(tzinfo=zone),
            (wall + DAY).replace(tzinfo=zone),
        )
        if (off := probe.utcoffset()) is not None
    }
    valid = [
        instant
        for off in offsets
        if (instant := (wall - off).replace(tzinfo=UTC))
        .astimezone(zone)
        .replace(tzinfo=None, fold=0)
        == wall
    ]
    if valid:
        return min(valid)
    before = (wall - DAY).replace(tzinfo=zone).utcoffset() or timedelta(0)
    return (wall - before).replace(tzinfo=UTC)


def local_dates(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    """Every local date in ``tz`` that the span ``[start, end)`` touches, plus one each side."""
    day = start.astimezone(tz).date() - DAY
    last = end.astimezone(tz).date() + DAY
    while day <= last:
        yield day
        day += DAY


def range_instants(day: date, rng: LocalRange, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return local_instant(day, rng[0], tz), local_instant(day, rng[1], tz)


def working_instants(
    hours: WorkingHours, tz: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Working ranges as UTC instant pairs overlapping ``[start, end)``, in order.

    Each range stays separate (a session must fit wholly inside one range);
    ranges that DST makes empty are dropped.
    """
    found = []
    for day in local_dates(start, end, tz):
        for rng in hours.on(day.weekday()):
            lo, hi = range_instants(day, rng, tz)
            if lo < hi and lo < end and hi > start:
                found.append((lo, hi))
    return sorted(found)


class RangeError(ValueError):
    """Working ranges that cannot be read: ``hint`` says how to write them; ``index`` is the
    range at fault within a day's list (``None``: the day's ranges as a whole)."""

    def __init__(self, hint: str, index: int | None = None) -> None:
        super().__init__(hint)
        self.hint = hint
        self.index = index


RANGE_HINT = 'write a range like "09:00-17:00"'
BOUNDS_HINT = "hours are 00:00 to 24:00"


def parse_hhmm(text: str) -> int:
    """Minutes after midnight of ``HH:MM`` (``24:00`` allowed); RangeError otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    digits = (hours + minutes).isascii() and hours.isdigit() and minutes.isdigit()
    if not sep or len(minutes) != 2 or len(hours) > 2 or not digits:
        raise RangeError(RANGE_HINT)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 1440:
        raise RangeError(BOUNDS_HINT)
    return value


def parse_range(text: str) -> LocalRange:
    """``"09:00-17:00"`` -> ``(540, 1020)``: the one reader of a working-hours range (the
    config file, the web forms, the CLI); RangeError (a ValueError) when malformed or empty."""
    first, sep, second = text.partition("-")
    if not sep:
        raise RangeError(RANGE_HINT)
    start, end = parse_hhmm(first), parse_hhmm(second)
    if start == 1440:
        raise RangeError(f"{BOUNDS_HINT}; 24:00 may only end a range")
    if end <= start:
        raise RangeError("the end must be after the start (one local day: split at midnight)")
    return start, end


def day_ranges(items: Sequence[str]) -> tuple[LocalRange, ...]:
    """One day's ranges, sorted; RangeError names the bad one, or the day when they overlap."""
    parsed = []
    for index, text in enumerate(items):
        try:
            parsed.append(parse_range(text))
        except RangeError as exc:
            raise RangeError(exc.hint, index) from None
    parsed.sort()
    for before, after in zip(parsed, parsed[1:], strict=False):
        if after[0] < before[1]:
            raise RangeError("ranges overlap; make them disjoint")
    return tuple(parsed)


def format_minutes(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
