"""Time zones of calendar data: TZID resolution and local times to UTC.

The DST rule (a repeated wall time is its first occurrence, a time in a gap
takes the offset before the gap) lives in ``scheduler.localtime.wall_to_utc``
and is shared with the engine; ``local_to_utc`` is that function.
"""

from __future__ import annotations

import re
import unicodedata
import warnings as pywarnings
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import icalendar
from icalendar.prop import vDDDLists, vDDDTypes
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from scheduler.localtime import find_zone, wall_to_utc

# Properties holding dates and times that may carry a TZID.
DATE_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")

local_to_utc = wall_to_utc


def to_utc(value: date | datetime, zone: tzinfo) -> datetime:
    """Dates are local midnight in ``zone``; floating times are read in ``zone``."""
    if not isinstance(value, datetime):
        return wall_to_utc(datetime.combine(value, time()), zone)
    if value.tzinfo is None:
        return wall_to_utc(value, zone)
    if value.utcoffset() == timedelta(0) and is_utc(value.tzinfo):
        return value.replace(tzinfo=UTC)
    return wall_to_utc(value.replace(tzinfo=None), value.tzinfo)


def is_utc(zone: tzinfo | None) -> bool:
    return (
        zone is UTC
        or getattr(zone, "key", None) in ("UTC", "Etc/UTC")
        or str(zone) in ("UTC", "tzutc()")
    )


def clean_tzid(tzid: str) -> str:
    return tzid.replace("\\,", ",").strip().strip('"').strip().rstrip(":").strip().lstrip("/")


def known_tz(tzid: str) -> tzinfo | None:
    """A zone icalendar itself resolves (IANA or Windows name)."""
    return find_zone(WINDOWS_TO_OLSON.get(tzid, tzid))


# Windows display names that do not contain a city with its own IANA zone.
_DISPLAY_NAMES = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "arizona": "America/Phoenix",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "atlantic time (canada)": "America/Halifax",
    "newfoundland": "America/St_Johns",
    "brasilia": "America/Sao_Paulo",
    "coordinated universal time": "UTC",
    "utc": "UTC",
    "greenwich mean time": "Etc/GMT",
    "dublin, edinburgh, lisbon, london": "Europe/London",
    "mid-atlantic": "Atlantic/South_Georgia",
}
_UTC_PREFIX = re.compile(r"^\((?:UTC|GMT)\s*(?:[+-]\d{1,2}(?::?\d{2})?)?\)\s*")
_SPACES = re.compile(r"[\s_]+")
_CITY_SEPARATORS = re.compile(r"[,/]")


@cache
def _city_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            index.setdefault(_fold(name.rsplit("/", 1)[1]), name)
    return index


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SPACES.sub(" ", plain).strip().casefold()


def resolve_tzid(tzid: str) -> tzinfo | None:
    """A zone for a TZID written without a usable VTIMEZONE, or None.

    Understands IANA names, Windows zone ids ("W. Europe Standard Time") and
    Windows display names ("(UTC-05:00) Eastern Time (US & Canada)",
    "Amsterdam, Belgrade, Berlin, ...", "Canberra, Melbourne, Sydney").
    """
    cleaned = clean_tzid(tzid)
    known = known_tz(cleaned)
    if known is not None:
        return known
    display = _UTC_PREFIX.sub("", cleaned)
    folded = _fold(display)
    if folded in _DISPLAY_NAMES:
        return ZoneInfo(_DISPLAY_NAMES[folded])
    cities = _city_index()
    for token in _CITY_SEPARATORS.split(display):
        zone = cities.get(_fold(token))
        if zone is not None:
            return ZoneInfo(zone)
    return None


def library_zone(tzid: str) -> tzinfo | None:
    """The zone icalendar gives a value with this TZID when it parses it."""
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        return tzp.timezone(tzid)


def attached_zone(tzid: str) -> tzinfo | None:
    """The zone ``attach_zones`` gives a naive value with this TZID (None: unknown)."""
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        return tzp.timezone(clean_tzid(tzid)) or resolve_tzid(tzid)


def attach_zones(cal: icalendar.Calendar) -> tuple[str, ...]:
    """Give naive values that carry an unresolved TZID a zone where one is known.

    Returns the TZIDs that stay unknown (their values stay floating and are
    read in the interviewer's zone).
    """
    unknown: dict[str, None] = {}
    for comp in cal.walk():
        if comp.name not in ("VEVENT", "VFREEBUSY"):
            continue
        for prop in DATE_PROPS:
            values = comp.get(prop)
            if values is None:
                continue
            for value in values if isinstance(values, list) else [values]:
                tzid = value.params.get("TZID") if hasattr(value, "params") else None
                if not tzid or not _has_naive(value):
                    continue
                zone = attached_zone(tzid)
                if zone is None:
                    unknown[str(tzid)] = None
                    continue
                _set_zone(value, zone)
    return tuple(unknown)


def _values(value: object) -> list[vDDDTypes]:
    if isinstance(value, vDDDLists):
        return list(value.dts)
    return [value] if isinstance(value, vDDDTypes) else []


def _has_naive(value: object) -> bool:
    for v in _values(value):
        parts = v.dt if isinstance(v.dt, tuple) else (v.dt,)
        if any(isinstance(p, datetime) and p.tzinfo is None for p in parts):
            return True
    return False


def _set_zone(value: object, zone: tzinfo) -> None:
    def fix(p: Any) -> Any:
        return p.replace(tzinfo=zone) if isinstance(p, datetime) and p.tzinfo is None else p

    for v in _values(value):
        current: Any = v.dt
        v.dt = tuple(fix(p) for p in current) if isinstance(current, tuple) else fix(current)
