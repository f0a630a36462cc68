"""The candidate's pages through the Flask test client: every bad link and bad form case,
zones, booking, reschedule, cancel, "none of these work", the .ics download, and the
coordinator's reschedule/cancel."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import icalendar
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from integrations.mail import MemoryMailer
from tests.fixtures.booking import form_of, interviewer_id, request_row, send_request
from tests.fixtures.webapp import NOW, SECRET, csrf_of, login
from web.domain import services
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import (
    Booking,
    BusyBlock,
    CalendarSource,
    JobRequest,
    Loop,
    OutboxMail,
    SchedulingRequest,
)


def _html(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def _no_traceback(html: str) -> None:
    assert "Traceback" not in html and 'File "' not in html


def _option(db: Database, sent: Any, idx: int = 0) -> Any:
    req = request_row(db, sent.request_id)
    return services.stored_option(next(o for o in req.options if o.id == sent.option_ids[idx]))


# ---------------------------------------------------------------- bad links


def test_tampered_link(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    for token in (sent.token[:-3] + "abc", "not-a-token", sent.token.replace(".", "", 1)):
        resp = client.get(f"/c/{token}")
        html = _html(resp)
        assert resp.status_code == 400
        assert "This link is not valid" in html and "Copy the whole link" in html
        _no_traceback(html)


def test_link_signed_too_long_ago(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 30 * 86400

    ser = URLSafeTimedSerializer(SECRET, salt="panelslot.candidate-link", signer=OldSigner)
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        token = ser.dumps({"r": req.id, "n": req.token_nonce})
    resp = client.get(f"/c/{token}")
    assert resp.status_code == 410
    assert "This link has expired" in _html(resp)


def test_offer_past_its_expiry(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    with db.session() as s:
        s.get(SchedulingRequest, sent.request_id).expires_at = NOW - timedelta(minutes=1)
    resp = client.get(sent.url)
    assert resp.status_code == 410 and "This link has expired" in _html(resp)
    assert "ann@example.com" in _html(resp)


def test_replaced_link(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    with db.session() as s:
        s.get(SchedulingRequest, sent.request_id).token_nonce = services.new_nonce()
    resp = client.get(sent.url)
    assert resp.status_code == 400 and "This link was replaced" in _html(resp)


def test_link_of_a_request_the_coordinator_cancelled(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db)
    login(client)
    with db.session() as s:
        rid = s.get(SchedulingRequest, sent.request_id).id
    page = client.get(f"/requests/{rid}")
    resp = client.post(f"/requests/{rid}/cancel", data={"csrf_token": csrf_of(_html(page))})
    assert resp.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_of(_html(client.get("/requests")))})
    resp = client.get(sent.url)
    assert resp.status_code == 410
    assert "was cancelled" in _html(resp)


def test_draft_request_link(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    with db.session() as s:
        s.get(SchedulingRequest, sent.request_id).status = "draft"
    resp = client.get(sent.url)
    assert resp.status_code == 400 and "not active yet" in _html(resp)


def test_unknown_paths_and_methods(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    assert client.get(sent.url + "/book").status_code == 405
    resp = client.get(sent.url + "/interview.ics")
    assert resp.status_code == 404 and "Nothing is booked yet" in _html(resp)


# ---------------------------------------------------------------- the offer page


def test_offer_grouped_by_day_in_the_candidates_zone(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz="Asia/Kolkata")
    resp = client.get(sent.url)
    html = _html(resp)
    assert resp.status_code == 200
    assert 'Times shown in <strong id="zone-name">Asia/Kolkata, UTC+05:30</strong>' in html
    opt = _option(db, sent)
    local = opt.start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata"))
    assert local.strftime("%A %d %B %Y") in html
    assert f"{local:%H:%M}–" in html
    assert 'data-auto-tz="1"' in html
    with db.session() as s:
        assert s.get(SchedulingRequest, sent.request_id).status == "opened"


def test_zone_from_the_picker_and_a_bad_zone(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, tz="Asia/Kolkata")
    opt = _option(db, sent)
    resp = client.get(sent.url + "?tz=America/Los_Angeles")
    html = _html(resp)
    la = opt.start.astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles"))
    assert "America/Los_Angeles, UTC-08:00" in html
    assert f"{la:%H:%M}–" in html and 'data-auto-tz="1"' not in html
    resp = client.get(sent.url + "?tz=Mars/Olympus_Mons")
    html = _html(resp)
    assert resp.status_code == 200
    assert "Unknown time zone" in html and "Asia/Kolkata, UTC+05:30" in html


def test_without_candidate_zone_the_coordinators_zone_is_used(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz=None)
    html = _html(client.get(sent.url))
    assert "Europe/London, UTC+00:00" in html


def test_stale_options_are_not_offered(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    opt = _option(db, sent, 0)
    slot = opt.sessions[0]
    who = interviewer_id(db, slot.interviewers[0])
    with db.session() as s:
        src = CalendarSource(interviewer_id=who, kind="ics", label="w", url="file:///w.ics")
        s.add(src)
        s.flush()
        s.add(BusyBlock(interviewer_id=who, source_id=src.id, start=slot.start, end=slot.end))
    html = _html(client.get(sent.url))
    assert f'value="{sent.option_ids[0]}"' not in html
    assert f'value="{sent.option_ids[1]}"' in html


def test_offer_page_reads_the_database_twice(client: Any, db: Database, company: Any) -> None:
    """The request with its coordinator, loop and options in one query; busy time and
    bookings of the options' interviewers in another (a booking made meanwhile still counts)."""
    from sqlalchemy import event

    sent = send_request(db)
    client.get(sent.url)  # sent -> opened (a write)
    other = send_request(db, email="other@example.org", options=[_option(db, sent, 0)])
    from web.domain import booking

    booking.book(
        db,
        other.request_id,
        other.option_ids[0],
        idempotency_key="other-key-0123456789",
        candidate_tz=None,
        now=NOW,
        policy=booking.BookingPolicy(),
    )
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        html = _html(client.get(sent.url))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(seen) == 2, seen
    assert f'value="{sent.option_ids[0]}"' not in html  # taken by the other booking
    assert f'value="{sent.option_ids[1]}"' in html


def test_fresh_options_when_every_offered_one_went_stale(
    app: Any, client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, limit=1)
    opt = _option(db, sent, 0)
    with db.session() as s:
        for sl in opt.sessions:
            for key in sl.interviewers:
                who = interviewer_id(db, key)
                src = CalendarSource(interviewer_id=who, kind="ics", label="w", url="file:///w")
                s.add(src)
                s.flush()
                s.add(BusyBlock(interviewer_id=who, source_id=src.id, start=sl.start, end=sl.end))
    html = _html(client.get(sent.url))
    assert f'value="{sent.option_ids[0]}"' not in html and 'name="option"' not in html
    assert "looking for new times" in html and 'http-equiv="refresh"' in html
    client.get(sent.url)  # a reload does not queue the search twice
    with db.session() as s:
        jobs = s.scalars(select(JobRequest).where(JobRequest.kind == "refresh_options")).all()
    assert len(jobs) == 1
    # the worker runs the engine and offers fresh times
    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(sender="x@y.z"))
    worker.clock = lambda: NOW
    assert worker.run_jobs() == 1
    html = _html(client.get(sent.url))
    assert 'name="option"' in html, "fresh options from the engine are offered"
    assert "looking for new times" not in html
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert s.scalars(select(JobRequest.status)).all() == ["done"]


# ---------------------------------------------------------------- booking forms


def test_book_then_confirmation_then_double_submit(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    data = {**form, "option": str(sent.option_ids[0]), "tz": "Asia/Kolkata"}
    resp = client.post(sent.url + "/book", data=data)
    assert resp.status_code == 303
    assert "done=1" in resp.headers["Location"] and "tz=Asia/Kolkata" in resp.headers["Location"]
    again = client.post(sent.url + "/book", data=data)
    assert again.status_code == 303
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 1
    html = _html(client.get(resp.headers["Location"]))
    assert "You are booked" in html
    opt = _option(db, sent)
    k = __import__("zoneinfo").ZoneInfo("Asia/Kolkata")
    for sl in opt.sessions:
        a = sl.start.astimezone(k)
        assert f"{a:%A %d %B %Y, %H:%M}–{sl.end.astimezone(k):%H:%M}" in html
    assert "calendar.google.com/calendar/render" in html
    ics = client.get(sent.url + "/interview.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(ics.data)
    assert cal["METHOD"] == "PUBLISH"
    events = list(cal.walk("VEVENT"))
    assert sorted(e.decoded("DTSTART") for e in events) == [sl.start for sl in opt.sessions]


def test_bad_booking_forms(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    other = send_request(db, email="x@example.org", hold=False)
    form = form_of(_html(client.get(sent.url)))
    cases = [
        ({**form}, 400, "Choose one of the times first"),
        ({**form, "option": "abc"}, 400, "Choose one of the times first"),
        ({**form, "option": "1" * 30}, 400, "Choose one of the times first"),
        ({**form, "option": str(other.option_ids[0])}, 400, "not one of the options"),
        ({**form, "option": "987654"}, 400, "not one of the options"),
        ({**form, "option": str(sent.option_ids[0]), "idem": ""}, 400, "form was incomplete"),
        ({**form, "option": str(sent.option_ids[0]), "idem": "x" * 200}, 400, "incomplete"),
        ({"option": str(sent.option_ids[0]), "idem": form["idem"]}, 400, "The form expired"),
    ]
    for data, code, text in cases:
        resp = client.post(sent.url + "/book", data=data)
        html = _html(resp)
        assert resp.status_code == code, (data, resp.status_code)
        assert text in html, (data, html[-2000:])
        _no_traceback(html)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 0


def test_taken_time_shows_fresh_options(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, hold=False)
    opt = _option(db, sent, 0)
    rival = send_request(db, email="rival@example.org", options=[opt], hold=False)
    form = form_of(_html(client.get(sent.url)))
    from web.domain import booking

    booking.book(
        db,
        rival.request_id,
        rival.option_ids[0],
        idempotency_key="rival-key-0123456789",
        candidate_tz=None,
        now=NOW,
        policy=booking.BookingPolicy(),
    )
    resp = client.post(
        sent.url + "/book", data={**form, "option": str(sent.option_ids[0]), "tz": "Asia/Kolkata"}
    )
    html = _html(resp)
    assert resp.status_code == 409
    assert "that time was just taken" in html
    assert f'value="{sent.option_ids[0]}"' not in html and 'name="option"' in html
    assert request_row(db, sent.request_id).status == "opened"


def test_reschedule_and_cancel_from_the_link(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    page = client.get(sent.url + "/reschedule?tz=Asia/Kolkata")
    html = _html(page)
    assert page.status_code == 200 and "Choose a new time" in html
    assert f'value="{sent.option_ids[0]}"' not in html, "the booked time is not offered again"
    form = form_of(html)
    resp = client.post(
        sent.url + "/reschedule",
        data={**form, "option": str(sent.option_ids[1]), "tz": "Asia/Kolkata"},
    )
    assert resp.status_code == 303
    req = request_row(db, sent.request_id)
    assert req.status == "rescheduled" and [b.status for b in req.bookings] == [
        "replaced",
        "confirmed",
    ]
    # moving to the time already held is refused
    resp = client.post(
        sent.url + "/reschedule",
        data={
            **form_of(_html(client.get(sent.url + "/reschedule"))),
            "option": str(sent.option_ids[1]),
        },
    )
    assert resp.status_code == 400 and "already have" in _html(resp)
    booked = _html(client.get(sent.url))
    resp = client.post(sent.url + "/cancel", data={"csrf_token": csrf_of(booked)})
    assert resp.status_code == 400 and "Tick the box" in _html(resp)
    resp = client.post(
        sent.url + "/cancel",
        data={"csrf_token": csrf_of(booked), "confirm": "yes", "reason": "r" * 2001},
    )
    assert resp.status_code == 400 and "too long" in _html(resp)
    resp = client.post(
        sent.url + "/cancel",
        data={"csrf_token": csrf_of(booked), "confirm": "yes", "reason": "Sorry"},
    )
    assert resp.status_code == 200 and "Your interview is cancelled" in _html(resp)
    resp = client.get(sent.url)
    assert resp.status_code == 410 and "cancelled" in _html(resp)
    resp = client.post(sent.url + "/cancel", data={"csrf_token": csrf_of(booked), "confirm": "yes"})
    assert resp.status_code == 410


def test_changes_closed_after_the_cut_off(
    app: Any, client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    start = _option(db, sent).start
    token = csrf_of(_html(client.get(sent.url)))
    app.config["PANELSLOT_NOW"] = start - timedelta(hours=3)
    html = _html(client.get(sent.url))
    assert "Changes online close 24 hours before" in html and "Choose another time" not in html
    resp = client.get(sent.url + "/reschedule")
    assert resp.status_code == 409 and "24 hours before" in _html(resp)
    resp = client.post(sent.url + "/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert resp.status_code == 409 and "24 hours before" in _html(resp)
    assert request_row(db, sent.request_id).status == "booked"


def test_none_of_these_work(client: Any, db: Database, company: Any) -> None:
    with db.session() as s:
        s.execute(update(Loop).values(offer_from_ranges=False))
        s.commit()
    sent = send_request(db)
    html = _html(client.get(sent.url))
    token = csrf_of(html)
    resp = client.post(sent.url + "/none", data={"csrf_token": token, "ranges": " "})
    assert resp.status_code == 400 and "Tick the hours" in _html(resp)
    resp = client.post(sent.url + "/none", data={"csrf_token": token, "ranges": "x" * 2001})
    assert resp.status_code == 400 and "under 2000" in _html(resp)
    resp = client.post(
        sent.url + "/none",
        data={"csrf_token": token, "ranges": "Fridays after 15:00", "tz": "Asia/Kolkata"},
    )
    assert resp.status_code == 200 and "will send them to you shortly" in _html(resp)
    with db.session() as s:
        [m] = s.scalars(select(OutboxMail).where(OutboxMail.kind == "candidate_reply")).all()
    assert m.to_addr == "ann@example.com" and "Fridays after 15:00" in m.text_body
    assert "Fridays after 15:00" in request_row(db, sent.request_id).candidate_reply


# ---------------------------------------------------------------- coordinator side


def test_coordinator_reschedules_and_cancels(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    from web.domain import booking

    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="coord-side-key-000001",
        candidate_tz=None,
        now=NOW,
        policy=booking.BookingPolicy(),
    )
    login(client)
    detail = _html(client.get(f"/requests/{sent.request_id}"))
    assert f"/requests/{sent.request_id}/reschedule" in detail
    page = client.get(f"/requests/{sent.request_id}/reschedule")
    html = _html(page)
    assert page.status_code == 200 and "Move the interview" in html
    resp = client.post(
        f"/requests/{sent.request_id}/reschedule", data={"csrf_token": csrf_of(html)}
    )
    assert resp.status_code == 400
    resp = client.post(
        f"/requests/{sent.request_id}/reschedule",
        data={
            "csrf_token": csrf_of(html),
            "idem": form_of(html)["idem"],
            "option": str(sent.option_ids[2]),
        },
    )
    assert resp.status_code == 302
    req = request_row(db, sent.request_id)
    assert req.status == "rescheduled" and req.bookings[-1].sequence == 1
    # another coordinator cannot see it
    client.post("/logout", data={"csrf_token": csrf_of(_html(client.get("/requests")))})
    login(client, "zed@example.com")
    assert client.get(f"/requests/{sent.request_id}/reschedule").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_of(_html(client.get("/requests")))})
    login(client)
    detail = _html(client.get(f"/requests/{sent.request_id}"))
    client.post(f"/requests/{sent.request_id}/cancel", data={"csrf_token": csrf_of(detail)})
    with db.session() as s:
        cancels = s.scalars(select(OutboxMail).where(OutboxMail.kind == "invite_cancel")).all()
    assert cancels and all(
        m.ics_method == ("PUBLISH" if m.to_addr == "priya@example.org" else "CANCEL")
        for m in cancels
    )  # the candidate's itinerary is withdrawn as a whole (STATUS:CANCELLED)
    assert request_row(db, sent.request_id).status == "cancelled"


def test_candidate_mails_carry_their_page_link(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    with db.session() as s:
        mails = s.scalars(select(OutboxMail).where(OutboxMail.to_addr == "priya@example.org")).all()
    invites = [m for m in mails if m.kind == "invite"]
    reminders = [m for m in mails if m.kind == "reminder"]
    assert invites and reminders
    link = f"http://panelslot.test/c/{sent.token}"
    assert all(link in m.text_body for m in invites + reminders)
    staff = [m for m in mails if m.to_addr != "priya@example.org"]
    assert not any(sent.token in m.text_body for m in staff)


def test_interviewer_names_hidden_when_the_loop_says_so(
    client: Any, db: Database, company: Any
) -> None:
    from web.store.models import Loop

    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        loop.show_interviewer_names = False
    sent = send_request(db)
    html = _html(client.get(sent.url))
    for name in ("Alice Okafor", "Bob Lindqvist", "Devi Raman", "Eli Goldberg"):
        assert name not in html
    form = form_of(html)
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    html = _html(client.get(sent.url))
    assert "Your interview" in html
    for name in ("Alice Okafor", "Bob Lindqvist", "Devi Raman", "Eli Goldberg"):
        assert name not in html
    with db.session() as s:
        mine = s.scalars(
            select(OutboxMail).where(
                OutboxMail.to_addr == "priya@example.org", OutboxMail.kind == "invite"
            )
        ).all()
    for m in mine:
        assert "alice@example.com" not in (m.ics or "") and "bob@example.com" not in (m.ics or "")


def test_old_link_still_reaches_a_booked_interview(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 30 * 86400

    ser = URLSafeTimedSerializer(SECRET, salt="panelslot.candidate-link", signer=OldSigner)
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        old = ser.dumps({"r": req.id, "n": req.token_nonce})
        forged = URLSafeTimedSerializer("another-secret-key-0123456789", salt="x").dumps(
            {"r": req.id, "n": req.token_nonce}
        )
    resp = client.get(f"/c/{old}")
    assert resp.status_code == 200 and "Your interview" in _html(resp)
    resp = client.get(f"/c/{forged}")
    assert resp.status_code == 400 and "This link is not valid" in _html(resp)
