"""Property: every suggestion's count equals the brute-force count under that one change.

Random multi-session problems from ``test_properties`` (some busy time turned into holds of
other requests); the explanation is asked for always (a limit no search reaches), so
every relaxation that adds an option is suggested and checked against ``bruteforce``.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.explain import Hold, Search, explain
from scheduler.explain_why import CONSTRAINTS
from scheduler.localtime import parse_range
from tests.engine import bruteforce
from tests.engine.test_properties import (
    PROFILE,
    SCALE,
    Case,
    multi_session_cases,
    single_all_of_cases,
)
from tests.engine.test_weekly_caps import with_weekly_caps

ALWAYS = 10**9  # a limit no search reaches: always explain


def to_search(case: Case, held: int) -> Search:
    """``case`` as a Search, the first ``held`` busy intervals of each person as holds."""
    request = dict(case.request)
    busy = {p: spans[held:] for p, spans in case.busy.items()}
    holds = {
        p: [Hold(span, f"req-{n}") for n, span in enumerate(spans[:held])]
        for p, spans in case.busy.items()
    }
    return Search(
        case.loop,
        case.interviewers,
        busy,
        request["candidate_tz"],
        request["date_from"],
        request["date_to"],
        request["now"],
        request["candidate_hours"],
        request["booked"],
        holds,
    )


def changed(search: Search, parameter: str, session: str | None, value: object) -> Search:
    loop = search.loop
    if parameter == "to":
        return dataclasses.replace(search, date_to=date.fromisoformat(str(value)))
    if parameter == "candidate_hours":
        return dataclasses.replace(search, candidate_hours=parse_range(str(value)))
    if parameter in ("max_gap_minutes", "order"):
        return dataclasses.replace(search, loop=dataclasses.replace(loop, **{parameter: value}))
    assert parameter == "required"
    specs = tuple(
        dataclasses.replace(s, required=value) if s.name == session else s for s in loop.sessions
    )
    return dataclasses.replace(search, loop=dataclasses.replace(loop, sessions=specs))


def brute_count(search: Search) -> int:
    found = bruteforce.iter_options(
        search.loop,
        search.interviewers,
        search.all_busy(),
        candidate_tz=search.candidate_tz,
        date_from=search.date_from,
        date_to=search.date_to,
        now=search.now,
        candidate_hours=search.candidate_hours,
        booked=search.booked,
        recheck=False,
    )
    return len({tuple((s.name, s.start, frozenset(s.interviewers)) for s in o) for o in found})


@settings(PROFILE, max_examples=25 * SCALE)
@given(multi_session_cases(longest_span=0), st.integers(0, 1))
def test_suggested_counts_equal_bruteforce(case: Case, held: int) -> None:
    search = to_search(case, held)
    result = explain(search, ALWAYS)
    assert result.found == brute_count(search)
    for item in result.suggestions:
        assert item.options > result.found
        assert brute_count(changed(search, item.parameter, item.session, item.value)) == (
            item.options
        ), item
    names = {s.name for s in search.loop.sessions}
    for reason in result.why:
        assert reason.session in names and reason.constraint in CONSTRAINTS
        if reason.constraint == "holds":
            assert "req-" in reason.detail


def lifted(search: Search, key: str) -> Search:
    """``search`` with the constraint ``key`` lifted wholly, in the engine's own inputs."""
    loop = search.loop
    if key == "busy":
        return dataclasses.replace(search, busy={})
    if key == "holds":
        return dataclasses.replace(search, holds={})
    if key in ("daily_cap", "weekly_cap"):
        field = "max_interviews_per_day" if key == "daily_cap" else "max_interviews_per_week"
        people = {
            p: dataclasses.replace(i, **{field: None}) for p, i in search.interviewers.items()
        }
        return dataclasses.replace(search, interviewers=people)
    if key == "min_notice":
        quiet = dataclasses.replace(loop.settings, min_notice_hours=0)
        return dataclasses.replace(search, loop=dataclasses.replace(loop, settings=quiet))
    if key == "candidate_hours":
        return dataclasses.replace(search, candidate_hours=(0, 1440))
    assert key == "pool_size", key
    specs = tuple(dataclasses.replace(s, required=1) for s in loop.sessions)
    return dataclasses.replace(search, loop=dataclasses.replace(loop, sessions=specs))


def starts(search: Search) -> int:
    return len({o.start for o in search.options(0)})


@settings(PROFILE, max_examples=60 * SCALE)
@given(single_all_of_cases(), st.integers(0, 1))
def test_why_names_a_constraint_whose_lifting_adds_starts(case: Case, held: int) -> None:
    why_lifts(case, held)


@settings(PROFILE, max_examples=30 * SCALE)
@given(with_weekly_caps(single_all_of_cases(longest_span=8)), st.integers(0, 1))
def test_why_with_weekly_caps_names_a_cap_whose_lifting_adds_starts(case: Case, held: int) -> None:
    why_lifts(case, held)


def why_lifts(case: Case, held: int) -> None:
    # One session: its candidate starts are the starts of the loop's options. Working
    # hours are left out: lifted wholly they still cannot span a local midnight.
    search = to_search(case, held)
    result = explain(search, ALWAYS)
    assert len(result.why) <= 1
    for reason in result.why:
        if reason.constraint != "working_hours":
            assert starts(lifted(search, reason.constraint)) > starts(search), reason
