"""The booking service against a real database: book, idempotency, holds, reschedule, cancel,
reminders, the outbox and calendar write-back (MemoryCalendar through the writer registry)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from integrations.calendars.memory import MemoryCalendar
from scheduler.model import Interval
from tests.fixtures.booking import interviewer_id, policy, request_row, send_request
from tests.fixtures.webapp import NOW
from web.domain import booking, services
from web.store.db import Database
from web.store.models import (
    Booking,
    BookingSession,
    BusyBlock,
    CalendarSource,
    Hold,
    JobRequest,
    OfferedOption,
    OutboxMail,
)

SESSION = policy(candidate_invites="session")  # the candidate: one REQUEST per session


def _mails(db: Database, **where: Any) -> list[OutboxMail]:
    with db.session() as s:
        q = select(OutboxMail).order_by(OutboxMail.id)
        for k, v in where.items():
            q = q.where(getattr(OutboxMail, k) == v)
        return list(s.scalars(q))


def _cal(mail: OutboxMail) -> icalendar.Event:
    assert mail.ics
    cal = icalendar.Calendar.from_ical(mail.ics)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1
    return events[0]


def _book(db: Database, sent: Any, idx: int = 0, key: str = "k" * 20, **kw: Any) -> Any:
    return booking.book(
        db,
        sent.request_id,
        sent.option_ids[idx],
        idempotency_key=key,
        candidate_tz=kw.pop("tz", "Asia/Kolkata"),
        now=kw.pop("now", NOW),
        policy=kw.pop("policy", policy()),
        **kw,
    )


def test_book_writes_booking_sessions_invites_reminders_and_job(db: Database, company: Any) -> None:
    sent = send_request(db)
    out = _book(db, sent)
    assert out.created
    req = request_row(db, sent.request_id)
    assert req.status == "booked"
    [b] = req.bookings
    assert b.status == "confirmed" and b.sequence == 0 and b.candidate_tz == "Asia/Kolkata"
    opt = services.stored_option(next(o for o in req.options if o.id == sent.option_ids[0]))
    assert [(bs.session_name, bs.start, bs.end) for bs in b.sessions] == [
        (sl.name, sl.start, sl.end) for sl in opt.sessions for _ in sl.interviewers
    ]
    uids = {bs.uid for bs in b.sessions}
    assert uids == {
        f"panelslot-{b.uid_base}-s0@panelslot.test",
        f"panelslot-{b.uid_base}-s1@panelslot.test",
    }
    with db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Hold).where(Hold.request_id == req.id)) == 0
        )
        jobs = list(s.scalars(select(JobRequest)))
    assert [(j.kind, j.payload) for j in jobs] == [("calendar_writeback", {"booking_ids": [b.id]})]
    invites = _mails(db, kind="invite")
    people = {bs.interviewer.email for bs in b.sessions}
    # candidate: one itinerary (PUBLISH, a VEVENT per session); each interviewer: a
    # REQUEST for their session
    mine = [m for m in invites if m.to_addr == "priya@example.org"]
    assert len(mine) == 1 and mine[0].ics_method == "PUBLISH"
    itinerary = icalendar.Calendar.from_ical(mine[0].ics)
    assert itinerary["METHOD"] == "PUBLISH"
    events = list(itinerary.walk("VEVENT"))
    assert {str(ev["UID"]) for ev in events} == uids and len(events) == 2
    assert all(int(ev["SEQUENCE"]) == 0 and "ATTENDEE" not in ev for ev in events)
    staff = [m for m in invites if m.to_addr != "priya@example.org"]
    assert sorted(m.to_addr for m in staff) == sorted(bs.interviewer.email for bs in b.sessions)
    for m in staff:
        ev = _cal(m)
        assert m.ics_method == "REQUEST"
        assert icalendar.Calendar.from_ical(m.ics)["METHOD"] == "REQUEST"
        assert str(ev["UID"]) in uids
        assert int(ev["SEQUENCE"]) == 0
        found = ev.get("ATTENDEE", [])
        found = found if isinstance(found, list) else [found]
        attendees = {str(a).removeprefix("mailto:") for a in found}
        assert str(ev["ORGANIZER"]) == "mailto:ann@example.com"
        bs = next(x for x in b.sessions if x.uid == str(ev["UID"]))
        assert ev.decoded("DTSTART") == bs.start and ev.decoded("DTEND") == bs.end
        assert attendees & people == {x.interviewer.email for x in b.sessions if x.uid == bs.uid}
    reminders = _mails(db, kind="reminder")
    first = min(bs.start for bs in b.sessions)
    cand = sorted(m.next_attempt_at for m in reminders if m.to_addr == "priya@example.org")
    assert cand == [first - timedelta(hours=24), first - timedelta(hours=1)]
    assert all(m.status == "pending" for m in reminders)
    assert [m.to_addr for m in _mails(db, kind="booking_notice")] == ["ann@example.com"]


def test_same_idempotency_key_books_once(db: Database, company: Any) -> None:
    sent = send_request(db)
    first = _book(db, sent, 0, key="same-key-0123456789")
    again = _book(db, sent, 0, key="same-key-0123456789")
    assert first.booking_id == again.booking_id and not again.created
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 1
    assert len(_mails(db, kind="invite")) == 3  # the itinerary and two interviewers


def test_second_option_of_a_booked_request_is_refused(db: Database, company: Any) -> None:
    sent = send_request(db)
    _book(db, sent, 0, key="a" * 20)
    with pytest.raises(booking.BookingClosed, match="already booked"):
        _book(db, sent, 1, key="b" * 20)


def test_unknown_option_and_another_requests_option(db: Database, company: Any) -> None:
    sent = send_request(db)
    other = send_request(db, email="other@example.org", hold=False)
    with pytest.raises(booking.OptionUnknown):
        booking.book(
            db,
            sent.request_id,
            other.option_ids[0],
            idempotency_key="x" * 20,
            candidate_tz=None,
            now=NOW,
            policy=policy(),
        )
    with pytest.raises(booking.OptionUnknown):
        booking.book(
            db,
            sent.request_id,
            999999,
            idempotency_key="y" * 20,
            candidate_tz=None,
            now=NOW,
            policy=policy(),
        )


def test_stale_option_is_refused_and_not_listed(db: Database, company: Any) -> None:
    """A calendar change after the offer (a stored busy block) makes the option invalid."""
    sent = send_request(db)
    opt = services.stored_option(
        next(o for o in request_row(db, sent.request_id).options if o.id == sent.option_ids[0])
    )
    slot = opt.sessions[0]
    who = interviewer_id(db, slot.interviewers[0])
    with db.session() as s:
        src = CalendarSource(interviewer_id=who, kind="ics", label="work", url="file:///x.ics")
        s.add(src)
        s.flush()
        s.add(BusyBlock(interviewer_id=who, source_id=src.id, start=slot.start, end=slot.end))
    with db.session() as s:
        req = s.get(booking.SchedulingRequest, sent.request_id)
        valid = [o.id for o in booking.valid_options(s, req, NOW)]
    assert sent.option_ids[0] not in valid
    with pytest.raises(booking.OptionTaken) as err:
        _book(db, sent, 0)
    assert err.value.problems
    assert _mails(db, kind="invite") == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 0


def test_holds_keep_offered_times_from_other_requests(db: Database, company: Any) -> None:
    sent = send_request(db, limit=3)
    with db.session() as s:
        held = list(s.scalars(select(Hold).where(Hold.request_id == sent.request_id)))
    assert held, "offer() holds the offered interviewer-times"
    # another request searching the same window is not offered a held interviewer-time
    other = send_request(db, email="o@example.org", limit=20)
    with db.session() as s:
        theirs = list(
            s.scalars(select(OfferedOption).where(OfferedOption.request_id == other.request_id))
        )
    held_pairs = {(h.interviewer_id, h.start, h.end) for h in held}
    ids = {k: interviewer_id(db, k) for k in ("alice", "bob", "devi", "eli")}
    for row in theirs:
        for sl in services.stored_option(row).sessions:
            for k in sl.interviewers:
                iv = Interval(sl.start, sl.end)
                assert not any(
                    h[0] == ids[k] and Interval(h[1], h[2]).overlaps(iv) for h in held_pairs
                )
    # booking releases the request's holds; cancelling releases them too
    _book(db, sent, 0)
    with db.session() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Hold).where(Hold.request_id == sent.request_id)
            )
            == 0
        )


def test_holds_switched_off(db: Database, company: Any) -> None:
    sent = send_request(db)
    with db.session() as s:
        req = s.get(booking.SchedulingRequest, sent.request_id)
        booking.apply_hold_policy(s, req, policy(holds=False))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 0


def test_reschedule_keeps_uids_raises_sequence_and_moves_reminders(
    db: Database, company: Any
) -> None:
    sent = send_request(db)
    first = _book(db, sent, 0, key="first-booking-key-1", policy=SESSION)
    old = request_row(db, sent.request_id).bookings[0]
    old_uids = {bs.session_name: bs.uid for bs in old.sessions}
    before = {m.id for m in _mails(db)}
    out = booking.reschedule(
        db,
        sent.request_id,
        sent.option_ids[1],
        idempotency_key="second-booking-key2",
        candidate_tz=None,
        now=NOW,
        policy=SESSION,
    )
    assert out.created and out.booking_id != first.booking_id
    req = request_row(db, sent.request_id)
    assert req.status == "rescheduled"
    old_b, new_b = req.bookings
    assert old_b.status == "replaced" and not any(bs.active for bs in old_b.sessions)
    assert new_b.status == "confirmed" and all(bs.active for bs in new_b.sessions)
    assert new_b.sequence == 1 and new_b.uid_base == old_b.uid_base
    assert {bs.session_name: bs.uid for bs in new_b.sessions} == old_uids
    assert new_b.candidate_tz == "Asia/Kolkata"
    new_mails = [m for m in _mails(db) if m.id not in before]
    requests_ = [m for m in new_mails if m.kind == "invite"]
    assert requests_ and all(int(_cal(m)["SEQUENCE"]) == 1 for m in requests_)
    assert {str(_cal(m)["UID"]) for m in requests_} == set(old_uids.values())
    for m in requests_:
        bs = next(x for x in new_b.sessions if x.uid == str(_cal(m)["UID"]))
        assert _cal(m).decoded("DTSTART") == bs.start
    # people dropped from a session get a CANCEL for its UID
    kept = {(bs.uid, bs.interviewer_id) for bs in new_b.sessions}
    dropped = {
        (bs.uid, bs.interviewer.email)
        for bs in old_b.sessions
        if (bs.uid, bs.interviewer_id) not in kept
    }
    cancels = {(str(_cal(m)["UID"]), m.to_addr) for m in new_mails if m.kind == "invite_cancel"}
    assert cancels == dropped
    with db.session() as s:
        rem = list(s.scalars(select(OutboxMail).where(OutboxMail.kind == "reminder")))
    first_new = min(bs.start for bs in new_b.sessions)
    pending = sorted(
        m.next_attempt_at for m in rem if m.status == "pending" and m.to_addr == "priya@example.org"
    )
    assert pending == [first_new - timedelta(hours=24), first_new - timedelta(hours=1)]
    assert any(m.status == "cancelled" for m in rem)


def test_failed_reschedule_keeps_the_old_booking(db: Database, company: Any) -> None:
    sent = send_request(db)
    _book(db, sent, 0)
    target = services.stored_option(
        next(o for o in request_row(db, sent.request_id).options if o.id == sent.option_ids[2])
    )
    who = interviewer_id(db, target.sessions[-1].interviewers[0])
    with db.session() as s:
        src = CalendarSource(interviewer_id=who, kind="ics", label="w", url="file:///w.ics")
        s.add(src)
        s.flush()
        sl = target.sessions[-1]
        s.add(BusyBlock(interviewer_id=who, source_id=src.id, start=sl.start, end=sl.end))
    n = len(_mails(db))
    with pytest.raises(booking.OptionTaken):
        booking.reschedule(
            db,
            sent.request_id,
            sent.option_ids[2],
            idempotency_key="resched-key-0123456",
            candidate_tz=None,
            now=NOW,
            policy=policy(),
        )
    req = request_row(db, sent.request_id)
    assert req.status == "booked"
    [b] = req.bookings
    assert b.status == "confirmed" and all(bs.active for bs in b.sessions)
    assert len(_mails(db)) == n


def test_cut_off_blocks_candidate_changes_not_coordinator(db: Database, company: Any) -> None:
    sent = send_request(db)
    _book(db, sent, 0)
    b = request_row(db, sent.request_id).bookings[0]
    late = min(bs.start for bs in b.sessions) - timedelta(hours=2)
    with pytest.raises(booking.BookingClosed, match="24 hours before"):
        booking.cancel(db, sent.request_id, now=late, policy=policy())
    with pytest.raises(booking.BookingClosed, match="24 hours before"):
        booking.reschedule(
            db,
            sent.request_id,
            sent.option_ids[1],
            idempotency_key="late-key-0123456789",
            candidate_tz=None,
            now=late,
            policy=policy(),
        )
    booking.cancel(
        db,
        sent.request_id,
        now=late,
        policy=policy(),
        enforce_cutoff=False,
        actor="coordinator:ann@example.com",
    )
    assert request_row(db, sent.request_id).status == "cancelled"


def test_cancel_sends_itip_cancel_and_withdraws_reminders(db: Database, company: Any) -> None:
    sent = send_request(db)
    _book(db, sent, 0, policy=SESSION)
    booking.cancel(db, sent.request_id, now=NOW, policy=SESSION, reason="Accepted another offer")
    req = request_row(db, sent.request_id)
    assert req.status == "cancelled"
    [b] = req.bookings
    assert b.status == "cancelled" and b.sequence == 1
    assert not any(bs.active for bs in b.sessions)
    cancels = _mails(db, kind="invite_cancel")
    assert sorted(m.to_addr for m in cancels) == sorted(
        ["priya@example.org"] * 2 + [bs.interviewer.email for bs in b.sessions]
    )
    for m in cancels:
        cal = icalendar.Calendar.from_ical(m.ics)
        assert cal["METHOD"] == "CANCEL" and m.ics_method == "CANCEL"
        ev = _cal(m)
        assert str(ev["STATUS"]) == "CANCELLED" and int(ev["SEQUENCE"]) == 1
        assert str(ev["UID"]) in {bs.uid for bs in b.sessions}
    assert {m.status for m in _mails(db, kind="reminder")} == {"cancelled"}
    with pytest.raises(booking.BookingClosed):
        booking.cancel(db, sent.request_id, now=NOW, policy=policy())


def test_loop_invites_for_the_candidate(db: Database, company: Any) -> None:
    sent = send_request(db)
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="loop-key-0123456789",
        candidate_tz="America/Los_Angeles",
        now=NOW,
        policy=policy(candidate_invites="loop"),
    )
    b = request_row(db, sent.request_id).bookings[0]
    mine = [m for m in _mails(db, kind="invite") if m.to_addr == "priya@example.org"]
    assert len(mine) == 1
    ev = _cal(mine[0])
    assert str(ev["UID"]) == f"panelslot-{b.uid_base}-loop@panelslot.test"
    assert ev.decoded("DTSTART") == min(bs.start for bs in b.sessions)
    assert ev.decoded("DTEND") == max(bs.end for bs in b.sessions)
    assert "America/Los_Angeles" in str(ev["DESCRIPTION"])
    staff = [m for m in _mails(db, kind="invite") if m.to_addr != "priya@example.org"]
    assert len(staff) == len(b.sessions)


def test_overlap_guard_in_the_schema(db: Database, company: Any) -> None:
    """Even a writer that skips the service cannot store two overlapping active sessions."""
    sent = send_request(db)
    _book(db, sent, 0)
    b = request_row(db, sent.request_id).bookings[0]
    bs = b.sessions[0]
    with pytest.raises((IntegrityError, OperationalError)), db.session() as s:
        s.add(
            BookingSession(
                booking_id=b.id,
                interviewer_id=bs.interviewer_id,
                session_name="dup",
                start=bs.start + timedelta(minutes=15),
                end=bs.end + timedelta(minutes=15),
                active=True,
                uid="dup",
            )
        )
        s.flush()
    # inactive rows may overlap (history of cancelled/replaced bookings)
    with db.session() as s:
        s.add(
            BookingSession(
                booking_id=b.id,
                interviewer_id=bs.interviewer_id,
                session_name="old",
                start=bs.start,
                end=bs.end,
                active=False,
                uid="old",
            )
        )
    # re-activating the overlapping row is refused too
    with pytest.raises((IntegrityError, OperationalError)), db.session() as s:
        s.execute(text("UPDATE booking_sessions SET active = true WHERE uid = 'old'"))


def test_calendar_writeback_writes_updates_and_deletes(db: Database, company: Any) -> None:
    calendars: dict[int, MemoryCalendar] = {}

    def factory(src: CalendarSource, who: Any) -> MemoryCalendar:
        return calendars.setdefault(src.id, MemoryCalendar(f"cal-{who.key}"))

    writers = {"memory": factory}
    with db.session() as s:
        for key in ("alice", "bob", "devi", "eli"):
            s.add(
                CalendarSource(
                    interviewer_id=interviewer_id(db, key), kind="memory", label=f"{key}-cal"
                )
            )
    sent = send_request(db)
    _book(db, sent, 0)

    def run_jobs() -> None:
        with db.session() as s:
            for job in s.scalars(select(JobRequest).where(JobRequest.status == "pending")):
                booking.job_writeback(s, job, NOW, writers)
                job.status = "done"

    run_jobs()
    b = request_row(db, sent.request_id).bookings[0]
    written = {e.uid: e for c in calendars.values() for e in c.events.values()}
    assert set(written) == {bs.uid for bs in b.sessions}
    for bs in b.sessions:
        assert written[bs.uid].start == bs.start and written[bs.uid].sequence == 0
    booking.reschedule(
        db,
        sent.request_id,
        sent.option_ids[1],
        idempotency_key="wb-resched-12345678",
        candidate_tz=None,
        now=NOW,
        policy=policy(),
    )
    run_jobs()
    nb = request_row(db, sent.request_id).bookings[-1]
    events = [e for c in calendars.values() for e in c.events.values()]
    assert sorted((e.uid, e.start) for e in events) == sorted(
        (bs.uid, bs.start) for bs in nb.sessions
    )
    assert all(e.sequence == 1 for e in events)
    booking.cancel(db, sent.request_id, now=NOW, policy=policy())
    run_jobs()
    assert all(not c.events for c in calendars.values())


def test_none_of_these_work_tells_the_coordinator(db: Database, company: Any) -> None:
    sent = send_request(db)
    with db.session() as s:
        req = s.get(booking.SchedulingRequest, sent.request_id)
        booking.none_work(s, req, "Tue-Thu 14:00-18:00", "Asia/Kolkata", NOW)
    req = request_row(db, sent.request_id)
    assert "Tue-Thu 14:00-18:00" in req.candidate_reply
    [m] = _mails(db, kind="candidate_reply")
    assert m.to_addr == "ann@example.com" and "Asia/Kolkata" in m.text_body


def test_parse_reminders() -> None:
    assert booking.parse_reminders("24h, 1h") == (timedelta(hours=24), timedelta(hours=1))
    assert booking.parse_reminders("") == ()
    assert booking.parse_reminders("30m,2d") == (timedelta(days=2), timedelta(minutes=30))
    with pytest.raises(ValueError, match="booking.reminders"):
        booking.parse_reminders("tomorrow")


def test_live_calendar_read_refuses_a_time_not_yet_synced(
    db: Database, company: Any, tmp_path: Any
) -> None:
    """The interviewer's ICS file gained an event after the last sync: booking reads it live."""
    sent = send_request(db)
    opt = services.stored_option(
        next(o for o in request_row(db, sent.request_id).options if o.id == sent.option_ids[0])
    )
    slot = opt.sessions[0]
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//EN")
    cal.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", "dentist@example.com")
    ev.add("summary", "Dentist")
    ev.add("dtstart", slot.start)
    ev.add("dtend", slot.end)
    ev.add("dtstamp", NOW)
    cal.add_component(ev)
    path = tmp_path / "live.ics"
    path.write_bytes(cal.to_ical())
    with db.session() as s:
        s.add(
            CalendarSource(
                interviewer_id=interviewer_id(db, slot.interviewers[0]),
                kind="ics",
                label="personal",
                url=str(path),
            )
        )
    # the stored busy time does not know the event yet: without the live read it would book
    with db.session() as s:
        req = s.get(booking.SchedulingRequest, sent.request_id)
        assert sent.option_ids[0] in [o.id for o in booking.valid_options(s, req, NOW)]
    with pytest.raises(booking.OptionTaken):
        _book(db, sent, 0)
    out = _book(db, sent, 0, key="no-live-key-01234567", policy=policy(live_check=False))
    assert out.created
