"""Bounded expansion: dense rules are refused before anything is expanded.

No timing assertions: each case asserts the error (its type and data) or the
result; that the refusals come without expansion is checked by counting what
dateutil would generate (the bounds), not by the clock.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.errors import CalendarError
from integrations.ics import busy_from_calendar, parse_calendar, read_ics_file
from integrations.ics.limits import (
    MAX_INSTANCES,
    MAX_RECURRENCE_STEPS,
    ExpansionRefused,
    RecurrenceTooLarge,
    TooManyInstances,
    count_between,
    instances_between,
    rule_shape,
    steps_until,
)
from scheduler.model import Interval

TWO_WEEKS = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 15, tzinfo=UTC))


def calendar(*events: str) -> bytes:
    body = "".join(events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{body}END:VCALENDAR\r\n".encode()


def event(uid: str, start: str, end: str, *extra: str) -> str:
    lines = [f"UID:{uid}", "DTSTAMP:20270101T000000Z", f"DTSTART:{start}", f"DTEND:{end}"]
    return "BEGIN:VEVENT\r\n" + "".join(f"{x}\r\n" for x in [*lines, *extra]) + "END:VEVENT\r\n"


def read(tmp_path: Path, data: bytes, window: Interval = TWO_WEEKS) -> tuple[int, int]:
    path = tmp_path / "feed.ics"
    path.write_bytes(data)
    result = read_ics_file(path, timezone="Europe/Berlin", window=window)
    return len(result.busy), result.events_read


SECONDLY = calendar(event("s", "20270301T090000Z", "20270301T090001Z", "RRULE:FREQ=SECONDLY"))


def test_secondly_feed_is_refused_with_its_numbers(tmp_path: Path) -> None:
    assert len(SECONDLY) < 300
    with pytest.raises(RecurrenceTooLarge) as err:
        read(tmp_path, SECONDLY)
    assert isinstance(err.value, CalendarError) and isinstance(err.value, ValueError)
    assert err.value.uid == "s" and err.value.freq == "SECONDLY"
    assert err.value.budget == MAX_RECURRENCE_STEPS < err.value.steps
    assert err.value.source == str(tmp_path / "feed.ics")
    assert "SECONDLY" in err.value.message and "\n" not in str(err.value)


def test_secondly_in_a_short_window_is_refused_by_the_instance_cap(tmp_path: Path) -> None:
    hour = Interval(datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 3, 1, 10, tzinfo=UTC))
    with pytest.raises(TooManyInstances) as err:
        read(tmp_path, SECONDLY, window=hour)
    assert err.value.cap == MAX_INSTANCES < err.value.at_least
    assert err.value.span.start <= hour.start and hour.end <= err.value.span.end


def test_secondly_through_a_parsed_calendar_is_refused_too() -> None:
    """Backends that parse first (feeds, CalDAV) expand through ``busy_from_calendar``."""
    with pytest.raises(ExpansionRefused):
        busy_from_calendar(
            parse_calendar(SECONDLY, "feed"), source="feed", timezone="UTC", window=TWO_WEEKS
        )


MINUTELY_YEAR = calendar(
    event("m", "20270101T000000Z", "20270101T000100Z", "RRULE:FREQ=MINUTELY;UNTIL=20280101T000000Z")
)


def test_minutely_over_a_year_in_two_weeks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TooManyInstances) as err:
        read(tmp_path, MINUTELY_YEAR)
    assert err.value.at_least > MAX_INSTANCES


def test_minutely_over_a_year_in_one_day_is_read(tmp_path: Path) -> None:
    day = Interval(datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 2, tzinfo=UTC))
    assert read(tmp_path, MINUTELY_YEAR, window=day) == (1440, 1440)


def test_minutely_from_years_ago_is_refused_by_the_step_budget(tmp_path: Path) -> None:
    data = calendar(event("m", "20200101T000000Z", "20200101T000100Z", "RRULE:FREQ=MINUTELY"))
    day = Interval(datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 2, tzinfo=UTC))
    with pytest.raises(RecurrenceTooLarge):
        read(tmp_path, data, window=day)


def test_many_instances_from_rdates_are_refused_after_expansion(tmp_path: Path) -> None:
    """RDATE lists are not counted ahead (the file's size bounds them); what the
    expansion found is counted, with the same error."""
    first = datetime(2027, 3, 2)
    stamps = ",".join(
        (first + timedelta(seconds=30 * i)).strftime("%Y%m%dT%H%M%SZ") for i in range(MAX_INSTANCES)
    )
    data = calendar(
        event("r", "20270301T000000Z", "20270301T000030Z", "RRULE:FREQ=DAILY;COUNT=1"),
        event("x", "20270301T000000Z", "20270301T000030Z", f"RDATE:{stamps}"),
    )
    with pytest.raises(TooManyInstances) as err:
        read(tmp_path, data)
    assert err.value.at_least == MAX_INSTANCES + 2
    assert err.value.span == TWO_WEEKS


def test_a_busy_real_calendar_is_far_below_the_limits(tmp_path: Path) -> None:
    """Working-hours quarter-hour slots, every weekday since 2015: read."""
    rule = "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,15,30,45"
    data = calendar(event("q", "20150105T090000Z", "20150105T091000Z", rule))
    busy, read_count = read(tmp_path, data)
    assert busy == read_count == 10 * 32


# ---- the bounds are bounds --------------------------------------------------------------

FREQS = ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]
SPANS = {"SECONDLY": 3, "MINUTELY": 200, "HOURLY": 3000, "DAILY": 40000}


@st.composite
def rules(draw: st.DrawFn) -> tuple[str, datetime, datetime, datetime]:
    freq = draw(st.sampled_from(FREQS))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 3))}"]
    if draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 400))}")
    if draw(st.booleans()):
        days = draw(
            st.lists(
                st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1, max_size=3
            )
        )
        ordinal = freq in ("MONTHLY", "YEARLY") and draw(st.booleans())
        parts.append("BYDAY=" + ",".join(("-1" if ordinal else "") + d for d in days))
    for name, top in (("BYHOUR", 23), ("BYMINUTE", 59), ("BYMONTHDAY", 28), ("BYMONTH", 12)):
        if draw(st.integers(0, 3)) == 0:
            low = 1 if name in ("BYMONTHDAY", "BYMONTH") else 0
            values = draw(st.lists(st.integers(low, top), min_size=1, max_size=3, unique=True))
            parts.append(f"{name}=" + ",".join(map(str, values)))
    start = draw(st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1))).replace(microsecond=0)
    minutes = SPANS.get(freq, 800000)
    lo = start + timedelta(minutes=draw(st.integers(-minutes, minutes)))
    hi = lo + timedelta(minutes=draw(st.integers(0, minutes)))
    return ";".join(parts), start, lo, hi


def shape_of(text: str):  # type: ignore[no-untyped-def]
    parts = {k: v.split(",") for k, v in (p.split("=") for p in text.split(";"))}
    return rule_shape(parts, text)


@settings(max_examples=300, deadline=None)
@given(rules())
def test_upper_and_lower_bounds_hold(case: tuple[str, datetime, datetime, datetime]) -> None:
    text, start, lo, hi = case
    with warnings.catch_warnings():  # COUNT with UNTIL
        warnings.simplefilter("ignore")
        try:
            rule = rrulestr(text, dtstart=start).replace(until=hi)
        except ValueError:  # dateutil refuses rules it sees are empty
            return
        actual = list(rule.xafter(start, count=5000, inc=True))
    inside = sum(1 for t in actual if lo <= t)
    shape = shape_of(text)
    assert instances_between(shape, start, lo, hi) >= inside
    assert steps_until(shape, start, hi) >= len(actual)
    assert count_between(shape, start, lo, hi, 10**9) <= inside


def test_weekly_with_monthdays_but_no_byday_may_match_any_day() -> None:
    """Found by hypothesis: FREQ=WEEKLY;BYMONTHDAY=8,9 makes two instances in one week
    (dateutil gives no weekday default when a day part is present); the bound said 1."""
    text = "FREQ=WEEKLY;BYMONTHDAY=8,9"
    start = datetime(2026, 1, 8, 9)
    lo, hi = datetime(2026, 1, 8), datetime(2026, 1, 9, 23)
    actual = list(rrulestr(text, dtstart=start).replace(until=hi).xafter(start, inc=True))
    assert len(actual) == 2
    assert instances_between(shape_of(text), start, lo, hi) >= 2
