"""The reader switch, the shared DST rule, big feeds, and the library facts the
fast path relies on (so that a change in icalendar is noticed here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from integrations.errors import CalendarError
from integrations.ics import READERS, read_ics_bytes
from integrations.ics.zones import attached_zone, library_zone
from scheduler.localtime import probe_wall_to_utc, wall_to_utc
from scheduler.model import Interval

HORIZON = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 6, 15, tzinfo=UTC))
FMT = "%Y%m%dT%H%M%SZ"


def feed(count: int, *, broken_at: int | None = None) -> bytes:
    """``count`` half-hour meetings every 75 minutes from 2022 (11 years for 70,000)."""
    first = datetime(2022, 1, 1, 8)
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"]
    for i in range(count):
        start = first + timedelta(minutes=75 * i)
        end = (
            "DTEND:20200101T000000Z"
            if i == broken_at
            else f"DTEND:{start + timedelta(minutes=30):{FMT}}"
        )
        parts.append(
            f"BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTAMP:20270101T000000Z\r\n"
            f"DTSTART:{start:{FMT}}\r\n{end}\r\nSUMMARY:meeting\r\nEND:VEVENT\r\n"
        )
    return ("".join(parts) + "END:VCALENDAR\r\n").encode()


def expected_in_horizon(count: int) -> int:
    first = datetime(2022, 1, 1, 8, tzinfo=UTC)
    starts = (first + timedelta(minutes=75 * i) for i in range(count))
    return sum(1 for s in starts if HORIZON.start < s + timedelta(minutes=30) and s < HORIZON.end)


def test_a_70000_event_feed_is_read() -> None:
    data = feed(70_000)
    read = read_ics_bytes(data, source="big.ics", timezone="Europe/Berlin", window=HORIZON)
    assert len(read.busy) == read.events_read == expected_in_horizon(70_000) > 2000
    assert read.busy[0].start >= HORIZON.start - timedelta(minutes=30)


@pytest.mark.parametrize("reader", READERS)
def test_an_error_far_outside_the_window_keeps_its_line(reader: str) -> None:
    """Event 1,500 (2022) ends before it starts; the window is 2027. Every reader
    reports it on its line: 3 header lines, 7 lines per event, DTEND is the 5th."""
    data = feed(2000, broken_at=1500)
    with pytest.raises(CalendarError) as err:
        read_ics_bytes(data, source="f.ics", timezone="UTC", window=HORIZON, reader=reader)
    assert err.value.line == 3 + 7 * 1500 + 5
    assert "DTEND is before DTSTART" in err.value.message


def test_warnings_of_skipped_neighbours_are_kept() -> None:
    """A repaired line inside the window's neighbours still warns on the fast path."""
    data = feed(50).replace(b"UID:e3\r\n", b"UID:e3\r\nRRULE:\r\n")
    fast = read_ics_bytes(data, source="f.ics", timezone="UTC", window=HORIZON)
    full = read_ics_bytes(data, source="f.ics", timezone="UTC", window=HORIZON, reader="full")
    assert fast.warnings == full.warnings and any("empty RRULE" in w for w in fast.warnings)


ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/Berlin",
    "Africa/Casablanca",
]


@settings(max_examples=500, deadline=None)
@given(
    wall=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    zone=st.sampled_from(ZONES),
)
def test_the_zoneinfo_shortcut_is_the_probed_rule(wall: datetime, zone: str) -> None:
    """``wall_to_utc`` reads a ZoneInfo with fold=0; that is the probed rule itself."""
    assert wall_to_utc(wall, ZoneInfo(zone)) == probe_wall_to_utc(wall, ZoneInfo(zone))


def test_library_facts_the_fast_path_relies_on() -> None:
    """icalendar's zone lookup (``tzp.timezone``) and its Windows table decide which
    TZIDs the fast path may resolve itself; if they change, this fails first."""
    assert WINDOWS_TO_OLSON["W. Europe Standard Time"] == "Europe/Berlin"
    berlin = tzp.timezone("W. Europe Standard Time")
    assert isinstance(berlin, ZoneInfo) and berlin.key == "Europe/Berlin"
    assert library_zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert library_zone("Nowhere Standard Time") is None
    assert library_zone("(UTC-05:00) Eastern Time (US & Canada)") is None
    assert attached_zone("(UTC-05:00) Eastern Time (US & Canada)") == ZoneInfo("America/New_York")
