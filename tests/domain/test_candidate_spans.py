"""The candidate's ranges as local day spans and UTC intervals (DST-exact)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from web.domain.rangetext import parse_ranges
from web.domain.usecases.candidate_ranges import (
    DaySpan,
    merged,
    plain_reason,
    spans_of_grid,
    spans_of_text,
    utc_interval,
)


def test_neighbouring_grid_boxes_make_one_span() -> None:
    d = date(2027, 3, 3)
    spans = spans_of_grid([(d, 16 * 60), (d, 14 * 60), (d, 20 * 60), (date(2027, 3, 4), 6 * 60)])
    assert spans == [
        DaySpan(d, 14 * 60, 18 * 60),
        DaySpan(d, 20 * 60, 22 * 60),
        DaySpan(date(2027, 3, 4), 6 * 60, 8 * 60),
    ]


def test_overlapping_text_and_grid_spans_merge() -> None:
    d = date(2027, 3, 3)
    assert merged([DaySpan(d, 600, 720), DaySpan(d, 660, 800)]) == [DaySpan(d, 600, 800)]


def test_weekdays_map_onto_the_window() -> None:
    days = [date(2027, 3, n) for n in range(3, 11)]  # Wed 3 .. Wed 10
    spans = spans_of_text(parse_ranges("Wed 9-12"), days)
    assert [s.day for s in spans] == [date(2027, 3, 3), date(2027, 3, 10)]


def test_utc_intervals_follow_each_days_offset() -> None:
    # the US change of 14 March 2027: 09:00 Los Angeles is 17:00 UTC before, 16:00 after
    before = utc_interval(DaySpan(date(2027, 3, 13), 9 * 60, 12 * 60), "America/Los_Angeles")
    after = utc_interval(DaySpan(date(2027, 3, 15), 9 * 60, 12 * 60), "America/Los_Angeles")
    assert before.start == datetime(2027, 3, 13, 17, tzinfo=UTC)
    assert after.start == datetime(2027, 3, 15, 16, tzinfo=UTC)
    # the change day itself: 00:00-06:00 local lasts five hours
    change = utc_interval(DaySpan(date(2027, 3, 14), 0, 6 * 60), "America/Los_Angeles")
    assert (change.end - change.start).total_seconds() == 5 * 3600


def test_the_plain_reason_is_the_most_common_constraint() -> None:
    why = [{"constraint": "busy"}, {"constraint": "working_hours"}, {"constraint": "busy"}]
    assert plain_reason(why) == "the interviewers are already busy at those times"
    assert "not free" in plain_reason([])
