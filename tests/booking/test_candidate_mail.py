"""Mail a candidate can act on: the invitation states the loop, its sessions, the
candidate's zone and the link's expiry in it, from the coordinator's name; a multi-session
loop sends one itinerary whose .ics agrees with the confirmation page to the second; every
candidate mail writes times in the candidate's stored zone and clock."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, date, datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from integrations.mail import SMTPMailer, build_message
from tests.fixtures.booking import form_of, policy, request_row, send_request
from tests.fixtures.webapp import NOW
from tests.integrations.smtp_server import SMTPTestServer
from web.domain import booking, services
from web.domain.outbox import outgoing
from web.domain.worker import deliver_due
from web.domain.zonetext import utc_stamp, zone_display
from web.store.db import Database
from web.store.models import OutboxMail, SchedulingRequest

CANDIDATE = "priya@example.org"
SENDER = "panelslot@example.com"


def _html_text(markup: str) -> str:
    """What a reader sees in the HTML part: tags gone, entities read, spaces collapsed."""
    text = re.sub(r"<br>|</p>", "\n", markup)
    return re.sub(r"[ \t]+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", text)))


def _invitation(db: Database, sent: Any, **fields: Any) -> OutboxMail:
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None
        for name, value in fields.items():
            setattr(req, name, value)
        mail = services.candidate_mail(req, "http://panelslot.test/c/tok", "Ann Example")
        mail.created_at = NOW
        s.add(mail)
        s.commit()
        s.refresh(mail)
        s.expunge(mail)
        return mail


@pytest.mark.parametrize(
    ("fields", "zone", "expiry"),
    [
        # the coordinator's guess (Los Angeles): the US clocks moved on 14 March
        ({}, "America/Los_Angeles", "Monday 15 March 2027, 02:00 (UTC-07:00)"),
        # the zone the candidate's browser reported, a :45 one
        ({"candidate_zone": "Asia/Kathmandu"}, "Asia/Kathmandu", "Monday 15 March 2027, 14:45"),
        (
            {"candidate_zone": "Asia/Kathmandu", "candidate_locale": "en_US"},
            "Asia/Kathmandu",
            "Monday, March 15, 2027, 2:45 PM (UTC+05:45)",
        ),
    ],
)
def test_the_invitation_states_what_the_candidate_needs(
    db: Database, company: Any, fields: dict[str, str], zone: str, expiry: str
) -> None:
    sent = send_request(db, tz="America/Los_Angeles")  # the link expires NOW + 14 days
    mail = _invitation(db, sent, **fields)
    expires = request_row(db, sent.request_id).expires_at
    assert expires == datetime(2027, 3, 15, 9, 0, tzinfo=UTC)
    facts = [
        "Backend onsite",
        "System design, 60 minutes",
        "Coding, 45 minutes",
        f"Your time zone: {zone_display(zone, expires)}, {zone}",
        f"It works until {expiry}",
        "http://panelslot.test/c/tok",
        "Ann Example invites you",
    ]
    assert mail.html_body is not None
    shown = _html_text(mail.html_body)
    for fact in facts:
        assert fact in mail.text_body, fact
        assert fact in shown, fact
    assert "UTC" not in expiry or "09:00" not in mail.text_body  # not the UTC wall time
    msg = build_message(outgoing(mail), date=NOW, sender=SENDER)
    assert parseaddr(str(msg["From"])) == ("Ann Example", SENDER)
    assert str(msg["Reply-To"]) == "ann@example.com"


def test_a_live_request_invitation_names_no_guessed_zone(db: Database, company: Any) -> None:
    sent = send_request(db, tz="America/Los_Angeles")
    mail = _invitation(db, sent, candidate_tz=None, live=True)
    assert "Your time zone:" not in mail.text_body
    assert "your own time zone" in mail.text_body
    coord_zone = f"{zone_display('Europe/London', NOW)}, Europe/London"
    assert f"Monday 15 March 2027, 09:00 (UTC+00:00), {coord_zone}" in mail.text_body


# ------------------------------------------------------------------ the itinerary

TIME_RE = re.compile(
    r'<span class="range" data-end="([^"]+)"[^>]*><time datetime="([^"]+)">([^<]+)</time>'
)


def _candidate_mails(db: Database, kind: str) -> list[OutboxMail]:
    with db.session() as s:
        q = select(OutboxMail).where(OutboxMail.to_addr == CANDIDATE, OutboxMail.kind == kind)
        return list(s.scalars(q.order_by(OutboxMail.id)))


def _events(ics: str | bytes) -> tuple[str, list[Any]]:
    cal = icalendar.Calendar.from_ical(ics)
    events = sorted(cal.walk("VEVENT"), key=lambda ev: ev.decoded("DTSTART"))
    return str(cal["METHOD"]), events


def _booked_times(page: str) -> list[tuple[str, str, str]]:
    """(start, end, local text) of each session on the confirmation page."""
    part = page[page.index('class="booked-sessions"') :]
    part = part[: part.index("</ol>")]
    return [(start, end, text) for end, start, text in TIME_RE.findall(part)]


@pytest.mark.parametrize(
    ("zone", "date_from", "date_to"),
    [
        ("America/Los_Angeles", date(2027, 3, 12), date(2027, 3, 17)),  # across 14 March
        ("Asia/Kathmandu", date(2027, 3, 3), date(2027, 3, 10)),  # UTC+05:45
    ],
)
def test_one_itinerary_agrees_with_the_confirmation_page(
    client: Any, db: Database, company: Any, zone: str, date_from: date, date_to: date
) -> None:
    sent = send_request(db, tz=zone, date_from=date_from, date_to=date_to, limit=40)
    pick = sent.option_ids[-1]  # the last: after the US change in the first case
    form = form_of(client.get(sent.url).get_data(as_text=True))
    resp = client.post(sent.url + "/book", data={**form, "option": str(pick), "tz": zone})
    assert resp.status_code in (302, 303)
    page = client.get(sent.url + f"?tz={zone}").get_data(as_text=True)
    shown = _booked_times(page)
    assert len(shown) == 2  # two sessions
    [mail] = _candidate_mails(db, "invite")
    assert mail.ics is not None and mail.ics_method == "PUBLISH"
    method, events = _events(mail.ics)
    assert method == "PUBLISH" and len(events) == 2
    b = request_row(db, sent.request_id).bookings[0]
    assert {str(ev["UID"]) for ev in events} == {bs.uid for bs in b.sessions}
    for ev, (start, end, text) in zip(events, shown, strict=True):
        assert utc_stamp(ev.decoded("DTSTART")) == start  # to the second
        assert utc_stamp(ev.decoded("DTEND")) == end
        assert int(ev["SEQUENCE"]) == 0 and "ATTENDEE" not in ev
        assert text in mail.text_body  # the mail's local times are the page's
    line = f"Times are in your time zone: {zone_display(zone, b.sessions[0].start)}, {zone}."
    assert line in mail.text_body
    if zone == "America/Los_Angeles":
        assert "(UTC-07:00)" in mail.text_body  # the booked day is past the change
    else:
        assert "(UTC+05:45)" in mail.text_body
    download = client.get(sent.url + "/interview.ics")
    _, again = _events(download.get_data())
    assert [(str(e["UID"]), e.decoded("DTSTART")) for e in again] == [
        (str(e["UID"]), e.decoded("DTSTART")) for e in events
    ]  # "Add to calendar" is the same file
    _reschedule_and_cancel(db, sent, pick, events)


def _reschedule_and_cancel(db: Database, sent: Any, booked: int, first: list[Any]) -> None:
    other = next(o for o in sent.option_ids if o != booked)
    booking.reschedule(
        db,
        sent.request_id,
        other,
        idempotency_key="move-it-0123456789",
        candidate_tz=None,
        now=NOW,
        policy=policy(),
    )
    _, moved = _events(_candidate_mails(db, "invite")[-1].ics or "")
    assert {str(e["UID"]) for e in moved} == {str(e["UID"]) for e in first}
    assert all(int(e["SEQUENCE"]) == 1 for e in moved)
    booking.cancel(db, sent.request_id, now=NOW, policy=policy())
    [cancel] = _candidate_mails(db, "invite_cancel")
    method, gone = _events(cancel.ics or "")
    assert method == "PUBLISH" and cancel.ics_method == "PUBLISH"
    assert {str(e["UID"]) for e in gone} == {str(e["UID"]) for e in first}
    assert all(int(e["SEQUENCE"]) == 2 and str(e["STATUS"]) == "CANCELLED" for e in gone)
    with db.session() as s:
        staff = s.scalars(
            select(OutboxMail).where(
                OutboxMail.kind == "invite_cancel", OutboxMail.to_addr != CANDIDATE
            )
        ).all()
    assert staff and all(m.ics_method == "CANCEL" for m in staff)  # one CANCEL per session


def test_a_one_session_loop_keeps_its_request(client: Any, db: Database, company: Any) -> None:
    sent = send_request(db, loop_key="screen", tz="Asia/Kolkata")
    form = form_of(client.get(sent.url).get_data(as_text=True))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    [mail] = _candidate_mails(db, "invite")
    method, events = _events(mail.ics or "")
    assert method == "REQUEST" and len(events) == 1


# ------------------------------------------------- the candidate's zone and clock


def test_candidate_mails_use_the_detected_zone_and_locale(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz="Asia/Kolkata")  # planned for Kolkata
    page = client.get(
        sent.url + "?tz=America/New_York", headers={"Accept-Language": "en-US,en;q=0.8"}
    )
    assert page.status_code == 200
    req = request_row(db, sent.request_id)
    assert req.candidate_zone == "America/New_York" and req.candidate_locale == "en_US"
    form = form_of(page.get_data(as_text=True))
    client.post(
        sent.url + "/book",
        data={**form, "option": str(sent.option_ids[0]), "tz": "America/New_York"},
        headers={"Accept-Language": "en-US"},
    )
    name = f"{zone_display('America/New_York', NOW)}, America/New_York"
    mails = _candidate_mails(db, "invite") + _candidate_mails(db, "reminder")
    assert len(mails) == 3  # the itinerary and two reminders
    for m in mails:
        assert f"Times are in your time zone: {name}." in m.text_body, m.text_body
        assert re.search(r"\d{1,2}:\d{2} [AP]M", m.text_body), m.text_body  # en-US clock
        assert "Asia/Kolkata" not in m.text_body
        assert m.from_name == "Ann" and m.reply_to == "ann@example.com"
    booking.cancel(db, sent.request_id, now=NOW, policy=policy())
    [cancel] = _candidate_mails(db, "invite_cancel")
    assert f"Times are in your time zone: {name}." in cancel.text_body


@pytest.mark.parametrize(
    ("language", "twelve"), [("en-US", True), ("en-GB", False), ("de-DE,de;q=0.9", False)]
)
def test_the_clock_follows_accept_language_without_script(
    client: Any, db: Database, company: Any, language: str, twelve: bool
) -> None:
    sent = send_request(db, tz="Asia/Kolkata")
    page = client.get(sent.url + "?tz=Asia/Kolkata", headers={"Accept-Language": language})
    texts = [text for _, _, text in TIME_RE.findall(page.get_data(as_text=True))]
    assert texts
    for text in texts:
        if twelve:
            assert re.fullmatch(r"\d{1,2}:\d{2} [AP]M–\d{1,2}:\d{2} [AP]M", text), text
        else:
            assert re.fullmatch(r"\d{2}:\d{2}–\d{2}:\d{2}", text), text


def test_the_reschedule_page_restates_the_booking_in_the_candidates_zone(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz="Asia/Kolkata")
    form = form_of(client.get(sent.url).get_data(as_text=True))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    page = client.get(
        sent.url + "/reschedule?tz=Asia/Kathmandu", headers={"Accept-Language": "en-GB"}
    ).get_data(as_text=True)
    part = page[page.index('id="current-booking"') :]
    part = part[: part.index("</ul>")]
    b = request_row(db, sent.request_id).bookings[0]
    zone = ZoneInfo("Asia/Kathmandu")
    for bs in b.sessions:
        a, z = bs.start.astimezone(zone), bs.end.astimezone(zone)
        assert f"{bs.session_name}: {a:%A %d %B %Y, %H:%M}–{z:%H:%M}" in part, part
        assert f'data-start="{utc_stamp(bs.start)}"' in part
    assert "<time" not in part  # the page's <time> elements are the options on offer


def test_the_coordinator_signs_the_mail_over_smtp(db: Database, company: Any) -> None:
    """Through a real SMTP server: the From display name is the coordinator's, the
    envelope and From address stay the configured sender, replies go to the coordinator."""
    sent = send_request(db, tz="Asia/Kolkata")
    _invitation(db, sent)
    with SMTPTestServer() as server:
        mailer = SMTPMailer(server.host, server.port, security="none", timeout=5, sender=SENDER)
        delivered, failed = deliver_due(db, mailer, NOW)
        assert (delivered, failed) == (1, 0)
        [rec] = server.messages
    assert parseaddr(str(rec.message["From"])) == ("Ann Example", SENDER)
    assert str(rec.message["Reply-To"]) == "ann@example.com"
    assert rec.mail_from == SENDER


@pytest.mark.parametrize(("language", "twelve"), [("en-US", True), ("de-DE", False)])
def test_the_confirmation_page_reads_the_locale_clock(
    client: Any, db: Database, company: Any, language: str, twelve: bool
) -> None:
    sent = send_request(db, tz="Asia/Kolkata")
    form = form_of(client.get(sent.url).get_data(as_text=True))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    page = client.get(sent.url + "?tz=Asia/Kolkata", headers={"Accept-Language": language})
    shown = _booked_times(page.get_data(as_text=True))
    assert len(shown) == 2
    for _, _, text in shown:
        if twelve:  # month first, 12-hour clock
            pattern = r"\w+, \w+ \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M–\d{1,2}:\d{2} [AP]M"
        else:
            pattern = r"\w+ \d{2} \w+ \d{4}, \d{2}:\d{2}–\d{2}:\d{2}"
        assert re.fullmatch(pattern, text), text
