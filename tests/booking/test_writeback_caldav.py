"""Calendar write-back through the real CalDAV backend to a Radicale server on loopback:
the worker's job writes the interview, moves it on reschedule and deletes it on cancel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import caldav
import icalendar
import pytest

from integrations.crypto import KEY_ENV_VAR, generate_key  # noqa: E402
from integrations.mail import MemoryMailer  # noqa: E402
from tests.fixtures.booking import (  # noqa: E402
    NOW,
    interviewer_id,
    policy,
    request_row,
    send_request,
)
from tests.integrations.radicale_server import RadicaleServer, start_radicale  # noqa: E402
from web.domain import booking  # noqa: E402
from web.domain.sync.config import SyncConfig  # noqa: E402
from web.domain.sync.readers import encrypt_json  # noqa: E402
from web.domain.worker import Worker  # noqa: E402
from web.store.db import Database  # noqa: E402
from web.store.models import CalendarSource  # noqa: E402

PASSWORD = "Radicale-booking-pw"


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"), users={"bob": PASSWORD})
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def token_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV_VAR, generate_key())
    yield


def _events(cal: Any) -> dict[str, icalendar.Event]:
    out = {}
    for obj in cal.events():
        for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT"):
            out[str(ev["UID"])] = ev
    return out


def test_interviews_are_written_moved_and_deleted_in_caldav(
    app: Any, db: Database, company: Any, radicale: RadicaleServer
) -> None:
    client = caldav.DAVClient(url=radicale.url, username="bob", password=PASSWORD)
    name = f"work-{uuid.uuid4().hex[:6]}"
    cal = client.principal().make_calendar(name=name, cal_id=name)
    secret = encrypt_json({"username": "bob", "password": PASSWORD}, SyncConfig())
    with db.session() as s:
        s.add(
            CalendarSource(
                interviewer_id=interviewer_id(db, "bob"),
                kind="caldav",
                label="bob-dav",
                url=radicale.url,
                credentials=secret,
                selected_calendars=[str(cal.url)],
            )
        )
    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(sender="x@y.z"))
    worker.clock = lambda: NOW

    # an option in which Bob interviews
    sent = send_request(db, limit=20)
    rows = request_row(db, sent.request_id).options
    from web.domain import services

    with_bob = [
        o.id
        for o in rows
        if any("bob" in sl.interviewers for sl in services.stored_option(o).sessions)
    ]
    assert len(with_bob) >= 2
    booking.book(
        db,
        sent.request_id,
        with_bob[0],
        idempotency_key="dav-book-key-0123456",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    assert worker.run_jobs() == 1
    b = request_row(db, sent.request_id).bookings[0]
    bob = interviewer_id(db, "bob")
    mine = [bs for bs in b.sessions if bs.interviewer_id == bob]
    events = _events(cal)
    assert set(events) == {bs.uid for bs in mine}
    for bs in mine:
        assert events[bs.uid].decoded("DTSTART") == bs.start
        assert bs.calendar_event_id  # the provider's id is kept for updates

    booking.reschedule(
        db,
        sent.request_id,
        with_bob[1],
        idempotency_key="dav-move-key-0123456",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    assert worker.run_jobs() == 1
    nb = request_row(db, sent.request_id).bookings[-1]
    mine = [bs for bs in nb.sessions if bs.interviewer_id == bob]
    events = _events(cal)
    assert {u: e.decoded("DTSTART") for u, e in events.items()} == {bs.uid: bs.start for bs in mine}

    booking.cancel(db, sent.request_id, now=NOW, policy=policy())
    assert worker.run_jobs() == 1
    assert _events(cal) == {}
