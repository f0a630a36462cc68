"""The ICS reader on hand-written, feature-named calendars in tests/calendars/."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.errors import CalendarError
from integrations.ics import (
    ICSRead,
    busy_from_calendar,
    local_to_utc,
    parse_calendar,
    parse_calendar_with_warnings,
    read_ics_file,
    resolve_tzid,
)
from scheduler.model import Interval

CALENDARS = Path(__file__).resolve().parent.parent / "calendars"
MARCH = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
WEEK = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


def z(month: int, day: int, hour: int, minute: int = 0, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def iv(start: datetime, end: datetime) -> Interval:
    return Interval(start, end)


def read(
    name: str, window: Interval = MARCH, timezone: str = "Europe/Berlin", email: str | None = None
) -> ICSRead:
    return read_ics_file(CALENDARS / name, timezone=timezone, window=window, email=email)


def busy(name: str, **kwargs: object) -> list[Interval]:
    return list(read(name, **kwargs).busy)  # type: ignore[arg-type]


# ---- recurrence ----------------------------------------------------------------------


def test_weekly_with_exdate_across_eu_dst() -> None:
    cet = [iv(z(3, d, 9), z(3, d, 10)) for d in (1, 3, 8, 15, 17, 22, 24)]  # 10:00 CET
    cest = [iv(z(3, d, 8), z(3, d, 9)) for d in (29, 31)]  # 10:00 CEST after 28 March
    assert busy("recurring_weekly_with_exdate.ics") == cet + cest


def test_override_moves_one_occurrence_and_cancels_another() -> None:
    assert busy("override_moved.ics") == [
        iv(z(3, 1, 19), z(3, 1, 20)),
        iv(z(3, 2, 19), z(3, 2, 20)),
        iv(z(3, 3, 21, 30), z(3, 3, 22, 30)),  # moved to 16:30 EST
        iv(z(3, 4, 19), z(3, 4, 20)),
        # 5 March: the override is CANCELLED
    ]


def test_rdate_adds_dates_and_periods() -> None:
    assert busy("rdate_extra_dates.ics") == [
        iv(z(3, 2, 12), z(3, 2, 13)),
        iv(z(3, 4, 12), z(3, 4, 13)),
        iv(z(3, 6, 18), z(3, 6, 20)),  # RDATE;VALUE=PERIOD keeps its own length
        iv(z(3, 9, 12), z(3, 9, 13)),
    ]


def test_unbounded_rrule_is_bounded_by_the_window() -> None:
    window = Interval(z(5, 27, 0, year=2030), z(6, 3, 0, year=2030))
    result = read("unbounded_rrule.ics", window=window)
    daily = [iv(z(5, d, 6, year=2030), z(5, d, 6, 30, year=2030)) for d in range(27, 32)]
    daily += [iv(z(6, d, 6, year=2030), z(6, d, 6, 30, year=2030)) for d in (1, 2)]
    last_friday_of_may = max(
        date(2030, 5, d) for d in range(25, 32) if date(2030, 5, d).weekday() == 4
    )
    monthly = datetime.combine(last_friday_of_may, datetime.min.time(), UTC) + timedelta(hours=15)
    assert list(result.busy) == sorted([*daily, iv(monthly, monthly + timedelta(hours=1))])
    assert result.events_read == 8


# ---- what counts as busy ---------------------------------------------------------------


def test_transparent_and_cancelled_are_free_tentative_is_busy() -> None:
    result = read("transparent.ics", window=WEEK)
    assert list(result.busy) == [iv(z(3, 2, 10), z(3, 2, 11)), iv(z(3, 2, 14), z(3, 2, 15))]
    assert result.events_read == 4 + 7  # every occurrence read, busy or not


def test_declined_by_this_interviewer_is_free() -> None:
    alice = busy("declined_by_attendee.ics", email="ALICE@example.com")
    assert alice == [iv(z(3, 2, 11), z(3, 2, 12)), iv(z(3, 2, 13), z(3, 2, 14))]
    bob = busy("declined_by_attendee.ics", email="mailto:bob@example.com")
    assert bob == [iv(z(3, 2, 9), z(3, 2, 10)), iv(z(3, 2, 13), z(3, 2, 14))]
    everyone = busy("declined_by_attendee.ics")
    assert len(everyone) == 3


def test_vfreebusy_busy_periods() -> None:
    assert busy("freebusy.ics", window=WEEK) == [
        iv(z(3, 2, 9), z(3, 2, 10)),
        iv(z(3, 3, 9), z(3, 3, 9, 30)),  # period given as start/duration
        iv(z(3, 4, 8), z(3, 4, 8, 30)),  # BUSY-TENTATIVE still blocks
        iv(z(3, 5, 16), z(3, 5, 17)),  # FBTYPE defaults to BUSY
    ]


def test_window_filters_but_does_not_merge() -> None:
    window = Interval(z(3, 3, 0), z(3, 4, 0))
    assert busy("override_moved.ics", window=window) == [iv(z(3, 3, 21, 30), z(3, 3, 22, 30))]


# ---- all-day and floating ------------------------------------------------------------------


def test_allday_and_floating_read_in_the_interviewers_zone() -> None:
    kolkata = busy("allday.ics", window=Interval(z(2, 28, 0), z(3, 12, 0)), timezone="Asia/Kolkata")
    assert kolkata == [
        iv(z(3, 1, 18, 30), z(3, 2, 18, 30)),  # 2 March, IST midnight to midnight
        iv(z(3, 3, 18, 30), z(3, 6, 18, 30)),  # 4-6 March
        iv(z(3, 8, 3, 30), z(3, 8, 4, 30)),  # floating 09:00 IST
        iv(z(3, 9, 18, 30), z(3, 10, 18, 30)),  # date without DTEND: one day
    ]
    new_york = busy(
        "allday.ics", window=Interval(z(2, 28, 0), z(3, 12, 0)), timezone="America/New_York"
    )
    assert new_york[0] == iv(z(3, 2, 5), z(3, 3, 5))


def test_allday_on_a_dst_change_day_is_23_hours() -> None:
    cal = parse_calendar(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:d\r\n"
        b"DTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270314\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n",
        "inline",
    )
    result = busy_from_calendar(cal, source="inline", timezone="America/New_York", window=MARCH)
    assert list(result.busy) == [iv(z(3, 14, 5), z(3, 15, 4))]


# ---- time zones ------------------------------------------------------------------------------


def test_dst_gap_2027_03_14_0230_new_york_is_0730z() -> None:
    """RFC 5545 3.3.5: a nonexistent local time takes the offset from before the gap.

    02:30 on 14 March 2027 does not exist in New York (clocks jump 02:00 -> 03:00);
    read with EST (-05:00) it is 07:30Z, i.e. 03:30 EDT. Both an IANA TZID and a
    VTIMEZONE from the file must give this.
    """
    gap = [r for r in busy("dst_gap_new_york.ics") if r.start.day == 14]
    assert gap == [iv(z(3, 14, 7, 30), z(3, 14, 8)), iv(z(3, 14, 7, 30), z(3, 14, 8))]


def test_repeated_hour_2027_11_07_0130_new_york_is_the_first_one() -> None:
    window = Interval(z(11, 1, 0), z(12, 1, 0))
    assert busy("dst_gap_new_york.ics", window=window) == [iv(z(11, 7, 5, 30), z(11, 7, 8))] * 2


def test_what_the_libraries_do_in_the_gap() -> None:
    """zoneinfo (fold=0) already uses the offset before the gap; the tzinfo that
    icalendar builds from a custom VTIMEZONE (dateutil) does not, so the reader
    converts every local time itself (``local_to_utc``)."""
    ny = ZoneInfo("America/New_York")
    assert datetime(2027, 3, 14, 2, 30, tzinfo=ny).astimezone(UTC) == z(3, 14, 7, 30)
    cal = parse_calendar((CALENDARS / "dst_gap_new_york.ics").read_bytes(), "gap")
    custom = next(e for e in cal.walk("VEVENT") if e["UID"].startswith("gap-custom"))
    start = custom["DTSTART"].dt
    assert start.tzinfo is not None and not isinstance(start.tzinfo, ZoneInfo)
    library = start.astimezone(UTC)
    assert library in (z(3, 14, 6, 30), z(3, 14, 7, 30))  # 06:30Z with dateutil 2.9
    assert local_to_utc(start.replace(tzinfo=None), start.tzinfo) == z(3, 14, 7, 30)


@pytest.mark.parametrize(
    ("zone", "wall", "expected"),
    [
        ("America/New_York", datetime(2027, 3, 14, 2, 30), z(3, 14, 7, 30)),  # gap
        ("America/New_York", datetime(2027, 11, 7, 1, 30), z(11, 7, 5, 30)),  # fold: first
        ("Europe/London", datetime(2027, 3, 28, 1, 30), z(3, 28, 1, 30)),  # gap, GMT before
        ("Europe/Berlin", datetime(2027, 10, 31, 2, 30), z(10, 31, 0, 30)),  # fold: CEST
        ("Australia/Lord_Howe", datetime(2027, 10, 3, 2, 15), z(10, 2, 15, 45)),  # 30-min gap
        ("Asia/Kathmandu", datetime(2027, 3, 2, 9, 0), z(3, 2, 3, 15)),
    ],
)
def test_local_to_utc(zone: str, wall: datetime, expected: datetime) -> None:
    assert local_to_utc(wall, ZoneInfo(zone)) == expected


def test_windows_tzids() -> None:
    assert busy("windows_tzid.ics", window=WEEK) == [
        iv(z(3, 2, 8), z(3, 2, 8, 30)),  # W. Europe Standard Time (VTIMEZONE in file)
        iv(z(3, 2, 14), z(3, 2, 15)),  # "(UTC-05:00) Eastern Time (US & Canada)"
        iv(z(3, 3, 0), z(3, 3, 1)),  # Tokyo Standard Time, no VTIMEZONE
        iv(z(3, 4, 3, 30), z(3, 4, 4, 30)),  # "(UTC+05:30) Chennai, Kolkata, ..."
    ]
    assert read("windows_tzid.ics", window=WEEK).unknown_tzids == ()


@pytest.mark.parametrize(
    ("tzid", "expected"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Melbourne"),
        ("Amsterdam, Belgrade, Berlin, Brussels, Budapest, Madrid, Paris", "Europe/Amsterdam"),
        ("(UTC-03:00) Brasília", "America/Sao_Paulo"),
        ("/Europe/Stockholm", "Europe/Stockholm"),
        ("Pacific Standard Time:", "America/Los_Angeles"),
    ],
)
def test_resolve_tzid(tzid: str, expected: str) -> None:
    zone = resolve_tzid(tzid)
    probe = datetime(2027, 1, 15, 12)
    assert zone is not None
    assert (
        probe.replace(tzinfo=zone).utcoffset()
        == probe.replace(tzinfo=ZoneInfo(expected)).utcoffset()
    )


def test_resolve_tzid_unknown() -> None:
    assert resolve_tzid("GMT +0100 (Standard) / GMT +0200 (Daylight)") is None
    assert resolve_tzid("Mars/Olympus_Mons") is None


def test_x_wr_timezone_google_export() -> None:
    assert busy("x_wr_timezone_google.ics") == [
        iv(z(3, 5, 17), z(3, 5, 18)),  # 09:00 PST
        iv(z(3, 10, 20), z(3, 10, 21)),  # floating 12:00 in the calendar's zone (PST)
        iv(z(3, 12, 17), z(3, 12, 18)),
        iv(z(3, 19, 16), z(3, 19, 17)),  # 09:00 PDT: the series follows Los Angeles
        iv(z(3, 26, 16), z(3, 26, 17)),
    ]


def test_custom_vtimezones_with_the_same_name_do_not_leak_between_files() -> None:
    """icalendar caches custom VTIMEZONEs by TZID process-wide; two files that
    both call their zone "Customized Time Zone" must still use their own rules."""

    def doc(offset: str) -> bytes:
        return (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VTIMEZONE\r\n"
            "TZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
            f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\n"
            "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20270101T000000Z\r\n"
            "DTSTART;TZID=Customized Time Zone:20270302T090000\r\n"
            "DTEND;TZID=Customized Time Zone:20270302T100000\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n"
        ).encode()

    first = busy_from_calendar(
        parse_calendar(doc("+0300"), "a"), source="a", timezone="UTC", window=WEEK
    )
    second = busy_from_calendar(
        parse_calendar(doc("-0700"), "b"), source="b", timezone="UTC", window=WEEK
    )
    assert first.busy == (iv(z(3, 2, 6), z(3, 2, 7)),)
    assert second.busy == (iv(z(3, 2, 16), z(3, 2, 17)),)


def test_unknown_tzid_is_counted_and_read_in_the_interviewers_zone() -> None:
    cal = parse_calendar(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        b"DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Nowhere Standard Time:20270302T090000\r\n"
        b"DTEND;TZID=Nowhere Standard Time:20270302T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "inline",
    )
    result = busy_from_calendar(cal, source="inline", timezone="Asia/Tokyo", window=WEEK)
    assert result.busy == (iv(z(3, 2, 0), z(3, 2, 1)),)
    assert result.unknown_tzids == ("Nowhere Standard Time",)


def test_every_interval_is_aware_utc() -> None:
    for name in ("windows_tzid.ics", "allday.ics", "x_wr_timezone_google.ics"):
        for interval in busy(name):
            assert interval.start.tzinfo is UTC and interval.end.tzinfo is UTC


# ---- errors -------------------------------------------------------------------------------------


def test_truncated_file_names_file_and_line() -> None:
    path = CALENDARS / "malformed_truncated.ics"
    with pytest.raises(CalendarError) as err:
        read("malformed_truncated.ics")
    assert err.value.source == str(path)
    assert err.value.line == 9
    assert str(err.value) == (
        f"{path}, line 9: the file ends inside BEGIN:VEVENT from line 4 (truncated?)"
    )


def test_bad_dtstart_names_the_line() -> None:
    with pytest.raises(CalendarError, match="DTSTART") as err:
        read("malformed_bad_dtstart.ics")
    assert err.value.line == 14


def test_not_icalendar() -> None:
    with pytest.raises(
        CalendarError, match=r"not an iCalendar file: expected BEGIN:VCALENDAR"
    ) as err:
        read("malformed_not_icalendar.ics")
    assert err.value.line == 1


def test_missing_file_is_a_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read the file") as err:
        read_ics_file(tmp_path / "nope.ics", timezone="UTC", window=WEEK)
    assert err.value.source == str(tmp_path / "nope.ics")


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", 1, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-A:\x00\x01\r\n", 3, "control character 0x00"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", 3, "END:VEVENT"),
        (b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n", 2, "vCalendar 1.0"),
        (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270302T09"
            b"0000Z\r\nRRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            6,
            "RRULE",
        ),
        (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270302T09"
            b"0000Z\r\nDTEND:20270302T080000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            6,
            "DTEND is before DTSTART",
        ),
        (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:no start"
            b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            3,
            "without DTSTART",
        ),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\njunk\r\n", 4, "after END:VCALENDAR"),
    ],
)
def test_unreadable_data(data: bytes, line: int, words: str) -> None:
    with pytest.raises(CalendarError) as err:
        parse_calendar(data, "upload.ics")
    assert err.value.source == "upload.ics"
    assert err.value.line == line
    assert words in err.value.message


def test_repairs_are_reported() -> None:
    data = (
        "\ufeffBEGIN:vcalendar\nVERSION:2.0\r\nPRODID:t\nBEGIN:VEVENT\nUID:x\n"
        "DTSTAMP:20270101T000000Z\nDTSTART;VALUE=DATE:20270302\nDURATION:PT1W\n"
        "SUMMARY:caf\xe9\nRRULE:\nEND:VEVENT\nEND:VCALENDAR\n"
    ).encode("latin-1", errors="ignore")
    data = b"\xef\xbb\xbf" + data.replace(b"\xef\xbb\xbf", b"")
    cal, notes = parse_calendar_with_warnings(data, "quirky.ics")
    assert isinstance(cal, icalendar.Calendar)
    assert any("line 9" in n and "not UTF-8" in n for n in notes)
    assert any("mixed line endings" in n for n in notes)
    assert any("weeks" in n for n in notes)
    assert any("empty RRULE" in n for n in notes)
    result = busy_from_calendar(cal, source="quirky.ics", timezone="UTC", window=MARCH)
    assert list(result.busy) == [iv(z(3, 2, 0), z(3, 9, 0))]


def test_unknown_x_wr_timezone_is_ignored_with_a_warning() -> None:
    cal = parse_calendar(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nX-WR-TIMEZONE:Foo/Bar\r\n"
        b"BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270302T090000Z\r\n"
        b"DTEND:20270302T100000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "inline",
    )
    result = busy_from_calendar(cal, source="inline", timezone="UTC", window=WEEK)
    assert list(result.busy) == [iv(z(3, 2, 9), z(3, 2, 10)), iv(z(3, 3, 9), z(3, 3, 10))]
    assert any("Foo/Bar" in w for w in result.warnings)


def test_repeated_dtstart_is_an_error_on_its_line() -> None:
    with pytest.raises(CalendarError, match="DTSTART appears more than once") as err:
        parse_calendar(
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n"
            b"DTSTART:20270302T090000Z\r\nDTSTART:20270302T100000Z\r\nEND:VEVENT\r\n"
            b"END:VCALENDAR\r\n",
            "twice.ics",
        )
    assert err.value.line == 6


ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/Berlin",
]


@settings(max_examples=400, deadline=None)
@given(
    instant=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 1, 1)),
    zone=st.sampled_from(ZONES),
)
def test_local_to_utc_round_trips(instant: datetime, zone: str) -> None:
    """Any real instant, shown on a wall clock and read back, gives the first
    instant with that wall-clock reading (the same one unless the hour repeats)."""
    tz = ZoneInfo(zone)
    utc_instant = instant.replace(tzinfo=UTC)
    wall = utc_instant.astimezone(tz).replace(tzinfo=None)
    back = local_to_utc(wall, tz)
    assert back.astimezone(tz).replace(tzinfo=None) == wall
    assert back <= utc_instant
    assert utc_instant - back in (timedelta(0), timedelta(minutes=30), timedelta(hours=1))
