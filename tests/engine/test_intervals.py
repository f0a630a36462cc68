from datetime import UTC, datetime

from scheduler.intervals import clip, intersect, merge, merge_spans, subtract, subtract_spans
from scheduler.model import Interval


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, 2, hour, minute, tzinfo=UTC)


def iv(a: int, b: int) -> Interval:
    return Interval(at(a), at(b))


def test_merge_joins_overlapping_and_touching():
    assert merge([iv(9, 10), iv(10, 11), iv(13, 14), iv(9, 9)]) == [iv(9, 11), iv(13, 14)]


def test_merge_sorts_and_absorbs_contained():
    assert merge([iv(12, 13), iv(8, 15), iv(9, 10)]) == [iv(8, 15)]


def test_subtract_cuts_holes():
    assert subtract([iv(8, 18)], [iv(9, 10), iv(12, 13)]) == [iv(8, 9), iv(10, 12), iv(13, 18)]


def test_subtract_hole_covering_everything():
    assert subtract([iv(9, 10)], [iv(8, 11)]) == []


def test_intersect_and_clip():
    assert intersect([iv(8, 10), iv(12, 14)], [iv(9, 13)]) == [iv(9, 10), iv(12, 13)]
    assert clip([iv(6, 9), iv(17, 20)], iv(8, 18)) == [iv(8, 9), iv(17, 18)]


def test_span_algebra_on_seconds():
    assert merge_spans([(5, 7), (1, 3), (3, 4)]) == [(1, 4), (5, 7)]
    assert subtract_spans([(0, 10), (20, 30)], [(2, 3), (9, 21), (29, 40)]) == [
        (0, 2),
        (3, 9),
        (21, 29),
    ]


def test_interval_rejects_naive_datetimes():
    import pytest

    with pytest.raises(ValueError):
        Interval(datetime(2027, 1, 1), datetime(2027, 1, 2))
