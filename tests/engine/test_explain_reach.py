"""Property: the explanation's prefilter never rules out a relaxation that gives options.

``Reach`` skips the search of a relaxation when some session keeps no start within the
gaps of its neighbours; for random problems and every relaxation the explanation
tries, whenever it says impossible, the engine's count under that change is 0."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.explain import LATER_DAYS, Search, _gap_values
from scheduler.explain_reach import Reach
from scheduler.explain_why import tables
from tests.engine.test_explain_properties import to_search
from tests.engine.test_properties import PROFILE, SCALE, Case, multi_session_cases


def _variants(search: Search) -> list[tuple[Search, dict[str, object]]]:
    loop = search.loop
    found: list[tuple[Search, dict[str, object]]] = []
    for gap in _gap_values(loop)[:6]:
        wider = dataclasses.replace(loop, max_gap_minutes=gap)
        found.append((dataclasses.replace(search, loop=wider), {"loop": wider}))
    for index, spec in enumerate(loop.sessions):
        if spec.required > 1:
            specs = list(loop.sessions)
            specs[index] = dataclasses.replace(spec, required=spec.required - 1)
            fewer = dataclasses.replace(loop, sessions=tuple(specs))
            found.append((dataclasses.replace(search, loop=fewer), {"loop": fewer}))
    if loop.order == "fixed":
        anyway = dataclasses.replace(loop, order="any")
        found.append((dataclasses.replace(search, loop=anyway), {"loop": anyway}))
    low, high = search.candidate_hours
    for minutes in (15, 60, 120):
        for hours in ((max(0, low - minutes), high), (low, min(1440, high + minutes))):
            found.append((dataclasses.replace(search, candidate_hours=hours), {"hours": hours}))
    return found


@settings(PROFILE, max_examples=40 * SCALE)
@given(multi_session_cases(longest_span=0), st.integers(0, 1))
def test_what_the_prefilter_rules_out_gives_nothing(case: Case, held: int) -> None:
    search = to_search(case, held)
    later = search.date_to + timedelta(days=LATER_DAYS)
    reach = Reach(search, tables(search, later))
    assert reach.possible() or search.count() == 0
    for changed, ask in _variants(search):
        if not reach.possible(**ask):  # type: ignore[arg-type]
            assert changed.count() == 0, ask
    for offset in range(1, 4):
        day = search.date_to + timedelta(days=offset)
        if not reach.day_possible(day):
            assert dataclasses.replace(search, date_from=day, date_to=day).count() == 0, day
