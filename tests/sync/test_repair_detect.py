"""Declines and new conflicts found by the worker's sync, ending in an auto-replace whose
iTIP mails are checked over real SMTP (aiosmtpd on loopback): a decline through the Google
emulator, a conflict created by a new event in the interviewer's ICS feed; a decline inside
48 h reaches the coordinator instead (mail and request page notice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from integrations.calendars.google_events import google_event_id
from integrations.mail import SMTPMailer
from tests.fixtures.booking import policy, send_request
from tests.fixtures.sync import add_source, ics, utc
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import FeedServer, Static
from tests.integrations.google_emulator import GoogleEmulator
from tests.integrations.smtp_server import SMTPTestServer
from tests.repair.test_handle import design_option
from tests.sync.test_sync_providers import REFRESH, google_source, timed
from web.domain import booking, repair
from web.domain.sync.config import SyncConfig
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import BookingSession, SchedulingRequest


@pytest.fixture
def smtp() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


def _worker(app: Any, db: Database, smtp: SMTPTestServer, cfg: SyncConfig, now: Any) -> Worker:
    mailer = SMTPMailer(
        smtp.host, smtp.port, security="none", timeout=5, sender="jobs@acme.example"
    )
    return Worker(
        app.extensions["panelslot.settings"], db, mailer, clock=lambda: now, sync_config=cfg
    )


def _booked(db: Database) -> tuple[int, int, str]:
    """A booked design option (alice, then devi); (request id, alice's seat id, its UID)."""
    sent = send_request(db, options=[design_option()])
    out = booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="repair-detect-123456",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    with db.session() as s:
        bs = s.scalar(
            select(BookingSession).where(
                BookingSession.booking_id == out.booking_id,
                BookingSession.session_name == "System design",
            )
        )
        assert bs is not None
        return sent.request_id, bs.id, bs.uid


def itip(smtp: SMTPTestServer, start: int) -> list[tuple[str, str, str, int]]:
    """(recipient, METHOD, UID, SEQUENCE) of every calendar mail received since ``start``."""
    out = []
    for rec in smtp.messages[start:]:
        msg: EmailMessage = rec.message
        for part in msg.walk():
            if part.get_content_type() == "text/calendar":
                cal = icalendar.Calendar.from_ical(part.get_content())
                for ev in cal.walk("VEVENT"):
                    for rcpt in rec.rcpt_tos:
                        out.append(
                            (rcpt, str(cal["METHOD"]), str(ev["UID"]), int(str(ev["SEQUENCE"])))
                        )
    return out


def assert_replaced(smtp: SMTPTestServer, mark: int, uid: str) -> None:
    got = itip(smtp, mark)
    assert ("bob@example.com", "REQUEST", uid, 1) in got
    assert ("alice@example.com", "CANCEL", uid, 1) in got
    # the loop shows names: the candidate's itinerary (PUBLISH, every session) is updated
    assert ("priya@example.org", "PUBLISH", uid, 1) in got
    assert not any(r == "alice@example.com" and m == "REQUEST" for r, m, _, _ in got)


@pytest.fixture
def alice_google(company: Any, db: Database, emulator: GoogleEmulator, cfg: SyncConfig) -> int:
    """Alice's Google Calendar (the emulator's primary), written back to."""
    emulator.issue_refresh_token(REFRESH)
    return google_source(db, cfg)


def test_google_decline_is_replaced_from_the_pool(
    app: Any,
    db: Database,
    alice_google: int,
    emulator: GoogleEmulator,
    cfg: SyncConfig,
    smtp: SMTPTestServer,
) -> None:
    rid, seat, uid = _booked(db)
    worker = _worker(app, db, smtp, cfg, NOW)
    worker.run_jobs()  # the write-back
    worker.deliver()
    assert google_event_id(uid) in emulator.calendars["primary"].events
    # a meeting that ends as the interview starts (free/busy may merge the two): no conflict
    emulator.add_event("primary", timed(utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)))
    worker.sync()
    assert booking_seat(db, seat) == "alice"  # no answer yet: nothing happens
    emulator.respond("primary", google_event_id(uid), "alice@example.com", "declined")
    mark = len(smtp.messages)
    worker.sync()  # sync, then the repair
    worker.run_jobs()  # the write-back: alice's event goes
    worker.deliver()
    assert booking_seat(db, seat) == "bob"
    assert_replaced(smtp, mark, uid)
    event = emulator.calendars["primary"].events.get(google_event_id(uid))
    assert event is None or event.deleted or event.body.get("status") == "cancelled"
    mark = len(smtp.messages)
    worker.sync()  # the same decline, seen again: nothing twice
    worker.deliver()
    assert smtp.messages[mark:] == []


def booking_seat(db: Database, seat: int) -> str:
    with db.session() as s:
        bs = s.get(BookingSession, seat)
        assert bs is not None
        return bs.interviewer.key


def test_google_decline_inside_48h_reaches_the_coordinator(
    app: Any,
    db: Database,
    alice_google: int,
    emulator: GoogleEmulator,
    cfg: SyncConfig,
    smtp: SMTPTestServer,
) -> None:
    rid, seat, uid = _booked(db)
    _worker(app, db, smtp, cfg, NOW).run_jobs()
    late = utc(2027, 3, 2, 12)  # 22 h before the session
    worker = _worker(app, db, smtp, cfg, late)
    worker.deliver()
    emulator.respond("primary", google_event_id(uid), "alice@example.com", "declined")
    mark = len(smtp.messages)
    worker.sync()
    worker.deliver()
    assert booking_seat(db, seat) == "alice"
    mails = [m.message for m in smtp.messages[mark:]]
    assert [m["To"] for m in mails] == ["ann@example.com"]
    body = mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Alice Okafor declined System design" in body and f"/requests/{rid}/reschedule" in body
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        [notice] = repair.open_notices(s, req)
        assert (notice.cause, notice.interviewer) == ("declined", "Alice Okafor")


def test_new_event_in_the_feed_is_a_conflict_and_is_repaired(
    app: Any,
    db: Database,
    company: Any,
    feeds: FeedServer,
    cfg: SyncConfig,
    smtp: SMTPTestServer,
) -> None:
    rid, seat, uid = _booked(db)
    start = utc(2027, 3, 3, 10)
    # the feed holds the interview itself (its invitation accepted): not a conflict
    feeds.routes["/alice.ics"] = Static(ics(("inv", start, start + timedelta(hours=1))), etag='"1"')
    add_source(db, "alice", kind="ics", label="alice-work", url=feeds.url("/alice.ics"))
    worker = _worker(app, db, smtp, cfg, NOW)
    worker.deliver()
    worker.sync()
    assert booking_seat(db, seat) == "alice"
    clash = ("new", start + timedelta(minutes=30), start + timedelta(minutes=90))
    feeds.routes["/alice.ics"] = Static(
        ics(("inv", start, start + timedelta(hours=1)), clash), etag='"2"'
    )
    mark = len(smtp.messages)
    worker.sync()
    worker.deliver()
    assert booking_seat(db, seat) == "bob"
    assert_replaced(smtp, mark, uid)
