"""``max_interviews_per_week``: per local ISO week (Monday 00:00 in the interviewer's zone).

The engine against the brute-force checker by hypothesis (windows around the 2027
DST changes, zones with :30/:45 offsets), and named cases worked out by hand
across the week of Chatham's DST change (+13:45 -> +12:45) and in Kathmandu (+05:45).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.config import parse_config
from scheduler.engine import check_option, find_options
from scheduler.errors import ConfigError
from scheduler.model import Interval, Interviewer, Loop, SessionSpec, Settings, WorkingHours

from . import bruteforce
from .test_properties import (
    PROFILE,
    SCALE,
    Case,
    assert_well_formed,
    multi_session_cases,
    near_valid_options,
    option_key,
    single_all_of_cases,
)


@st.composite
def with_weekly_caps(draw: st.DrawFn, cases: st.SearchStrategy[Case]) -> Case:
    """A case where some interviewers have a weekly cap and interviews booked in the
    weeks around the window (so that the Monday boundary falls inside it)."""
    case = draw(cases)
    interviewers = dict(case.interviewers)
    booked = {pid: list(items) for pid, items in case.request["booked"].items()}
    base = bruteforce.local_instant(case.request["candidate_tz"], case.request["date_from"], 0)
    for pid, who in case.interviewers.items():
        if not draw(st.booleans()):
            continue
        interviewers[pid] = dataclasses.replace(
            who, max_interviews_per_week=draw(st.integers(0, 3))
        )
        minutes = draw(st.lists(st.integers(-9 * 24 * 60, 9 * 24 * 60), max_size=4))
        booked[pid] = booked.get(pid, []) + [
            Interval(base + timedelta(minutes=m), base + timedelta(minutes=m + 45)) for m in minutes
        ]
    return Case(case.loop, interviewers, case.busy, {**case.request, "booked": booked})


@settings(PROFILE, max_examples=150 * SCALE)
@given(with_weekly_caps(single_all_of_cases(longest_span=8)))
def test_single_all_of_with_weekly_caps_equals_bruteforce(case: Case) -> None:
    expected = bruteforce.valid_starts_single_all_of(
        case.loop, case.interviewers, case.busy, **case.request
    )
    options = case.engine(limit=0)
    assert_well_formed(case, options, 0)
    assert {o.sessions[0].start for o in options} == expected


@settings(PROFILE, max_examples=80 * SCALE)
@given(with_weekly_caps(multi_session_cases(longest_span=0)))
def test_multi_session_with_weekly_caps_lists_every_valid_option(case: Case) -> None:
    expected = {
        tuple((s.name, s.start, s.end, frozenset(s.interviewers)) for s in slots)
        for slots in bruteforce.iter_options(
            case.loop, case.interviewers, case.busy, recheck=False, **case.request
        )
    }
    options = case.engine(limit=0)
    assert {option_key(o) for o in options} == expected
    assert_well_formed(case, options, 0)


@settings(PROFILE, max_examples=80 * SCALE)
@given(with_weekly_caps(st.one_of(single_all_of_cases(), multi_session_cases())), st.data())
def test_check_option_with_weekly_caps_agrees_with_bruteforce(
    case: Case, data: st.DataObject
) -> None:
    option = data.draw(near_valid_options(case))
    now, booked = case.request["now"], case.request["booked"]
    mine = bruteforce.loop_problems(
        option, case.loop, case.interviewers, case.busy, now=now, booked=booked
    )
    theirs = check_option(option, case.loop, case.interviewers, case.busy, now=now, booked=booked)
    assert (theirs == []) == (mine == []), f"check_option: {theirs}; brute force: {mine}"


# --- named cases --------------------------------------------------------------------------

ALL_DAY = WorkingHours({d: ((0, 1440),) for d in range(7)})
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def capped(tz: str, per_week: int) -> Interviewer:
    return Interviewer(
        "ana", "Ana", "ana@example.com", tz, ALL_DAY, max_interviews_per_week=per_week
    )


PANEL = Loop("p", "P", (SessionSpec("Panel", 60, ("ana",), 1),), settings=Settings(15, 0, 0, 0))


def starts(who: Interviewer, booked: list[Interval], first: date, last: date, engine: bool):
    request = dict(
        candidate_tz="UTC",
        date_from=first,
        date_to=last,
        now=NOW,
        candidate_hours=(0, 1440),
        booked={"ana": booked},
    )
    if engine:
        return {o.start for o in find_options(PANEL, {"ana": who}, {}, limit=0, **request)}
    return bruteforce.valid_starts_single_all_of(PANEL, {"ana": who}, {}, **request)


def quarter_hours(first: datetime, last: datetime) -> set[datetime]:
    count = int((last - first) / timedelta(minutes=15)) + 1
    return {first + timedelta(minutes=15 * k) for k in range(count)}


def one_hour(start: datetime) -> Interval:
    return Interval(start, start + timedelta(hours=1))


@pytest.mark.parametrize("engine", [False, True], ids=["bruteforce", "engine"])
def test_chatham_week_of_the_dst_change(engine: bool) -> None:
    # Pacific/Chatham leaves DST on Sunday 2027-04-04 at 03:45 CHADT (+13:45), which
    # becomes 02:45 CHAST (+12:45), i.e. at 2027-04-03 14:00 UTC. Its ISO week of
    # Mon 29 Mar - Sun 4 Apr runs from 2027-03-28 10:15 UTC (Mon 00:00 +13:45) to
    # 2027-04-04 11:15 UTC (Mon 5 Apr 00:00 +12:45).
    booked = [
        one_hour(at("2027-03-28T10:15")),  # Mon 29 Mar 00:00 CHADT: the week's first minute
        one_hour(at("2027-04-04T11:00")),  # Sun 4 Apr 23:45 CHAST: its last quarter hour
    ]
    found = starts(capped("Pacific/Chatham", 2), booked, date(2027, 4, 3), date(2027, 4, 4), engine)
    # Full until the week ends; from Mon 5 Apr 00:00 local a new week (no booking yet).
    assert found == quarter_hours(at("2027-04-04T11:15"), at("2027-04-04T23:00"))
    # With a cap of 3 the old week has room again: every start of the two UTC days but
    # those whose hour crosses a local midnight (Sun 4 Apr 00:00 CHADT = Sat 10:15 UTC,
    # Mon 5 Apr 00:00 CHAST = Sun 11:15 UTC) or the candidate's (UTC) midnight.
    roomy = starts(capped("Pacific/Chatham", 3), booked, date(2027, 4, 3), date(2027, 4, 4), engine)
    crossing = quarter_hours(at("2027-04-03T09:30"), at("2027-04-03T10:00"))
    crossing |= quarter_hours(at("2027-04-03T23:15"), at("2027-04-03T23:45"))
    crossing |= quarter_hours(at("2027-04-04T10:30"), at("2027-04-04T11:00"))
    assert roomy == quarter_hours(at("2027-04-03T00:00"), at("2027-04-04T23:00")) - crossing


@pytest.mark.parametrize("engine", [False, True], ids=["bruteforce", "engine"])
def test_chatham_booking_before_monday_counts_in_the_old_week(engine: bool) -> None:
    # A booking 15 minutes before Mon 5 Apr 00:00 CHAST (Sun 23:45 = 11:00 UTC) fills
    # the old week only: with a cap of 1 every start before 11:15 UTC is refused.
    booked = [one_hour(at("2027-04-04T11:00"))]
    found = starts(capped("Pacific/Chatham", 1), booked, date(2027, 4, 3), date(2027, 4, 4), engine)
    assert found == quarter_hours(at("2027-04-04T11:15"), at("2027-04-04T23:00"))


@pytest.mark.parametrize("engine", [False, True], ids=["bruteforce", "engine"])
def test_kathmandu_week_starts_at_monday_midnight_plus_five_forty_five(engine: bool) -> None:
    # Asia/Kathmandu is +05:45 all year: Mon 2027-04-05 00:00 NPT = Sun 4 Apr 18:15 UTC.
    booked = [one_hour(at("2027-03-29T06:00"))]  # Mon 29 Mar 11:45 NPT
    found = starts(capped("Asia/Kathmandu", 1), booked, date(2027, 4, 4), date(2027, 4, 4), engine)
    assert found == quarter_hours(at("2027-04-04T18:15"), at("2027-04-04T23:00"))


def test_weekly_and_daily_caps_both_apply() -> None:
    who = dataclasses.replace(capped("Asia/Kathmandu", 5), max_interviews_per_day=1)
    booked = [one_hour(at("2027-04-04T04:00"))]  # Sun 4 Apr 09:45 NPT
    found = starts(who, booked, date(2027, 4, 4), date(2027, 4, 4), True)
    # Sunday (local) is full by the daily cap until Mon 00:00 NPT = 18:15 UTC.
    assert found == quarter_hours(at("2027-04-04T18:15"), at("2027-04-04T23:00"))


def test_check_option_names_the_weekly_limit() -> None:
    who = capped("Asia/Kathmandu", 1)
    option = find_options(
        PANEL,
        {"ana": who},
        {},
        candidate_tz="UTC",
        date_from=date(2027, 4, 4),
        date_to=date(2027, 4, 4),
        now=NOW,
        candidate_hours=(0, 1440),
        limit=1,
    )[0]
    booked = {"ana": [one_hour(option.start - timedelta(hours=2))]}
    problems = check_option(option, PANEL, {"ana": who}, {}, now=NOW, booked=booked)
    assert problems == ["'ana' is at their weekly interview limit"]


# --- the configuration contract -----------------------------------------------------------


def config(**extra: object) -> dict[str, object]:
    person = {"id": "ana", "email": "ana@example.com", "timezone": "Asia/Kathmandu"} | extra
    return {"interviewers": [person]}


def test_config_reads_the_weekly_cap() -> None:
    parsed = parse_config(config(max_interviews_per_week=4, max_interviews_per_day=2))
    assert parsed.interviewers[0].max_interviews_per_week == 4
    assert parsed.interviewers[0].max_interviews_per_day == 2
    assert parse_config(config()).interviewers[0].max_interviews_per_week is None


@pytest.mark.parametrize("value", [-1, 2.5, "3", True])
def test_config_rejects_a_bad_weekly_cap(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config(max_interviews_per_week=value), "team.toml")
    assert caught.value.field == "interviewers[0].max_interviews_per_week"
    assert caught.value.value == value
