"""One pass over a calendar's lines: its VEVENT blocks, and the clean ones read.

``split`` finds the VEVENTs directly inside a VCALENDAR, in document order,
with the UID of each (nested components, odd letter case and broken
structure make a block unusual; broken structure gives None: the whole file
takes the full path, which reports the error). ``read_event`` reads a block
in the strict language of ``contentline`` into a ``CleanEvent``, or gives
None for anything it does not fully understand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from integrations.ics.contentline import (
    REPEATABLE,
    Prop,
    clean_alarm,
    is_simple_text,
    plain_value_ok,
    read_date,
    read_datetime,
    read_duration,
    read_line,
)
from integrations.ics.lines import Line, prop_name, split_value
from integrations.ics.zones import attached_zone, clean_tzid, known_tz, library_zone

# Properties read by ``read_event`` itself (at most once each).
_TIME_NAMES = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "EXDATE"})


@dataclass
class Segment:
    """A VEVENT directly inside a VCALENDAR: ``lines[first:last + 1]``."""

    first: int
    last: int
    uid: str | None
    plain: bool  # BEGIN/END written exactly; nothing nested but VALARMs
    alarms: bool = False  # has VALARMs (the windowed reader keeps such blocks)


def uid_key(value: str) -> str:
    """What two UIDs must share to be one series (looser than any library: safe)."""
    return value.replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\").strip().casefold()


@dataclass
class Split:
    """What one pass over a file's lines found."""

    segments: list[Segment]
    tzids: frozenset[str]  # every TZID property's value, cleaned (VTIMEZONEs define them)
    x_wr: bool  # the file has an X-WR-TIMEZONE line


def split(lines: list[Line]) -> Split | None:
    """The VEVENT segments of ``lines``; None when the structure is broken."""
    segments: list[Segment] = []
    stack: list[str] = []
    current: Segment | None = None
    tzids: set[str] = set()
    x_wr = False
    for i, line in enumerate(lines):
        text = line.text
        first = text[:1]
        if first not in "BbEe" or not text[:5].upper().startswith(("BEGIN", "END")):
            head = text[:4].upper()
            if head[:3] == "UID" and prop_name(text) == "UID":
                if current is not None and len(stack) == 2 and current.uid is None:
                    current.uid = uid_key(split_value(text)[1])
            elif head == "TZID" and prop_name(text) == "TZID":
                tzids.add(clean_tzid(text.split(":", 1)[-1]))
            elif head == "X-WR":
                x_wr = x_wr or text[:13].upper() == "X-WR-TIMEZONE"
            continue
        name = prop_name(text)
        value = text.split(":", 1)[-1].strip().upper()
        if name == "BEGIN":
            stack.append(value)
            if len(stack) == 2 and value == "VEVENT" and stack[0] == "VCALENDAR":
                current = Segment(i, i, None, text == "BEGIN:VEVENT")
            elif current is not None:
                alarm = len(stack) == 3 and text == "BEGIN:VALARM"
                current.plain = current.plain and alarm
                current.alarms = True
        elif name == "END":
            if not stack or stack.pop() != value:
                return None
            if current is not None and len(stack) == 2 and text != "END:VALARM":
                current.plain = False
            if current is not None and len(stack) == 1:
                current.last = i
                current.plain = current.plain and text == "END:VEVENT"
                segments.append(current)
                current = None
    return Split(segments, frozenset(tzids), x_wr) if not stack else None


def shared_uids(segments: list[Segment]) -> set[str]:
    """UIDs found on more than one VEVENT (a series with overrides, or duplicates)."""
    counts = Counter(s.uid for s in segments if s.uid is not None)
    return {uid for uid, n in counts.items() if n > 1}


Stamp = date | datetime  # a date, or a naive wall-clock time
_RULE_KEYS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY"})
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQS = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY")
_INTERVAL = re.compile(r"^[1-9][0-9]{0,3}$")
_COUNT = re.compile(r"^[1-9][0-9]{0,5}$")


@dataclass(frozen=True)
class When:
    """A DTSTART, DTEND or EXDATE value: ``kind`` is "date", "utc", "floating" or "tzid"."""

    value: Stamp
    kind: str
    zone: tzinfo | None = None  # the zone busy time uses (a tzid)
    parsed_zone: tzinfo | None = None  # the zone icalendar attaches at parse (a tzid)
    tzid: str = ""


@dataclass(frozen=True)
class SimpleRule:
    """A rule with a fixed period (SECONDLY to WEEKLY) and at most plain BYDAY days
    (DAILY, WEEKLY): the few parts the fast path expands itself."""

    text: str
    parts: dict[str, list[object]]
    freq: str
    interval: int
    count: int | None
    until: Stamp | None  # UTC (naive) for zoned starts, else as the start is written
    days: tuple[int, ...]  # BYDAY as weekday numbers (DAILY, WEEKLY)


@dataclass
class CleanEvent:
    """A VEVENT block read entirely by the strict reader."""

    uid: str
    start: When
    end: When | None = None
    duration: timedelta | None = None
    rule: SimpleRule | None = None
    exdates: list[When] = field(default_factory=list)
    exdate_count: int = 0
    transparent: bool = False
    cancelled: bool = False
    attendees: list[tuple[str, str]] = field(default_factory=list)  # (address, PARTSTAT)


def read_when(params: dict[str, str], value: str, zones: FileZones) -> When | None:
    """One DTSTART/DTEND/EXDATE value, when it is clean."""
    if set(params) - {"TZID", "VALUE"} or params.get("VALUE") not in (None, "DATE", "DATE-TIME"):
        return None
    day = read_date(value)
    if day is not None:
        ok = params.get("VALUE") in (None, "DATE") and "TZID" not in params
        return When(day, "date") if ok else None
    stamp = read_datetime(value)
    if stamp is None or params.get("VALUE") == "DATE":
        return None
    wall, utc = stamp
    tzid = params.get("TZID")
    if tzid is None:
        return When(wall, "utc" if utc else "floating")
    found = None if utc else zones.lookup(tzid)
    if found is None or not _unambiguous(wall, found[1]):
        return None  # unknown (reported by the full path), custom, in a gap or a fold
    return When(wall, "tzid", found[1], found[0], tzid)


@dataclass
class FileZones:
    """The TZIDs of one file, resolved as the full path resolves them (once each)."""

    custom: frozenset[str]  # TZIDs the file's VTIMEZONEs may define
    seen: dict[str, tuple[tzinfo | None, ZoneInfo] | None] = field(default_factory=dict)

    def lookup(self, tzid: str) -> tuple[tzinfo | None, ZoneInfo] | None:
        """(the zone icalendar attaches at parse, the zone busy time uses), or None for
        a TZID the fast path leaves alone (custom, unknown, written oddly)."""
        if tzid not in self.seen:
            self.seen[tzid] = self._resolve(tzid)
        return self.seen[tzid]

    def _resolve(self, tzid: str) -> tuple[tzinfo | None, ZoneInfo] | None:
        if not _plain_tzid(tzid, self.custom):
            return None
        parsed = library_zone(tzid)
        busy = parsed or attached_zone(tzid)
        return (parsed, busy) if type(busy) is ZoneInfo else None


def _unambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    """Neither in a DST gap nor in a repeated hour."""
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    return first.utcoffset() == second.utcoffset()


def _plain_tzid(tzid: str, custom: frozenset[str]) -> bool:
    """A TZID the reader resolves exactly as icalendar does: written plainly, and
    not defined by a VTIMEZONE of the file unless it is a known name."""
    if tzid != tzid.strip() or "\\" in tzid or not tzid:
        return False
    cleaned = clean_tzid(tzid)
    return cleaned not in custom or known_tz(cleaned) is not None


def read_event(lines: list[Line], zones: FileZones) -> CleanEvent | None:
    """The clean reading of one plain VEVENT block (BEGIN and END included)."""
    props: dict[str, Prop] = {}
    attendees: list[tuple[str, str]] = []
    exdates: list[Prop] = []
    inner = iter(lines[1:-1])
    for line in inner:
        if line.text == "BEGIN:VALARM":
            if not clean_alarm(inner):
                return None
            continue
        head, colon, _ = line.text.partition(":")
        if colon and head in _QUIET and head not in props:  # no parameters: nothing to read
            props[head] = Prop(head, {}, "", line.number)
            continue
        prop = read_line(line.text, line.number)
        if prop is None or (prop.name in props and prop.name not in REPEATABLE):
            return None
        if prop.name == "ATTENDEE":
            if not set(prop.params) <= _ATTENDEE_PARAMS:
                return None
            attendees.append((prop.value, prop.params.get("PARTSTAT", "")))
        if prop.name == "EXDATE":
            exdates.append(prop)
        elif prop.name in _TIME_NAMES or plain_value_ok(prop):
            props[prop.name] = prop
        else:
            return None
    event = _event_from(props, attendees, zones)
    if event is None or not (exdates or "RRULE" in props):
        return event
    return _recurrence(event, props.get("RRULE"), exdates, zones)


# Text properties without a meaning for busy time, read as they are.
_QUIET = frozenset({"SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "CLASS", "URL", "CONTACT"})
_ATTENDEE_PARAMS = frozenset({"PARTSTAT", "CN", "ROLE", "RSVP", "CUTYPE", "EMAIL"})


def _event_from(
    props: dict[str, Prop], attendees: list[tuple[str, str]], zones: FileZones
) -> CleanEvent | None:
    uid, start_prop = props.get("UID"), props.get("DTSTART")
    if uid is None or start_prop is None or not is_simple_text(uid.value):
        return None
    start = read_when(start_prop.params, start_prop.value, zones)
    if start is None or any(
        n in props and not is_simple_text(props[n].value) for n in ("TRANSP", "STATUS")
    ):
        return None
    event = CleanEvent(uid.value, start, attendees=attendees)
    event.transparent = "TRANSP" in props and props["TRANSP"].value.upper() == "TRANSPARENT"
    event.cancelled = "STATUS" in props and props["STATUS"].value.upper() == "CANCELLED"
    if "DTEND" in props and "DURATION" in props:
        return None
    if "DTEND" in props:
        end_prop = props["DTEND"]
        event.end = read_when(end_prop.params, end_prop.value, zones)
        if event.end is None or not _same_kind(start, event.end) or _ends_before(start, event.end):
            return None
    if "DURATION" in props:
        event.duration = read_duration(props["DURATION"].value)
        day = timedelta(days=1)
        if props["DURATION"].params or event.duration is None:
            return None
        if start.kind == "date" and event.duration % day:
            return None
    return event


def _same_kind(a: When, b: When) -> bool:
    return a.kind == b.kind and a.tzid == b.tzid


def _ends_before(start: When, end: When) -> bool:
    """The full path's "DTEND is before DTSTART" (compared as icalendar holds them)."""
    return _comparable(end) < _comparable(start)


def _comparable(when: When) -> datetime:
    value = when.value
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    if when.parsed_zone is not None:
        return value.replace(tzinfo=when.parsed_zone).astimezone(UTC).replace(tzinfo=None)
    return value


def _recurrence(
    event: CleanEvent, rrule: Prop | None, exdates: list[Prop], zones: FileZones
) -> CleanEvent | None:
    """EXDATEs written like DTSTART, and a simple rule that DTSTART itself matches."""
    if rrule is None or rrule.params:
        return None
    event.rule = read_rule(rrule.value, event.start)
    if event.rule is None:
        return None
    for prop in exdates:
        for value in prop.value.split(","):
            when = read_when(prop.params, value, zones)
            if when is None or not _same_kind(event.start, when):
                return None
            event.exdates.append(when)
    event.exdate_count = len(event.exdates)
    return event


def read_rule(value: str, start: When) -> SimpleRule | None:
    """A simple RRULE (see ``SimpleRule``), or None."""
    parts: dict[str, list[object]] = {}
    for part in value.split(";"):
        key, eq, raw = part.partition("=")
        if not eq or key not in _RULE_KEYS or key in parts or not raw:
            return None
        parts[key] = list(raw.split(","))
    freq = str(parts.get("FREQ", [""])[0])
    interval, count = (str(parts.get(k, ["1"])[0]) for k in ("INTERVAL", "COUNT"))
    if freq not in _FREQS or not _INTERVAL.match(interval):
        return None
    if ("COUNT" in parts and ("UNTIL" in parts or not _COUNT.match(count))) or (
        "BYDAY" in parts and freq not in ("DAILY", "WEEKLY")
    ):
        return None
    until = _until(str(parts["UNTIL"][0]), start) if "UNTIL" in parts else None
    if "UNTIL" in parts and until is None:
        return None
    days = tuple(_WEEKDAYS.index(str(d)) for d in parts.get("BYDAY", []) if d in _WEEKDAYS)
    if len(days) != len(parts.get("BYDAY", [])) or len(set(days)) != len(days):
        return None
    if start.kind == "date" and freq not in ("DAILY", "WEEKLY"):
        return None  # the library makes dates of finer steps: left to it
    if days and start.value.weekday() not in days:
        return None  # DTSTART off the rule: the library adds it anyway
    if until is not None:
        parts["UNTIL"] = [until]
    parts = {k: [int(str(v[0]))] if k in ("INTERVAL", "COUNT") else v for k, v in parts.items()}
    return SimpleRule(value, parts, freq, int(interval), _int(count, parts), until, days)


def _int(count: str, parts: dict[str, list[object]]) -> int | None:
    return int(count) if "COUNT" in parts else None


def _until(raw: str, start: When) -> Stamp | None:
    """UNTIL in the form RFC 5545 asks for with this DTSTART (UTC for zoned starts)."""
    if start.kind == "date":
        return read_date(raw)
    stamp = read_datetime(raw)
    if stamp is None or stamp[1] != (start.kind in ("utc", "tzid")):
        return None
    return stamp[0]
