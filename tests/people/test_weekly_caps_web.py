"""Weekly caps in the web app: the column, the coordinator's form, import and export, the
engine values of search, and the booking re-check counting the whole local ISO week.

The re-check and the search read booked sessions of every local ISO week their window
touches (in each interviewer's zone), not only the window: a booking in the same week but
days away from the chosen time still counts against ``max_interviews_per_week``."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.config import parse_config
from scheduler.model import Interval
from tests.fixtures.booking import policy, send_request
from tests.fixtures.webapp import COMPANY, NOW, get_csrf
from web.domain import booking, services
from web.domain.booking import checks
from web.domain.busy import load_busy, week_span
from web.domain.engine_values import loop_picture
from web.domain.importer import export_toml, import_config
from web.store.db import Database
from web.store.models import Booking, BookingSession, Interviewer, Loop, SchedulingRequest

FORM = {
    "key": "farah",
    "name": "Farah Haddad",
    "email": "farah@example.com",
    "timezone": "Asia/Kathmandu",
    "working_hours": "mon-fri 09:00-17:00",
    "max_interviews_per_day": "2",
}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _set_cap(db: Database, key: str, cap: int | None) -> None:
    with db.session() as s:
        row = s.scalar(select(Interviewer).where(Interviewer.key == key))
        assert row is not None
        row.max_interviews_per_week = cap


def _book_directly(db: Database, key: str, start: datetime, end: datetime) -> None:
    """An active booked session of ``key`` (another candidate's request), written as rows."""
    with db.session() as s:
        who = s.scalar(select(Interviewer).where(Interviewer.key == key))
        loop = s.scalar(select(Loop).where(Loop.key == "screen"))
        assert who is not None and loop is not None
        req = SchedulingRequest(
            coordinator_id=s.scalar(select(SchedulingRequest.coordinator_id).limit(1))
            or _coordinator(s),
            loop_id=loop.id,
            candidate_name="Other Candidate",
            candidate_email="other@example.org",
            date_from=start.date(),
            date_to=start.date(),
            status="booked",
            token_nonce=services.new_nonce(),
        )
        s.add(req)
        s.flush()
        b = Booking(request_id=req.id, status="confirmed", uid_base=f"other-{req.id}")
        b.sessions.append(
            BookingSession(
                interviewer_id=who.id,
                session_name="Pair",
                start=start,
                end=end,
                active=True,
                uid=f"other-{req.id}-0",
            )
        )
        s.add(b)


def _coordinator(s: Any) -> int:
    from web.store.models import Coordinator

    found = s.scalar(select(Coordinator.id).limit(1))
    assert found is not None
    return int(found)


def _screen_options(db: Database, day_from: date, day_to: date) -> list[Any]:
    with db.session() as s:
        loop_id = s.scalar(select(Loop.id).where(Loop.key == "screen"))
        assert loop_id is not None
        row = services.load_loop(s, loop_id)
        assert row is not None
        return services.search(
            s,
            row,
            candidate_tz="UTC",
            date_from=day_from,
            date_to=day_to,
            hours=(0, 1440),
            now=NOW,
            limit=0,
        ).options


# ---------------------------------------------------------------- the form


def test_the_form_stores_a_weekly_cap_and_empty_means_none(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/interviewers/new")
    page = signed_in.get("/interviewers/new").get_data(as_text=True)
    assert 'name="max_interviews_per_week"' in page
    data = {**FORM, "max_interviews_per_week": "4", "csrf_token": token}
    resp = signed_in.post("/interviewers/new", data=data)
    assert resp.status_code == 302
    with db.session() as s:
        row = s.scalar(select(Interviewer).where(Interviewer.key == "farah"))
        assert row is not None and row.max_interviews_per_week == 4
        iid = row.id
    detail = signed_in.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Max interviews per week</dt><dd>4</dd>" in detail
    token = get_csrf(signed_in, f"/interviewers/{iid}/edit")
    data = {**FORM, "max_interviews_per_week": "", "csrf_token": token}
    assert signed_in.post(f"/interviewers/{iid}/edit", data=data).status_code == 302
    with db.session() as s:
        assert s.get(Interviewer, iid).max_interviews_per_week is None  # type: ignore[union-attr]
    assert "<th>Cap/week</th>" in signed_in.get("/interviewers").get_data(as_text=True)


@pytest.mark.parametrize("bad", ["0", "101", "-3", "four", "2.5"])
def test_a_bad_weekly_cap_is_refused_with_a_clear_error(signed_in: Any, bad: str) -> None:
    token = get_csrf(signed_in, "/interviewers/new")
    data = {**FORM, "max_interviews_per_week": bad, "csrf_token": token}
    resp = signed_in.post("/interviewers/new", data=data)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "Max interviews per week:" in body
    if bad in ("0", "101", "-3"):
        assert "a whole number from 1 to 100, or empty for no weekly cap" in body


# ---------------------------------------------------------------- import and export


def test_import_and_export_round_trip_the_weekly_cap(db: Database, tmp_path: Path) -> None:
    raw = {**COMPANY, "interviewers": [dict(i) for i in COMPANY["interviewers"]]}
    raw["interviewers"][0]["max_interviews_per_week"] = 7
    source = str(tmp_path / "company.toml")
    with db.session() as s:
        import_config(s, parse_config(raw, source))
    with db.session() as s:
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None and alice.max_interviews_per_week == 7
        text = export_toml(s)
    assert "max_interviews_per_week = 7" in text
    again = parse_config(tomllib.loads(text), source)
    caps = {i.id: i.max_interviews_per_week for i in again.interviewers}
    assert caps == {"alice": 7, "bob": None, "devi": None, "eli": None}
    with db.session() as s:  # importing the export changes nothing
        report = import_config(s, again)
        assert not report.updated or all("loop" in u for u in report.updated)
        assert (
            s.scalar(select(Interviewer.max_interviews_per_week).where(Interviewer.key == "alice"))
            == 7
        )


# ---------------------------------------------------------------- engine values


def test_the_loop_picture_carries_the_weekly_cap(db: Database, company: Any) -> None:
    _set_cap(db, "eli", 3)
    with db.session() as s:
        loop_id = s.scalar(select(Loop.id).where(Loop.key == "screen"))
        assert loop_id is not None
        pic = loop_picture(s, loop_id)
        assert pic.interviewers["eli"].max_interviews_per_week == 3
        assert pic.interviewers["bob"].max_interviews_per_week is None


# ---------------------------------------------------------------- the whole ISO week


def test_a_booking_in_the_same_week_outside_the_window_makes_the_cap_bind(
    db: Database, company: Any
) -> None:
    """Eli (New York) has a weekly cap of 1 and an interview on Monday 8 March; the search
    and the re-check look at Thursday 11 March only, yet the cap binds."""
    sent = send_request(
        db, loop_key="screen", tz="UTC", date_from=date(2027, 3, 11), date_to=date(2027, 3, 11)
    )
    _book_directly(db, "eli", utc(2027, 3, 8, 14), utc(2027, 3, 8, 15))  # Mon 09:00 EST
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        opt = services.stored_option(req.options[0])
        assert checks.recheck(s, req, opt, NOW) == []  # no cap yet
        eli = s.scalar(select(Interviewer).where(Interviewer.key == "eli"))
        assert eli is not None
        window = Interval(opt.start - timedelta(days=1), opt.end + timedelta(days=1))
        assert opt.start.date() == date(2027, 3, 11) and window.start > utc(2027, 3, 8, 15)
        narrow = load_busy(s, {eli.id: "eli"}, window, now=NOW, include_holds=False)
        assert narrow.booked["eli"] == []  # the old reading: the booking is out of sight
    assert _screen_options(db, date(2027, 3, 11), date(2027, 3, 11))
    _set_cap(db, "eli", 1)
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        opt = services.stored_option(req.options[0])
        assert checks.recheck(s, req, opt, NOW) == ["'eli' is at their weekly interview limit"]
        assert checks.valid_options(s, req, NOW) == []
    assert _screen_options(db, date(2027, 3, 11), date(2027, 3, 11)) == []
    with pytest.raises(booking.OptionTaken) as err:
        booking.book(
            db,
            sent.request_id,
            sent.option_ids[0],
            idempotency_key="weekly-cap-binds-01",
            candidate_tz="UTC",
            now=NOW,
            policy=policy(live_check=False),
        )
    assert "'eli' is at their weekly interview limit" in err.value.problems
    assert _screen_options(db, date(2027, 3, 15), date(2027, 3, 15))  # the next week is free


def test_dst_week_a_sunday_night_booking_counts_in_its_local_week(
    db: Database, company: Any
) -> None:
    """New York springs forward on Sunday 14 March 2027. Sunday 21 March 23:30 EDT is
    Monday 22 March 03:30 UTC: in UTC weeks it is next week, in New York's ISO week it is
    the week of Monday 15 March (Monday 00:00 EDT = 04:00 UTC), so it uses Eli's one
    interview of that week; at 00:30 EDT on Monday it does not."""
    window = services.search_window(date(2027, 3, 16), date(2027, 3, 16))
    span = week_span(window, "America/New_York")
    assert span == Interval(utc(2027, 3, 8, 5), utc(2027, 3, 22, 4))  # EST start, EDT end
    _set_cap(db, "eli", 1)
    _book_directly(db, "eli", utc(2027, 3, 22, 4, 30), utc(2027, 3, 22, 5))  # Mon 00:30 EDT
    assert _screen_options(db, date(2027, 3, 16), date(2027, 3, 16))
    _book_directly(db, "eli", utc(2027, 3, 22, 3, 30), utc(2027, 3, 22, 4))  # Sun 23:30 EDT
    assert _screen_options(db, date(2027, 3, 16), date(2027, 3, 16)) == []


def test_week_span_in_a_45_minute_zone() -> None:
    """Kathmandu (UTC+05:45): Monday 00:00 local is Sunday 18:15 UTC."""
    window = Interval(utc(2027, 3, 3), utc(2027, 3, 4))
    assert week_span(window, "Asia/Kathmandu") == Interval(
        utc(2027, 2, 28, 18, 15), utc(2027, 3, 7, 18, 15)
    )


def test_live_search_counts_the_whole_week_too(db: Database, company: Any) -> None:
    """The candidate's live options (searched in their zone) leave out a week that a booking
    days outside the request's dates has already filled."""
    from web.domain.booking.live import LiveCache, live_options

    sent = send_request(
        db, loop_key="screen", tz="UTC", date_from=date(2027, 3, 11), date_to=date(2027, 3, 11)
    )
    _book_directly(db, "eli", utc(2027, 3, 8, 14), utc(2027, 3, 8, 15))
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        assert live_options(s, req, "Asia/Kolkata", NOW, cache=LiveCache())
    _set_cap(db, "eli", 1)
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        assert live_options(s, req, "Asia/Kolkata", NOW, cache=LiveCache()) == ()
