"""Drafts expire (a typed setting, the worker's periodic job) and the request list: status
filters that apply at once, and what needs the coordinator (failed mail, stale calendar)."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from integrations.mail import MemoryMailer
from tests.fixtures.webapp import NOW
from tests.web.test_requests import draft, send
from web.domain.usecases.scheduling_requests import needs_coordinator
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import (
    AuditLog,
    CalendarSource,
    Interviewer,
    OutboxMail,
    SchedulingRequest,
)
from web.store.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_draft_expiry_is_a_typed_setting_in_the_example() -> None:
    assert load_settings(environ={}).server.draft_expiry_days == 14
    env = {"PANELSLOT_SERVER_DRAFT_EXPIRY_DAYS": "3"}
    assert load_settings(environ=env).server.draft_expiry_days == 3
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    assert example["server"]["draft_expiry_days"] == 14


def _age(db: Database, rid: int, days: float) -> None:
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        req.created_at = NOW - timedelta(days=days)
        s.commit()


def test_the_worker_deletes_drafts_never_sent(signed_in: Any, db: Database, app: Any) -> None:
    old, young, sent = draft(signed_in, db), draft(signed_in, db), draft(signed_in, db)
    send(signed_in, sent)
    _age(db, old, 15)
    _age(db, young, 13)
    _age(db, sent, 30)
    settings = app.extensions["panelslot.settings"]
    Worker(settings, db, MemoryMailer(), clock=lambda: NOW).expire()
    with db.session() as s:
        assert s.get(SchedulingRequest, old) is None
        assert s.get(SchedulingRequest, young) is not None
        assert s.get(SchedulingRequest, sent) is not None  # sent requests expire by their link
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "request_draft_expired"))
        assert entry is not None and entry.object_id == str(old) and entry.actor == "worker"


def test_status_filters_are_links_that_apply_at_once(signed_in: Any, db: Database) -> None:
    first, second = draft(signed_in, db), draft(signed_in, db)
    send(signed_in, second)
    page = signed_in.get("/requests").get_data(as_text=True)
    for status in ("draft", "sent", "booked"):
        assert f'<a href="/requests?status={status}"' in page
    assert '<a href="/requests" class="current" aria-current="page">all</a>' in page
    drafts = signed_in.get("/requests?status=draft").get_data(as_text=True)
    assert f'/requests/{first}"' in drafts and f'/requests/{second}"' not in drafts
    assert 'class="current" aria-current="page">draft</a>' in drafts
    # an unknown status is no filter (and no error)
    assert signed_in.get("/requests?status=%3Cb%3E").status_code == 200


def test_the_list_flags_failed_mail_and_stale_calendars(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        mail = s.scalar(select(OutboxMail).where(OutboxMail.request_id == rid))
        assert mail is not None
        mail.status = "failed"
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        key = req.options[0].sessions[0]["interviewers"][0]
        who = s.scalar(select(Interviewer).where(Interviewer.key == key))
        assert who is not None
        s.add(
            CalendarSource(
                interviewer_id=who.id,
                kind="ics",
                label="cal",
                url="/x.ics",
                last_good_sync_at=NOW - timedelta(days=2),
                last_attempt_at=NOW - timedelta(hours=1),
                last_error="connection refused",
            )
        )
        s.commit()
        name = who.name
        flags = needs_coordinator(s, [req], now=NOW, stale_after=timedelta(hours=1))
        assert [r.key for r in flags[rid]] == ["mail", "calendar"]
    page = signed_in.get("/requests").get_data(as_text=True)
    assert "a mail to priya@candidate.example failed" in page
    assert re.search(rf'class="flag flag-calendar">stale calendar: [^<]*{name}', page)


def test_nothing_flagged_when_all_is_well(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        assert needs_coordinator(s, [req], now=NOW, stale_after=timedelta(hours=1)) == {}
        req.status = "cancelled"
        mail = s.scalar(select(OutboxMail).where(OutboxMail.request_id == rid))
        assert mail is not None
        mail.status = "failed"
        # a closed request needs nobody
        assert needs_coordinator(s, [req], now=NOW, stale_after=timedelta(hours=1)) == {}


def test_a_booked_request_is_flagged_by_its_booked_interviewers(
    signed_in: Any, db: Database
) -> None:
    from tests.fixtures.booking import send_request
    from web.domain import booking

    sent = send_request(db)
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="flag-key-0123456789",
        candidate_tz=None,
        now=NOW,
        policy=booking.BookingPolicy(),
    )
    with db.session() as s:
        req = s.get(SchedulingRequest, sent.request_id)
        assert req is not None and req.status == "booked"
        b = req.bookings[-1]
        booked = {bs.interviewer.key for bs in b.sessions}
        offered = {k for o in req.options for sl in o.sessions for k in sl["interviewers"]}
        # a calendar never synced, of someone offered but not booked: no flag
        spare = sorted(offered - booked)
        for key, flagged in [(k, False) for k in spare[:1]] + [(sorted(booked)[0], True)]:
            who = s.scalar(select(Interviewer).where(Interviewer.key == key))
            assert who is not None
            s.add(CalendarSource(interviewer_id=who.id, kind="ics", label=key, url="/x.ics"))
            s.commit()
            flags = needs_coordinator(s, [req], now=NOW, stale_after=timedelta(hours=1))
            assert (sent.request_id in flags) is flagged, key
        assert flags[sent.request_id][0].key == "calendar"
