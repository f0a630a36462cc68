"""Scheduling requests: engine preview with the timeline, offer, candidate mail, list,
resend, cancel; candidate links; ownership."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.fixtures.webapp import NOW, get_csrf, login
from web.store.db import Database
from web.store.models import (
    Booking,
    BookingSession,
    Hold,
    Interviewer,
    Loop,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
)


def _loop_id(db: Database, key: str = "onsite") -> int:
    with db.session() as s:
        return s.scalar(select(Loop.id).where(Loop.key == key))  # type: ignore[return-value]


def _request_form(db: Database, **extra: str) -> dict[str, str]:
    data = {
        "candidate_name": "Priya Sharma",
        "candidate_email": "priya@candidate.example",
        "candidate_tz": "Asia/Kolkata",
        "loop": str(_loop_id(db)),
        "date_from": "2027-03-03",
        "date_to": "2027-03-05",
        "hours": "08:00-20:00",
        "note": "See you soon",
    }
    data.update(extra)
    return data


def draft(client: Any, db: Database, **extra: str) -> int:
    token = get_csrf(client, "/requests/new")
    resp = client.post("/requests/new", data={**_request_form(db, **extra), "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    m = re.search(r"/requests/(\d+)/preview", resp.headers["Location"])
    assert m
    return int(m.group(1))


def send(client: Any, rid: int, option_ids: list[int] | None = None) -> Any:
    page = client.get(f"/requests/{rid}/preview").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    if option_ids is None:
        option_ids = [int(x) for x in re.findall(r'name="options" value="(\d+)" checked', page)]
    return client.post(
        f"/requests/{rid}/send", data={"csrf_token": token, "options": [str(i) for i in option_ids]}
    )


def test_new_request_form_defaults(signed_in: Any) -> None:
    page = signed_in.get("/requests/new").get_data(as_text=True)
    assert 'value="2027-03-03"' in page and 'value="2027-03-13"' in page  # today + 2 / + 12
    assert "Backend onsite" in page and 'value="08:00-20:00"' in page


def test_preview_shows_ranked_options_with_timeline(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    with db.session() as s:
        options = s.scalars(
            select(OfferedOption)
            .where(OfferedOption.request_id == rid)
            .order_by(OfferedOption.rank)
        ).all()
        assert options and [o.rank for o in options] == list(range(1, len(options) + 1))
        scores = [o.score for o in options]
        assert scores == sorted(scores, reverse=True)
        assert all(o.start >= NOW + timedelta(hours=24) for o in options)
    # one timeline per card: near-duplicates are folded into their representative's card
    cards = page.count('<section class="option card"')
    assert page.count('<svg class="timeline"') == cards and 0 < cards <= len(options)
    assert page.count('name="options" value=') == len(options)  # every option can be ticked
    # rows: the candidate and each interviewer, labelled with their zone
    assert "Priya Sharma (candidate)" in page and "Asia/Kolkata" in page
    assert 'class="tl-work"' in page and 'class="tl-block"' in page
    assert 'data-axis-zone="' in page  # the axis is in the coordinator's zone
    # default: the top N (5) ticked
    assert page.count("checked>") == min(5, len(options))


def test_default_ticks_spread_over_the_days(signed_in: Any, db: Database) -> None:
    # the top N by score may all sit on the first day; the ticked ones take a day each first
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    ticked = {int(x) for x in re.findall(r'name="options" value="(\d+)" checked', page)}
    kolkata = ZoneInfo("Asia/Kolkata")
    with db.session() as s:
        rows = s.scalars(select(OfferedOption).where(OfferedOption.request_id == rid)).all()
        day = {r.id: r.start.astimezone(kolkata).date() for r in rows}
    assert len({day[i] for i in ticked}) == min(len(ticked), len(set(day.values())))


def test_timeline_labels_local_hours(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    with db.session() as s:
        first = s.scalar(
            select(OfferedOption).where(OfferedOption.request_id == rid, OfferedOption.rank == 1)
        )
        assert first is not None
        slot = first.sessions[0]
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    start = datetime.strptime(slot["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    from zoneinfo import ZoneInfo

    kolkata = start.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M")
    assert f"{slot['name']}: {kolkata}" in page  # the candidate's block titled in their local time


def test_send_offers_chosen_options_and_writes_the_mail(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    with db.session() as s:
        ids = s.scalars(
            select(OfferedOption.id)
            .where(OfferedOption.request_id == rid)
            .order_by(OfferedOption.rank)
        ).all()
    chosen = [ids[0], ids[2]] if len(ids) > 2 else [ids[0]]
    resp = send(signed_in, rid, chosen)
    assert resp.status_code == 302
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None and req.status == "sent" and req.sent_at == NOW
        assert req.expires_at == NOW + timedelta(days=14)
        assert len(req.options) == len(chosen) and [o.rank for o in req.options] == list(
            range(1, len(chosen) + 1)
        )
        holds = s.scalar(select(func.count()).select_from(Hold).where(Hold.request_id == rid))
        assert holds == sum(len(sl["interviewers"]) for o in req.options for sl in o.sessions)
        mail = s.scalar(select(OutboxMail).where(OutboxMail.request_id == rid))
        assert (
            mail is not None
            and mail.to_addr == "priya@candidate.example"
            and mail.status == "pending"
        )
        assert mail.subject == "Schedule your interview: Backend onsite"
        link = re.search(r"(http://panelslot.test/c/\S+)", mail.text_body)
        assert link and "See you soon" in mail.text_body
    detail = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Resend link" in detail and "pending" in detail
    # the page signs a fresh link for the same request (the signature carries a timestamp)
    payload = link.group(1).split(".")[0]
    assert payload in detail


def test_send_without_choosing_is_refused(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    resp = send(signed_in, rid, [])
    assert resp.status_code == 400 and "Choose at least one option" in resp.get_data(as_text=True)


def test_holds_keep_offered_times_from_other_requests(signed_in: Any, db: Database) -> None:
    rid = draft(
        signed_in,
        db,
        loop=str(_loop_id(db, "screen")),
        date_from="2027-03-03",
        date_to="2027-03-03",
    )
    send(signed_in, rid)
    with db.session() as s:
        held = {
            (h.interviewer_id, h.start)
            for h in s.scalars(select(Hold).where(Hold.request_id == rid))
        }
    form = _request_form(db, loop=str(_loop_id(db, "screen")), date_from="2027-03-03")
    form.update(date_to="2027-03-03", csrf_token=get_csrf(signed_in, "/requests/new"))
    resp = signed_in.post("/requests/new", data=form)
    if resp.status_code == 200:  # every time is held: nothing saved; the engine says why
        page = resp.get_data(as_text=True)
        assert '<ul class="why"><li><strong>Pair</strong>' in page
        return
    rid2 = int(resp.headers["Location"].split("/")[-2])
    with db.session() as s:
        for o in s.scalars(select(OfferedOption).where(OfferedOption.request_id == rid2)):
            for sl in o.sessions:
                start = datetime.strptime(sl["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                ids = s.scalars(
                    select(Interviewer.id).where(Interviewer.key.in_(sl["interviewers"]))
                ).all()
                assert not any((i, start) in held for i in ids)


def test_invalid_candidate_zone(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/requests/new")
    resp = signed_in.post(
        "/requests/new", data={**_request_form(db, candidate_tz="India/Delhi"), "csrf_token": token}
    )
    assert resp.status_code == 400 and "is not a known time zone" in resp.get_data(as_text=True)


def test_bad_dates_and_hours(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/requests/new")
    resp = signed_in.post(
        "/requests/new",
        data={**_request_form(db, date_to="2027-03-01", hours="20:00-08:00"), "csrf_token": token},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "the end date is before the start date" in body
    assert "the end must be after the start" in body


def test_bad_email(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/requests/new")
    resp = signed_in.post(
        "/requests/new", data={**_request_form(db, candidate_email="priya"), "csrf_token": token}
    )
    assert resp.status_code == 400 and "is not an e-mail address" in resp.get_data(as_text=True)


def test_pool_emptied_by_deactivation_is_explained(signed_in: Any, db: Database) -> None:
    with db.session() as s:
        for key in ("bob", "eli"):
            s.scalar(select(Interviewer).where(Interviewer.key == key)).active = False  # type: ignore[union-attr]
    token = get_csrf(signed_in, "/requests/new")
    resp = signed_in.post(
        "/requests/new",
        data={**_request_form(db, loop=str(_loop_id(db, "screen"))), "csrf_token": token},
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "session &#39;Pair&#39; of loop &#39;Phone screen&#39; needs 2 interviewer(s)" in body
    assert "but its pool has 0 active" in body


def test_no_options_says_what_to_do(signed_in: Any, db: Database) -> None:
    # a Saturday-Sunday window: nobody works; nothing is saved and the form stays filled
    form = _request_form(db, date_from="2027-03-06", date_to="2027-03-07")
    resp = signed_in.post(
        "/requests/new", data={**form, "csrf_token": get_csrf(signed_in, "/requests/new")}
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "No time fits everyone in this window" in page
    assert 'value="2027-03-06"' in page and 'value="Priya Sharma"' in page
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SchedulingRequest)) == 0


def test_candidate_link_opens_and_marks_opened(signed_in: Any, db: Database, app: Any) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        body = s.scalar(select(OutboxMail.text_body).where(OutboxMail.request_id == rid))
    path = re.search(r"http://panelslot.test(/c/\S+)", body).group(1)  # type: ignore[arg-type,union-attr]
    anon = app.test_client()
    page = anon.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Priya Sharma" in text and "Times shown in" in text and "UTC+05:30" in text
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None and req.status == "opened" and req.opened_at == NOW


def test_tampered_link_is_a_friendly_page(client: Any, company: dict[str, int]) -> None:
    resp = client.get("/c/not-a-real-token")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "This link is not valid" in body and "Traceback" not in body


def test_cancel_revokes_the_link_and_tells_the_candidate(
    signed_in: Any, db: Database, app: Any
) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        body = s.scalar(select(OutboxMail.text_body).where(OutboxMail.request_id == rid))
    path = re.search(r"http://panelslot.test(/c/\S+)", body).group(1)  # type: ignore[arg-type,union-attr]
    token = get_csrf(signed_in, f"/requests/{rid}")
    assert signed_in.post(f"/requests/{rid}/cancel", data={"csrf_token": token}).status_code == 302
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None and req.status == "cancelled"
        assert s.scalar(select(func.count()).select_from(Hold).where(Hold.request_id == rid)) == 0
        kinds = s.scalars(
            select(OutboxMail.kind).where(OutboxMail.request_id == rid).order_by(OutboxMail.id)
        ).all()
        assert kinds == ["candidate_link", "request_cancelled"]
    resp = app.test_client().get(path)
    assert resp.status_code in (400, 410)
    assert "This link was replaced" in resp.get_data(as_text=True) or "cancelled" in resp.get_data(
        as_text=True
    )
    # a cancelled request cannot be resent
    resp = signed_in.post(
        f"/requests/{rid}/resend", data={"csrf_token": token}, follow_redirects=True
    )
    assert "A cancelled request cannot be resent." in resp.get_data(as_text=True)


def test_expired_link(signed_in: Any, db: Database, app: Any) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        body = s.scalar(select(OutboxMail.text_body).where(OutboxMail.request_id == rid))
        s.get(SchedulingRequest, rid).expires_at = NOW - timedelta(minutes=1)  # type: ignore[union-attr]
    path = re.search(r"http://panelslot.test(/c/\S+)", body).group(1)  # type: ignore[arg-type,union-attr]
    resp = app.test_client().get(path)
    assert resp.status_code == 410 and "This link has expired" in resp.get_data(as_text=True)
    assert "ann@example.com" in resp.get_data(as_text=True)


def test_resend_queues_a_second_mail(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    token = get_csrf(signed_in, f"/requests/{rid}")
    assert signed_in.post(f"/requests/{rid}/resend", data={"csrf_token": token}).status_code == 302
    with db.session() as s:
        subjects = s.scalars(
            select(OutboxMail.subject).where(OutboxMail.request_id == rid).order_by(OutboxMail.id)
        ).all()
    assert subjects == [
        "Schedule your interview: Backend onsite",
        "Reminder: Schedule your interview: Backend onsite",
    ]


def test_another_coordinators_request_is_not_found(signed_in: Any, db: Database, app: Any) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    other = app.test_client()
    assert login(other, email="zed@example.com").status_code == 302
    for url in (f"/requests/{rid}", f"/requests/{rid}/preview"):
        assert other.get(url).status_code == 404, url
    token = get_csrf(other, "/requests")
    for url in (f"/requests/{rid}/cancel", f"/requests/{rid}/resend", f"/requests/{rid}/send"):
        assert other.post(url, data={"csrf_token": token}).status_code == 404, url
    assert "Priya Sharma" not in other.get("/requests").get_data(as_text=True)
    with db.session() as s:
        assert s.get(SchedulingRequest, rid).status == "sent"  # type: ignore[union-attr]


def test_list_shows_status_and_booked_times_in_both_zones(
    signed_in: Any, db: Database, company: dict[str, int]
) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        opt = req.options[0]
        booking = Booking(request_id=rid, option_id=opt.id, status="confirmed", created_at=NOW)
        s.add(booking)
        s.flush()
        for sl in opt.sessions:
            iid = s.scalar(select(Interviewer.id).where(Interviewer.key == sl["interviewers"][0]))
            s.add(
                BookingSession(
                    booking_id=booking.id,
                    interviewer_id=iid,
                    session_name=sl["name"],
                    start=datetime.strptime(sl["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
                    end=datetime.strptime(sl["end"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
                )
            )
        req.status = "booked"
        first = opt.start
    page = signed_in.get("/requests").get_data(as_text=True)
    from zoneinfo import ZoneInfo

    assert "s-booked" in page
    assert first.astimezone(ZoneInfo("Europe/London")).strftime("%a %d %b %Y, %H:%M") in page
    assert (
        first.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%a %d %b %Y, %H:%M") + " Asia/Kolkata"
        in page
    )
    assert "booked" in signed_in.get("/requests?status=booked").get_data(as_text=True)
    assert "No requests with status expired" in signed_in.get("/requests?status=expired").get_data(
        as_text=True
    )
    detail = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Booked" in detail and "Your zone (Europe/London)" in detail


def test_worker_delivers_and_expires(signed_in: Any, db: Database, app: Any, tmp_path: Any) -> None:
    from web.domain.worker import Worker, build_mailer

    rid = draft(signed_in, db)
    send(signed_in, rid)
    settings = app.extensions["panelslot.settings"]
    clock = [NOW]
    worker = Worker(settings, db, build_mailer(settings), clock=lambda: clock[0])
    worker.poll()
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    with db.session() as s:
        assert s.scalar(select(OutboxMail.status)) == "sent"
    clock[0] = NOW + timedelta(days=15)
    worker.expire()
    with db.session() as s:
        assert s.get(SchedulingRequest, rid).status == "expired"  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(Hold)) == 0


def test_audit_log_records_who_did_what(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    page = signed_in.get("/audit").get_data(as_text=True)
    assert (
        "coordinator:ann@example.com" in page
        and "request_sent" in page
        and "request_drafted" in page
    )


def test_timeline_shows_calendar_busy_time(signed_in: Any, db: Database) -> None:
    from web.store.models import BusyBlock, CalendarSource

    rid = draft(signed_in, db)
    with db.session() as s:
        first = s.scalar(
            select(OfferedOption).where(OfferedOption.request_id == rid, OfferedOption.rank == 1)
        )
        assert first is not None
        key = first.sessions[0]["interviewers"][0]
        who = s.scalar(select(Interviewer).where(Interviewer.key == key))
        assert who is not None
        src = CalendarSource(interviewer_id=who.id, kind="ics", label="cal", url="/x.ics")
        s.add(src)
        s.flush()
        # busy an hour before the option starts
        s.add(
            BusyBlock(
                interviewer_id=who.id,
                source_id=src.id,
                start=first.start - timedelta(hours=2),
                end=first.start - timedelta(hours=1),
            )
        )
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    assert f"{who.name} busy" in page and 'class="tl-busy"' in page
