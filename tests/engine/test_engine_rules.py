"""Each rule of the engine on a small hand-computed case."""

from datetime import UTC, date, datetime, timedelta

from scheduler.engine import check_option, find_options, pick_diverse
from scheduler.model import (
    Interval,
    Interviewer,
    Loop,
    SessionSpec,
    Settings,
    WorkingHours,
)

WEEK = {d: ((9 * 60, 17 * 60),) for d in range(7)}
NOW = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)  # Monday


def person(ident: str, tz: str = "UTC", hours=None, cap=None) -> Interviewer:
    return Interviewer(ident, ident, f"{ident}@x.com", tz, WorkingHours(hours or WEEK), cap)


def loop(*sessions, order="fixed", min_gap=0, max_gap=15, **settings) -> Loop:
    base = {"min_notice_hours": 0, "buffer_after_minutes": 0} | settings
    return Loop("l", "L", tuple(sessions), order, min_gap, max_gap, Settings(**base))


def one(duration=60, pool=("a",), required=None) -> SessionSpec:
    return SessionSpec("S", duration, pool, required or len(pool))


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


def search(lp, people, busy=None, day=2, days=1, tz="UTC", hours=(0, 1440), limit=0, **kw):
    return find_options(
        lp,
        {p.id: p for p in people},
        busy or {},
        candidate_tz=tz,
        date_from=date(2027, 3, day),
        date_to=date(2027, 3, day + days - 1),
        now=kw.pop("now", NOW),
        candidate_hours=hours,
        limit=limit,
        **kw,
    )


def starts(options):
    return sorted(o.start for o in options)


def test_all_grid_starts_inside_working_hours():
    found = starts(search(loop(one()), [person("a")]))
    assert found[0] == utc(2, 9) and found[-1] == utc(2, 16)
    assert len(found) == 29  # 09:00 .. 16:00 every 15 minutes


def test_busy_time_is_padded_by_buffers_but_hours_are_not():
    lp = loop(one(), buffer_before_minutes=15, buffer_after_minutes=30)
    busy = {"a": [Interval(utc(2, 12), utc(2, 13))]}
    found = starts(search(lp, [person("a")], busy))
    # session end + 30 min must be <= 12:00; start - 15 min must be >= 13:00
    assert utc(2, 10, 30) in found and utc(2, 10, 45) not in found
    assert utc(2, 13, 15) in found and utc(2, 13) not in found
    assert found[0] == utc(2, 9)  # working hours are not padded


def test_session_must_fit_one_working_range():
    hours = {d: ((540, 720), (720, 1020)) for d in range(7)}
    found = starts(search(loop(one()), [person("a", hours=hours)]))
    assert utc(2, 11, 30) not in found  # would straddle 12:00
    assert utc(2, 11) in found and utc(2, 12) in found


def test_minimum_notice():
    lp = loop(one(), min_notice_hours=33.25)  # NOW + 33h15 = Mar 2 09:15
    assert starts(search(lp, [person("a")]))[0] == utc(2, 9, 15)


def test_granularity_counts_on_utc_clock():
    kolkata = person("a", "Asia/Kolkata")  # 09:00 IST = 03:30 UTC
    found = starts(search(loop(one(), granularity_minutes=60), [kolkata]))
    assert found[0] == utc(2, 4)
    assert all(s.minute == 0 for s in found)


def test_candidate_hours_and_one_local_day():
    found = starts(search(loop(one()), [person("a")], tz="Asia/Tokyo", hours=(18 * 60, 20 * 60)))
    # 18:00-20:00 JST on Mar 2 = 09:00-11:00 UTC
    assert found == [utc(2, 9) + timedelta(minutes=15 * k) for k in range(5)]


def test_required_people_are_distinct_across_sessions():
    lp = loop(SessionSpec("A", 60, ("a", "b"), 1), SessionSpec("B", 60, ("a", "b"), 1))
    options = search(lp, [person("a"), person("b")], busy={"b": [Interval(utc(2, 9), utc(2, 17))]})
    assert options == []
    options = search(lp, [person("a"), person("b")])
    assert options and all(
        set(o.sessions[0].interviewers).isdisjoint(o.sessions[1].interviewers) for o in options
    )


def test_gaps_between_sessions():
    lp = loop(
        SessionSpec("A", 60, ("a",), 1), SessionSpec("B", 30, ("b",), 1), min_gap=15, max_gap=30
    )
    for option in search(lp, [person("a"), person("b")]):
        gap = option.sessions[1].start - option.sessions[0].end
        assert timedelta(minutes=15) <= gap <= timedelta(minutes=30)


def test_any_order_can_swap_sessions():
    lp = loop(
        SessionSpec("A", 60, ("a",), 1), SessionSpec("B", 60, ("b",), 1), order="any", max_gap=0
    )
    hours_b = {d: ((9 * 60, 10 * 60),) for d in range(7)}
    options = search(lp, [person("a"), person("b", hours=hours_b)])
    assert [(s.name, s.start) for s in options[0].sessions] == [("B", utc(2, 9)), ("A", utc(2, 10))]
    fixed = loop(SessionSpec("A", 60, ("a",), 1), SessionSpec("B", 60, ("b",), 1), max_gap=0)
    assert search(fixed, [person("a"), person("b", hours=hours_b)]) == []


def test_daily_cap_counts_booked_interviews_on_local_day():
    capped = person("a", cap=1)
    booked = {"a": [Interval(utc(2, 9), utc(2, 10))]}
    assert search(loop(one()), [capped], busy=booked, booked=booked) == []
    assert search(loop(one()), [capped], busy=booked, booked=booked, day=3)


def test_limit_covers_every_day_with_options():
    options = search(loop(one()), [person("a")], days=5, limit=5)
    assert sorted({o.start.date() for o in options}) == [date(2027, 3, d) for d in range(2, 7)]
    assert [o.score for o in options] == sorted((o.score for o in options), reverse=True)


def test_scores_prefer_middle_of_day():
    options = search(loop(one()), [person("a", "Europe/London")], limit=0)
    best = options[0]
    assert utc(2, 10) <= best.start <= utc(2, 15)
    assert all(0 <= o.score <= 1 for o in options)


def test_check_option_finds_new_conflicts():
    lp = loop(one())
    option = search(lp, [person("a")], limit=1)[0]
    people = {"a": person("a")}
    assert check_option(option, lp, people, {}, now=NOW) == []
    clash = {"a": [Interval(option.start, option.end)]}
    assert check_option(option, lp, people, clash, now=NOW)
    late = option.start + timedelta(minutes=1)
    assert check_option(option, lp, people, {}, now=late)  # notice passed


def test_pick_diverse_takes_a_turn_per_day_before_seconds():
    every = search(loop(one()), [person("a")], days=3, limit=0)
    by_score = every[:3]
    assert len({o.start.date() for o in by_score}) < 3  # the best three crowd one day
    picked = pick_diverse(every, 3, "UTC")
    assert sorted({o.start.date() for o in picked}) == [date(2027, 3, d) for d in (2, 3, 4)]
    assert [o.score for o in picked] == sorted((o.score for o in picked), reverse=True)
    assert all(o in every for o in picked)
