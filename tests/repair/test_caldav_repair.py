"""A decline through Radicale: the interview is written to alice's CalDAV calendar, her
calendar client stores PARTSTAT=DECLINED on it, and the worker's next sync replaces her from
the pool; the iTIP mails are checked over real SMTP (aiosmtpd on loopback) and her event is
deleted from her calendar."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import caldav
import icalendar
import pytest

from integrations.calendars.answers import attendee_props
from integrations.crypto import KEY_ENV_VAR, generate_key
from tests.fixtures.booking import interviewer_id
from tests.fixtures.webapp import NOW
from tests.integrations.radicale_server import RadicaleServer, start_radicale
from tests.integrations.smtp_server import SMTPTestServer
from tests.repair.test_handle import _book, _seat, design_option
from tests.sync.test_repair_detect import _worker, assert_replaced, booking_seat
from web.domain.sync.config import SyncConfig
from web.domain.sync.readers import encrypt_json
from web.store.db import Database
from web.store.models import BookingSession, CalendarSource

PASSWORD = "Radicale-repair-pw"


@pytest.fixture
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"))  # any password (loopback)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def token_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV_VAR, generate_key())


@pytest.fixture
def smtp() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


def test_radicale_decline_is_replaced(
    app: Any, db: Database, company: Any, radicale: RadicaleServer, smtp: SMTPTestServer
) -> None:
    client = caldav.DAVClient(url=radicale.url, username="alice", password=PASSWORD)  # type: ignore[operator]
    name = f"work-{uuid.uuid4().hex[:6]}"
    cal = client.principal().make_calendar(name=name, cal_id=name)
    cfg = SyncConfig(timeout=5.0)
    with db.session() as s:
        s.add(
            CalendarSource(
                interviewer_id=interviewer_id(db, "alice"),
                kind="caldav",
                label="alice-dav",
                url=radicale.url,
                credentials=encrypt_json({"username": "alice", "password": PASSWORD}, cfg),
                selected_calendars=[str(cal.url)],
            )
        )
    rid, bid = _book(db, options=[design_option()])
    seat, _, _ = _seat(db, bid, "System design")
    worker = _worker(app, db, smtp, cfg, NOW)
    worker.run_jobs()  # the write-back to Radicale
    worker.deliver()
    with db.session() as s:
        bs = s.get(BookingSession, seat)
        assert bs is not None and bs.calendar_event_id
        uid, [event_url] = bs.uid, list(json.loads(bs.calendar_event_id).values())
    worker.sync()
    assert booking_seat(db, seat) == "alice"  # written, synced, not answered: nothing happens
    decline_in_own_client(radicale, event_url, "alice@example.com")
    mark = len(smtp.messages)
    worker.sync()
    worker.run_jobs()  # alice's event is deleted
    worker.deliver()
    assert booking_seat(db, seat) == "bob"
    assert_replaced(smtp, mark, uid)
    assert uid not in {str(e.icalendar_component["UID"]) for e in cal.events()}


def decline_in_own_client(radicale: RadicaleServer, url: str, who: str) -> None:
    """What alice's calendar client does: store her DECLINED on the event (one attendee)."""
    client = caldav.DAVClient(url=radicale.url, username="alice", password="any")  # type: ignore[operator]
    cal = icalendar.Calendar.from_ical(client.request(url, "GET").raw)
    for vevent in cal.walk("VEVENT"):
        for prop in attendee_props(vevent):
            if str(prop).lower() == f"mailto:{who}":
                prop.params["PARTSTAT"] = "DECLINED"
    answer = client.put(url, cal.to_ical().decode(), {"Content-Type": "text/calendar"})
    assert answer.status in (201, 204), answer.status
