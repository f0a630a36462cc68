"""The fast and windowed readers against the full path, on generated calendars.

Zones with :30/:45 offsets and DST (times on and around the change days,
inside gaps and repeated hours), Windows and display-name TZIDs, unknown
TZIDs, a custom VTIMEZONE, floating and all-day events, DTEND / DURATION /
neither, TRANSP, STATUS, declined attendees, simple and not-so-simple rules
with COUNT/UNTIL/BYDAY/EXDATE, moved and cancelled instances (RECURRENCE-ID),
RDATE, repeated properties, X-WR-TIMEZONE, and windows with random edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.model import Interval
from tests.integrations.ics_differential import assert_same

TZIDS = [
    "America/St_Johns",  # -03:30, DST
    "Asia/Kathmandu",  # +05:45
    "Australia/Adelaide",  # +09:30, DST (south)
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45, DST
    "America/New_York",
    "Europe/Berlin",
    "W. Europe Standard Time",
    "Eastern Standard Time",
    "India Standard Time",
    "(UTC-05:00) Eastern Time (US & Canada)",
    "Nowhere Standard Time",  # unknown: read in the interviewer's zone
    "Custom Zone",  # defined by the VTIMEZONE below
    "UTC",
]
CUSTOM = (
    "BEGIN:VTIMEZONE\r\nTZID:Custom Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0330\r\nTZOFFSETTO:+0230\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0230\r\n"
    "TZOFFSETTO:+0330\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n"
)
READ_ZONES = ["Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati"]
# DST change days (US, EU, AU south, Lord Howe, Chatham) and ordinary days.
DAYS = [date(2027, 3, d) for d in (1, 2, 13, 14, 15, 27, 28, 29)] + [
    date(2027, 4, 3),
    date(2027, 4, 4),
    date(2027, 9, 26),
    date(2027, 10, 3),
    date(2027, 10, 31),
    date(2027, 11, 7),
    date(2027, 2, 20),
]
EMAIL = "alice@example.com"
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def stamp(value: datetime, kind: str) -> str:
    return value.strftime("%Y%m%dT%H%M%S") + ("Z" if kind == "utc" else "")


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    day = draw(st.sampled_from(DAYS)) + timedelta(days=draw(st.integers(-1, 1)))
    hour = draw(st.sampled_from([0, 1, 2, 3, 9, 12, 23]))
    return datetime.combine(day, datetime.min.time()).replace(
        hour=hour, minute=draw(st.sampled_from([0, 15, 30, 45]))
    )


@dataclass(frozen=True)
class Timing:
    kind: str  # "utc", "tzid", "floating" or "date"
    param: str  # ";TZID=..." or ";VALUE=DATE" or ""
    end: str  # "DTEND", "DURATION" or "none"
    length: timedelta

    def lines(self, start: datetime, name: str = "DTSTART") -> list[str]:
        """DTSTART (or ``name``) at ``start``, and the event's end."""
        if self.kind == "date":
            days = max(1, self.length.days)
            found = [f"{name}{self.param}:{start.strftime('%Y%m%d')}"]
            if self.end == "DTEND":
                found.append(f"DTEND{self.param}:{(start + timedelta(days=days)):%Y%m%d}")
            elif self.end == "DURATION":
                found.append(f"DURATION:P{days}D")
            return found
        found = [f"{name}{self.param}:{stamp(start, self.kind)}"]
        if self.end == "DTEND":
            found.append(f"DTEND{self.param}:{stamp(start + self.length, self.kind)}")
        elif self.end == "DURATION":
            found.append(f"DURATION:PT{int(self.length.total_seconds() // 60)}M")
        return found

    def value(self, when: datetime) -> str:
        return when.strftime("%Y%m%d") if self.kind == "date" else stamp(when, self.kind)


@st.composite
def timings(draw: st.DrawFn) -> Timing:
    kind = draw(st.sampled_from(["utc", "tzid", "tzid", "floating", "date"]))
    tzid = draw(st.sampled_from(TZIDS))
    quoted = f'"{tzid}"' if ":" in tzid or "," in tzid or draw(st.integers(0, 4)) == 0 else tzid
    param = f";TZID={quoted}" if kind == "tzid" else ";VALUE=DATE" if kind == "date" else ""
    length = timedelta(minutes=draw(st.sampled_from([0, 30, 60, 90, 24 * 60, 3 * 24 * 60])))
    end = draw(st.sampled_from(["DTEND", "DTEND", "DURATION", "none"]))
    return Timing(kind, param, end, length)


@st.composite
def rule(draw: st.DrawFn, start: datetime, kind: str) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "WEEKLY", "HOURLY", "MONTHLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 3))}")
    if freq in ("WEEKLY", "DAILY") and draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            days = sorted({*days, WEEKDAYS[start.weekday()]})
        parts.append("BYDAY=" + ",".join(days))
    end = draw(st.sampled_from(["none", "count", "until"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 30))}")
    elif end == "until":
        until = start + timedelta(days=draw(st.integers(0, 40)), hours=draw(st.integers(0, 23)))
        text = until.strftime("%Y%m%d") if kind == "date" else stamp(until, "utc")
        if kind == "floating" and draw(st.booleans()):
            text = stamp(until, "floating")
        parts.append(f"UNTIL={text}")
    if freq == "HOURLY":
        parts.append(f"COUNT={draw(st.integers(1, 80))}" if end == "none" else "")
    return ";".join(p for p in parts if p)


@st.composite
def series(draw: st.DrawFn, uid: str) -> list[str]:
    """One event, recurring or not, with overrides when recurring."""
    start = draw(moments())
    timing = draw(timings())
    head = [f"UID:{uid}", "DTSTAMP:20270101T000000Z"]
    body = [*head, *timing.lines(start), "SUMMARY:x", *draw(status_lines())]
    alarm = draw(st.sampled_from(ALARMS)) if draw(st.integers(0, 3)) == 0 else None
    if not draw(st.booleans()):
        return [_vevent(body, alarm)]
    body.append(f"RRULE:{draw(rule(start, timing.kind))}")
    step = draw(st.sampled_from([timedelta(days=1), timedelta(days=7)]))
    for k in draw(st.lists(st.integers(0, 6), max_size=3, unique=True)):
        body.append(f"EXDATE{timing.param}:{timing.value(start + k * step)}")
    if draw(st.integers(0, 5)) == 0:
        body.append(f"RDATE{timing.param}:{timing.value(start + timedelta(days=2, hours=5))}")
    events = [_vevent(body, alarm)]
    for k in draw(st.lists(st.integers(1, 6), max_size=2, unique=True)):
        rid = f"RECURRENCE-ID{timing.param}:{timing.value(start + k * step)}"
        moved = start + k * step + timedelta(hours=draw(st.sampled_from([0, 2, -30])))
        extra = ["STATUS:CANCELLED"] if draw(st.booleans()) else []
        events.append(_vevent([*head, rid, *timing.lines(moved), "SEQUENCE:1", *extra]))
    return events


@st.composite
def status_lines(draw: st.DrawFn) -> list[str]:
    lines = []
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"TRANSP:{draw(st.sampled_from(['TRANSPARENT', 'OPAQUE']))}")
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"STATUS:{draw(st.sampled_from(['CANCELLED', 'TENTATIVE', 'CONFIRMED']))}")
    for _ in range(draw(st.integers(0, 2))):
        who = draw(st.sampled_from([EMAIL, "ALICE@example.com", "bob@example.com"]))
        state = draw(st.sampled_from(["DECLINED", "ACCEPTED", "NEEDS-ACTION"]))
        lines.append(f"ATTENDEE;PARTSTAT={state};CN=A:mailto:{who}")
    if draw(st.integers(0, 6)) == 0:  # odd: repeated, lower case, a bad stamp
        odd = [
            "SUMMARY:again",
            "summary:lower",
            "DTSTAMP:2027",
            "NOCOLON",
            "DTEND:20200101T000000Z",
        ]
        lines.append(draw(st.sampled_from(odd)))
    return lines


ALARMS = [
    ["ACTION:DISPLAY", "TRIGGER:-PT10M", "DESCRIPTION:Reminder"],
    ["ACTION:DISPLAY", "TRIGGER:-P0DT0H10M0S", "X-WR-ALARMUID:a1"],
    ["ACTION:AUDIO", "TRIGGER;VALUE=DATE-TIME:20270301T090000Z", "REPEAT:2", "DURATION:PT5M"],
    ["ACTION:DISPLAY", "TRIGGER;RELATED=END:PT0S"],
    ["ACTION:DISPLAY", "TRIGGER:soon"],  # unreadable
    ["TRIGGER:-PT5M"],  # no ACTION
    ["ACTION:DISPLAY", "TRIGGER:-PT5M", "REPEAT:x"],
]


def _vevent(lines: list[str], alarm: list[str] | None = None) -> str:
    inner = ["BEGIN:VALARM", *alarm, "END:VALARM"] if alarm else []
    return "BEGIN:VEVENT\r\n" + "".join(f"{x}\r\n" for x in [*lines, *inner]) + "END:VEVENT\r\n"


@st.composite
def calendars(draw: st.DrawFn) -> bytes:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//generated//EN"]
    if draw(st.integers(0, 3)) == 0:
        zone = draw(st.sampled_from(["America/Los_Angeles", "Asia/Kathmandu", "Nowhere/Zone"]))
        head.append(f"X-WR-TIMEZONE:{zone}")
    body = "".join(f"{x}\r\n" for x in head) + (CUSTOM if draw(st.booleans()) else "")
    for i in range(draw(st.integers(1, 8))):
        body += "".join(draw(series(f"e{i}@gen")))
    return (body + "END:VCALENDAR\r\n").encode()


@st.composite
def windows(draw: st.DrawFn) -> Interval:
    start = datetime.combine(draw(st.sampled_from(DAYS)), datetime.min.time(), UTC)
    start += timedelta(hours=draw(st.integers(-30, 30)))
    return Interval(start, start + timedelta(hours=draw(st.integers(1, 24 * 20))))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), windows(), st.sampled_from(READ_ZONES), st.sampled_from([None, EMAIL]))
def test_generated_calendars(
    data: bytes, window: Interval, timezone: str, email: str | None
) -> None:
    assert_same(data, window, timezone, email)
