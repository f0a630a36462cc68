"""The coordinator's and interviewer's use cases run on a bare Session and a given ``now``:
no Flask app context, no request, no wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from web.domain.audit import Actor
from web.domain.booking import BookingPolicy
from web.domain.usecases import interview_feed, interviewers, loops, own_calendars
from web.domain.usecases import scheduling_requests as requests_uc
from web.store.db import Database
from web.store.models import AuditLog, Interviewer, Loop, OutboxMail

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday


def _fields(key: str) -> interviewers.InterviewerFields:
    return interviewers.InterviewerFields(
        key=key,
        name="Fatima Haddad",
        email="fatima@example.com",
        timezone="Africa/Casablanca",
        working_hours={d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        max_interviews_per_day=None,
    )


def _audit_times(db: Database, action: str) -> list[datetime]:
    with db.session() as s:
        rows = s.scalars(select(AuditLog.at).where(AuditLog.action == action))
        return [t if t.tzinfo else t.replace(tzinfo=UTC) for t in rows]


def test_interviewers_are_created_edited_and_revoked_at_the_given_now(
    db: Database, company: dict[str, int]
) -> None:
    who = Actor("coordinator:ann@example.com", company["ann"])
    with db.session() as s:
        row = interviewers.create_interviewer(s, _fields("fatima"), who, AT)
        with pytest.raises(interviewers.KeyTaken):
            interviewers.create_interviewer(s, _fields("alice"), who, AT)
        nonce = row.link_nonce
        interviewers.toggle_active(s, row, who, AT + timedelta(minutes=5))
        assert row.active is False
        assert row.link_nonce != nonce  # deactivating revokes the personal links
    assert _audit_times(db, "interviewer_created") == [AT]
    assert _audit_times(db, "interviewer_deactivated") == [AT + timedelta(minutes=5)]


def test_a_loop_is_saved_with_its_pools(db: Database, company: dict[str, int]) -> None:
    who = Actor("coordinator:ann@example.com", company["ann"])
    with db.session() as s:
        rows, _ = loops.list_loops(s)
        onsite = next(r for r in rows if r.key == "onsite")
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None
        settings = {name: getattr(onsite, name) for name in loops.LOOP_FIELDS}
        settings |= {"key": "solo", "name": "Solo chat"}
        session = loops.SessionFields("Chat", 30, 1, (alice.id,))
        new = loops.create_loop(s, loops.LoopFields(settings, (session,)), who, AT)
        with pytest.raises(interviewers.KeyTaken):
            loops.create_loop(s, loops.LoopFields(settings, (session,)), who, AT)
        loop_id = new.id
    with db.session() as s:
        saved = s.get(Loop, loop_id)
        assert saved is not None
        assert [(ls.name, [p.key for p in ls.pool]) for ls in saved.sessions] == [
            ("Chat", ["alice"])
        ]


def test_a_request_is_drafted_sent_and_cancelled_without_flask(
    db: Database, company: dict[str, int]
) -> None:
    who = Actor("coordinator:ann@example.com", company["ann"])
    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert loop is not None
        draft = requests_uc.RequestDraft(
            loop_id=loop.id,
            candidate_name="Grace Hopper",
            candidate_email="grace@example.com",
            candidate_tz="America/New_York",
            date_from=date(2027, 3, 3),
            date_to=date(2027, 3, 12),
            hours=(9 * 60, 17 * 60),
            note="",
        )
        req = requests_uc.draft_request(s, draft, who, home_tz="Europe/London", now=AT)
        assert req.status == "draft" and req.options and req.created_at == AT
        chosen = set(requests_uc.default_offer(req, 3, "America/New_York"))
        sending = requests_uc.Sending("https://example.test/c/t", "Ann", link_days=14)
        policy = BookingPolicy(live_check=False)
        assert requests_uc.send_request(s, req, chosen, sending, who, policy=policy, now=AT) == 3
        assert req.expires_at == AT + timedelta(days=14)
        requests_uc.cancel_request(s, req, "Ann", who, policy=policy, now=AT)
        assert req.status == "cancelled"
        kinds = [m.kind for m in requests_uc.request_mails(s, req)]
        assert kinds == ["candidate_link", "request_cancelled"]
        page = requests_uc.list_requests(s, company["ann"], "cancelled", 1, 50)
        assert [r.id for r in page.rows] == [req.id] and page.total == 1
    assert _audit_times(db, "request_sent") == [AT]


def test_the_interviewers_feed_and_calendars_use_the_given_now(
    db: Database, company: dict[str, int]
) -> None:
    with db.session() as s:
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None
        assert interview_feed.regenerate(s, alice, AT) is False
        token = alice.feed_token
        assert token and interview_feed.feed_owner(s, token) is alice
        assert b"BEGIN:VCALENDAR" in interview_feed.interviews_ics(s, alice, AT)
        interview_feed.revoke(s, alice, AT)
        assert interview_feed.feed_owner(s, token) is None
        src = own_calendars.add_ics(s, alice, "https://cal.example.com/a.ics", "", AT)
        assert src.label == "ICS feed (cal.example.com)"
        own_calendars.queue_sync(s, alice, AT)
        assert s.scalars(select(OutboxMail)).first() is None  # nothing mailed by these
    assert _audit_times(db, "feed_created") == [AT]
    assert _audit_times(db, "calendar_added") == [AT]


def test_the_week_preview_folds_a_dst_gap_onto_the_real_clock() -> None:
    # 2027-03-14: New York springs forward at 02:00; 01:00-03:00 lasts one real hour
    rows = own_calendars.week_preview(
        "America/New_York", {"sun": ["01:00-03:00"]}, datetime(2027, 3, 14, 12, tzinfo=UTC)
    )
    assert rows[0]["ranges"] == [{"local": "01:00–03:00", "utc": "06:00–07:00 UTC"}]
