"""Damaged calendars never escape as anything but a CalendarError (no tracebacks)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.errors import CalendarError
from integrations.ics import busy_from_calendar, parse_calendar
from scheduler.model import Interval

CALENDARS = Path(__file__).resolve().parent.parent / "calendars"
SOURCES = sorted(p for p in CALENDARS.glob("*.ics") if not p.name.startswith("malformed"))
WINDOW = Interval(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(SOURCES)).read_bytes().splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "cut", "garble", "swap", "case"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif action == "garble":
            junk = draw(st.binary(min_size=1, max_size=6))
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + junk + lines[i][pos:]
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = lines[i].lower()
    return b"".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_calendars_raise_only_calendar_error(data: bytes) -> None:
    try:
        cal = parse_calendar(data, "fuzz.ics")
        read = busy_from_calendar(cal, source="fuzz.ics", timezone="Europe/Berlin", window=WINDOW)
    except CalendarError as exc:
        assert str(exc).startswith("fuzz.ics")
        assert "\n" not in str(exc)
        return
    for interval in read.busy:
        assert interval.start < interval.end
        assert interval.start.tzinfo is UTC
