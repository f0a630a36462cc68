"""Time-zone helpers for the web layer: validation, names, offsets, hours parsing."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler import localtime
from scheduler.localtime import find_zone, zone
from scheduler.model import WEEKDAYS, WorkingHours


@lru_cache(maxsize=1)
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


def get_zone(name: str) -> ZoneInfo:
    """The zone of a name already checked with ``zone_ok`` (cached, see ``localtime.zone``)."""
    return zone(name)


def zone_ok(name: str) -> bool:
    return find_zone(name) is not None


def offset_label(tz: str, at: datetime) -> str:
    """'UTC+05:30' for ``tz`` at the instant ``at``."""
    return utc_offset_label(at.astimezone(get_zone(tz)))


def utc_offset_label(moment: datetime) -> str:
    """'UTC+05:30': the UTC offset of an aware ``moment`` (the one offset formatter)."""
    off = moment.utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{localtime.format_minutes(abs(minutes))}"


class HoursError(ValueError):
    def __init__(self, field: str, value: str, hint: str) -> None:
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(f"{field} = {value!r}: {hint}")


def parse_range(text: str, field: str = "hours") -> tuple[int, int]:
    """'09:00-17:30' -> (540, 1050); '24:00' may end a range (:func:`scheduler.localtime.
    parse_range`, the one reader, with the form field named)."""
    try:
        return localtime.parse_range(text)
    except localtime.RangeError as exc:
        raise HoursError(field, text, exc.hint) from None


def parse_week(hours: dict[str, list[str]]) -> WorkingHours:
    """{"mon": ["09:00-17:00"]} -> WorkingHours; raises HoursError on bad or overlapping ranges."""
    ranges: dict[int, tuple[tuple[int, int], ...]] = {}
    for day, items in hours.items():
        if day not in WEEKDAYS:
            raise HoursError("working_hours", day, "days are mon, tue, wed, thu, fri, sat, sun")
        try:
            parsed = localtime.day_ranges(items)
        except localtime.RangeError as exc:
            value = ", ".join(items) if exc.index is None else items[exc.index]
            raise HoursError(f"working_hours.{day}", value, exc.hint) from None
        if parsed:
            ranges[WEEKDAYS.index(day)] = parsed
    return WorkingHours(ranges=ranges)


def week_text(hours: dict[str, list[str]]) -> str:
    """Compact text: 'mon-fri 09:00-17:00; sat 10:00-12:00'."""
    parts: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        val = ", ".join(hours.get(day, []))
        if not val:
            continue
        if (
            parts
            and parts[-1][1] == val
            and WEEKDAYS.index(parts[-1][0][-1]) + 1 == WEEKDAYS.index(day)
        ):
            parts[-1][0].append(day)
        else:
            parts.append(([day], val))
    out = []
    for days, val in parts:
        label = days[0] if len(days) == 1 else f"{days[0]}-{days[-1]}"
        out.append(f"{label} {val}")
    return "; ".join(out) or "none"


def parse_week_text(text: str) -> dict[str, list[str]]:
    """Inverse of week_text for the edit form: 'mon-fri 09:00-17:00; sat 10:00-12:00'."""
    result: dict[str, list[str]] = {}
    text = text.strip()
    if not text or text == "none":
        return result
    for chunk in text.split(";"):
        chunk = chunk.strip()
        if not chunk:
            continue
        head, _, rest = chunk.partition(" ")
        if "-" in head:
            a, _, b = head.partition("-")
            if a not in WEEKDAYS or b not in WEEKDAYS or WEEKDAYS.index(b) < WEEKDAYS.index(a):
                raise HoursError("working_hours", chunk, "write days like mon-fri or sat")
            days = list(WEEKDAYS[WEEKDAYS.index(a) : WEEKDAYS.index(b) + 1])
        else:
            if head not in WEEKDAYS:
                raise HoursError("working_hours", chunk, "write days like mon-fri or sat")
            days = [head]
        ranges = [r.strip() for r in rest.split(",") if r.strip()]
        if not ranges:
            raise HoursError(
                "working_hours", chunk, 'give ranges after the days: "mon-fri 09:00-17:00"'
            )
        for r in ranges:
            parse_range(r, "working_hours")
        for d in days:
            result.setdefault(d, []).extend(ranges)
    parse_week(result)
    return result
