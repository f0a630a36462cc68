"""Multi-day loops (issue 14) against the brute-force checker of ``bruteforce_multiday.py``:
the same option set with ``limit=0``, every option valid, options exist iff the checker
finds one, and a limit of N gives N options when N exist."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.engine import check_option, find_options
from scheduler.model import Loop, SessionSpec

from . import bruteforce_multiday
from .test_properties import PROFILE, SCALE, Case, option_key, request_and_people


@st.composite
def multi_day_cases(draw: st.DrawFn) -> Case:
    friendly = draw(st.booleans())
    people = draw(st.integers(2, 3))
    request, interviewers, busy, conf = draw(request_and_people(people, 4, friendly))
    conf = dataclasses.replace(conf, granularity_minutes=draw(st.sampled_from((30, 60))))
    hours = request["candidate_hours"]
    if hours[1] - hours[0] > 360:  # a short candidate day keeps the brute force small
        start = draw(st.integers(hours[0] // 30, (hours[1] - 360) // 30)) * 30
        request["candidate_hours"] = (start, start + 360)
    ids = list(interviewers)
    days = [1, 2] if draw(st.booleans()) else [1, 1, 2]
    specs = []
    for k, day in enumerate(days):
        pool = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
        minutes = 30 * draw(st.integers(1, 3))
        specs.append(SessionSpec(f"S{k}", minutes, tuple(pool), 1, day))
    low = draw(st.integers(1, 2))
    loop = Loop(
        id="multi",
        name="Multi",
        sessions=tuple(specs),
        order=draw(st.sampled_from(("fixed", "any"))),
        min_gap_minutes=0,
        max_gap_minutes=30,
        settings=conf,
        min_days_between=low,
        max_days_between=low + draw(st.integers(0, 2)),
        skip_weekends=draw(st.booleans()),
    )
    return Case(loop, interviewers, busy, request)


def problems(case: Case, option: object) -> list[str]:
    return bruteforce_multiday.option_problems(
        option,  # type: ignore[arg-type]
        case.loop,
        case.interviewers,
        case.busy,
        **case.request,
    )


@settings(PROFILE, max_examples=60 * SCALE)
@given(multi_day_cases(), st.integers(1, 12))
def test_multi_day_options_equal_bruteforce(case: Case, limit: int) -> None:
    expected = {
        tuple((s.name, s.start, s.end, frozenset(s.interviewers)) for s in slots)
        for slots in bruteforce_multiday.iter_options(
            case.loop, case.interviewers, case.busy, **case.request
        )
    }
    options = case.engine(limit=0)
    got = {option_key(o) for o in options}
    assert got == expected, (
        f"engine only: {sorted(got - expected)[:2]}; brute force only: {sorted(expected - got)[:2]}"
    )
    for option in options:
        assert problems(case, option) == [], option
        assert 0.0 <= option.score <= 1.0
    scores = [o.score for o in options]
    assert scores == sorted(scores, reverse=True)
    limited = case.engine(limit=limit)
    assert bool(limited) == bool(expected)  # existence iff the checker finds one
    assert len(limited) == min(limit, len(expected))
    assert {option_key(o) for o in limited} <= expected
    now, booked = case.request["now"], case.request["booked"]
    for option in limited:
        assert problems(case, option) == []
        assert (
            check_option(option, case.loop, case.interviewers, case.busy, now=now, booked=booked)
            == []
        )


def test_a_loop_without_day_keys_is_one_block() -> None:
    loop = Loop("x", "X", (SessionSpec("A", 30, ("a",), 1), SessionSpec("B", 30, ("a",), 1)))
    assert len(loop.blocks()) == 1
    assert find_options is not None
