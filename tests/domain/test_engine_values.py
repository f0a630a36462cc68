"""Rows become engine values in one place: one loop picture, one stored-option decoder.

The old copies differed: search said "session 'Pair' of loop 'Phone screen' needs 2
interviewer(s) but its pool has 0 active: edit the loop's pool" while the booking re-check
said "session 'Pair' has too few active interviewers"; search decoded stored times with a
strict ``...Z`` pattern while the booking code took any ISO text and read a time without an
offset in the server's zone. Now both paths say the first message, and a stored time is ISO
8601 with ``Z`` or an offset (read in UTC); one without an offset is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from web.domain import services
from web.domain.booking import checks
from web.domain.engine_values import loop_picture, option_json, stored_option
from web.store.db import Database
from web.store.models import Interviewer, Loop, OfferedOption, SchedulingRequest

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _empty_pool(s) -> Loop:
    for key in ("bob", "eli"):
        row = s.scalar(select(Interviewer).where(Interviewer.key == key))
        assert row is not None
        row.active = False
    loop = s.scalar(select(Loop).where(Loop.key == "screen"))
    assert loop is not None
    return loop


def test_search_and_recheck_give_the_one_pool_too_small_message(db: Database, company):
    with db.session() as s:
        loop = _empty_pool(s)
        s.flush()
        problem = loop_picture(s, loop.id).problem
        assert problem == (
            "session 'Pair' of loop 'Phone screen' needs 2 interviewer(s) "
            "but its pool has 0 active: edit the loop's pool"
        )
        with pytest.raises(services.SearchProblem) as err:
            services.search(
                s,
                loop,
                candidate_tz="UTC",
                date_from=date(2027, 3, 8),
                date_to=date(2027, 3, 9),
                hours=(9, 17),
                now=NOW,
            )
        assert err.value.message == problem
        req = SchedulingRequest(loop_id=loop.id)
        opt = stored_option(OfferedOption(score=1.0, sessions=[]))
        assert checks.recheck(s, req, opt, NOW) == [problem]


def _row(start: str, end: str) -> OfferedOption:
    return OfferedOption(
        score=2.5, sessions=[{"name": "A", "start": start, "end": end, "interviewers": ["bob"]}]
    )


def test_a_stored_option_reads_z_and_offset_times_in_utc():
    z = stored_option(_row("2027-03-08T09:00:00Z", "2027-03-08T10:00:00Z"))
    offset = stored_option(_row("2027-03-08T10:00:00+01:00", "2027-03-08T11:00:00+01:00"))
    assert z == offset
    (slot,) = z.sessions
    assert slot.start == datetime(2027, 3, 8, 9, 0, tzinfo=UTC) and slot.start.tzinfo is UTC
    assert (z.score, slot.interviewers) == (2.5, ("bob",))


def test_a_stored_option_round_trips_what_option_json_writes():
    opt = stored_option(_row("2027-03-08T09:00:00Z", "2027-03-08T10:00:00Z"))
    assert stored_option(OfferedOption(score=opt.score, sessions=option_json(opt))) == opt
    assert services.stored_option is stored_option


def test_a_stored_time_without_an_offset_is_refused():
    with pytest.raises(ValueError, match="no UTC offset"):
        stored_option(_row("2027-03-08T09:00:00", "2027-03-08T10:00:00Z"))
