"""One status enum per state machine, and the database refuses any other value."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from web.store.db import Database
from web.store.models import JobRequest
from web.store.statuses import AWAITING_CANDIDATE, BOOKED, UNDECIDED, JobStatus, RequestStatus


def test_the_status_sets_are_one_definition():
    """The old copies disagreed: services.OPEN_STATUSES had drafts, policy.OPEN did not.
    Now drafts can expire (UNDECIDED) but a candidate can book only a sent request."""
    assert {RequestStatus.SENT, RequestStatus.OPENED} == AWAITING_CANDIDATE
    assert AWAITING_CANDIDATE | {RequestStatus.DRAFT} == UNDECIDED
    assert {RequestStatus.BOOKED, RequestStatus.RESCHEDULED} == BOOKED
    assert RequestStatus.SENT == "sent"  # StrEnum: the stored text is the value


def test_the_database_refuses_an_unknown_status(db: Database):
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(JobRequest(kind="sync_all", payload={}, status="exploded"))
        s.flush()
    with db.session() as s:
        s.add(JobRequest(kind="sync_all", payload={}, status=JobStatus.PENDING))


def _overlap_guards(conn) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT conname FROM pg_constraint WHERE contype = 'x'"
    return set(conn.execute(text(sql)).scalars())


def test_the_overlap_guards_survive_the_status_migration(db: Database):
    """SQLite's batch mode rebuilds tables: the no-overlap triggers must still be there."""
    with db.engine.connect() as conn:
        guards = _overlap_guards(conn)
        checks = {c["name"] for c in inspect(conn).get_check_constraints("bookings")}
    if db.engine.dialect.name == "sqlite":
        assert {
            "booking_sessions_no_overlap_insert",
            "booking_sessions_no_overlap_update",
        } <= guards
    else:
        assert "ex_booking_sessions_no_overlap" in guards
    assert "ck_bookings_status_valid" in checks
