"""Named, hand-computed cases around time zones and DST changes of 2027.

Every expected instant below was worked out by hand from the zone rules (offsets
are noted beside each).  Each case runs twice: against the brute-force checker in
``bruteforce.py`` (which checks the checker) and against ``find_options``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.model import (
    Interval,
    Interviewer,
    Loop,
    Option,
    SessionSpec,
    Settings,
    WorkingHours,
)

from . import bruteforce

ALL_DAY = (0, 1440)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def z(day: str, hhmm: str) -> datetime:
    """A UTC instant from '2027-03-17' and '13:00'."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00+00:00")


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def every_day(*ranges: str) -> WorkingHours:
    parsed = tuple((hm(r.split("-")[0]), hm(r.split("-")[1])) for r in ranges)
    return WorkingHours({wd: parsed for wd in range(7)})


def person(
    pid: str, tz: str, hours: WorkingHours | None = None, cap: int | None = None
) -> Interviewer:
    return Interviewer(
        id=pid,
        name=pid.title(),
        email=f"{pid}@example.com",
        timezone=tz,
        working_hours=hours or every_day("09:00-17:00"),
        max_interviews_per_day=cap,
    )


def panel(
    *pool: str,
    minutes: int = 60,
    granularity: int = 60,
    notice: float = 0,
    before: int = 0,
    after: int = 0,
) -> Loop:
    return Loop(
        id="panel",
        name="Panel",
        sessions=(SessionSpec("Panel", minutes, tuple(pool), len(pool)),),
        settings=Settings(
            granularity_minutes=granularity,
            min_notice_hours=notice,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
        ),
    )


def hourly(day: str, first: str, last: str, step: int = 60) -> list[datetime]:
    """Starts from ``first`` to ``last`` inclusive (UTC) every ``step`` minutes."""
    t, end, out = z(day, first), z(day, last), []
    while t <= end:
        out.append(t)
        t += timedelta(minutes=step)
    return out


Starts = Callable[..., list[datetime]]


def _engine_options(loop: Loop, people: Sequence[Interviewer], busy, **request) -> list[Option]:
    from scheduler.engine import find_options

    request.setdefault("now", NOW)
    request.setdefault("candidate_hours", ALL_DAY)
    request.setdefault("candidate_tz", "UTC")
    return find_options(loop, {p.id: p for p in people}, busy, limit=0, **request)


def _engine_starts(
    loop: Loop, people: Sequence[Interviewer], busy: Mapping[str, Sequence[Interval]], **request
) -> list[datetime]:
    options = _engine_options(loop, people, busy, **request)
    starts = [o.sessions[0].start for o in options]
    assert len(starts) == len(set(starts)), "the engine returned a start twice"
    return sorted(starts)


def _brute_starts(
    loop: Loop, people: Sequence[Interviewer], busy: Mapping[str, Sequence[Interval]], **request
) -> list[datetime]:
    request.setdefault("now", NOW)
    request.setdefault("candidate_hours", ALL_DAY)
    request.setdefault("candidate_tz", "UTC")
    return sorted(
        bruteforce.valid_starts_single_all_of(loop, {p.id: p for p in people}, busy, **request)
    )


@pytest.fixture(params=["bruteforce", "engine"])
def starts(request: pytest.FixtureRequest) -> Starts:
    """Every valid start of a one-session all-of loop, by the checker or by the engine."""
    return _brute_starts if request.param == "bruteforce" else _engine_starts


def one_day(day: str) -> dict[str, date]:
    d = date.fromisoformat(day)
    return {"date_from": d, "date_to": d}


# --- Europe/London: wall clock stays local ---------------------------------------------


def test_london_working_hours_stay_local_across_eu_spring_change_2027(starts: Starts) -> None:
    # EU change: Sun 2027-03-28 01:00Z, GMT (+0) -> BST (+1). 09:00-17:00 London is
    # 09:00-17:00Z on Saturday and 08:00-16:00Z from Sunday on.
    london = person("lon", "Europe/London")
    got = starts(
        panel("lon", granularity=30),
        [london],
        {},
        candidate_tz="Europe/London",
        date_from=date(2027, 3, 27),
        date_to=date(2027, 3, 29),
    )
    assert got == (
        hourly("2027-03-27", "09:00", "16:00", 30)
        + hourly("2027-03-28", "08:00", "15:00", 30)
        + hourly("2027-03-29", "08:00", "15:00", 30)
    )


def test_london_working_hours_stay_local_across_eu_autumn_change_2027(starts: Starts) -> None:
    # EU change: Sun 2027-10-31 01:00Z, BST (+1) -> GMT (+0).
    london = person("lon", "Europe/London")
    got = starts(
        panel("lon"),
        [london],
        {},
        candidate_tz="Europe/London",
        date_from=date(2027, 10, 30),
        date_to=date(2027, 10, 31),
    )
    assert got == hourly("2027-10-30", "08:00", "15:00") + hourly("2027-10-31", "09:00", "16:00")


# --- London / New York: 5 hours, then 4, then 5 again --------------------------------------

LON_NYC = [person("lon", "Europe/London"), person("nyc", "America/New_York")]


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        # Wed before the US change: GMT 09-17Z, EST (-5) 14-22Z -> overlap 14-17Z.
        ("2027-03-10", "14:00", "16:00"),
        # Wed between US (Mar 14) and EU (Mar 28) changes: GMT 09-17Z, EDT (-4) 13-21Z.
        ("2027-03-17", "13:00", "16:00"),
        ("2027-03-24", "13:00", "16:00"),
        # Wed after both: BST 08-16Z, EDT 13-21Z -> overlap 13-16Z.
        ("2027-03-31", "13:00", "15:00"),
    ],
)
def test_london_new_york_gap_is_4_hours_between_us_and_eu_changes_march_2027(
    starts: Starts, day: str, first: str, last: str
) -> None:
    got = starts(panel("lon", "nyc"), LON_NYC, {}, **one_day(day))
    assert got == hourly(day, first, last)


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        # Wed before the EU change (Oct 31): BST 08-16Z, EDT 13-21Z.
        ("2027-10-27", "13:00", "15:00"),
        # Wed between EU (Oct 31) and US (Nov 7) changes: GMT 09-17Z, EDT 13-21Z.
        ("2027-11-03", "13:00", "16:00"),
        # Wed after both: GMT 09-17Z, EST 14-22Z.
        ("2027-11-10", "14:00", "16:00"),
    ],
)
def test_london_new_york_gap_is_4_hours_between_eu_and_us_changes_autumn_2027(
    starts: Starts, day: str, first: str, last: str
) -> None:
    got = starts(panel("lon", "nyc"), LON_NYC, {}, **one_day(day))
    assert got == hourly(day, first, last)


def test_candidate_hours_follow_new_york_across_us_spring_change(starts: Starts) -> None:
    # Candidate 08:00-20:00 New York. Sat Mar 13 (EST -5): 13:00Z-01:00Z;
    # Sun Mar 14 (EDT -4): 12:00Z-00:00Z. The interviewer works around the clock in UTC.
    anyone = person("utc", "UTC", every_day("00:00-24:00"))
    got = starts(
        panel("utc"),
        [anyone],
        {},
        candidate_tz="America/New_York",
        candidate_hours=(480, 1200),
        date_from=date(2027, 3, 13),
        date_to=date(2027, 3, 14),
    )
    saturday = hourly("2027-03-13", "13:00", "23:00") + [z("2027-03-14", "00:00")]
    assert got == saturday + hourly("2027-03-14", "12:00", "23:00")


def test_new_york_working_range_starting_in_the_spring_gap(starts: Starts) -> None:
    # Sun 2027-03-14 New York skips 02:00-03:00. "02:30" takes the offset before the gap
    # (EST -5): 07:30Z, which is 03:30 EDT. "05:00" EDT is 09:00Z.
    early = person("nyc", "America/New_York", every_day("02:30-05:00"))
    got = starts(panel("nyc", minutes=30, granularity=30), [early], {}, **one_day("2027-03-14"))
    assert got == hourly("2027-03-14", "07:30", "08:30", 30)


# --- Sydney and Lord Howe ----------------------------------------------------------------------


def test_sydney_april_2027_fall_back(starts: Starts) -> None:
    # Sydney leaves AEDT (+11) for AEST (+10) on Sun 2027-04-04 at 03:00 local.
    # Sat Apr 3 09:00-17:00 = Apr 2 22:00Z - Apr 3 06:00Z; Sun Apr 4 = Apr 3 23:00Z - 07:00Z.
    sydney = person("syd", "Australia/Sydney")
    got = starts(
        panel("syd"),
        [sydney],
        {},
        candidate_tz="Australia/Sydney",
        date_from=date(2027, 4, 3),
        date_to=date(2027, 4, 4),
    )
    assert got == (
        hourly("2027-04-02", "22:00", "23:00")
        + hourly("2027-04-03", "00:00", "05:00")
        + hourly("2027-04-03", "23:00", "23:00")
        + hourly("2027-04-04", "00:00", "06:00")
    )


def test_sydney_repeated_hour_on_april_2027_fall_back_counts_twice(starts: Starts) -> None:
    # On Sun Apr 4 the wall clock shows 02:00-03:00 twice. "02:00" is its first
    # occurrence (AEDT +11, Apr 3 15:00Z), "03:00" exists once (AEST +10, 17:00Z):
    # the range "02:00-03:00" is two real hours.
    night = WorkingHours({6: ((120, 180),)})  # Sundays only
    sydney = person("syd", "Australia/Sydney", night)
    got = starts(
        panel("syd"),
        [sydney],
        {},
        candidate_tz="Australia/Sydney",
        date_from=date(2027, 4, 4),
        date_to=date(2027, 4, 4),
    )
    assert got == [z("2027-04-03", "15:00"), z("2027-04-03", "16:00")]


def test_lord_howe_half_hour_dst_october_2027(starts: Starts) -> None:
    # Lord Howe moves from +10:30 to +11:00 on Sun 2027-10-03 at 02:00 local.
    # Sat Oct 2 09:00-17:00 = Oct 1 22:30Z - Oct 2 06:30Z; Sun Oct 3 = Oct 2 22:00Z - 06:00Z.
    howe = person("lhi", "Australia/Lord_Howe")
    got = starts(
        panel("lhi", granularity=30),
        [howe],
        {},
        candidate_tz="Australia/Lord_Howe",
        date_from=date(2027, 10, 2),
        date_to=date(2027, 10, 3),
    )
    assert got == (
        hourly("2027-10-01", "22:30", "23:30", 30)
        + hourly("2027-10-02", "00:00", "05:30", 30)
        + hourly("2027-10-02", "22:00", "23:30", 30)
        + hourly("2027-10-03", "00:00", "05:00", 30)
    )


def test_lord_howe_hourly_grid_skips_the_half_hour_start(starts: Starts) -> None:
    # Same Saturday on a 60-minute UTC grid: 22:30Z is off the grid, so the first start
    # is 23:00Z (09:30 local) and the last 05:00Z (15:30-16:30 local).
    howe = person("lhi", "Australia/Lord_Howe")
    got = starts(
        panel("lhi"), [howe], {}, candidate_tz="Australia/Lord_Howe", **one_day("2027-10-02")
    )
    assert got == hourly("2027-10-01", "23:00", "23:00") + hourly("2027-10-02", "00:00", "05:00")


def test_lord_howe_range_starting_in_the_half_hour_gap(starts: Starts) -> None:
    # Sun 2027-10-03 Lord Howe skips 02:00-02:30. "02:00" takes +10:30: Oct 2 15:30Z;
    # "04:00" is +11:00: 17:00Z. A 30-minute session fits at 15:30, 16:00 and 16:30Z.
    night = WorkingHours({6: ((120, 240),)})
    howe = person("lhi", "Australia/Lord_Howe", night)
    got = starts(
        panel("lhi", minutes=30, granularity=30),
        [howe],
        {},
        candidate_tz="Australia/Lord_Howe",
        **one_day("2027-10-03"),
    )
    assert got == hourly("2027-10-02", "15:30", "16:30", 30)


# --- half-hour and 45-minute offsets -----------------------------------------------------------


def test_kathmandu_545_offset(starts: Starts) -> None:
    # Kathmandu is +05:45 all year: 09:00-17:00 = 03:15Z-11:15Z.
    ktm = person("ktm", "Asia/Kathmandu")
    got15 = starts(panel("ktm", granularity=15), [ktm], {}, **one_day("2027-03-10"))
    assert got15 == hourly("2027-03-10", "03:15", "10:15", 15)
    # On a 30-minute UTC grid the first start is 03:30Z and the last 10:00Z.
    got30 = starts(panel("ktm", granularity=30), [ktm], {}, **one_day("2027-03-10"))
    assert got30 == hourly("2027-03-10", "03:30", "10:00", 30)


def test_chatham_1245_offset(starts: Starts) -> None:
    # Chatham: +13:45 (CHADT) until Sun 2027-04-04 03:45 local, then +12:45.
    # Fri Apr 2 09:00-17:00 = Apr 1 19:15Z - Apr 2 03:15Z;
    # Mon Apr 5 09:00-17:00 = Apr 4 20:15Z - Apr 5 04:15Z.
    cha = person("cha", "Pacific/Chatham")
    fri = starts(
        panel("cha", granularity=15),
        [cha],
        {},
        candidate_tz="Pacific/Chatham",
        **one_day("2027-04-02"),
    )
    assert fri[0] == z("2027-04-01", "19:15")
    assert fri[-1] == z("2027-04-02", "02:15")
    assert len(fri) == 29  # 7 hours of starts, every 15 minutes
    mon = starts(
        panel("cha", granularity=15),
        [cha],
        {},
        candidate_tz="Pacific/Chatham",
        **one_day("2027-04-05"),
    )
    assert mon[0] == z("2027-04-04", "20:15")
    assert mon[-1] == z("2027-04-05", "03:15")
    assert len(mon) == 29


def test_chatham_spring_gap_at_0245_september_2027(starts: Starts) -> None:
    # Chatham skips 02:45-03:45 on Sun 2027-09-26. "02:45" takes +12:45 (Sep 25 14:00Z);
    # "04:00" is +13:45 (Sep 25 14:15Z): the range "02:45-04:00" is 15 real minutes.
    night = WorkingHours({6: ((165, 240),)})
    cha = person("cha", "Pacific/Chatham", night)
    got = starts(
        panel("cha", minutes=15, granularity=15),
        [cha],
        {},
        candidate_tz="Pacific/Chatham",
        **one_day("2027-09-26"),
    )
    assert got == [z("2027-09-25", "14:00")]


def test_window_dates_are_candidate_local_in_chatham(starts: Starts) -> None:
    # Candidate in Chatham (+13:45 in March), all day on Wed 2027-03-10:
    # Mar 9 10:15Z - Mar 10 10:15Z. A round-the-clock UTC interviewer, 60-minute
    # sessions on a 15-minute grid: starts 10:15Z Mar 9 .. 09:15Z Mar 10 (93), less the
    # three that would straddle UTC midnight, across two of the interviewer's ranges.
    anyone = person("utc", "UTC", every_day("00:00-24:00"))
    got = starts(
        panel("utc", granularity=15),
        [anyone],
        {},
        candidate_tz="Pacific/Chatham",
        **one_day("2027-03-10"),
    )
    assert got[0] == z("2027-03-09", "10:15")
    assert got[-1] == z("2027-03-10", "09:15")
    assert len(got) == 90
    assert z("2027-03-09", "23:15") not in got
    assert z("2027-03-09", "23:00") in got


def test_st_johns_half_hour(starts: Starts) -> None:
    # St John's: NST -03:30 until Sun 2027-03-14, then NDT -02:30.
    # Wed Mar 10: 09:00-17:00 = 12:30Z-20:30Z; Wed Mar 17: 11:30Z-19:30Z.
    nfl = person("nfl", "America/St_Johns")
    before = starts(panel("nfl"), [nfl], {}, **one_day("2027-03-10"))
    assert before == hourly("2027-03-10", "13:00", "19:00")
    after = starts(panel("nfl"), [nfl], {}, **one_day("2027-03-17"))
    assert after == hourly("2027-03-17", "12:00", "18:00")


def test_kolkata(starts: Starts) -> None:
    # Kolkata +05:30: 09:00-17:00 = 03:30Z-11:30Z. With London on GMT (09-17Z) the
    # overlap is 09:00-11:30Z; after the EU change (BST, 08-16Z) it is 08:00-11:30Z.
    people = [person("kol", "Asia/Kolkata"), person("lon", "Europe/London")]
    loop = panel("kol", "lon", granularity=30)
    march = starts(loop, people, {}, **one_day("2027-03-24"))
    assert march == hourly("2027-03-24", "09:00", "10:30", 30)
    april = starts(loop, people, {}, **one_day("2027-03-31"))
    assert april == hourly("2027-03-31", "08:00", "10:30", 30)


# --- the other rules, on hand-computed cases --------------------------------------------------


def test_buffers_pad_busy_time_not_working_hours(starts: Starts) -> None:
    # UTC person, 09:00-17:00, busy 12:00-13:00; 30-minute sessions, 30-minute grid,
    # 15 minutes before and 10 after: a session needs [start-15, end+10) free.
    # 11:30 would need until 12:10 -> no; 13:00 needs from 12:45 -> no; 13:30 ok.
    # At the edges the buffers do not matter: 09:00 and 16:30 are fine.
    utc = person("u", "UTC")
    busy = {"u": [Interval(z("2027-03-10", "12:00"), z("2027-03-10", "13:00"))]}
    got = starts(
        panel("u", minutes=30, granularity=30, before=15, after=10),
        [utc],
        busy,
        **one_day("2027-03-10"),
    )
    assert got == hourly("2027-03-10", "09:00", "11:00", 30) + hourly(
        "2027-03-10", "13:30", "16:30", 30
    )


def test_notice_counts_from_now_not_from_the_grid(starts: Starts) -> None:
    # now 07:07Z, notice 2.5 h -> earliest 09:37Z; on a 15-minute grid the first is 09:45Z.
    utc = person("u", "UTC")
    got = starts(
        panel("u", granularity=15, notice=2.5),
        [utc],
        {},
        now=z("2027-03-10", "07:07"),
        **one_day("2027-03-10"),
    )
    assert got[0] == z("2027-03-10", "09:45")
    assert got[-1] == z("2027-03-10", "16:00")


def test_daily_cap_counts_the_interviewers_local_date(starts: Starts) -> None:
    # Sydney (AEDT +11 in March) with max 1 a day, already booked on Tue Mar 16 local
    # (Mar 15 22:00Z = 09:00 local). Tuesday is full; Wednesday Mar 17 local is free.
    syd = person("syd", "Australia/Sydney", cap=1)
    booked = {"syd": [Interval(z("2027-03-15", "22:00"), z("2027-03-15", "23:00"))]}
    got = starts(
        panel("syd"),
        [syd],
        {},
        booked=booked,
        candidate_tz="Australia/Sydney",
        date_from=date(2027, 3, 16),
        date_to=date(2027, 3, 17),
    )
    # Wednesday 09:00-17:00 AEDT = Mar 16 22:00Z - Mar 17 06:00Z.
    assert got == hourly("2027-03-16", "22:00", "23:00") + hourly("2027-03-17", "00:00", "05:00")


def test_session_must_fit_one_range_not_two_touching_ones(starts: Starts) -> None:
    # "09:00-12:00" and "12:00-17:00" are two ranges: a session may not straddle 12:00.
    split = person("u", "UTC", every_day("09:00-12:00", "12:00-14:00"))
    got = starts(panel("u", granularity=30), [split], {}, **one_day("2027-03-10"))
    assert got == hourly("2027-03-10", "09:00", "11:00", 30) + hourly(
        "2027-03-10", "12:00", "13:00", 30
    )


def test_session_may_not_straddle_midnight_between_two_days_ranges(starts: Starts) -> None:
    # "20:00-24:00" on one day and "00:00-02:00" on the next are two ranges: no
    # session across midnight. The candidate (New York, all day, EST -5 on Mar 10)
    # sees Mar 10 05:00Z - Mar 11 05:00Z.
    night = person("u", "UTC", every_day("00:00-02:00", "20:00-24:00"))
    got = starts(
        panel("u", granularity=30),
        [night],
        {},
        candidate_tz="America/New_York",
        **one_day("2027-03-10"),
    )
    assert got == hourly("2027-03-10", "20:00", "23:00", 30) + hourly(
        "2027-03-11", "00:00", "01:00", 30
    )


def test_range_ending_at_24_00_ends_at_the_next_local_midnight(starts: Starts) -> None:
    # New York (EDT -4 in June) "20:00-24:00" on Wednesdays only = Thu 00:00Z - 04:00Z.
    late = person("nyc", "America/New_York", WorkingHours({2: ((1200, 1440),)}))
    got = starts(panel("nyc"), [late], {}, **one_day("2027-06-10"))
    assert got == hourly("2027-06-10", "00:00", "03:00")


# --- a multi-session loop, exact first options ------------------------------------------------


def test_fixed_two_session_loop_first_option_in_kathmandu_and_london() -> None:
    # Session A (60 min, Kathmandu) then B (45 min, London), gap 0-15, 15-minute grid.
    # Kathmandu 09:00-17:00 = 03:15Z-11:15Z; London (GMT) 09:00-17:00Z.
    # B starts 0 or 15 minutes after A ends, at 09:00Z or later; A ends by 11:15Z.
    # A at 07:45Z allows only B at 09:00Z (gap 15); A at 08:00Z .. 10:15Z (10 starts)
    # allows both gaps: 1 + 10 * 2 = 21 options, the earliest A 07:45-08:45Z, B 09:00-09:45Z.
    from scheduler.engine import find_options

    people = {p.id: p for p in [person("ktm", "Asia/Kathmandu"), person("lon", "Europe/London")]}
    loop = Loop(
        id="two",
        name="Two",
        sessions=(SessionSpec("A", 60, ("ktm",), 1), SessionSpec("B", 45, ("lon",), 1)),
        order="fixed",
        min_gap_minutes=0,
        max_gap_minutes=15,
        settings=Settings(granularity_minutes=15, min_notice_hours=0, buffer_after_minutes=0),
    )
    request = {
        "candidate_tz": "UTC",
        "candidate_hours": ALL_DAY,
        "date_from": date(2027, 3, 10),
        "date_to": date(2027, 3, 10),
        "now": NOW,
    }
    brute = list(bruteforce.iter_options(loop, people, {}, **request))
    brute_firsts = sorted({slots[0].start for slots in brute})
    assert brute_firsts[0] == z("2027-03-10", "07:45")
    assert brute_firsts[-1] == z("2027-03-10", "10:15")
    assert len(brute) == 21
    assert min(brute, key=lambda s: s[0].start)[1].start == z("2027-03-10", "09:00")
    options = find_options(loop, people, {}, limit=0, **request)
    assert sorted((o.sessions[0].start, o.sessions[1].start) for o in options) == sorted(
        (s[0].start, s[1].start) for s in brute
    )
    for option in options:
        assert bruteforce.option_problems(option, loop, people, {}, **request) == []


def test_any_order_two_session_loop_adds_the_reversed_options() -> None:
    # The loop above with order="any": besides its 21 A-first options, B (London) may
    # come first. B at b >= 09:00Z ends b+45; A starts 0-15 min later and ends by 11:15Z,
    # so A starts by 10:15Z: b=09:00 -> A 09:45 or 10:00; b=09:15 -> A 10:00 or 10:15;
    # b=09:30 -> A 10:15. 21 + 5 = 26 options.
    from scheduler.engine import find_options

    people = {p.id: p for p in [person("ktm", "Asia/Kathmandu"), person("lon", "Europe/London")]}
    loop = Loop(
        id="two",
        name="Two",
        sessions=(SessionSpec("A", 60, ("ktm",), 1), SessionSpec("B", 45, ("lon",), 1)),
        order="any",
        min_gap_minutes=0,
        max_gap_minutes=15,
        settings=Settings(granularity_minutes=15, min_notice_hours=0, buffer_after_minutes=0),
    )
    request = {
        "candidate_tz": "UTC",
        "candidate_hours": ALL_DAY,
        "date_from": date(2027, 3, 10),
        "date_to": date(2027, 3, 10),
        "now": NOW,
    }
    b_first = {
        (z("2027-03-10", b), z("2027-03-10", a))
        for b, a in [
            ("09:00", "09:45"),
            ("09:00", "10:00"),
            ("09:15", "10:00"),
            ("09:15", "10:15"),
            ("09:30", "10:15"),
        ]
    }
    brute = list(bruteforce.iter_options(loop, people, {}, **request))
    assert len(brute) == 26
    assert {(s[0].start, s[1].start) for s in brute if s[0].name == "B"} == b_first
    options = find_options(loop, people, {}, limit=0, **request)
    assert len(options) == 26
    assert {
        (o.sessions[0].start, o.sessions[1].start) for o in options if o.sessions[0].name == "B"
    } == b_first
    for option in options:
        assert bruteforce.option_problems(option, loop, people, {}, **request) == []


def test_limit_20_returns_20_options_when_33_are_valid() -> None:
    # Two 30-minute sessions (a, then b), gap 0-30, 30-minute grid, both working
    # 00:00-17:00 UTC, candidate 08:00-20:00 UTC on one day. S0 may start 08:00..16:00
    # (17 starts); S1 follows 0 or 30 minutes later while b works: 16 * 2 + 1 = 33
    # options. --limit 20 must list 20 of them, not one per first start.
    from scheduler.engine import find_options

    hours = every_day("00:00-17:00")
    people = {p.id: p for p in [person("a", "UTC", hours), person("b", "UTC", hours)]}
    loop = Loop(
        id="two",
        name="Two",
        sessions=(SessionSpec("S0", 30, ("a",), 1), SessionSpec("S1", 30, ("b",), 1)),
        min_gap_minutes=0,
        max_gap_minutes=30,
        settings=Settings(granularity_minutes=30, min_notice_hours=0, buffer_after_minutes=0),
    )
    request = {
        "candidate_tz": "UTC",
        "candidate_hours": (480, 1200),
        "date_from": date(2027, 3, 10),
        "date_to": date(2027, 3, 10),
        "now": NOW,
    }
    assert len(list(bruteforce.iter_options(loop, people, {}, **request))) == 33
    assert len(find_options(loop, people, {}, limit=0, **request)) == 33
    assert len(find_options(loop, people, {}, limit=20, **request)) == 20
