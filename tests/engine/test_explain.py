"""The explanation: verified suggestions and the per-session "why"."""

from dataclasses import replace
from datetime import UTC, date, datetime

from scheduler.explain import Hold, Search, explain, needs_explaining
from scheduler.localtime import parse_range
from scheduler.model import Interval, Interviewer, Loop, SessionSpec, Settings, WorkingHours

NOW = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)  # Monday
TUE = {1: ((9 * 60, 12 * 60),)}


def person(ident: str, hours=None, cap=None) -> Interviewer:
    return Interviewer(ident, ident, f"{ident}@x.com", "UTC", WorkingHours(hours or TUE), cap)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


def make(sessions, people, busy=None, order="fixed", max_gap=15, hours=(480, 1200), **kw):
    settings = Settings(granularity_minutes=30, min_notice_hours=0, buffer_after_minutes=0)
    loop = Loop("l", "L", tuple(sessions), order, 0, max_gap, settings)
    return Search(
        loop,
        {p.id: p for p in people},
        busy or {},
        "UTC",
        kw.pop("date_from", date(2027, 3, 1)),
        kw.pop("date_to", date(2027, 3, 2)),
        kw.pop("now", NOW),
        hours,
        **kw,
    )


def apply(search: Search, parameter: str, session, value) -> Search:
    loop = search.loop
    if parameter == "to":
        return replace(search, date_to=date.fromisoformat(value))
    if parameter == "candidate_hours":
        return replace(search, candidate_hours=parse_range(value))
    if parameter == "max_gap_minutes":
        return replace(search, loop=replace(loop, max_gap_minutes=value))
    if parameter == "order":
        return replace(search, loop=replace(loop, order=value))
    specs = tuple(replace(s, required=value) if s.name == session else s for s in loop.sessions)
    return replace(search, loop=replace(loop, sessions=specs))


def check_counts(search: Search, limit: int = 0):
    found = explain(search, limit)
    for s in found.suggestions:
        assert s.options > found.found
        assert apply(search, s.parameter, s.session, s.value).count() == s.options
    return found


def test_needs_explaining():
    assert needs_explaining(0, 0) and needs_explaining(3, 20)
    assert not needs_explaining(3, 0) and not needs_explaining(20, 20)


def test_enough_options_no_explanation():
    found = explain(make([SessionSpec("S", 60, ("a",), 1)], [person("a")]), 0)
    assert found.found == 5 and not found.why and not found.suggestions


def test_later_to_date():
    thu = {3: ((9 * 60, 11 * 60),)}
    found = check_counts(make([SessionSpec("S", 60, ("a",), 1)], [person("a", thu)]))
    assert [(s.parameter, s.value, s.options) for s in found.suggestions] == [
        ("to", "2027-03-04", 3)
    ]
    assert found.why[0].constraint == "working_hours"


def test_candidate_hours_widened_least():
    early = {1: ((6 * 60, 7 * 60 + 30),)}
    found = check_counts(make([SessionSpec("S", 60, ("a",), 1)], [person("a", early)]))
    hours = [s for s in found.suggestions if s.parameter == "candidate_hours"]
    assert [(s.value, s.options) for s in hours] == [("06:30-20:00", 1)]
    assert found.why[0].constraint == "candidate_hours"


def test_any_order_and_one_fewer_required():
    sessions = [SessionSpec("One", 60, ("b", "a"), 2), SessionSpec("Two", 60, ("c",), 1)]
    people = [person("a", {1: ((600, 660),)}), person("b"), person("c", {1: ((540, 600),)})]
    found = check_counts(make(sessions, people))
    got = {(s.parameter, s.session): (s.value, s.options) for s in found.suggestions}
    assert got[("order", None)] == ("any", 1)
    assert ("required", "One") not in got  # b alone still cannot sit before c
    assert found.why[1].session == "Two" and found.why[1].constraint == "gaps"


def test_larger_max_gap():
    sessions = [SessionSpec("One", 60, ("a",), 1), SessionSpec("Two", 60, ("b",), 1)]
    people = [person("a", {1: ((9 * 60, 10 * 60),)}), person("b", {1: ((11 * 60, 12 * 60),)})]
    found = check_counts(make(sessions, people))
    assert [(s.parameter, s.value, s.options) for s in found.suggestions] == [
        ("max_gap_minutes", 60, 1)
    ]
    assert {w.constraint for w in found.why} == {"gaps"}


def test_holds_named_by_request():
    hold = Hold(Interval(utc(2, 9), utc(2, 12)), "req-7")
    search = make([SessionSpec("S", 60, ("a",), 1)], [person("a")], holds={"a": [hold]})
    found = check_counts(search)
    assert found.found == 0
    assert found.why[0].constraint == "holds" and "req-7" in found.why[0].detail


def test_busy_and_pool_size():
    busy = {"a": [Interval(utc(2, 9), utc(2, 12))]}
    one = make([SessionSpec("S", 60, ("a",), 1)], [person("a")], busy)
    assert explain(one, 0).why[0].constraint == "busy"
    saturday = {5: ((540, 600),)}
    two = make([SessionSpec("S", 60, ("a", "b"), 2)], [person("a"), person("b", saturday)])
    found = check_counts(two)
    assert found.why[0].constraint == "pool_size"
    assert [(s.parameter, s.value) for s in found.suggestions] == [("required", 1)]


def test_daily_cap_and_notice():
    booked = {"a": [Interval(utc(2, 7), utc(2, 8))]}
    capped = make([SessionSpec("S", 60, ("a",), 1)], [person("a", cap=1)], booked=booked)
    assert explain(capped, 0).why[0].constraint == "daily_cap"
    late = make([SessionSpec("S", 60, ("a",), 1)], [person("a")], now=utc(2, 8, 30))
    notice = replace(late.loop.settings, min_notice_hours=3)
    late = replace(late, loop=replace(late.loop, settings=notice))
    assert explain(late, 0).why[0].constraint == "min_notice"
    past = make([SessionSpec("S", 60, ("a",), 1)], [person("a")], now=utc(2, 11, 30))
    assert {w.constraint for w in explain(past, 0).why} == {"working_hours"}  # not the past


def test_weekly_cap_named_apart_from_the_daily_one():
    """An interview on Monday fills a weekly cap of 1: Tuesday is ruled out by the week
    (the daily cap of 2 would allow it); the next week's Tuesday is what a later `to` finds."""
    booked = {"a": [Interval(utc(1, 7), utc(1, 8))]}
    weekly = replace(person("a", cap=2), max_interviews_per_week=1)
    capped = make([SessionSpec("S", 60, ("a",), 1)], [weekly], booked=booked)
    found = check_counts(capped)
    assert found.found == 0 and [w.constraint for w in found.why] == ["weekly_cap"]
    assert [s.parameter for s in found.suggestions] == ["to"]
    assert found.suggestions[0].value == "2027-03-09"
