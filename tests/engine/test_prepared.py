"""``prepare_busy``: a prepared index gives exactly what the plain intervals give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler import BusyIndex, prepare_busy
from scheduler.busy import busy_between
from scheduler.engine import check_option, find_options
from scheduler.intervals import clip, merge, to_seconds
from scheduler.model import Interval

from .test_properties import (
    PROFILE,
    SCALE,
    Case,
    multi_session_cases,
    near_valid_options,
    single_all_of_cases,
)

BASE = datetime(2027, 3, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


intervals = st.lists(
    st.tuples(st.floats(-3000, 3000), st.floats(-10, 600)).map(
        lambda p: Interval(at(p[0]), at(p[0] + p[1]))
    ),
    max_size=12,
)
whole_minutes = st.lists(
    st.tuples(st.integers(-3000, 3000), st.integers(-10, 600)).map(
        lambda p: Interval(at(p[0]), at(p[0] + p[1]))
    ),
    max_size=12,
)


def far_away(case: Case) -> dict[str, list[Interval]]:
    """Each interviewer's busy time plus a year of meetings that cannot touch the window."""
    start = case.request["date_from"]
    early = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(days=400)
    filler = [
        Interval(early + timedelta(hours=7 * k), early + timedelta(hours=7 * k + 2))
        for k in range(1200)
    ]
    return {pid: [*filler, *case.busy.get(pid, [])] for pid in case.interviewers}


@settings(PROFILE, max_examples=100 * SCALE)
@given(intervals, st.integers(-4000, 4000), st.integers(0, 4000))
def test_between_equals_the_plain_intervals_read_for_the_range(
    items: list[Interval], low: int, length: int
) -> None:
    lo, hi = to_seconds(at(low)), to_seconds(at(low + length))
    index = prepare_busy(items)
    assert isinstance(index, BusyIndex)
    assert index.between(lo, hi) == busy_between(items, lo, hi)


@settings(PROFILE, max_examples=100 * SCALE)
@given(whole_minutes, st.integers(-4000, 4000), st.integers(0, 4000))
def test_between_is_the_merged_busy_time_clipped_to_the_range(
    items: list[Interval], low: int, length: int
) -> None:
    window = Interval(at(low), at(low + length))
    expected = [(to_seconds(i.start), to_seconds(i.end)) for i in clip(items, window)]
    index = prepare_busy(items)
    assert index.between(to_seconds(window.start), to_seconds(window.end)) == expected
    assert index.intervals() == merge(items)
    assert len(index) == len(merge(items))


def same_search(case: Case, limit: int) -> None:
    busy = far_away(case)
    prepared = {pid: prepare_busy(spans) for pid, spans in busy.items()}
    plain = find_options(case.loop, case.interviewers, busy, limit=limit, **case.request)
    fast = find_options(case.loop, case.interviewers, prepared, limit=limit, **case.request)
    assert fast == plain
    assert plain == case.engine(limit)  # the far-away year changes nothing


@settings(PROFILE, max_examples=100 * SCALE)
@given(st.one_of(single_all_of_cases(longest_span=4), multi_session_cases()), st.integers(0, 12))
def test_options_from_prepared_indexes_equal_options_from_intervals(case: Case, limit: int) -> None:
    same_search(case, limit)


@settings(PROFILE, max_examples=60 * SCALE)
@given(st.one_of(single_all_of_cases(), multi_session_cases()), st.data())
def test_check_option_from_prepared_indexes_equals_from_intervals(
    case: Case, data: st.DataObject
) -> None:
    option = data.draw(near_valid_options(case))
    busy = far_away(case)
    prepared = {pid: prepare_busy(spans) for pid, spans in busy.items()}
    now, booked = case.request["now"], case.request["booked"]
    plain = check_option(option, case.loop, case.interviewers, busy, now=now, booked=booked)
    fast = check_option(option, case.loop, case.interviewers, prepared, now=now, booked=booked)
    assert fast == plain
