"""Multi-day loops (issue 14): the config contract and named cases across zones and DST."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler import model
from scheduler.config import parse_config
from scheduler.engine import check_option, find_options
from scheduler.errors import ConfigError
from scheduler.model import Interviewer, Loop, SessionSpec, Settings, WorkingHours

from . import bruteforce_multiday
from .test_config import BASE


def day_two(name: str, minutes: int, person: str) -> str:
    """A ``[[loops.sessions]]`` table on day 2 (appended to a config's last loop)."""
    return (
        f'\n[[loops.sessions]]\nname = "{name}"\nduration_minutes = {minutes}\n'
        f'interviewers = ["{person}"]\nday = 2\n'
    )


TWO_DAYS = BASE + day_two("Coding", 45, "alice")


def parse(text: str):
    return parse_config(tomllib.loads(text), "team.toml")


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


def test_day_keys_form_blocks_with_the_loop_defaults() -> None:
    loop = parse(TWO_DAYS).loops[0]
    assert [s.day for s in loop.sessions] == [1, 2]
    assert [[s.name for s in b] for b in loop.blocks()] == [["System design"], ["Coding"]]
    assert (loop.min_days_between, loop.max_days_between, loop.skip_weekends) == (1, 3, True)


def test_loop_day_rules_are_read() -> None:
    text = TWO_DAYS.replace(
        'id = "onsite"',
        'id = "onsite"\nmin_days_between = 2\nmax_days_between = 5\nskip_weekends = false',
    )
    loop = parse(text).loops[0]
    assert (loop.min_days_between, loop.max_days_between, loop.skip_weekends) == (2, 5, False)


@pytest.mark.parametrize(
    ("old", "new", "field", "value"),
    [
        ("day = 2", "day = 3", "loops[0].sessions[1].day", 3),
        ("day = 2", "day = 0", "loops[0].sessions[1].day", 0),
        ("day = 2", 'day = "2"', "loops[0].sessions[1].day", "2"),
        (
            'id = "onsite"',
            'id = "onsite"\nmin_days_between = 4\nmax_days_between = 2',
            "loops[0].max_days_between",
            2,
        ),
        ('id = "onsite"', 'id = "onsite"\nmin_days_between = 0', "loops[0].min_days_between", 0),
        ('id = "onsite"', 'id = "onsite"\nskip_weekends = "yes"', "loops[0].skip_weekends", "yes"),
    ],
)
def test_bad_day_rules_name_file_field_and_value(
    old: str, new: str, field: str, value: object
) -> None:
    err = error(TWO_DAYS.replace(old, new))
    assert (err.source, err.field, err.value) == ("team.toml", field, value)


def everyday(tz: str, person: str, hours: tuple[int, int] = (0, 1440)) -> Interviewer:
    week = WorkingHours({d: (hours,) for d in range(7)})
    return Interviewer(person, person, f"{person}@example.com", tz, week)


def two_day_loop(pool: tuple[str, ...], skip: bool = True, low: int = 1, high: int = 3) -> Loop:
    sessions = (SessionSpec("One", 60, pool, 1, 1), SessionSpec("Two", 60, pool, 1, 2))
    conf = Settings(granularity_minutes=60, min_notice_hours=0, buffer_after_minutes=0)
    return Loop(
        "md",
        "MD",
        sessions,
        settings=conf,
        min_days_between=low,
        max_days_between=high,
        skip_weekends=skip,
    )


def search(
    loop: Loop, people: list[Interviewer], tz: str, first: date, last: date, hours=(540, 600)
):
    request = {
        "candidate_tz": tz,
        "date_from": first,
        "date_to": last,
        "now": datetime(2027, 1, 1, tzinfo=UTC),
        "candidate_hours": hours,
        "booked": {},
    }
    found = find_options(loop, {p.id: p for p in people}, {}, limit=0, **request)
    for option in found:
        assert (
            bruteforce_multiday.option_problems(
                option, loop, {p.id: p for p in people}, {}, **request
            )
            == []
        )
        assert check_option(option, loop, {p.id: p for p in people}, {}, now=request["now"]) == []
    return found


def local(option_start: datetime, tz: str) -> datetime:
    return option_start.astimezone(ZoneInfo(tz))


def test_two_day_loop_across_the_us_spring_change_keeps_the_candidates_9am() -> None:
    # New York springs forward on Sunday 14 March 2027: Friday 12th 09:00 is 14:00Z,
    # Monday 15th 09:00 is 13:00Z. Weekends skipped: Friday -> Monday is one day.
    tz = "America/New_York"
    people = [everyday("Europe/London", "ann")]
    found = search(two_day_loop(("ann",)), people, tz, date(2027, 3, 12), date(2027, 3, 15))
    pairs = {(o.sessions[0].start, o.sessions[1].start) for o in found}
    assert pairs == {(datetime(2027, 3, 12, 14, tzinfo=UTC), datetime(2027, 3, 15, 13, tzinfo=UTC))}
    option = found[0]
    assert [local(s.start, tz).hour for s in option.sessions] == [9, 9]


def test_dst_case_without_skipping_weekends_uses_the_change_day() -> None:
    tz = "America/New_York"
    loop = two_day_loop(("ann",), skip=False, low=1, high=1)
    found = search(
        loop, [everyday("Europe/London", "ann")], tz, date(2027, 3, 13), date(2027, 3, 14)
    )
    assert [(o.sessions[0].start, o.sessions[1].start) for o in found] == [
        (datetime(2027, 3, 13, 14, tzinfo=UTC), datetime(2027, 3, 14, 13, tzinfo=UTC))
    ]


def test_candidates_friday_is_the_interviewers_saturday_auckland_los_angeles() -> None:
    # Auckland (candidate, NZDT +13) Friday 8 Jan 2027 09:00 is Thursday 7th 12:00 in Los
    # Angeles; Auckland Monday 11th 09:00 is Sunday 10th 12:00 in Los Angeles. The weekend
    # rule follows the candidate's zone: Friday -> Monday is one day; a Los Angeles
    # interviewer who works only weekdays cannot take the Monday block (their Sunday).
    tz = "Pacific/Auckland"
    weekdays = WorkingHours({d: ((0, 1440),) for d in range(5)})
    lee = Interviewer("lee", "lee", "lee@example.com", "America/Los_Angeles", weekdays)
    sam = everyday("America/Los_Angeles", "sam")
    loop = Loop(
        "md",
        "MD",
        (SessionSpec("One", 60, ("lee",), 1, 1), SessionSpec("Two", 60, ("lee", "sam"), 1, 2)),
        settings=Settings(granularity_minutes=60, min_notice_hours=0, buffer_after_minutes=0),
        max_days_between=1,
    )
    found = search(loop, [lee, sam], tz, date(2027, 1, 8), date(2027, 1, 11))
    assert found
    for option in found:
        one, two = option.sessions
        assert local(one.start, tz).date() == date(2027, 1, 8)
        assert local(two.start, tz).date() == date(2027, 1, 11)
        assert two.interviewers == ("sam",)  # lee's Sunday
    assert {local(o.sessions[1].start, "America/Los_Angeles").weekday() for o in found} == {6}


def test_one_interviewer_never_twice_on_their_own_local_day() -> None:
    # Candidate in Auckland, 19:00 and next-day 08:00 blocks: for a London interviewer
    # both fall on one London date, so only a pool with two people can hold the loop.
    tz = "Pacific/Auckland"
    ann = everyday("Europe/London", "ann")
    loop = two_day_loop(("ann",), skip=False, low=1, high=1)
    found = search(loop, [ann], tz, date(2027, 1, 5), date(2027, 1, 6), hours=(0, 1440))
    for option in found:
        one, two = option.sessions
        assert local(one.start, "Europe/London").date() != local(two.start, "Europe/London").date()
    assert found


def test_diversity_day_is_the_first_blocks_date() -> None:
    tz = "Europe/London"
    people = [everyday(tz, "ann"), everyday(tz, "bob")]
    loop = two_day_loop(("ann", "bob"), skip=False)
    found = find_options(
        loop,
        {p.id: p for p in people},
        {},
        candidate_tz=tz,
        date_from=date(2027, 1, 4),
        date_to=date(2027, 1, 9),
        now=datetime(2027, 1, 1, tzinfo=UTC),
        candidate_hours=(540, 720),
        limit=5,
    )
    assert len(found) == 5
    firsts = {o.sessions[0].start.date() for o in found}
    assert len(firsts) == 5  # every first-block day gets a turn
    assert all(o.sessions[1].start - o.sessions[0].start >= timedelta(hours=12) for o in found)


@pytest.mark.parametrize(("cap", "expected"), [(1, False), (2, True)])
def test_the_weekly_cap_counts_every_block(cap: int, expected: bool) -> None:
    tz = "Europe/London"
    ann = dataclasses.replace(everyday(tz, "ann"), max_interviews_per_week=cap)
    loop = two_day_loop(("ann",), skip=False, high=1)
    found = search(loop, [ann], tz, date(2027, 1, 4), date(2027, 1, 5))
    assert bool(found) == expected


def test_check_option_flags_a_second_block_on_the_same_local_day() -> None:
    tz = "Pacific/Auckland"
    ann = everyday("Europe/London", "ann")
    loop = two_day_loop(("ann",), skip=False, low=1, high=1)
    # Auckland 19:00 on the 5th and 08:00 on the 6th: both on London's 5th (06:00, 19:00)
    one = model.SessionSlot(
        "One", datetime(2027, 1, 5, 6, tzinfo=UTC), datetime(2027, 1, 5, 7, tzinfo=UTC), ("ann",)
    )
    two = model.SessionSlot(
        "Two", datetime(2027, 1, 5, 19, tzinfo=UTC), datetime(2027, 1, 5, 20, tzinfo=UTC), ("ann",)
    )
    option = model.Option(1.0, (one, two))
    now = datetime(2027, 1, 1, tzinfo=UTC)
    assert check_option(option, loop, {"ann": ann}, {}, now=now)
    request = {
        "candidate_tz": tz,
        "date_from": date(2027, 1, 5),
        "date_to": date(2027, 1, 6),
        "now": now,
        "candidate_hours": (0, 1440),
    }
    assert bruteforce_multiday.option_problems(option, loop, {"ann": ann}, {}, **request)
