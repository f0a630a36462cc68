"""``LocalClock`` (integer local time) against :mod:`zoneinfo` itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.clock import LocalClock, day_date, day_number, weekday
from scheduler.localtime import local_instant

ZONES = sorted(available_timezones())
# DST at midnight (Santiago, Havana, Asuncion), 30-minute DST (Lord Howe), :45 with DST
# (Chatham), :30 and :45 without (Kolkata, Kathmandu, Eucla), Ramadan breaks (Casablanca).
NAMED = (
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Eucla",
    "Africa/Casablanca",
    "America/St_Johns",
    "Europe/London",
    "America/New_York",
)
FIRST = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
LAST = int(datetime(2029, 1, 1, tzinfo=UTC).timestamp())


def true_offset(moment: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(moment, UTC).astimezone(tz)
    return int(local.utcoffset().total_seconds())


def true_local(moment: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(moment, UTC).astimezone(tz)


@pytest.mark.parametrize("name", NAMED)
def test_offsets_every_half_hour_and_around_every_change(name: str) -> None:
    tz = ZoneInfo(name)
    clock = LocalClock(tz)
    previous = None
    for moment in range(FIRST, LAST, 1800):
        offset = true_offset(moment, tz)
        assert clock.offset(moment) == offset, datetime.fromtimestamp(moment, UTC)
        if previous is not None and offset != previous:  # a change in the last half hour
            for second in range(moment - 1800, moment + 1):
                assert clock.offset(second) == true_offset(second, tz)
        previous = offset


@pytest.mark.parametrize("name", NAMED)
def test_wall_times_every_quarter_hour_of_every_day(name: str) -> None:
    tz = ZoneInfo(name)
    clock = LocalClock(tz)
    day = date(2026, 12, 25)
    while day < date(2028, 1, 5):
        number = day_number(day)
        assert day_date(number) == day and weekday(number) == day.weekday()
        for minute in range(0, 1441, 15):
            expected = int(local_instant(day, minute, tz).timestamp())
            assert clock.instant(number, minute) == expected, (day, minute)
        day += timedelta(days=1)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ZONES), st.integers(int(datetime(1990, 1, 1, tzinfo=UTC).timestamp()), LAST))
def test_any_zone_any_second(name: str, moment: int) -> None:
    tz = ZoneInfo(name)
    clock = LocalClock(tz)
    local = true_local(moment, tz)
    assert clock.offset(moment) == int(local.utcoffset().total_seconds())
    assert clock.minute(moment) == local.hour * 60 + local.minute
    assert day_date(clock.day(moment)) == local.date()
    monday = local.date() - timedelta(days=local.weekday())
    assert clock.week(moment) == (day_number(monday) + 3) // 7


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(1990, 1, 1), date(2038, 12, 31)), st.integers(0, 1440))
def test_any_zone_any_wall_time(name: str, day: date, minute: int) -> None:
    tz = ZoneInfo(name)
    expected = int(local_instant(day, minute, tz).timestamp())
    assert LocalClock(tz).instant(day_number(day), minute) == expected
