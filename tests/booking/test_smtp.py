"""Invites and reminders delivered by the worker's outbox delivery to a real SMTP server
(aiosmtpd on loopback); the text/calendar parts are parsed with icalendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from integrations.mail import SMTPMailer
from tests.fixtures.booking import policy as booking_policy
from tests.fixtures.booking import request_row, send_request
from tests.fixtures.webapp import NOW
from tests.integrations.smtp_server import SMTPTestServer
from web.domain import booking
from web.domain.worker import deliver_due
from web.store.db import Database
from web.store.models import OutboxMail


def policy(**kw: Any) -> Any:
    """These tests read one REQUEST per session for the candidate too (the "session" mode;
    the itinerary default is tested in test_candidate_mail.py)."""
    return booking_policy(**{"candidate_invites": "session", **kw})


@pytest.fixture
def smtp() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


def _mailer(server: SMTPTestServer) -> SMTPMailer:
    return SMTPMailer(
        server.host, server.port, security="none", timeout=5, sender="jobs@acme.example"
    )


def _calendar(msg: EmailMessage) -> tuple[str, icalendar.Calendar] | None:
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            method = part.get_param("method")
            return str(method), icalendar.Calendar.from_ical(part.get_content())
    return None


def _invites(server: SMTPTestServer, start: int = 0) -> list[tuple[str, str, Any, EmailMessage]]:
    """(recipient, METHOD param, VEVENT, message) of every mail with a calendar part."""
    out = []
    for rec in server.messages[start:]:
        msg = rec.message
        found = _calendar(msg)
        if found is None:
            continue
        method, cal = found
        assert cal["METHOD"] == method
        [event] = list(cal.walk("VEVENT"))
        for rcpt in rec.rcpt_tos:
            out.append((rcpt, method, event, msg))
    return out


def _attendees(event: Any) -> set[str]:
    raw = event.get("ATTENDEE", [])
    raw = raw if isinstance(raw, list) else [raw]
    return {str(a).removeprefix("mailto:").lower() for a in raw}


def test_book_reschedule_cancel_over_smtp(db: Database, company: Any, smtp: SMTPTestServer) -> None:
    sent = send_request(db)
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="smtp-book-key-000001",
        candidate_tz="Asia/Kolkata",
        now=NOW,
        policy=policy(),
    )
    sent_count, failed = deliver_due(db, _mailer(smtp), NOW)
    assert failed == 0 and sent_count >= 5
    b = request_row(db, sent.request_id).bookings[0]
    by_uid = {bs.uid: bs for bs in b.sessions}
    invites = _invites(smtp)
    # the candidate: one REQUEST per session; each interviewer: their session's REQUEST
    expected = sorted(["priya@example.org"] * 2 + [bs.interviewer.email for bs in b.sessions])
    assert sorted(r for r, *_ in invites) == expected
    for rcpt, method, ev, msg in invites:
        assert method == "REQUEST"
        bs = by_uid[str(ev["UID"])]
        assert int(ev["SEQUENCE"]) == 0
        assert ev.decoded("DTSTART") == bs.start and ev.decoded("DTEND") == bs.end
        assert str(ev["ORGANIZER"]).lower() == "mailto:ann@example.com"
        people = _attendees(ev)
        assert "priya@example.org" in people
        assert {x.interviewer.email for x in b.sessions if x.uid == bs.uid} <= people
        assert rcpt in people
        for a in ev.get("ATTENDEE") if isinstance(ev.get("ATTENDEE"), list) else [ev["ATTENDEE"]]:
            assert a.params["RSVP"] == "TRUE"
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    # the candidate's text gives the times in their zone
    cand_mail = next(m for r, _, _, m in invites if r == "priya@example.org")
    text = cand_mail.get_body(("plain",)).get_content()
    assert "India Standard Time (Kolkata), Asia/Kolkata." in text and "(UTC+05:30)" in text

    mark = len(smtp.messages)
    booking.reschedule(
        db,
        sent.request_id,
        sent.option_ids[1],
        idempotency_key="smtp-resched-key-0001",
        candidate_tz=None,
        now=NOW,
        policy=policy(),
    )
    deliver_due(db, _mailer(smtp), NOW)
    nb = request_row(db, sent.request_id).bookings[-1]
    later = _invites(smtp, mark)
    requests_ = [(r, ev) for r, m, ev, _ in later if m == "REQUEST"]
    assert requests_ and {str(ev["UID"]) for _, ev in requests_} == set(by_uid)
    for _, ev in requests_:
        assert int(ev["SEQUENCE"]) == 1
        bs = next(x for x in nb.sessions if x.uid == str(ev["UID"]))
        assert ev.decoded("DTSTART") == bs.start
    for r, m, ev, _ in later:
        if m == "CANCEL":  # an interviewer who is not in that session any more
            assert r not in {x.interviewer.email for x in nb.sessions if x.uid == str(ev["UID"])}

    mark = len(smtp.messages)
    booking.cancel(db, sent.request_id, now=NOW, policy=policy())
    deliver_due(db, _mailer(smtp), NOW)
    cancels = _invites(smtp, mark)
    assert sorted(r for r, *_ in cancels) == sorted(
        ["priya@example.org"] * 2 + [bs.interviewer.email for bs in nb.sessions]
    )
    for _, method, ev, _ in cancels:
        assert method == "CANCEL"
        assert str(ev["STATUS"]) == "CANCELLED"
        assert int(ev["SEQUENCE"]) == 2
        assert str(ev["UID"]) in by_uid


def test_reminders_go_out_at_their_time_and_not_after_cancel(
    db: Database, company: Any, smtp: SMTPTestServer
) -> None:
    sent = send_request(db)
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="smtp-remind-key-00001",
        candidate_tz="Asia/Kolkata",
        now=NOW,
        policy=policy(),
    )
    deliver_due(db, _mailer(smtp), NOW)
    start = min(bs.start for bs in request_row(db, sent.request_id).bookings[0].sessions)
    mark = len(smtp.messages)
    deliver_due(db, _mailer(smtp), start - timedelta(hours=24) - timedelta(minutes=1))
    assert len(smtp.messages) == mark, "nothing is due before the 24 h reminder"
    deliver_due(db, _mailer(smtp), start - timedelta(hours=24) + timedelta(minutes=1))
    subjects = [m.message["Subject"] for m in smtp.messages[mark:]]
    assert any("Reminder: your interview" in s and "in 1 day" in s for s in subjects), subjects
    assert all("Reminder" in s for s in subjects)
    # cancelled: the 1 h reminders never go out
    booking.cancel(
        db, sent.request_id, now=start - timedelta(hours=20), policy=policy(), enforce_cutoff=False
    )
    mark = len(smtp.messages)
    deliver_due(db, _mailer(smtp), start)
    assert not any("Reminder" in m.message["Subject"] for m in smtp.messages[mark:])


def test_outbox_survives_a_restart_and_failures_are_visible(
    db: Database, company: Any, database_url: str, smtp: SMTPTestServer
) -> None:
    sent = send_request(db)
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="smtp-restart-key-0001",
        candidate_tz=None,
        now=NOW,
        policy=policy(),
    )
    # the booking process "dies" here: nothing was sent; a fresh process delivers the rows
    fresh = Database(database_url)
    with SMTPTestServer(refuse=("alice@example.com", "bob@example.com")) as picky:
        deliver_due(fresh, _mailer(picky), NOW)
        with fresh.session() as s:
            rows = list(s.scalars(select(OutboxMail).where(OutboxMail.kind == "invite")))
        refused = [r for r in rows if r.to_addr in ("alice@example.com", "bob@example.com")]
        assert refused and all(r.status == "failed" and r.last_error for r in refused)
        assert all(r.status == "sent" for r in rows if r not in refused)
    fresh.dispose()
