"""Fixtures of the booking tests: the web tests' database/app fixtures plus sent requests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.web.conftest import (  # noqa: F401 - fixtures re-used by name
    COMPANY,
    IN_CI,
    NOW,
    PG_ENV,
    SECRET,
    app,
    client,
    company,
    csrf_of,
    database_url,
    db,
    pg_schema_url,
    sqlite_session_url,
)
from web import services
from web.booking import BookingPolicy
from web.db import Database
from web.models import Coordinator, Interviewer, OfferedOption, SchedulingRequest


@dataclass(frozen=True)
class Sent:
    request_id: int
    token: str
    option_ids: list[int]

    @property
    def url(self) -> str:
        return f"/c/{self.token}"


def policy(**kw: Any) -> BookingPolicy:
    return BookingPolicy(domain="panelslot.test", **kw)


def send_request(
    database: Database,
    *,
    loop_key: str = "onsite",
    candidate: str = "Priya Nair",
    email: str = "priya@example.org",
    tz: str | None = "Asia/Kolkata",
    date_from: date = date(2027, 3, 3),
    date_to: date = date(2027, 3, 10),
    limit: int = 5,
    hold: bool = True,
    options: list[Any] | None = None,
    now: datetime = NOW,
    coordinator_email: str = "ann@example.com",
) -> Sent:
    """A request in status 'sent' with ``limit`` engine options offered (holds included)."""
    from sqlalchemy import select

    from web.models import Loop

    with database.session() as s:
        coord = s.scalar(select(Coordinator).where(Coordinator.email == coordinator_email))
        assert coord is not None
        loop = s.scalar(select(Loop).where(Loop.key == loop_key))
        assert loop is not None
        loop_row = services.load_loop(s, loop.id)
        assert loop_row is not None
        if options is None:
            found = services.search(
                s,
                loop_row,
                candidate_tz=tz or coord.timezone,
                date_from=date_from,
                date_to=date_to,
                hours=(0, 1440),
                now=now,
                limit=limit,
            )
            options = found.options
        assert options, "the engine found no options for the test request"
        req = SchedulingRequest(
            coordinator_id=coord.id,
            loop_id=loop.id,
            candidate_name=candidate,
            candidate_email=email,
            candidate_tz=tz,
            date_from=date_from,
            date_to=date_to,
            candidate_hours_start=0,
            candidate_hours_end=1440,
            status="sent",
            token_nonce=services.new_nonce(),
            created_at=now,
            sent_at=now,
            expires_at=now + timedelta(days=14),
        )
        s.add(req)
        s.flush()
        rows = services.offer(s, req, options, hold_until=req.expires_at if hold else None)
        if not hold:
            services.release_holds(s, req)
        token = services.candidate_token(SECRET, req)
        return Sent(req.id, token, [r.id for r in rows])


def request_row(database: Database, rid: int) -> SchedulingRequest:
    from sqlalchemy.orm import selectinload

    with database.session() as s:
        from sqlalchemy import select

        req = s.scalar(
            select(SchedulingRequest)
            .where(SchedulingRequest.id == rid)
            .options(
                selectinload(SchedulingRequest.bookings), selectinload(SchedulingRequest.options)
            )
        )
        assert req is not None
        for b in req.bookings:
            _ = [bs.interviewer.email for bs in b.sessions]
        return req


def option_row(database: Database, oid: int) -> OfferedOption:
    with database.session() as s:
        row = s.get(OfferedOption, oid)
        assert row is not None
        return row


def interviewer_id(database: Database, key: str) -> int:
    from sqlalchemy import select

    with database.session() as s:
        row = s.scalar(select(Interviewer).where(Interviewer.key == key))
        assert row is not None
        return row.id


IDEM_RE = re.compile(r'name="idem" value="([^"]+)"')


def form_of(html: str) -> dict[str, str]:
    """The hidden fields of the booking form on a candidate page."""
    m = IDEM_RE.search(html)
    assert m, "no booking form on the page"
    return {"csrf_token": csrf_of(html), "idem": m.group(1)}


@pytest.fixture
def pol() -> BookingPolicy:
    return policy()
