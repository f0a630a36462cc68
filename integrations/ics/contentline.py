"""A strict content-line reader for the properties busy time needs.

It understands a deliberately small language: upper-case property names,
parameters without escapes, and values of the forms below. A line it does
not fully understand is *unclean* and its whole component goes to the full
icalendar path, so nothing read here can differ from what icalendar reads,
and nothing read here could have made the full path raise or warn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from integrations.ics.lines import Line

# NAME;PARAM=value;PARAM="quoted":value
_LINE = re.compile(r'^([A-Z][A-Z0-9-]*)((?:;[A-Z][A-Z0-9-]*=(?:"[^"^]*"|[^";:,^]*))*):(.*)$')
_PARAM = re.compile(r';([A-Z][A-Z0-9-]*)=("[^"]*"|[^";:,]*)')
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
_DURATION = re.compile(
    r"^P(?:(\d{1,6})W|(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?)$"
)
_INT = re.compile(r"^[0-9]{1,9}$")

# Properties whose value icalendar reads as text (or as a URI or address, which
# never fails); they do not change busy time, except the ones read below.
TEXT_PROPS = frozenset(
    {
        "SUMMARY",
        "DESCRIPTION",
        "LOCATION",
        "COMMENT",
        "CONTACT",
        "CLASS",
        "CATEGORIES",
        "RESOURCES",
        "URL",
        "UID",
        "RELATED-TO",
        "ORGANIZER",
        "ATTENDEE",
        "TRANSP",
        "STATUS",
        "ATTACH",
        "COLOR",
        "CONFERENCE",
    }
)
STAMP_PROPS = frozenset({"DTSTAMP", "CREATED", "LAST-MODIFIED"})
INT_PROPS = frozenset({"SEQUENCE", "PRIORITY"})
# May appear more than once in a clean event; every other property at most once.
REPEATABLE = frozenset(
    {"ATTENDEE", "CATEGORIES", "COMMENT", "CONTACT", "RESOURCES", "ATTACH", "RELATED-TO"}
)


@dataclass(frozen=True)
class Prop:
    name: str
    params: dict[str, str]  # quotes removed
    value: str
    line: int


def read_line(text: str, number: int) -> Prop | None:
    """The property on a content line, or None if the line is not clean."""
    m = _LINE.match(text)
    if m is None:
        return None
    name, raw_params, value = m.groups()
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(raw_params):
        if key in params:
            return None
        params[key] = raw[1:-1] if raw.startswith('"') else raw
    return Prop(name, params, value, number)


def plain_value_ok(prop: Prop) -> bool:
    """A property that cannot change busy time and that icalendar reads without a
    complaint (or a warning)."""
    if "VALUE" in prop.params or "TZID" in prop.params:
        return False
    if prop.name in TEXT_PROPS or prop.name.startswith("X-"):
        return True
    if prop.name in INT_PROPS:
        return _INT.match(prop.value) is not None
    if prop.name in STAMP_PROPS:
        stamp = read_datetime(prop.value)
        return stamp is not None and stamp[1]
    return False


def read_date(value: str) -> date | None:
    m = _DATE.match(value)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def read_datetime(value: str) -> tuple[datetime, bool] | None:
    """A naive datetime and whether it was UTC (``Z``), or None."""
    m = _DATETIME.match(value)
    if m is None:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
        when = datetime.combine(day, time(int(m[4]), int(m[5]), int(m[6])))  # wall clock
    except ValueError:
        return None
    return when, m[7] == "Z"


def read_duration(value: str) -> timedelta | None:
    m = _DURATION.match(value)
    if m is None or value in ("P", "PT") or value.endswith("T"):
        return None
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def is_simple_text(value: str) -> bool:
    """A text value whose icalendar reading is the value itself (no escapes)."""
    return "\\" not in value and value == value.strip() and value != ""


_SIGNED_DURATION = re.compile(r"^[+-]?(P.*)$")
_ALARM_TEXT = frozenset({"ACTION", "DESCRIPTION", "SUMMARY", "UID", "ATTENDEE", "ATTACH"})


def clean_alarm(lines: Iterator[Line]) -> bool:
    """Read a VALARM's lines up to its END (consumed); whether icalendar reads every
    one without a complaint. Alarms never change busy time."""
    seen: set[str] = set()
    for line in lines:
        if line.text == "END:VALARM":
            return "ACTION" in seen and "TRIGGER" in seen
        prop = read_line(line.text, line.number)
        if prop is None or (prop.name in seen and prop.name not in ("ATTENDEE", "ATTACH")):
            return False
        seen.add(prop.name)
        if not _alarm_prop_ok(prop):
            return False
    return False


def _alarm_prop_ok(prop: Prop) -> bool:
    if prop.name == "TRIGGER":
        if set(prop.params) - {"RELATED", "VALUE"}:
            return False
        if prop.params.get("VALUE") == "DATE-TIME":
            stamp = read_datetime(prop.value)
            return "RELATED" not in prop.params and stamp is not None and stamp[1]
        m = _SIGNED_DURATION.match(prop.value)
        ok_param = prop.params.get("VALUE", "DURATION") == "DURATION"
        related = prop.params.get("RELATED", "START") in ("START", "END")
        return ok_param and related and m is not None and read_duration(m[1]) is not None
    if prop.name in ("REPEAT", "DURATION"):
        if prop.params:
            return False
        ok = _INT.match(prop.value) if prop.name == "REPEAT" else read_duration(prop.value)
        return ok is not None
    if prop.name in _ALARM_TEXT or prop.name.startswith("X-"):
        return "VALUE" not in prop.params and "TZID" not in prop.params
    return False
