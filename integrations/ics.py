"""Read iCalendar data into busy intervals.

Parsing (``parse_calendar``) is strict about what decides busy time and
forgiving about what cannot change it:

* errors (``CalendarError`` naming the source and the 1-based line): not an
  iCalendar object, binary data, a truncated file (a BEGIN without its END),
  text after the last END:VCALENDAR, vCalendar 1.0, a content line that cannot
  be parsed, a VEVENT without DTSTART, an unreadable date, time, duration or
  RRULE, an end before the start, a negative duration;
* repaired, with a warning: a byte-order mark, UTF-16, bytes that are not
  UTF-8 (text is replaced; times are ASCII), mixed line endings, lower-case
  component names, several VCALENDARs in one stream (RFC 5545 3.4), and a few
  known producer quirks (empty ``RRULE:``, spaces in RRULE lists, ``PT1W``,
  ``20131210Z`` dates, a quoted TZID that swallowed its value, a VTIMEZONE
  with two TZIDs).

Busy time (``busy_from_calendar``) expands recurrence with
``recurring-ical-events`` and converts everything to aware UTC datetimes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import warnings as pywarnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.prop import vDDDLists, vDDDTypes
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from integrations.calendars.base import BusyRead
from integrations.errors import CalendarError
from scheduler.model import Interval

# Properties whose values decide when an event is busy.
TIME_PROPS = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "FREEBUSY"}
)
DATE_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
SINGLE_PROPS = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "UID", "STATUS", "TRANSP")
RRULE_PARTS = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
        "RSCALE",
        "SKIP",
    }
)
FREQS = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
BUSY_FBTYPES = frozenset({"BUSY", "BUSY-UNAVAILABLE", "BUSY-TENTATIVE"})
# Expansion looks this far beyond the window so that floating and all-day
# events (placed in a zone only afterwards) are never missed.
_PAD = timedelta(days=2)


@dataclass(frozen=True)
class ICSRead(BusyRead):
    """A ``BusyRead`` with what the reader had to guess or repair."""

    unknown_tzids: tuple[str, ...] = ()  # read in the interviewer's zone instead
    warnings: tuple[str, ...] = ()


@dataclass
class _Line:
    number: int  # 1-based physical line where this logical line starts
    text: str


@dataclass
class _Block:
    """One component in document order (pre-order), for line lookups."""

    name: str
    begin: int
    props: dict[str, list[int]] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def parse_calendar(data: bytes, source: str) -> icalendar.Calendar:
    """Parse iCalendar bytes; raise ``CalendarError(source, message, line)``."""
    return parse_calendar_with_warnings(data, source)[0]


def parse_calendar_with_warnings(
    data: bytes, source: str
) -> tuple[icalendar.Calendar, tuple[str, ...]]:
    """Like ``parse_calendar`` but also return the repairs made, one line each."""
    try:
        return _parse_with_warnings(data, source)
    except CalendarError:
        raise
    except Exception as exc:  # a defect no check above foresaw: still one clear line
        raise CalendarError(source, f"cannot be read: {_short(exc)}") from None


def _parse_with_warnings(data: bytes, source: str) -> tuple[icalendar.Calendar, tuple[str, ...]]:
    notes: list[str] = []
    text = _decode(data, source, notes)
    lines = _logical_lines(text, source, notes)
    lines = _repair(lines, notes)
    blocks = _check_structure(lines, source)
    lines = _rename_custom_timezones(lines)
    cal = _parse(lines, source)
    _check_components(cal, blocks, lines, source, notes)
    _attach_zones(cal)  # once here, so later reads do not modify the calendar
    return cal, tuple(dict.fromkeys(notes))


def _decode(data: bytes, source: str, notes: list[str]) -> str:
    if not data.strip():
        raise CalendarError(source, "the file is empty; expected an iCalendar (.ics) file", 1)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append("encoded as UTF-16; read anyway (iCalendar should be UTF-8)")
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CalendarError(
                source, "broken UTF-16 text", _line_of_offset(data, exc.start)
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        notes.append(f"line {line}: bytes that are not UTF-8 were replaced in text fields")
        text = data.decode("utf-8", errors="replace")
    return text


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _split_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\n|\r", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _logical_lines(text: str, source: str, notes: list[str]) -> list[_Line]:
    physical = _split_lines(text)
    if "\r\n" in text and re.search(r"(?<!\r)\n", text):
        notes.append("mixed line endings (CRLF and LF); read anyway")
    first = next((i for i, raw in enumerate(physical) if raw.strip()), 0)
    head = physical[first].strip()
    if head.upper() != "BEGIN:VCALENDAR":
        shown = head[:40] + ("..." if len(head) > 40 else "")
        raise CalendarError(
            source, f"not an iCalendar file: expected BEGIN:VCALENDAR, found {shown!r}", first + 1
        )
    bad = _CONTROL.search(text)
    if bad is not None:
        raise CalendarError(
            source,
            f"control character 0x{ord(bad.group()):02X} in the text: this is not a text "
            "iCalendar file (damaged or binary)",
            len(_split_lines(text[: bad.start()])),
        )
    lines: list[_Line] = []
    for number, raw in enumerate(physical, start=1):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1].text += raw[1:]
        elif raw.strip():
            lines.append(_Line(number, raw))
    return lines


_SWALLOWED = re.compile(r'^([A-Za-z-]+);TZID="([^":]*):([0-9TZ]{8,16})"\s*:?\s*$')
_WEEKLESS = re.compile(r"^(DURATION[^:]*:[+-]?P)T(\d+W)$", re.IGNORECASE)
_DATE_Z = re.compile(r"(?<![0-9T])(\d{8})Z(?=,|$)")


def _repair(lines: list[_Line], notes: list[str]) -> list[_Line]:
    """Fix producer quirks whose meaning is unambiguous."""
    out: list[_Line] = []
    in_vtimezone = False
    seen_tzid = False
    for line in lines:
        text = line.text
        name = _prop_name(text)
        upper_value = text.split(":", 1)[-1].strip().upper()
        if name in ("BEGIN", "END"):
            text = f"{name}:{upper_value}"
            if upper_value == "VTIMEZONE":
                in_vtimezone = name == "BEGIN"
                seen_tzid = False
        elif name == "RRULE" and not upper_value:
            notes.append(f"line {line.number}: empty RRULE ignored")
            continue
        elif name == "RRULE" and " " in text.split(":", 1)[-1]:
            head, value = _split_value(text)
            text = f"{head}:{value.replace(' ', '')}"
            notes.append(f"line {line.number}: spaces removed from RRULE")
        elif name == "TZID" and in_vtimezone:
            if seen_tzid:
                notes.append(f"line {line.number}: second TZID in one VTIMEZONE ignored")
                continue
            seen_tzid = True
        elif (m := _SWALLOWED.match(text)) is not None:
            text = f'{m.group(1)};TZID="{m.group(2)}":{m.group(3)}'
            notes.append(f"line {line.number}: value recovered from inside the quoted TZID")
        elif name == "DURATION" and (m := _WEEKLESS.match(text)) is not None:
            text = m.group(1) + m.group(2)
            notes.append(f"line {line.number}: duration with 'T' before weeks read as weeks")
        elif name in ("RDATE", "EXDATE") and _DATE_Z.search(text.split(":", 1)[-1]):
            head, value = _split_value(text)
            text = head + ":" + _DATE_Z.sub(r"\1", value)
            notes.append(f"line {line.number}: 'Z' after a date-only value ignored")
        out.append(_Line(line.number, text))
    return out


def _prop_name(text: str) -> str:
    return re.split(r"[;:]", text, maxsplit=1)[0].strip().upper()


def _split_value(text: str) -> tuple[str, str]:
    """Split a content line at the first colon outside quotes."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return text[:i], text[i + 1 :]
    return text, ""


def _check_structure(lines: list[_Line], source: str) -> list[_Block]:
    stack: list[tuple[str, int]] = []
    blocks: list[_Block] = []
    open_blocks: list[_Block] = []
    closed_once = False
    for line in lines:
        name = _prop_name(line.text)
        value = _split_value(line.text)[1].strip().upper()
        if not stack and closed_once and (name, value) != ("BEGIN", "VCALENDAR"):
            raise CalendarError(
                source, f"text after END:VCALENDAR: {line.text[:40]!r}", line.number
            )
        if name == "BEGIN":
            stack.append((value, line.number))
            block = _Block(value, line.number)
            blocks.append(block)
            open_blocks.append(block)
        elif name == "END":
            if not stack:
                raise CalendarError(source, f"END:{value} without a BEGIN", line.number)
            if stack[-1][0] != value:
                opened, at = stack[-1]
                raise CalendarError(
                    source,
                    f"END:{value} found while BEGIN:{opened} (line {at}) is still open",
                    line.number,
                )
            stack.pop()
            open_blocks.pop()
            closed_once = closed_once or not stack
        elif open_blocks:
            open_blocks[-1].props.setdefault(name, []).append(line.number)
            if name == "RRULE":
                _check_rrule_text(_split_value(line.text)[1], source, line.number)
            if name == "VERSION" and open_blocks[-1].name == "VCALENDAR":
                version = _split_value(line.text)[1].strip()
                if version != "2.0":
                    raise CalendarError(
                        source,
                        f"VERSION:{version} is not iCalendar 2.0 (vCalendar 1.0 is not "
                        "supported); export the calendar as iCalendar 2.0",
                        line.number,
                    )
    if stack:
        opened, at = stack[-1]
        last = lines[-1].number if lines else 1
        raise CalendarError(
            source,
            f"the file ends inside BEGIN:{opened} from line {at} (truncated?)",
            last,
        )
    return blocks


def _check_rrule_text(value: str, source: str, line: int) -> None:
    """icalendar drops RRULE parts it cannot read; a busy reader must not."""
    keys = []
    for part in value.strip().strip(";").split(";"):
        key, eq, _ = part.partition("=")
        if not eq or not (key.upper() in RRULE_PARTS or key.upper().startswith("X-")):
            raise CalendarError(source, f"RRULE cannot be read: bad part {part[:40]!r}", line)
        keys.append(key.upper())
    if "FREQ" not in keys:
        raise CalendarError(source, "RRULE without FREQ", line)


def _clean_tzid(tzid: str) -> str:
    return tzid.replace("\\,", ",").strip().strip('"').strip().rstrip(":").strip().lstrip("/")


_TZID_PARAM = re.compile(r'(;TZID=)("[^"]*"|[^;:]*)', re.IGNORECASE)


def _rename_custom_timezones(lines: list[_Line]) -> list[_Line]:
    """Give each custom VTIMEZONE a TZID unique to its definition.

    ``icalendar`` caches custom VTIMEZONEs by TZID for the whole process, so
    two files that both define "Customized Time Zone" differently would
    otherwise share the first definition. Known names (IANA, Windows) keep a
    cleaned form of their name; references are rewritten to match.
    """
    renames: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if lines[i].text == "BEGIN:VTIMEZONE":
            j = next(k for k in range(i, len(lines)) if lines[k].text == "END:VTIMEZONE")
            body = [ln.text for ln in lines[i : j + 1]]
            tzid_line = next((t for t in body if _prop_name(t) == "TZID"), None)
            if tzid_line is not None:
                key = _clean_tzid(_split_value(tzid_line)[1])
                if _known_tz(key) is not None:
                    renames.setdefault(key, key)
                else:
                    digest = hashlib.sha1("\n".join(body).encode()).hexdigest()[:10]
                    renames.setdefault(key, f"{key} [{digest}]")
            i = j
        i += 1
    if not renames:
        return lines

    def param(m: re.Match[str]) -> str:
        new = renames.get(_clean_tzid(m.group(2)))
        return f'{m.group(1)}"{new}"' if new is not None else m.group(0)

    out: list[_Line] = []
    for line in lines:
        text = line.text
        if _prop_name(text) == "TZID":
            new = renames.get(_clean_tzid(_split_value(text)[1]))
            if new is not None:
                text = f"TZID:{new}"
        elif ";" in text:
            head, value = _split_value(text)
            text = _TZID_PARAM.sub(param, head) + ":" + value
        out.append(_Line(line.number, text))
    return out


def _parse(lines: list[_Line], source: str) -> icalendar.Calendar:
    text = "\r\n".join(line.text for line in lines) + "\r\n"
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError, AttributeError...
        raise CalendarError(source, f"unreadable: {_short(exc)}", _guess_line(exc, lines)) from None
    if not calendars:
        raise CalendarError(source, "no VCALENDAR found", lines[0].number if lines else 1)
    if len(calendars) == 1:
        return calendars[0]
    merged = icalendar.Calendar()
    for key, value in calendars[0].property_items(recursive=False):
        if key not in ("BEGIN", "END"):
            merged.add(key, value)
    for cal in calendars:
        for sub in cal.subcomponents:
            merged.add_component(sub)
    merged.add("X-PANELSLOT-MERGED", str(len(calendars)))
    return merged


def _short(exc: BaseException) -> str:
    msg = str(exc).replace("\n", " ").strip() or type(exc).__name__
    return msg[:160]


def _guess_line(exc: BaseException, lines: list[_Line]) -> int | None:
    """The line an icalendar error message quotes, when it quotes one."""
    message = str(exc)
    candidates = re.findall(r"'([^']{3,})'", message) + re.findall(r":\s*(\S{6,})\s*$", message)
    for needle in candidates:
        for line in lines:
            if needle in line.text:
                return line.number
    return None


def _check_components(
    cal: icalendar.Calendar,
    blocks: list[_Block],
    lines: list[_Line],
    source: str,
    notes: list[str],
) -> None:
    components = list(cal.walk())
    mapped = len(components) == len(blocks) - _extra_calendars(cal)
    block_of = _map_blocks(components, blocks) if mapped else {}

    def line_of(comp: icalendar.cal.Component, prop: str | None) -> int | None:
        block = block_of.get(id(comp))
        if block is None:
            return None
        if prop is None:
            return block.begin
        found = block.props.get(prop)
        return found[0] if found else block.begin

    for comp in components:
        for prop, message in getattr(comp, "errors", []):
            if prop is None:
                bad = _guess_line(ValueError(message), lines)
                quoted = re.search(r"'([^']*)'", message)
                shown = quoted.group(1)[:60] if quoted else message[:60]
                raise CalendarError(
                    source,
                    f"not a NAME:value line: {shown!r} (a multi-line value that was not folded?)",
                    bad,
                )
            if comp.name in ("VEVENT", "VFREEBUSY") and prop.upper() in TIME_PROPS:
                raise CalendarError(
                    source, f"{prop} cannot be read: {message[:120]}", line_of(comp, prop)
                )
            notes.append(f"{comp.name} {prop} ignored: {message[:80]}")
        if comp.name != "VEVENT":
            continue
        for prop in SINGLE_PROPS:
            if isinstance(comp.get(prop), list):
                block = block_of.get(id(comp))
                lines_of = block.props.get(prop, []) if block else []
                raise CalendarError(
                    source,
                    f"{prop} appears more than once in one VEVENT",
                    lines_of[1] if len(lines_of) > 1 else line_of(comp, prop),
                )
        if "DTSTART" not in comp:
            raise CalendarError(source, "VEVENT without DTSTART", line_of(comp, None))
        start: Any = getattr(comp["DTSTART"], "dt", None)
        end: Any = getattr(comp.get("DTEND"), "dt", None)
        duration: Any = getattr(comp.get("DURATION"), "dt", None)
        if (
            isinstance(start, date)
            and isinstance(end, date)
            and _comparable(end) < _comparable(start)
        ):
            raise CalendarError(source, "DTEND is before DTSTART", line_of(comp, "DTEND"))
        if isinstance(duration, timedelta) and duration < timedelta(0):
            raise CalendarError(source, "negative DURATION", line_of(comp, "DURATION"))
        rrules = comp.get("RRULE")
        for rule in rrules if isinstance(rrules, list) else [rrules] if rrules else []:
            unknown = [k for k in rule if k.upper() not in RRULE_PARTS and not k.startswith("X-")]
            if unknown or "FREQ" not in rule or str(rule["FREQ"][0]).upper() not in FREQS:
                what = ", ".join(unknown) if unknown else "FREQ missing or invalid"
                raise CalendarError(
                    source, f"RRULE cannot be read ({what})", line_of(comp, "RRULE")
                )


def _extra_calendars(cal: icalendar.Calendar) -> int:
    """Merged streams lose their inner VCALENDAR wrappers (but keep one)."""
    merged = cal.get("X-PANELSLOT-MERGED")
    return int(merged) - 1 if merged else 0


def _map_blocks(
    components: list[icalendar.cal.Component], blocks: list[_Block]
) -> dict[int, _Block]:
    inner = [b for b in blocks[1:] if b.name != "VCALENDAR"]
    result = {id(components[0]): blocks[0]}
    result.update({id(c): b for c, b in zip(components[1:], inner, strict=False)})
    return result


def _comparable(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(UTC).replace(tzinfo=None)
        )
    return datetime.combine(value, time())


# --------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------


def local_to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of the wall-clock time ``wall`` (naive) in ``zone``.

    A time that occurs twice (DST end) is its first occurrence; a time that
    does not exist (DST gap) is read with the offset in force before the gap
    (RFC 5545 3.3.5), whatever the tzinfo implementation does by itself.
    """
    offsets = {
        off
        for probe in (
            wall.replace(tzinfo=zone, fold=0),
            wall.replace(tzinfo=zone, fold=1),
            (wall - timedelta(days=1)).replace(tzinfo=zone),
            (wall + timedelta(days=1)).replace(tzinfo=zone),
        )
        if (off := probe.utcoffset()) is not None
    }
    valid = []
    for off in offsets:
        instant = (wall - off).replace(tzinfo=UTC)
        if instant.astimezone(zone).replace(tzinfo=None, fold=0) == wall:
            valid.append(instant)
    if valid:
        return min(valid)
    before = (wall - timedelta(days=1)).replace(tzinfo=zone).utcoffset() or timedelta(0)
    return (wall - before).replace(tzinfo=UTC)


def to_utc(value: date | datetime, zone: tzinfo) -> datetime:
    """Dates are local midnight in ``zone``; floating times are read in ``zone``."""
    if not isinstance(value, datetime):
        return local_to_utc(datetime.combine(value, time()), zone)
    if value.tzinfo is None:
        return local_to_utc(value, zone)
    if value.utcoffset() == timedelta(0) and _is_utc(value.tzinfo):
        return value.replace(tzinfo=UTC)
    return local_to_utc(value.replace(tzinfo=None), value.tzinfo)


def _is_utc(zone: tzinfo | None) -> bool:
    return (
        zone is UTC
        or getattr(zone, "key", None) in ("UTC", "Etc/UTC")
        or str(zone)
        in (
            "UTC",
            "tzutc()",
        )
    )


def _known_tz(tzid: str) -> tzinfo | None:
    """A zone icalendar itself resolves (IANA or Windows name)."""
    name = WINDOWS_TO_OLSON.get(tzid, tzid)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


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


@cache
def _city_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            index.setdefault(_fold(name.rsplit("/", 1)[1]), name)
    return index


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s_]+", " ", plain).strip().casefold()


def resolve_tzid(tzid: str) -> tzinfo | None:
    """A zone for a TZID written without a usable VTIMEZONE, or None.

    Understands IANA names, Windows zone ids ("W. Europe Standard Time") and
    Windows display names ("(UTC-05:00) Eastern Time (US & Canada)",
    "Amsterdam, Belgrade, Berlin, ...", "Canberra, Melbourne, Sydney").
    """
    cleaned = _clean_tzid(tzid)
    known = _known_tz(cleaned)
    if known is not None:
        return known
    display = re.sub(r"^\((?:UTC|GMT)\s*(?:[+-]\d{1,2}(?::?\d{2})?)?\)\s*", "", cleaned)
    folded = _fold(display)
    if folded in _DISPLAY_NAMES:
        return ZoneInfo(_DISPLAY_NAMES[folded])
    cities = _city_index()
    for token in re.split(r"[,/]", display):
        zone = cities.get(_fold(token))
        if zone is not None:
            return ZoneInfo(zone)
    return None


def _attach_zones(cal: icalendar.Calendar) -> tuple[str, ...]:
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
                zone = tzp.timezone(_clean_tzid(tzid)) or resolve_tzid(tzid)
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


# --------------------------------------------------------------------------
# Busy time
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One event occurrence (or free/busy period) in aware UTC; ``busy`` says if it counts."""

    start: datetime
    end: datetime
    busy: bool


@dataclass(frozen=True)
class Expansion:
    """Every occurrence of a calendar in ``span``: reads of any window inside it
    are answered by filtering, without expanding the calendar again."""

    span: Interval
    occurrences: tuple[Occurrence, ...]
    unknown_tzids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def covers(self, window: Interval) -> bool:
        return self.span.start <= window.start and window.end <= self.span.end

    def read(self, window: Interval) -> ICSRead:
        if not self.covers(window):
            raise ValueError(f"{window} is outside the expanded span {self.span}")
        busy: list[Interval] = []
        count = 0
        for occ in self.occurrences:
            inside = window.start < occ.end or window.start <= occ.start == occ.end
            if occ.start < window.end and inside:
                count += 1
                if occ.busy:
                    busy.append(Interval(occ.start, occ.end))
        return ICSRead(
            busy=tuple(busy),
            events_read=count,
            unknown_tzids=self.unknown_tzids,
            warnings=self.warnings,
        )


def busy_from_calendar(
    cal: icalendar.Calendar,
    *,
    source: str,
    timezone: str,
    window: Interval,
    email: str | None = None,
) -> ICSRead:
    """Busy intervals (aware UTC, sorted, not merged) of ``cal`` that overlap ``window``.

    ``timezone`` is the interviewer's IANA zone: all-day events, floating
    times (unless the calendar has an X-WR-TIMEZONE) and events whose TZID is
    unknown are read in it. ``email`` is the interviewer's address: events
    they declined are not busy. ``events_read`` counts the event occurrences
    (and free/busy periods) found in the window, busy or not.
    """
    return expand_calendar(cal, source=source, timezone=timezone, span=window, email=email).read(
        window
    )


def expand_calendar(
    cal: icalendar.Calendar,
    *,
    source: str,
    timezone: str,
    span: Interval,
    email: str | None = None,
) -> Expansion:
    """Every occurrence overlapping ``span`` with its busy flag (see ``busy_from_calendar``)."""
    zone = _zone(timezone, source)
    try:
        return _expand(cal, source, timezone, zone, span, email)
    except CalendarError:
        raise
    except Exception as exc:  # a defect no check foresaw: still one clear line
        raise CalendarError(source, f"cannot be read: {_short(exc)}") from None


def _expand(
    cal: icalendar.Calendar,
    source: str,
    timezone: str,
    zone: ZoneInfo,
    span: Interval,
    email: str | None,
) -> Expansion:
    notes: list[str] = []
    standard = _apply_x_wr_timezone(cal, source, notes)
    unknown = _attach_zones(standard)
    found: list[Occurrence] = []
    for start, end, comp in _occurrences(standard, span, source, notes):
        a, b = to_utc(start, zone), to_utc(end, zone)
        if not (a < span.end and (span.start < b or span.start <= a == b)):
            continue  # found only because the search window is padded
        found.append(Occurrence(a, max(a, b), a < b and _is_busy(comp, email)))
    for interval in _freebusy_periods(standard, zone):
        if interval.overlaps(span):
            found.append(Occurrence(interval.start, interval.end, True))
    for tzid in unknown:
        notes.append(f"unknown TZID {tzid!r}: its times were read in {timezone}")
    found.sort(key=lambda o: (o.start, o.end))
    return Expansion(span, tuple(found), unknown, tuple(dict.fromkeys(notes)))


def _apply_x_wr_timezone(
    cal: icalendar.Calendar, source: str, notes: list[str]
) -> icalendar.Calendar:
    """Google's X-WR-TIMEZONE: UTC and floating times become times in that zone
    (so a weekly series follows its zone across DST). The result has no
    X-WR-TIMEZONE left, so the recurrence library does not convert again."""
    value = cal.get("X-WR-TIMEZONE")
    if value is None:
        return cal
    zone = resolve_tzid(str(value))
    standard = cal
    if zone is None:
        notes.append(f"X-WR-TIMEZONE {str(value)!r} is not a known time zone; ignored")
    else:
        try:
            standard = x_wr_timezone.to_standard(cal, timezone=zone)
        except Exception as exc:  # the library failed on this calendar
            notes.append(f"X-WR-TIMEZONE {str(value)!r} ignored: {_short(exc)}")
    shallow = standard.copy()
    shallow.subcomponents = standard.subcomponents
    del shallow["X-WR-TIMEZONE"]
    return shallow


def _zone(timezone: str, source: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(source, f"unknown time zone {timezone!r} for reading it") from None


def _occurrences(
    cal: icalendar.Calendar, window: Interval, source: str, notes: list[str]
) -> Iterator[tuple[date | datetime, date | datetime, icalendar.Event]]:
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            query = recurring_ical_events.of(cal, skip_bad_series=False)
            found = list(query.between(window.start - _PAD, window.end + _PAD))
    except Exception as exc:
        raise CalendarError(source, f"recurrence cannot be expanded: {_short(exc)}") from None
    for event in found:
        start = event.start
        try:
            end = event.end
        except Exception:  # no DTEND/DURATION: RFC 5545 defaults
            end = start + timedelta(days=1) if not isinstance(start, datetime) else start
        yield start, end, event


def _is_busy(event: icalendar.Event, email: str | None) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return not (email and _declined(event, email))


def _declined(event: icalendar.Event, email: str) -> bool:
    wanted = _address(email)
    attendees = event.get("ATTENDEE")
    for att in attendees if isinstance(attendees, list) else [attendees] if attendees else []:
        if _address(str(att)) == wanted:
            partstat = str(getattr(att, "params", {}).get("PARTSTAT", "")).upper()
            if partstat == "DECLINED":
                return True
    return False


def _address(value: str) -> str:
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.strip().casefold()


def _interval(start: date | datetime, end: date | datetime, zone: tzinfo) -> Interval | None:
    a, b = to_utc(start, zone), to_utc(end, zone)
    return Interval(a, b) if a < b else None


def _freebusy_periods(cal: icalendar.Calendar, zone: tzinfo) -> Iterable[Interval]:
    for comp in cal.walk("VFREEBUSY"):
        values = comp.get("FREEBUSY")
        for period in values if isinstance(values, list) else [values] if values else []:
            fbtype = str(period.params.get("FBTYPE", "BUSY")).upper()
            if fbtype not in BUSY_FBTYPES:
                continue
            start, end_or_duration = period.dt
            end = (
                start + end_or_duration
                if isinstance(end_or_duration, timedelta)
                else end_or_duration
            )
            interval = _interval(start, end, zone)
            if interval is not None:
                yield interval


def read_ics_file(
    path: str | Path,
    *,
    timezone: str,
    window: Interval,
    email: str | None = None,
) -> ICSRead:
    """Read an .ics file; every error names the file."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CalendarError(source, f"cannot read the file: {exc.strerror or exc}") from None
    cal, notes = parse_calendar_with_warnings(data, source)
    read = busy_from_calendar(cal, source=source, timezone=timezone, window=window, email=email)
    return ICSRead(
        busy=read.busy,
        events_read=read.events_read,
        unknown_tzids=read.unknown_tzids,
        warnings=notes + read.warnings,
    )
