"""The full parse: repaired lines through icalendar, checked component by component."""

from __future__ import annotations

import hashlib
import re
import warnings as pywarnings

import icalendar

from integrations.errors import CalendarError
from integrations.ics.checks import check_components, guess_line
from integrations.ics.lines import (
    Line,
    decode,
    logical_lines,
    prop_name,
    repair,
    short,
    split_value,
)
from integrations.ics.structure import check_structure
from integrations.ics.zones import attach_zones, clean_tzid, known_tz


def parse_calendar(data: bytes, source: str) -> icalendar.Calendar:
    """Parse iCalendar bytes; raise ``CalendarError(source, message, line)``."""
    return parse_calendar_with_warnings(data, source)[0]


def parse_calendar_with_warnings(
    data: bytes, source: str
) -> tuple[icalendar.Calendar, tuple[str, ...]]:
    """Like ``parse_calendar`` but also return the repairs made, one line each."""
    try:
        notes: list[str] = []
        lines = logical_lines(decode(data, source, notes), source, notes)
        cal = parse_lines(repair(lines, notes), source, notes)
        return cal, tuple(dict.fromkeys(notes))
    except CalendarError:
        raise
    except Exception as exc:  # a defect no check above foresaw: still one clear line
        raise CalendarError(source, f"cannot be read: {short(exc)}") from None


def parse_lines(
    lines: list[Line], source: str, notes: list[str], all_lines: list[Line] | None = None
) -> icalendar.Calendar:
    """Repaired lines to a checked calendar with its zones attached.

    ``all_lines`` are the lines of the whole file when ``lines`` is a part of
    it; an icalendar message that quotes a line is looked up there.
    """
    blocks = check_structure(lines, source)
    lines = rename_custom_timezones(lines)
    cal = to_calendar(lines, source, all_lines or lines)
    check_components(cal, blocks, all_lines or lines, source, notes)
    attach_zones(cal)  # once here, so later reads do not modify the calendar
    return cal


_TZID_PARAM = re.compile(r'(;TZID=)("[^"]*"|[^;:]*)', re.IGNORECASE)


def _custom_names(lines: list[Line]) -> dict[str, str]:
    renames: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if lines[i].text == "BEGIN:VTIMEZONE":
            j = next(k for k in range(i, len(lines)) if lines[k].text == "END:VTIMEZONE")
            body = [ln.text for ln in lines[i : j + 1]]
            tzid_line = next((t for t in body if prop_name(t) == "TZID"), None)
            if tzid_line is not None:
                key = clean_tzid(split_value(tzid_line)[1])
                if known_tz(key) is not None:
                    renames.setdefault(key, key)
                else:
                    digest = hashlib.sha1("\n".join(body).encode()).hexdigest()[:10]
                    renames.setdefault(key, f"{key} [{digest}]")
            i = j
        i += 1
    return renames


def rename_custom_timezones(lines: list[Line]) -> list[Line]:
    """Give each custom VTIMEZONE a TZID unique to its definition.

    ``icalendar`` caches custom VTIMEZONEs by TZID for the whole process, so
    two files that both define "Customized Time Zone" differently would
    otherwise share the first definition. Known names (IANA, Windows) keep a
    cleaned form of their name; references are rewritten to match.
    """
    renames = _custom_names(lines)
    if not renames:
        return lines

    def param(m: re.Match[str]) -> str:
        new = renames.get(clean_tzid(m.group(2)))
        return f'{m.group(1)}"{new}"' if new is not None else m.group(0)

    out: list[Line] = []
    for line in lines:
        text = line.text
        if prop_name(text) == "TZID":
            new = renames.get(clean_tzid(split_value(text)[1]))
            if new is not None:
                text = f"TZID:{new}"
        elif ";" in text:
            head, value = split_value(text)
            text = _TZID_PARAM.sub(param, head) + ":" + value
        out.append(Line(line.number, text))
    return out


def to_calendar(lines: list[Line], source: str, all_lines: list[Line]) -> icalendar.Calendar:
    """icalendar's parse of ``lines``; several VCALENDARs are merged into one."""
    text = "\r\n".join(line.text for line in lines) + "\r\n"
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError, AttributeError...
        raise CalendarError(
            source, f"unreadable: {short(exc)}", guess_line(exc, all_lines)
        ) from None
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
