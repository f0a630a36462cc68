"""Property tests: ``find_options`` against the brute-force checker in ``bruteforce.py``.

Random interviewers in zones with DST changes and :30/:45 offsets, random working
hours (edges inside DST gaps and repeated hours included), random busy and booked
time, random windows around the 2027 DST changes, random grids, buffers, notice,
candidate zone and hours.

Properties: (a) one-session all-of loops give exactly the brute-force starts;
(b) multi-session options are all valid, exist iff the brute force finds one, and
``limit=0`` lists every valid option; (c) sorted by score, scores in [0, 1];
(d) a limit of at least the number of days with an option shows every such day;
(e) no option twice; a limit of N gives N options when N exist; (f) the engine's
``check_option`` agrees with the brute-force validator.  ``PANELSLOT_PROPERTY_SCALE=10``
runs ten times as many examples.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.engine import check_option, find_options
from scheduler.model import (
    Interval,
    Interviewer,
    Loop,
    Option,
    SessionSlot,
    SessionSpec,
    Settings,
    WorkingHours,
)

from . import bruteforce

ZONES = (
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Africa/Lagos",
)

# 2027 changes: US Mar 14 / Nov 7, EU Mar 28 / Oct 31, Sydney and Lord Howe Apr 4 / Oct 3
# (Chatham changes Apr 4 and Sep 26).
CHANGES = (
    date(2027, 3, 14),
    date(2027, 11, 7),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2027, 4, 4),
    date(2027, 10, 3),
    date(2027, 9, 26),
)

# Wall-clock minutes worth hitting often: midnight, DST gaps and repeated hours
# (01:00-03:45), :30/:45 edges, office hours, "24:00".
SPECIAL_MINUTES = (0, 60, 90, 120, 135, 150, 165, 180, 210, 225, 240, 480, 540, 1020, 1200, 1440)

# PANELSLOT_PROPERTY_SCALE=20 runs twenty times as many examples (a long local hunt).
SCALE = int(os.environ.get("PANELSLOT_PROPERTY_SCALE", "1"))

PROFILE = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


@dataclass
class Case:
    loop: Loop
    interviewers: dict[str, Interviewer]
    busy: dict[str, list[Interval]]
    request: dict[str, Any] = field(default_factory=dict)

    def engine(self, limit: int) -> list[Option]:
        return find_options(self.loop, self.interviewers, self.busy, limit=limit, **self.request)

    def problems(self, option: Option) -> list[str]:
        return bruteforce.option_problems(
            option, self.loop, self.interviewers, self.busy, **self.request
        )

    def day_of(self, option: Option) -> date | None:
        r = self.request
        return bruteforce.option_day(
            option, r["candidate_tz"], r["candidate_hours"], r["date_from"], r["date_to"]
        )


# --- strategies ---------------------------------------------------------------------------

minute_of_day = st.one_of(
    st.sampled_from(SPECIAL_MINUTES), st.integers(0, 288).map(lambda k: k * 5)
)

early_minute = st.one_of(
    st.sampled_from((0, 60, 90, 120, 135, 150, 165, 180, 210, 225, 240, 480, 540)),
    st.integers(0, 108).map(lambda k: k * 5),
)
late_minute = st.one_of(
    st.sampled_from((1020, 1200, 1440)), st.integers(192, 288).map(lambda k: k * 5)
)


@st.composite
def working_hours(draw: st.DrawFn, friendly: bool) -> WorkingHours:
    """Random weekly hours; ``friendly`` ones are long days, so that options exist."""
    ranges: dict[int, tuple[tuple[int, int], ...]] = {}
    template = None
    for weekday in range(7):
        if template is not None and draw(st.booleans()):
            ranges[weekday] = template
            continue
        if friendly:
            pairs = [(draw(early_minute), draw(late_minute))]
            if draw(st.integers(0, 3)) == 0:  # split in two touching ranges
                cut = (pairs[0][0] + pairs[0][1]) // 10 * 5
                pairs = [(pairs[0][0], cut), (cut, pairs[0][1])]
        else:
            count = draw(st.sampled_from((0, 1, 1, 1, 2)))
            points = sorted(
                draw(st.lists(minute_of_day, min_size=2 * count, max_size=2 * count, unique=True))
            )
            pairs = [(points[2 * k], points[2 * k + 1]) for k in range(count)]
            if count == 2 and draw(st.booleans()):
                pairs[1] = (pairs[0][1], pairs[1][1])  # touching ranges stay two ranges
        ranges[weekday] = template = tuple(pairs)
    return WorkingHours(ranges)


def intervals_near(base: datetime, most: int, longest: int = 300) -> st.SearchStrategy:
    one = st.tuples(st.integers(-36 * 60, 5 * 24 * 60), st.integers(1, longest)).map(
        lambda p: Interval(base + timedelta(minutes=p[0]), base + timedelta(minutes=p[0] + p[1]))
    )
    return st.lists(one, max_size=most)


@st.composite
def request_and_people(
    draw: st.DrawFn, people: int, longest_span: int, friendly: bool
) -> tuple[dict[str, Any], dict[str, Interviewer], dict[str, list[Interval]], Settings]:
    """A request and its interviewers; ``friendly`` ones make options likely."""
    change = draw(st.sampled_from(CHANGES))
    date_from = change + timedelta(days=draw(st.integers(-2, 1)))
    date_to = date_from + timedelta(days=draw(st.integers(0, longest_span)))
    candidate_tz = draw(st.sampled_from(ZONES))
    shape = draw(st.sampled_from(("default", "all day", "random")))
    if shape == "default":
        hours = (480, 1200)
    elif shape == "all day":
        hours = (0, 1440)
    else:
        lo = draw(st.integers(0, 94)) * 15
        hours = (lo, draw(st.integers(lo // 15 + 1, 96)) * 15)
    base = bruteforce.local_instant(candidate_tz, date_from, 0)
    if friendly:
        now = base - timedelta(minutes=draw(st.integers(0, 48 * 60)))
        notice = draw(st.integers(0, 48)) / 4
    else:
        now = base + timedelta(minutes=draw(st.integers(-72 * 60, 24 * 60)))
        notice = draw(st.integers(0, 96)) / 4
    conf = Settings(
        granularity_minutes=draw(st.sampled_from((5, 10, 15, 30))),
        min_notice_hours=notice,
        buffer_before_minutes=draw(st.integers(0, 30)),
        buffer_after_minutes=draw(st.integers(0, 30)),
    )
    interviewers: dict[str, Interviewer] = {}
    busy: dict[str, list[Interval]] = {}
    booked: dict[str, list[Interval]] = {}
    for k in range(people):
        pid = f"p{k}"
        cap = draw(st.one_of(st.none(), st.integers(1, 2)))
        interviewers[pid] = Interviewer(
            id=pid,
            name=pid,
            email=f"{pid}@example.com",
            timezone=draw(st.sampled_from(ZONES)),
            working_hours=draw(working_hours(friendly)),
            max_interviews_per_day=cap,
        )
        mine = draw(intervals_near(base, 2 if friendly else 4, 120 if friendly else 300))
        if mine or draw(st.booleans()):  # a free interviewer may be missing from busy
            busy[pid] = mine
        if cap is not None:
            booked[pid] = draw(intervals_near(base, 3, 60))
    request = {
        "candidate_tz": candidate_tz,
        "date_from": date_from,
        "date_to": date_to,
        # now is any aware datetime; sometimes in the candidate's zone rather than UTC
        "now": now.astimezone(ZoneInfo(candidate_tz)) if draw(st.booleans()) else now,
        "candidate_hours": hours,
        "booked": booked,
    }
    return request, interviewers, busy, conf


@st.composite
def single_all_of_cases(draw: st.DrawFn, longest_span: int = 2) -> Case:
    size = draw(st.integers(1, 3))
    friendly = draw(st.booleans())
    request, interviewers, busy, conf = draw(request_and_people(size, longest_span, friendly))
    minutes = draw(st.integers(1, 36)) * 5
    loop = Loop(
        id="solo",
        name="Solo",
        sessions=(SessionSpec("Panel", minutes, tuple(interviewers), size),),
        settings=conf,
    )
    return Case(loop, interviewers, busy, request)


@st.composite
def multi_session_cases(draw: st.DrawFn, longest_span: int = 1) -> Case:
    """Loops of one to four sessions whose pools need not all sit."""
    friendly = draw(st.booleans())
    people = draw(st.integers(2, 5))
    request, interviewers, busy, conf = draw(request_and_people(people, longest_span, friendly))
    ids = list(interviewers)
    gran = conf.granularity_minutes
    specs = []
    count = draw(st.integers(1, 4))  # one session with required < pool, up to four
    for k in range(count):
        pool = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        required = 1 if friendly else draw(st.integers(1, len(pool)))
        if friendly:  # durations on the grid, so that the gaps can land on it
            minutes = gran * draw(st.integers(max(1, 15 // gran), 90 // gran))
        else:
            minutes = draw(st.integers(3, 18)) * 5
        specs.append(SessionSpec(f"S{k}", minutes, tuple(pool), required))
    if friendly:  # a gap range that holds a multiple of the grid
        min_gap = draw(st.sampled_from((0, 0, 5, 10)))
        max_gap = min_gap + draw(st.integers(gran, gran + 20))
    else:
        min_gap = draw(st.integers(0, 20))
        max_gap = min_gap + draw(st.integers(0, 30))
    loop = Loop(
        id="multi",
        name="Multi",
        sessions=tuple(specs),
        order="fixed" if count == 4 else draw(st.sampled_from(("fixed", "any"))),
        min_gap_minutes=min_gap,
        max_gap_minutes=max_gap,
        settings=conf,
    )
    return Case(loop, interviewers, busy, request)


# --- shared assertions ----------------------------------------------------------------------


def option_key(option: Option) -> tuple:
    return tuple((s.name, s.start, s.end, frozenset(s.interviewers)) for s in option.sessions)


def assert_well_formed(case: Case, options: list[Option], limit: int) -> None:
    """(c) sorted by score, scores in [0, 1]; (e) no duplicates; every option valid."""
    if limit:
        assert len(options) <= limit
    scores = [o.score for o in options]
    assert all(0.0 <= s <= 1.0 for s in scores), scores
    assert scores == sorted(scores, reverse=True), scores
    keys = [option_key(o) for o in options]
    assert len(keys) == len(set(keys)), "the same option twice"
    for option in options:
        assert case.problems(option) == [], option


# --- (a) one-session all-of loops: exactly the brute-force starts ------------------------------


@settings(PROFILE, max_examples=150 * SCALE)
@given(single_all_of_cases())
def test_single_all_of_starts_equal_bruteforce(case: Case) -> None:
    expected = bruteforce.valid_starts_single_all_of(
        case.loop, case.interviewers, case.busy, **case.request
    )
    before = copy.deepcopy((case.busy, case.request))
    options = case.engine(limit=0)
    assert (case.busy, case.request) == before, "find_options changed its arguments"
    assert_well_formed(case, options, 0)
    got = [o.sessions[0].start for o in options]
    assert set(got) == expected, (
        f"engine only: {sorted(set(got) - expected)}; brute force only: "
        f"{sorted(expected - set(got))}"
    )


@settings(PROFILE, max_examples=30 * SCALE)
@given(single_all_of_cases(longest_span=8), st.integers(0, 3))
def test_single_all_of_over_windows_up_to_nine_days(case: Case, extra: int) -> None:
    expected = bruteforce.valid_starts_single_all_of(
        case.loop, case.interviewers, case.busy, **case.request
    )
    options = case.engine(limit=0)
    assert_well_formed(case, options, 0)
    assert {o.sessions[0].start for o in options} == expected
    days = {case.day_of(o) for o in options}
    if days:
        limited = case.engine(limit=len(days) + extra)
        assert_well_formed(case, limited, len(days) + extra)
        assert days <= {case.day_of(o) for o in limited}


# --- (b) multi-session loops: every option valid, and options exist iff they exist ----------------


@settings(PROFILE, max_examples=100 * SCALE)
@given(multi_session_cases())
def test_multi_session_options_are_valid_and_exist_iff_bruteforce_finds_one(case: Case) -> None:
    options = case.engine(limit=0)
    assert_well_formed(case, options, 0)
    exists = bruteforce.has_any_option(case.loop, case.interviewers, case.busy, **case.request)
    assert bool(options) == exists


@settings(PROFILE, max_examples=60 * SCALE)
@given(multi_session_cases(longest_span=0), st.integers(1, 30))
def test_multi_session_limit_zero_returns_every_valid_option(case: Case, limit: int) -> None:
    # The issue: "--limit 0 returns every valid option". (The brute-force options are
    # not re-checked here: they equal the engine's, and those are checked one by one.)
    expected = {
        tuple((s.name, s.start, s.end, frozenset(s.interviewers)) for s in slots)
        for slots in bruteforce.iter_options(
            case.loop, case.interviewers, case.busy, recheck=False, **case.request
        )
    }
    options = case.engine(limit=0)
    got = {option_key(o) for o in options}
    assert got == expected, (
        f"{len(got - expected)} engine only, e.g. {sorted(got - expected)[:2]}; "
        f"{len(expected - got)} brute force only, e.g. {sorted(expected - got)[:2]}"
    )
    assert_well_formed(case, options, 0)
    # A limit takes some of them, and is repeatable.
    limited = case.engine(limit=limit)
    assert {option_key(o) for o in limited} <= expected
    assert [option_key(o) for o in case.engine(limit=limit)] == [option_key(o) for o in limited]


@settings(PROFILE, max_examples=60 * SCALE)
@given(multi_session_cases(longest_span=0), st.integers(1, 30))
def test_limit_n_returns_n_options_when_at_least_n_exist(case: Case, limit: int) -> None:
    # --limit N lists the best N options; fewer only when fewer are valid.
    total = len(case.engine(limit=0))
    assert len(case.engine(limit=limit)) == min(limit, total)


# --- (c), (d), (e) with a limit -----------------------------------------------------------------


@settings(PROFILE, max_examples=100 * SCALE)
@given(single_all_of_cases(), st.integers(0, 2))
def test_single_limit_covers_every_day_with_an_option(case: Case, extra: int) -> None:
    starts = bruteforce.valid_starts_single_all_of(
        case.loop, case.interviewers, case.busy, **case.request
    )
    r = case.request
    days = {
        bruteforce.candidate_day(
            r["candidate_tz"],
            r["candidate_hours"],
            r["date_from"],
            r["date_to"],
            s,
            s + case.loop.sessions[0].duration,
        )
        for s in starts
    }
    limit = len(days) + extra
    if limit == 0:
        return
    options = case.engine(limit=limit)
    assert_well_formed(case, options, limit)
    assert len(options) == min(limit, len(starts))
    assert days <= {case.day_of(o) for o in options}


@settings(PROFILE, max_examples=60 * SCALE)
@given(multi_session_cases(), st.integers(0, 2))
def test_multi_limit_covers_every_day_with_an_option(case: Case, extra: int) -> None:
    days = bruteforce.days_with_options(case.loop, case.interviewers, case.busy, **case.request)
    limit = len(days) + extra
    if limit == 0:
        return
    options = case.engine(limit=limit)
    assert_well_formed(case, options, limit)
    assert days <= {case.day_of(o) for o in options}
    assert bool(options) == bool(days)


# --- (f) the engine's own check_option agrees with the brute-force validator --------------------


@st.composite
def near_valid_options(draw: st.DrawFn, case: Case) -> Option:
    """A valid option (when one exists) with, most of the time, one thing changed."""
    valid = list(
        itertools.islice(
            bruteforce.iter_options(case.loop, case.interviewers, case.busy, **case.request), 300
        )
    )
    if valid and draw(st.integers(0, 4)) > 0:
        slots = list(draw(st.sampled_from(valid)))
    else:
        r = case.request
        grid = bruteforce.grid_starts(
            r["candidate_tz"], r["date_from"], r["date_to"], case.loop.settings.granularity_minutes
        )
        specs = list(case.loop.sessions)
        if case.loop.order == "any":
            specs = draw(st.permutations(specs))
        t = draw(st.sampled_from(grid))
        slots = []
        for spec in specs:
            people = draw(
                st.lists(
                    st.sampled_from(spec.pool),
                    min_size=spec.required,
                    max_size=spec.required,
                    unique=True,
                )
            )
            slots.append(SessionSlot(spec.name, t, t + spec.duration, tuple(people)))
            t = (
                t
                + spec.duration
                + timedelta(
                    minutes=draw(
                        st.sampled_from((case.loop.min_gap_minutes, case.loop.max_gap_minutes))
                    )
                )
            )
    ids = sorted(case.interviewers)
    k = draw(st.integers(0, len(slots) - 1))
    s = slots[k]
    change = draw(
        st.sampled_from(
            ("none", "none", "none", "shift", "shift all", "someone else", "one less")
            + ("one more", "twice", "swap", "longer")
        )
    )
    minutes = timedelta(minutes=draw(st.sampled_from((-60, -30, -15, -5, -1, 1, 5, 15, 30, 60))))
    if change == "shift":
        slots[k] = dataclasses.replace(s, start=s.start + minutes, end=s.end + minutes)
    elif change == "shift all":
        slots = [
            dataclasses.replace(x, start=x.start + minutes, end=x.end + minutes) for x in slots
        ]
    elif change == "someone else" and s.interviewers:
        who = list(s.interviewers)
        who[0] = draw(st.sampled_from(ids))
        slots[k] = dataclasses.replace(s, interviewers=tuple(who))
    elif change == "one less":
        slots[k] = dataclasses.replace(s, interviewers=s.interviewers[1:])
    elif change == "one more":
        slots[k] = dataclasses.replace(
            s, interviewers=(*s.interviewers, draw(st.sampled_from(ids)))
        )
    elif change == "twice" and len(slots) > 1:
        other = slots[(k + 1) % len(slots)]
        slots[k] = dataclasses.replace(
            s, interviewers=(*s.interviewers[1:], *other.interviewers[:1])
        )
    elif change == "swap" and len(slots) > 1:
        j = (k + 1) % len(slots)
        slots[k], slots[j] = slots[j], slots[k]
    elif change == "longer":
        slots[k] = dataclasses.replace(s, end=s.end + timedelta(minutes=5))
    return Option(0.5, tuple(slots))


@settings(PROFILE, max_examples=150 * SCALE)
@given(st.one_of(single_all_of_cases(), multi_session_cases()), st.data())
def test_check_option_agrees_with_bruteforce_validator(case: Case, data: st.DataObject) -> None:
    option = data.draw(near_valid_options(case))
    mine = bruteforce.loop_problems(
        option,
        case.loop,
        case.interviewers,
        case.busy,
        now=case.request["now"],
        booked=case.request["booked"],
    )
    theirs = check_option(
        option,
        case.loop,
        case.interviewers,
        case.busy,
        now=case.request["now"],
        booked=case.request["booked"],
    )
    assert (theirs == []) == (mine == []), f"check_option: {theirs}; brute force: {mine}"
