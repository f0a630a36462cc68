"""The coordinator's load view: interviews this week and next per interviewer, in their own
local ISO weeks, against the daily and weekly caps ("3 / 3 this week"), flagged at/over cap."""

from __future__ import annotations

import re
from typing import Any

from tests.fixtures.webapp import NOW
from tests.people.test_weekly_caps_web import _book_directly, _set_cap, utc
from web.domain.usecases.interviewer_load import interviewer_loads
from web.store.db import Database


def _seed(db: Database) -> None:
    # NOW is Monday 1 March 2027 09:00 UTC
    _set_cap(db, "devi", 3)  # Kolkata, daily cap 2 (the company's)
    _book_directly(db, "devi", utc(2027, 2, 28, 5), utc(2027, 2, 28, 6))  # last week
    _book_directly(db, "devi", utc(2027, 3, 2, 5), utc(2027, 3, 2, 6))  # Tue
    _book_directly(db, "devi", utc(2027, 3, 2, 8), utc(2027, 3, 2, 9))  # Tue
    _book_directly(db, "devi", utc(2027, 3, 3, 5), utc(2027, 3, 3, 6))  # Wed
    _book_directly(db, "devi", utc(2027, 3, 8, 5), utc(2027, 3, 8, 6))  # next Mon
    _set_cap(db, "eli", 1)  # New York
    _book_directly(db, "eli", utc(2027, 3, 2, 14), utc(2027, 3, 2, 15))
    # Sunday 7 March 23:30 EST: Monday 04:30 UTC, yet in Eli's week of 1 March
    _book_directly(db, "eli", utc(2027, 3, 8, 4, 30), utc(2027, 3, 8, 5))


def test_loads_count_local_iso_weeks_against_the_caps(db: Database, company: Any) -> None:
    _seed(db)
    with db.session() as s:
        loads = {r.key: r for r in interviewer_loads(s, NOW)}
    devi, eli, alice = loads["devi"], loads["eli"], loads["alice"]
    assert [w.text for w in devi.weeks] == ["3 / 3 this week", "1 / 3 next week"]
    assert devi.weeks[0].day_text == "busiest Tue 02 Mar: 2 / 2"
    assert (devi.weeks[0].week_state, devi.weeks[0].day_state, devi.state) == ("at", "at", "at")
    assert [w.text for w in eli.weeks] == ["2 / 1 this week", "0 / 1 next week"]
    assert eli.state == "over" and eli.weeks[0].week_state == "over"
    assert [w.text for w in alice.weeks] == ["0 this week", "0 next week"]
    assert alice.state == "" and alice.weeks[0].day_text == "no interviews"


def test_the_load_page_is_linked_from_the_list_and_flags_caps(signed_in: Any, db: Database) -> None:
    _seed(db)
    listing = signed_in.get("/interviewers").get_data(as_text=True)
    assert 'href="/interviewers/load"' in listing
    page = signed_in.get("/interviewers/load").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-interviewer="(\w+)"[^>]*>(.*?)</tr>', page, re.S))
    assert "3 / 3 this week" in rows["devi"] and "at the weekly cap" in rows["devi"]
    assert "at the daily cap" in rows["devi"] and "at cap" in rows["devi"]
    assert "2 / 1 this week" in rows["eli"] and "over the weekly cap" in rows["eli"]
    assert "over cap" in rows["eli"]
    assert "0 this week" in rows["alice"] and "cap" not in rows["alice"].split("</td>")[0]
    assert 'class="cap-over"' in page and 'class="cap-at"' in page
