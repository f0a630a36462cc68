"""Structured "none of these work": the grid and the typed ranges on the candidate's page,
the search inside them, the loop's switch, the coordinator's flag, one-click send and
dismiss (Flask test client, real database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.fixtures.booking import form_of, send_request
from tests.fixtures.webapp import csrf_of, login
from web.domain.usecases import scheduling_requests as uc
from web.domain.usecases.request_flags import CANDIDATE_REPLIED
from web.store.db import Database
from web.store.models import (
    AuditLog,
    CandidateRange,
    CandidateReply,
    Loop,
    OutboxMail,
    SchedulingRequest,
)

TZ = "Asia/Kolkata"  # UTC+05:30; the panel works about 13:30-22:30 there on weekdays
TIME_RE = re.compile(r'<time datetime="([0-9T:\-]+Z)">')


def _html(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def _none(client: Any, url: str, **data: Any) -> Any:
    token = csrf_of(_html(client.get(url + "?tz=" + TZ)))
    return client.post(url + "/none", data={"csrf_token": token, "tz": TZ, **data})


def _offer_from_ranges(db: Database, on: bool) -> None:
    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert loop is not None
        loop.offer_from_ranges = on
        s.commit()


def _needs(s: Any, rid: int) -> dict[int, list[str]]:
    """The request's candidate-reply reasons to need its coordinator (none: empty)."""
    req = s.get(SchedulingRequest, rid)
    found = uc.needs_coordinator(s, [req], now=datetime.now(UTC), stale_after=timedelta(days=9))
    texts = {k: [r.text for r in v if r.key == "reply"] for k, v in found.items()}
    return {k: v for k, v in texts.items() if v}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _wednesday_afternoon(start: datetime, end: datetime) -> bool:
    """Inside Wed 14:00-18:00 in Kolkata (08:30-12:30 UTC) on 3 or 10 March 2027."""
    day = start.replace(hour=0, minute=0)
    lo, hi = day.replace(hour=8, minute=30), day.replace(hour=12, minute=30)
    return start.day in (3, 10) and lo <= start and end <= hi


def _option_starts(html: str) -> list[datetime]:
    return [_utc(m) for m in re.findall(r'data-start="([^"]+)"', html)]


def test_grid_rows_are_the_days_of_the_request(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, tz=TZ)
    html = _html(client.get(sent.url + "?tz=" + TZ))
    assert 'id="range-grid"' in html
    rows = re.findall(r'<th scope="row"><span class="date" data-date="([0-9-]+)"', html)
    assert rows == [f"2027-03-{d:02d}" for d in range(3, 11)]
    assert 'value="2027-03-03T06:00"' in html and 'value="2027-03-03T20:00"' in html
    assert 'value="2027-03-03T22:00"' not in html


def test_ticked_boxes_are_searched_and_offered_at_once(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz=TZ)
    # Wed 3 March 14:00-18:00 in Kolkata: two neighbouring boxes, one range
    resp = _none(client, sent.url, cell=["2027-03-03T14:00", "2027-03-03T16:00"])
    assert resp.status_code == 303 and "ranges=1" in resp.headers["Location"]
    page = _html(client.get(resp.headers["Location"]))
    assert 'id="my-ranges"' in page and 'name="option"' in page
    lo, hi = datetime(2027, 3, 3, 8, 30, tzinfo=UTC), datetime(2027, 3, 3, 12, 30, tzinfo=UTC)
    shown = re.search(r'id="my-ranges".*?</div>', page, re.S)
    assert shown and TIME_RE.findall(shown.group(0)) == ["2027-03-03T08:30:00Z"]
    starts = _option_starts(page)
    assert starts and all(lo <= s < hi for s in starts)
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and req.search_tz == TZ
        assert all(lo <= o.start and o.end <= hi for o in req.options)
        [rng] = s.scalars(select(CandidateRange)).all()
        assert (rng.start, rng.end) == (lo, hi)
        reply = s.scalar(select(CandidateReply))
        assert reply is not None and reply.state == "offered"
        assert _needs(s, sent.request_id) == {}
    # the ordinary booking path books one of them
    html = _html(client.get(sent.url + "?tz=" + TZ))
    first = re.search(r'name="option" id="opt-(\d+)"', html)
    assert first
    resp = client.post(
        sent.url + "/book", data={**form_of(html), "option": first.group(1), "tz": TZ}
    )
    assert resp.status_code == 303 and "done=1" in resp.headers["Location"]
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and req.status == "booked"


def test_typed_ranges_are_read_shown_and_replaced_on_resubmit(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz=TZ)
    resp = _none(client, sent.url, ranges="Wed 2pm–6pm, Thu after 14:00")
    assert resp.status_code == 303
    with db.session() as s:
        got = [(r.start, r.end) for r in s.scalars(select(CandidateRange).order_by("start"))]
    assert got[0] == (
        datetime(2027, 3, 3, 8, 30, tzinfo=UTC),
        datetime(2027, 3, 3, 12, 30, tzinfo=UTC),
    )
    assert got[1] == (
        datetime(2027, 3, 4, 8, 30, tzinfo=UTC),
        datetime(2027, 3, 4, 16, 30, tzinfo=UTC),
    )
    assert len(got) == 3  # Wed 3, Thu 4 and Wed 10 March
    resp = _none(client, sent.url, ranges="Fri 14-18")
    with db.session() as s:
        assert s.scalar(select(CandidateReply)).text == "Fri 14-18"  # type: ignore[union-attr]
        assert len(s.scalars(select(CandidateRange)).all()) == 1


def test_unreadable_text_names_the_part(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, tz=TZ)
    resp = _none(client, sent.url, ranges="Tue 9-12, sometime soonish")
    html = _html(resp)
    assert resp.status_code == 400 and "sometime soonish" in html and "Tue 9–12" in html
    resp = _none(client, sent.url, ranges="")
    assert resp.status_code == 400 and "Tick the hours" in _html(resp)
    resp = _none(client, sent.url, cell=["2031-01-01T06:00"])
    assert resp.status_code == 400 and "not on the grid" in _html(resp)
    resp = _none(client, sent.url, ranges="x" * 2001)
    assert resp.status_code == 400 and "under 2000" in _html(resp)
    with db.session() as s:
        assert s.scalar(select(CandidateReply)) is None


def test_nothing_fits_tells_both_sides_why(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, tz=TZ)
    resp = _none(client, sent.url, ranges="Wed before 10")  # 00:30-04:30 UTC: nobody works
    html = _html(resp)
    assert resp.status_code == 200 and "No interview fits inside the times you gave" in html
    assert "not working" in html
    assert TIME_RE.findall(html)[:1] == ["2027-03-03T00:30:00Z"]
    with db.session() as s:
        [m] = s.scalars(select(OutboxMail).where(OutboxMail.kind == "candidate_reply")).all()
        assert m.to_addr == "ann@example.com" and "Nothing fits" in m.text_body
        assert _needs(s, sent.request_id) == {sent.request_id: [CANDIDATE_REPLIED]}
    login(client)
    listing = _html(client.get("/requests"))
    assert "candidate replied: needs you" in listing
    detail = _html(client.get(f"/requests/{sent.request_id}"))
    assert 'class="why"' in detail and "working hours" in detail
    token = csrf_of(detail)
    client.post(f"/requests/{sent.request_id}/ranges/dismiss", data={"csrf_token": token})
    assert "candidate replied: needs you" not in _html(client.get("/requests"))


def test_coordinator_sends_the_found_times_in_one_click(
    client: Any, db: Database, company: Any
) -> None:
    _offer_from_ranges(db, False)
    sent = send_request(db, tz=TZ)
    before = {o for o in sent.option_ids}
    resp = _none(client, sent.url, ranges="Wed 14-18")
    html = _html(resp)
    assert resp.status_code == 200 and "will send them to you shortly" in html
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and {o.id for o in req.options} == before  # nothing offered yet
    login(client)
    assert "candidate replied: needs you" in _html(client.get("/requests"))
    detail = _html(client.get(f"/requests/{sent.request_id}"))
    assert "Send these times to the candidate" in detail
    resp = client.post(f"/requests/{sent.request_id}/ranges/send", data={})
    assert resp.status_code == 400  # no CSRF token
    resp = client.post(
        f"/requests/{sent.request_id}/ranges/send", data={"csrf_token": csrf_of(detail)}
    )
    assert resp.status_code == 302
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and req.options
        assert all(_wednesday_afternoon(o.start, o.end) for o in req.options)
        mails = s.scalars(select(OutboxMail).where(OutboxMail.kind == "candidate_ranges_sent"))
        [m] = mails.all()
        assert m.to_addr == req.candidate_email and "/c/" in m.text_body
        audit = s.scalars(select(AuditLog.action)).all()
        assert "candidate_ranges_sent" in audit and "candidate_ranges" in audit
        assert _needs(s, sent.request_id) == {}
    assert "candidate replied: needs you" not in _html(client.get("/requests"))


def test_a_live_request_gets_fixed_times_in_the_ranges_even_past_its_hours(
    client: Any, db: Database, company: Any
) -> None:
    from tests.fixtures.live import make_live

    sent = send_request(db, tz=TZ)
    make_live(db, sent)  # the candidate's hours are 08:00-20:00 on the row
    resp = _none(client, sent.url, ranges="Wed 19-22")  # 13:30-16:30 UTC
    assert resp.status_code == 303
    page = _html(client.get(resp.headers["Location"]))
    assert 'id="zone-notice"' not in page and 'id="live-title"' not in page
    starts = _option_starts(page)
    assert starts and all(s.hour * 60 + s.minute >= 13 * 60 + 30 for s in starts)
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and not req.live and req.search_tz == TZ
        # the candidate's own range wins over the request's 08:00-20:00: some end after 20:00
        assert any(o.end > o.start.replace(hour=14, minute=30) for o in req.options)


def test_too_many_ranges_are_refused(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, tz=TZ)
    text = ", ".join(f"Mon-Sun {h}:00-{h}:30" for h in range(6, 12))  # 6 a day over 8 days
    resp = _none(client, sent.url, ranges=text)
    assert resp.status_code == 400 and "at most 42" in _html(resp)


def test_a_loop_that_cannot_be_searched_says_why(client: Any, db: Database, company: Any) -> None:
    from web.store.models import Interviewer

    sent = send_request(db, tz=TZ)
    with db.session() as s:
        for who in s.scalars(select(Interviewer).where(Interviewer.key.in_(["alice", "bob"]))):
            who.active = False
        s.commit()
    resp = _none(client, sent.url, ranges="Wed 14-18")
    assert resp.status_code == 200 and "not enough interviewers are free" in _html(resp)
    with db.session() as s:
        reply = s.scalar(select(CandidateReply))
        assert reply is not None and reply.state == "nothing"
        assert "System design" in reply.why[0]["detail"]


def test_times_taken_since_are_not_sent(client: Any, db: Database, company: Any) -> None:
    from web.store.models import BusyBlock, CalendarSource, Interviewer

    _offer_from_ranges(db, False)
    sent = send_request(db, tz=TZ)
    _none(client, sent.url, ranges="Wed 14-18")
    with db.session() as s:  # everyone becomes busy on both Wednesdays
        for who in s.scalars(select(Interviewer)):
            src = CalendarSource(interviewer_id=who.id, kind="ics", label="w", url="file:///w")
            s.add(src)
            s.flush()
            for day in (3, 10):
                a, b = datetime(2027, 3, day, 6, tzinfo=UTC), datetime(2027, 3, day, 15, tzinfo=UTC)
                s.add(BusyBlock(interviewer_id=who.id, source_id=src.id, start=a, end=b))
        s.commit()
    login(client)
    detail = _html(client.get(f"/requests/{sent.request_id}"))
    client.post(f"/requests/{sent.request_id}/ranges/send", data={"csrf_token": csrf_of(detail)})
    page = _html(client.get(f"/requests/{sent.request_id}"))
    assert "is still free; nothing was sent" in page
    with db.session() as s:
        kinds = s.scalars(select(OutboxMail.kind)).all()
        assert "candidate_ranges_sent" not in kinds
        assert _needs(s, sent.request_id) == {sent.request_id: [CANDIDATE_REPLIED]}
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and {o.id for o in req.options} == set(sent.option_ids)
