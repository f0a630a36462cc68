"""handle_dropout against a real database: auto-replace from the pool with the right iTIP
mails, the coordinator told inside 48 h / when nobody is free / when the cap is reached,
idempotency, the audit trail, and the manual swap's re-check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from scheduler.model import Option, SessionSlot
from tests.fixtures.booking import interviewer_id, policy, send_request
from tests.fixtures.webapp import NOW
from web.domain import booking, repair
from web.store.db import Database
from web.store.models import (
    AuditLog,
    Booking,
    BookingSession,
    BusyBlock,
    CalendarSource,
    Hold,
    Interviewer,
    JobRequest,
    Loop,
    OutboxMail,
)


def _book(db: Database, opt: int = 0, **kw: Any) -> tuple[int, int]:
    sent = send_request(db, **kw)
    out = booking.book(
        db,
        sent.request_id,
        sent.option_ids[opt],
        idempotency_key=f"k{sent.request_id}" * 8,
        candidate_tz="Asia/Kolkata",
        now=NOW,
        policy=policy(),
    )
    return sent.request_id, out.booking_id


def _seat(db: Database, booking_id: int, session: str) -> tuple[int, int, str]:
    with db.session() as s:
        bs = s.scalar(
            select(BookingSession).where(
                BookingSession.booking_id == booking_id, BookingSession.session_name == session
            )
        )
        assert bs is not None
        return bs.id, bs.interviewer_id, bs.interviewer.key


def _mails_after(db: Database, mark: int) -> list[OutboxMail]:
    with db.session() as s:
        return list(
            s.scalars(select(OutboxMail).where(OutboxMail.id > mark).order_by(OutboxMail.id))
        )


def _last_mail(db: Database) -> int:
    with db.session() as s:
        return max([m.id for m in s.scalars(select(OutboxMail))] or [0])


def _vevent(mail: OutboxMail) -> Any:
    assert mail.ics
    cal = icalendar.Calendar.from_ical(mail.ics)
    return cal, next(iter(cal.walk("VEVENT")))


def design_option(day: int = 3) -> Option:
    """System design with alice, then Coding with devi, on 2027-03-<day> (bob is free)."""
    at = datetime(2027, 3, day, 10, 0, tzinfo=UTC)
    return Option(
        0.9,
        (
            SessionSlot("System design", at, at + timedelta(hours=1), ("alice",)),
            SessionSlot("Coding", at + timedelta(hours=1), at + timedelta(minutes=105), ("devi",)),
        ),
    )


def _pick_design_option(db: Database, day: int = 3) -> tuple[int, int]:
    return _book(db, 0, options=[design_option(day)])


def test_decline_auto_replaces_with_itip_mails(db: Database, company: Any) -> None:
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, key = _seat(db, bid, "System design")
    assert key == "alice"
    with db.session() as s:
        seq_before = s.get(Booking, bid).sequence  # type: ignore[union-attr]
        uid = s.get(BookingSession, bs_id).uid  # type: ignore[union-attr]
    mark = _last_mail(db)
    d = repair.Dropout(bs_id, alice_id, "declined", "alice@example.com declined in Google")
    result = repair.handle_dropout(db, d, NOW, policy())
    assert result.action == "replaced" and result.replacement == "bob"
    mails = _mails_after(db, mark)
    by = {(m.to_addr, m.ics_method) for m in mails}
    assert ("bob@example.com", "REQUEST") in by
    assert ("alice@example.com", "CANCEL") in by
    cancel = next(m for m in mails if m.to_addr == "alice@example.com" and m.ics)
    cal, ev = _vevent(cancel)
    assert str(cal["METHOD"]) == "CANCEL" and str(ev["UID"]) == uid
    assert int(ev["SEQUENCE"]) == seq_before + 1
    req_mail = next(m for m in mails if m.to_addr == "bob@example.com" and m.ics)
    cal, ev = _vevent(req_mail)
    assert str(cal["METHOD"]) == "REQUEST" and str(ev["UID"]) == uid
    assert int(ev["SEQUENCE"]) == seq_before + 1
    raw = ev.get("ATTENDEE")  # one attendee is a single value, several a list
    attendees = [str(a).lower() for a in (raw if isinstance(raw, list) else [raw])]
    assert "mailto:bob@example.com" in attendees and "mailto:alice@example.com" not in attendees
    # the loop shows names: the candidate's itinerary (one PUBLISH of every session) is updated
    assert ("priya@example.org", "PUBLISH") in by
    with db.session() as s:
        b = s.get(Booking, bid)
        assert b is not None and b.auto_repairs == 1 and b.sequence == seq_before + 1
        row = s.get(BookingSession, bs_id)
        assert row is not None and row.interviewer.key == "bob" and row.calendar_event_id is None
        actions = [
            a.action for a in s.scalars(select(AuditLog).where(AuditLog.object_id == str(rid)))
        ]
        assert {"dropout_seen", "interviewer_swapped", "repair_replaced"} <= set(actions)
        jobs = [
            j.payload
            for j in s.scalars(select(JobRequest).where(JobRequest.kind == "calendar_writeback"))
        ]
        assert {"booking_ids": [bid]} in jobs
    # the same decline seen again does nothing
    mark = _last_mail(db)
    again = repair.handle_dropout(db, d, NOW, policy())
    assert again.action == "ignored"
    assert _mails_after(db, mark) == []


def test_candidate_copy_not_resent_when_names_hidden(db: Database, company: Any) -> None:
    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert loop is not None
        loop.show_interviewer_names = False
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, _ = _seat(db, bid, "System design")
    mark = _last_mail(db)
    result = repair.handle_dropout(db, repair.Dropout(bs_id, alice_id, "conflict"), NOW, policy())
    assert result.action == "replaced"
    addrs = {m.to_addr for m in _mails_after(db, mark)}
    assert "priya@example.org" not in addrs
    assert {"bob@example.com", "alice@example.com", "ann@example.com"} <= addrs


def test_inside_48h_goes_to_the_coordinator_once(db: Database, company: Any) -> None:
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, _ = _seat(db, bid, "System design")
    with db.session() as s:
        start = s.get(BookingSession, bs_id).start  # type: ignore[union-attr]
    late = start - timedelta(hours=30)
    mark = _last_mail(db)
    d = repair.Dropout(bs_id, alice_id, "cant_make_it", "from the personal page")
    result = repair.handle_dropout(db, d, late, policy(public_url="https://ps.example"))
    assert result.action == "escalated" and "48 hours" in result.reason
    mails = _mails_after(db, mark)
    assert [(m.to_addr, m.kind) for m in mails] == [("ann@example.com", "repair_notice")]
    assert f"https://ps.example/requests/{rid}/reschedule" in mails[0].text_body
    assert "Alice Okafor" in mails[0].text_body
    with db.session() as s:
        from web.store.models import SchedulingRequest

        req = s.get(SchedulingRequest, rid)
        notices = repair.open_notices(s, req)  # type: ignore[arg-type]
        assert [(n.interviewer, n.cause, n.session) for n in notices] == [
            ("Alice Okafor", "cant_make_it", "System design")
        ]
    assert repair.handle_dropout(db, d, late, policy()).action == "ignored"
    assert _mails_after(db, mark + 1) == []


def test_cap_reached_and_auto_repair_off(db: Database, company: Any) -> None:
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, _ = _seat(db, bid, "System design")
    with db.session() as s:
        b = s.get(Booking, bid)
        assert b is not None
        b.auto_repairs = 3
    r = repair.handle_dropout(db, repair.Dropout(bs_id, alice_id, "declined"), NOW, policy())
    assert r.action == "escalated" and "3 times" in r.reason


def test_nobody_free_goes_to_the_coordinator(db: Database, company: Any) -> None:
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, _ = _seat(db, bid, "System design")
    with db.session() as s:
        bob = s.scalar(select(Interviewer).where(Interviewer.key == "bob"))
        assert bob is not None
        bob.active = False
    r = repair.handle_dropout(db, repair.Dropout(bs_id, alice_id, "declined"), NOW, policy())
    assert r.action == "escalated" and "nobody in the pool" in r.reason


def test_manual_swap_rechecks(db: Database, company: Any) -> None:
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, _ = _seat(db, bid, "System design")
    with db.session() as s:
        choices = repair.swap_choices(s, s.get(Booking, bid), NOW)[bs_id]  # type: ignore[arg-type]
    assert [name for _, name in choices] == ["Bob Lindqvist"]
    eli = interviewer_id(db, "eli")  # not in the System design pool
    with pytest.raises(repair.SwapRefused):
        repair.manual_swap(db, bs_id, alice_id, eli, NOW, policy(), actor="coordinator:ann")
    r = repair.manual_swap(
        db, bs_id, alice_id, choices[0][0], NOW, policy(), actor="coordinator:ann"
    )
    assert r.replacement == "bob"
    with db.session() as s:
        assert s.get(Booking, bid).auto_repairs == 0  # type: ignore[union-attr]


def test_other_requests_holds_and_busy_time_count(db: Database, company: Any) -> None:
    rid, bid = _pick_design_option(db)
    bs_id, alice_id, _ = _seat(db, bid, "System design")
    other = send_request(db, options=[design_option(4)], candidate="Other", email="o@example.org")
    bob = interviewer_id(db, "bob")
    with db.session() as s:
        start = s.get(BookingSession, bs_id).start  # type: ignore[union-attr]
        s.add(
            Hold(
                request_id=other.request_id,
                interviewer_id=bob,
                start=start,
                end=start + timedelta(hours=1),
            )
        )
    r = repair.handle_dropout(db, repair.Dropout(bs_id, alice_id, "declined"), NOW, policy())
    assert r.action == "escalated" and "nobody in the pool" in r.reason
    with db.session() as s:
        for h in s.scalars(select(Hold).where(Hold.interviewer_id == bob)):
            s.delete(h)
        s.flush()
        assert [p.key for p in repair.replacements(s, *_parts(s, bs_id), NOW)] == ["bob"]
        feed = CalendarSource(interviewer_id=bob, kind="ics", label="bob-feed")
        s.add(feed)
        s.flush()
        s.add(
            BusyBlock(
                interviewer_id=bob,
                source_id=feed.id,
                start=start,
                end=start + timedelta(minutes=15),
            )
        )
        s.flush()
        assert repair.replacements(s, *_parts(s, bs_id), NOW) == []


def _parts(s: Any, bs_id: int) -> tuple[Any, Any, Any]:
    bs = s.get(BookingSession, bs_id)
    return bs.booking.request, bs.booking, bs
