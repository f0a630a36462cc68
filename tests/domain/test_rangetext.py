"""The candidate's typed ranges: what is read, what is refused (and the hint), and the
round trip through format_ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.domain.rangetext import (
    DAY_END,
    DAY_START,
    DayRange,
    RangeTextError,
    format_ranges,
    parse_ranges,
)

MON, TUE, WED, THU, FRI = range(5)


def _r(day: int, a: str, b: str) -> DayRange:
    def m(t: str) -> int:
        h, mm = t.split(":")
        return int(h) * 60 + int(mm)

    return DayRange(day, m(a), m(b))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue 9–12, Thu after 14:00", [_r(TUE, "09:00", "12:00"), _r(THU, "14:00", "22:00")]),
        ("Mon 9-11, 14:00-17:00", [_r(MON, "09:00", "11:00"), _r(MON, "14:00", "17:00")]),
        ("Wed before 10", [_r(WED, "06:00", "10:00")]),
        ("Fri 2pm–5pm", [_r(FRI, "14:00", "17:00")]),
        ("Mon 2-5pm", [_r(MON, "14:00", "17:00")]),
        ("Mon 11-1pm", [_r(MON, "11:00", "13:00")]),
        ("monday 9:30 am - 12:15 pm", [_r(MON, "09:30", "12:15")]),
        ("Tue-Thu 14:00–18:00", [_r(d, "14:00", "18:00") for d in (TUE, WED, THU)]),
        ("Fridays after 15:00", [_r(FRI, "15:00", "22:00")]),
        ("any time on Friday", [_r(FRI, "06:00", "22:00")]),
        ("Mon 9-12 and Wed 1pm to 3pm", [_r(MON, "09:00", "12:00"), _r(WED, "13:00", "15:00")]),
        ("Tue 9–12;\nTue 9-12", [_r(TUE, "09:00", "12:00")]),
    ],
)
def test_reads(text: str, expected: list[DayRange]) -> None:
    assert parse_ranges(text) == expected


@pytest.mark.parametrize(
    ("text", "part", "hint_has"),
    [
        ("9-12", "9-12", "Tue 9-12"),
        ("Tue 9-12, sometime soonish", "sometime soonish", "Tue 9–12"),
        ("Tue 25-26", "Tue 25-26", "HH:MM"),
        ("Mon 12-9", "Mon 12-9", "after the start"),
        ("Mon 13pm-2", "Mon 13pm-2", "am/pm"),
        ("Tue-Xyz 9-12", "Tue-Xyz 9-12", "not a day"),
        ("Wed 9:75-10", "Wed 9:75-10", "HH:MM"),
        ("", "", "Tue 9–12"),
    ],
)
def test_refuses_naming_the_part(text: str, part: str, hint_has: str) -> None:
    with pytest.raises(RangeTextError) as info:
        parse_ranges(text)
    assert info.value.part == part and hint_has in info.value.hint


@st.composite
def day_ranges(draw: st.DrawFn) -> DayRange:
    day = draw(st.integers(0, 6))
    start = draw(st.integers(0, 24 * 60 - 1))
    end = draw(st.integers(start + 1, 24 * 60))
    return DayRange(day, start, end)


@given(st.lists(day_ranges(), min_size=1, max_size=8))
def test_round_trip(ranges: list[DayRange]) -> None:
    assert parse_ranges(format_ranges(ranges)) == sorted(set(ranges))


@given(st.lists(day_ranges(), min_size=1, max_size=4), st.sampled_from(["-", "–", " to "]))
def test_round_trip_with_other_dashes_and_12_hour_times(ranges: list[DayRange], dash: str) -> None:
    def twelve(m: int) -> str:
        h, mm = divmod(m, 60)
        if h in (0, 24):
            return f"{h:02d}:{mm:02d}"  # midnight stays 24-hour
        return f"{(h - 1) % 12 + 1}:{mm:02d}{'pm' if h >= 12 else 'am'}"

    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    text = "; ".join(f"{days[r.weekday]} {twelve(r.start)}{dash}{twelve(r.end)}" for r in ranges)
    assert parse_ranges(text) == sorted(set(ranges))


def test_bounds_of_after_and_before() -> None:
    assert parse_ranges("Thu after 9")[0].end == DAY_END
    assert parse_ranges("Thu before 21")[0].start == DAY_START
