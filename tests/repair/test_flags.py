"""The request list's "Needs you" flags for dropouts the repair brought to the coordinator
(issue 12): "interviewer declined", "calendar conflict", "can't make it". Each shows on
/requests until the coordinator swaps, reschedules or dismisses the notice; the flags
cost the same number of queries for one request as for a page of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from integrations.calendars.google_events import google_event_id
from tests.fixtures.booking import form_of, interviewer_id, policy
from tests.fixtures.sync import utc
from tests.fixtures.webapp import NOW, csrf_of, get_csrf
from tests.integrations.google_emulator import GoogleEmulator
from tests.integrations.smtp_server import SMTPTestServer
from tests.repair.test_handle import _book, _seat, design_option
from tests.sync.conftest import token_key
from tests.sync.test_repair_detect import _booked, _worker, alice_google, smtp
from web.domain import repair
from web.domain.sync.config import SyncConfig
from web.domain.usecases.scheduling_requests import needs_coordinator
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import AuditLog, BookingSession, SchedulingRequest

__all__ = ["alice_google", "smtp", "token_key"]  # fixtures used here


def _flags(client: Any, rid: int) -> list[tuple[str, str]]:
    """(key, text) of the flags in the request's row of /requests."""
    page = client.get("/requests").get_data(as_text=True)
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?/requests/{rid}"(?:(?!</tr>).)*</tr>', page, re.S)
    assert row is not None, page
    return re.findall(r'class="flag flag-([\w-]+)">([^<]*)</li>', row.group(0))


def _escalate(db: Database, cause: str, day: int = 3) -> tuple[int, int, int]:
    """A booked design option whose alice drops out (``cause``) 5 h before: escalated.
    (request id, alice's seat, alice's id)"""
    rid, bid = _book(db, options=[design_option(day)])
    seat, alice, _ = _seat(db, bid, "System design")
    with db.session() as s:
        start = s.get(BookingSession, seat).start  # type: ignore[union-attr]
    d = repair.Dropout(seat, alice, cause, "seen in a test")
    assert repair.handle_dropout(db, d, start - timedelta(hours=5), policy()).action == "escalated"
    return rid, seat, alice


def _swap_to_bob(client: Any, db: Database, rid: int, seat: int, alice: int) -> None:
    form = {"seat": seat, "leaver": alice, "joiner": interviewer_id(db, "bob")}
    token = get_csrf(client, f"/requests/{rid}")
    assert client.post(f"/requests/{rid}/swap", data={**form, "csrf_token": token}).status_code
    page = client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Swapped: bob takes the seat" in page, page


@pytest.fixture
def worker_at(
    app: Any, db: Database, cfg: SyncConfig, smtp: SMTPTestServer, alice_google: int
) -> Callable[[datetime], Worker]:
    """The worker at a given time, syncing alice's Google Calendar (the emulator)."""
    return lambda at: _worker(app, db, smtp, cfg, at)


def test_google_decline_inside_48h_is_flagged_until_swapped(
    db: Database, signed_in: Any, emulator: GoogleEmulator, worker_at: Callable[[datetime], Worker]
) -> None:
    rid, seat, uid = _booked(db)
    first = worker_at(NOW)
    first.run_jobs()  # the write-back
    first.sync()  # alice's calendar is fresh: nothing flagged
    worker = worker_at(utc(2027, 3, 2, 12))  # 22 h before the session
    assert _flags(signed_in, rid) == []
    emulator.respond("primary", google_event_id(uid), "alice@example.com", "declined")
    worker.sync()
    assert _flags(signed_in, rid) == [
        ("declined", "interviewer declined: Alice Okafor (System design)")
    ]
    with db.session() as s:
        alice = s.get(BookingSession, seat).interviewer_id  # type: ignore[union-attr]
    _swap_to_bob(signed_in, db, rid, seat, alice)
    assert _flags(signed_in, rid) == []


@pytest.mark.parametrize(
    ("cause", "flag"),
    [
        ("conflict", ("conflict", "calendar conflict: Alice Okafor (System design)")),
        ("cant_make_it", ("cant-make-it", "can't make it: Alice Okafor (System design)")),
        ("declined", ("declined", "interviewer declined: Alice Okafor (System design)")),
    ],
)
def test_each_dropout_is_flagged_until_dismissed(
    db: Database, signed_in: Any, cause: str, flag: tuple[str, str]
) -> None:
    rid, seat, _ = _escalate(db, cause)
    shown = [(k, t.replace("&#39;", "'")) for k, t in _flags(signed_in, rid)]
    assert shown == [flag]
    action = f"/requests/{rid}/notices/{seat}/dismiss"
    detail = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert f'action="{action}"' in detail
    assert signed_in.post(action).status_code == 400  # no CSRF
    assert _flags(signed_in, rid) != []
    token = get_csrf(signed_in, f"/requests/{rid}")
    assert signed_in.post(action, data={"csrf_token": token}).status_code == 302
    detail = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Dismissed the notice." in detail and "repair-notice" not in detail
    assert _flags(signed_in, rid) == []
    with db.session() as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "repair_notice_dismissed"))
        assert entry is not None and entry.object_id == str(rid)
        assert entry.actor.startswith("coordinator") and entry.detail["cause"] == cause
    # dismissing again, or a seat of no notice: nothing to dismiss
    signed_in.post(action, data={"csrf_token": token})
    assert "Nothing to dismiss." in signed_in.get(f"/requests/{rid}").get_data(as_text=True)


def test_a_swap_clears_the_flag(db: Database, signed_in: Any) -> None:
    rid, seat, alice = _escalate(db, "conflict")
    assert [k for k, _ in _flags(signed_in, rid)] == ["conflict"]
    _swap_to_bob(signed_in, db, rid, seat, alice)
    assert _flags(signed_in, rid) == []


def _queries(db: Database, ids: list[int]) -> int:
    with db.session() as s:
        rows = [s.get(SchedulingRequest, i) for i in ids]
        for r in rows:
            assert r is not None
            _ = r.bookings, [b.sessions for b in r.bookings]  # loaded before counting
        seen: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = needs_coordinator(
                s, [r for r in rows if r], now=NOW, stale_after=timedelta(days=999)
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert set(found) == set(ids)
        return len(seen)


def test_dropout_flags_cost_the_same_queries_for_a_page(db: Database, company: Any) -> None:
    """One request or three, each with a notice: the same number of queries."""
    causes = ("declined", "conflict", "cant_make_it")
    ids = [_escalate(db, c, day)[0] for day, c in enumerate(causes, start=3)]
    assert _queries(db, ids[:1]) == _queries(db, ids)


def test_a_reschedule_clears_the_flag(db: Database, signed_in: Any) -> None:
    rid, bid = _book(db)  # option 0 of the standard request
    with db.session() as s:
        bs = s.scalars(select(BookingSession).where(BookingSession.booking_id == bid)).first()
        assert bs is not None
        d = repair.Dropout(bs.id, bs.interviewer_id, "conflict", "a new meeting")
        start = bs.start
    assert repair.handle_dropout(db, d, start - timedelta(hours=5), policy()).action == "escalated"
    assert [k for k, _ in _flags(signed_in, rid)] == ["conflict"]
    html = signed_in.get(f"/requests/{rid}/reschedule").get_data(as_text=True)
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        other = next(o.id for o in req.options if o.id != req.bookings[-1].option_id)
    form = {"csrf_token": csrf_of(html), "idem": form_of(html)["idem"], "option": str(other)}
    assert signed_in.post(f"/requests/{rid}/reschedule", data=form).status_code == 302
    assert _flags(signed_in, rid) == []
