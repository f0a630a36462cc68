"""The candidate's zone is a fact to act on: when the planned times miss the candidate's
hours in their own zone the page says so in one sentence and offers live options in
their zone and hours; live requests; booking a live option; the cache of live searches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.fixtures.booking import NOW, form_of, interviewer_id, request_row
from tests.fixtures.live import (
    LIVE_RE,
    html_of,
    make_live,
    page_zone,
    planned,
    set_fallback,
    stamps,
)
from web.domain import services
from web.domain.booking import LiveCache, live_options
from web.domain.booking.live import inside, option_key
from web.store.db import Database
from web.store.models import (
    Booking,
    BusyBlock,
    CalendarSource,
    Hold,
    OfferedOption,
    SchedulingRequest,
)

LA = "America/Los_Angeles"
HOURS = (8 * 60, 20 * 60)


def _all_inside(html: str, zone: str) -> None:
    found = stamps(html)
    assert found, "no <time> on the page"
    for a, b in found:
        assert inside(a, b, zone, HOURS), (a.astimezone(ZoneInfo(zone)), zone)


def test_a_los_angeles_candidate_of_a_sydney_request_is_told_and_offered_their_hours(
    client: Any, db: Database, company: Any
) -> None:
    sent = planned(db)
    html = html_of(client.get(sent.url, query_string={"tz": LA}))
    assert "These times were planned for Sydney. You seem to be in Los Angeles, where" in html
    assert "fall at night." in html
    assert 'id="live-title"' in html and "08:00–20:00 in Los Angeles" in html
    assert page_zone(html) == LA
    assert LIVE_RE.search(html), "live options are offered"
    assert not any(f'value="{oid}"' in html for oid in sent.option_ids)
    _all_inside(html, LA)
    assert request_row(db, sent.request_id).candidate_zone == LA  # the zone is kept


def test_the_same_zone_or_fitting_times_need_no_notice(
    client: Any, db: Database, company: Any
) -> None:
    sent = planned(db, hours=(0, 24 * 60))
    html = html_of(client.get(sent.url, query_string={"tz": LA}))
    assert "These times were planned" not in html and not LIVE_RE.search(html)
    sent = planned(db, tz=LA, hours=HOURS)
    html = html_of(client.get(sent.url, query_string={"tz": LA}))
    assert "These times were planned" not in html


def test_the_coordinator_can_switch_the_fallback_off(
    client: Any, db: Database, company: Any
) -> None:
    set_fallback(db, False)
    sent = planned(db)
    html = html_of(client.get(sent.url, query_string={"tz": LA}))
    assert "These times were planned for Sydney." in html  # still told
    assert not LIVE_RE.search(html) and 'id="live-title"' not in html
    assert f'value="{sent.option_ids[0]}"' in html


def _book_live(client: Any, sent: Any, zone: str) -> tuple[Any, str]:
    html = html_of(client.get(sent.url, query_string={"tz": zone}))
    m = LIVE_RE.search(html)
    assert m, "no live option"
    form = {**form_of(html), "option": m.group(2), "tz": zone}
    return client.post(sent.url + "/book", data=form), m.group(2)


def test_a_live_option_is_booked_end_to_end(client: Any, db: Database, company: Any) -> None:
    sent = planned(db)
    resp, key = _book_live(client, sent, LA)
    assert resp.status_code == 303 and "done=1" in resp.headers["Location"]
    req = request_row(db, sent.request_id)
    assert req.status == "booked"
    b = services.active_booking(req)
    assert b is not None and b.candidate_tz == LA
    row = next(o for o in req.options if o.id == b.option_id)
    assert option_key(services.stored_option(row)) == key[1:]
    for bs in b.sessions:
        assert inside(bs.start, bs.end, LA, HOURS)
    booked = html_of(client.get(resp.headers["Location"]))
    assert "You are booked" in booked
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 0  # released, none added


def test_a_live_option_taken_meanwhile_is_refused(client: Any, db: Database, company: Any) -> None:
    sent = planned(db)
    html = html_of(client.get(sent.url, query_string={"tz": LA}))
    form = {**form_of(html), "option": "L" + "0" * 20, "tz": LA}
    resp = client.post(sent.url + "/book", data=form)
    assert resp.status_code == 409 and "just taken" in html_of(resp)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 0


def test_a_live_request_searches_in_the_candidate_zone_and_books(
    client: Any, db: Database, company: Any
) -> None:
    sent = planned(db)
    make_live(db, sent)
    for zone in ("Asia/Kolkata", LA):
        html = html_of(client.get(sent.url, query_string={"tz": zone}))
        assert "These times were planned" not in html
        assert len(LIVE_RE.findall(html)) >= 2 and page_zone(html) == zone
        _all_inside(html, zone)
        days = {a.astimezone(ZoneInfo(zone)).date() for a, _ in stamps(html)}
        assert len(days) >= 2, "live options are spread over the days"
    resp, _ = _book_live(client, sent, "Asia/Kolkata")
    assert resp.status_code == 303
    req = request_row(db, sent.request_id)
    assert req.status == "booked" and len(req.options) == 1
    # rescheduling searches live again, in the candidate's zone
    again = html_of(client.get(sent.url + "/reschedule", query_string={"tz": LA}))
    assert LIVE_RE.search(again)
    _all_inside(again, LA)


def test_live_searches_are_cached_until_busy_time_changes(
    app: Any, db: Database, company: Any
) -> None:
    sent = planned(db)
    cache = LiveCache()
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        first = live_options(s, req, LA, NOW, cache=cache)
        assert first and live_options(s, req, LA, NOW, cache=cache) == first
        assert len(cache) == 1
    opt = first[0]
    with db.session() as s:
        for sl in opt.sessions:
            for key in sl.interviewers:
                who = interviewer_id(db, key)
                src = CalendarSource(interviewer_id=who, kind="ics", label="w", url="file:///w")
                s.add(src)
                s.flush()
                s.add(BusyBlock(interviewer_id=who, source_id=src.id, start=sl.start, end=sl.end))
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        after = live_options(s, req, LA, NOW, cache=cache)
    assert len(cache) == 2, "a sync's new busy time is a new key"
    assert option_key(opt) not in {option_key(o) for o in after}


def test_past_dates_are_searched_from_tomorrow(db: Database, company: Any) -> None:
    from web.domain.booking.live import live_dates

    sent = planned(db)
    req = request_row(db, sent.request_id)
    later = NOW + timedelta(days=30)
    a, z = live_dates(req, LA, later)
    assert a == later.astimezone(ZoneInfo(LA)).date() + timedelta(days=1)
    assert z - a == req.date_to - req.date_from
    assert live_dates(req, LA, NOW) == (req.date_from, req.date_to)


def test_the_coordinator_sees_times_in_the_candidate_zone(
    signed_in: Any, db: Database, company: Any
) -> None:
    sent = planned(db)
    _book_live(signed_in, sent, LA)
    html = html_of(signed_in.get(f"/requests/{sent.request_id}"))
    assert f"{LA} (detected or chosen)" in html
    assert f"Candidate&#39;s own zone ({LA}, detected or chosen)" in html or (
        f"Candidate's own zone ({LA}, detected or chosen)" in html
    )
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(OfferedOption))
    assert n and n > len(sent.option_ids)
    listing = html_of(signed_in.get("/requests"))
    assert f"{LA} (detected or chosen)" in listing


def test_a_booked_live_request_moves_to_a_live_time(
    client: Any, db: Database, company: Any
) -> None:
    sent = planned(db)
    make_live(db, sent)
    resp, first = _book_live(client, sent, LA)
    assert resp.status_code == 303
    html = html_of(client.get(sent.url + "/reschedule", query_string={"tz": LA}))
    keys = [k for _, k in LIVE_RE.findall(html)]
    assert keys and first not in keys
    form = {**form_of(html), "option": keys[-1], "tz": LA}
    moved = client.post(sent.url + "/reschedule", data=form)
    assert moved.status_code == 303, html_of(moved)
    req = request_row(db, sent.request_id)
    assert req.status == "rescheduled"
    b = services.active_booking(req)
    assert b is not None
    row = next(o for o in req.options if o.id == b.option_id)
    assert "L" + option_key(services.stored_option(row)) == keys[-1]
