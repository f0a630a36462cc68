"""Calendar write-back to Microsoft 365: the worker's job writes the interview into the
interviewer's mailbox on the loopback Graph emulator (real msal, real HTTP), moves it on a
reschedule and deletes it on a cancel; a read-only connection is never written to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integrations.crypto import KEY_ENV_VAR, generate_key
from integrations.mail import MemoryMailer
from tests.fixtures.booking import NOW, interviewer_id, policy, request_row, send_request
from tests.fixtures.msgraph import ms_connect, ms_environment
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from web.domain import booking, services
from web.domain.worker import Worker
from web.store.db import Database

BOB = "bob@example.com"


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, ms_emulator: MicrosoftEmulator) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV_VAR, generate_key())
    ms_environment(monkeypatch, ms_emulator)  # read by the app the worker is built from
    yield


def _worker(app: Any, db: Database) -> Worker:
    worker = Worker(app.extensions["panelslot.settings"], db, MemoryMailer(sender="x@y.z"))
    worker.clock = lambda: NOW
    return worker


def _options_with(db: Database, request_id: int, key: str) -> list[int]:
    rows = request_row(db, request_id).options
    return [
        o.id
        for o in rows
        if any(key in sl.interviewers for sl in services.stored_option(o).sessions)
    ]


def _live(emu: MicrosoftEmulator, address: str) -> dict[str, dict[str, Any]]:
    with emu.lock:
        return {eid: dict(ev.body) for eid, ev in emu.mailbox(address).events.items()}


def _book(db: Database, request_id: int, option_id: int, key: str) -> None:
    booking.book(
        db,
        request_id,
        option_id,
        idempotency_key=key,
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )


def test_interviews_are_written_moved_and_deleted_in_microsoft_365(
    app: Any, db: Database, company: Any, ms_emulator: MicrosoftEmulator, ms_cfg: Any
) -> None:
    sid = ms_connect(db, ms_emulator, ms_cfg, "bob", label="bob-m365")
    worker = _worker(app, db)
    sent = send_request(db, limit=20)
    with_bob = _options_with(db, sent.request_id, "bob")
    assert len(with_bob) >= 2
    _book(db, sent.request_id, with_bob[0], "ms-book-key-0123456")
    assert worker.run_jobs() == 1

    b = request_row(db, sent.request_id).bookings[0]
    bob = interviewer_id(db, "bob")
    mine = [bs for bs in b.sessions if bs.interviewer_id == bob]
    events = _live(ms_emulator, BOB)
    assert len(events) == len(mine)
    by_subject = {ev["subject"]: ev for ev in events.values()}
    for bs in mine:
        [ev] = [e for s, e in by_subject.items() if s.endswith(bs.session_name)]
        assert ev["start"]["dateTime"].startswith(bs.start.strftime("%Y-%m-%dT%H:%M"))
        assert ev["attendees"][0]["emailAddress"]["address"] == BOB
        assert str(sid) in (bs.calendar_event_id or "")  # the Graph id kept for updates
    assert ms_emulator.graph_requests("POST", "me/calendar/events")

    booking.reschedule(
        db,
        sent.request_id,
        with_bob[1],
        idempotency_key="ms-move-key-0123456",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    assert worker.run_jobs() == 1
    nb = request_row(db, sent.request_id).bookings[-1]
    starts = sorted(bs.start for bs in nb.sessions if bs.interviewer_id == bob)
    moved = sorted(ev["start"]["dateTime"][:16] for ev in _live(ms_emulator, BOB).values())
    assert moved == [s.strftime("%Y-%m-%dT%H:%M") for s in starts]

    booking.cancel(db, sent.request_id, now=NOW, policy=policy())
    assert worker.run_jobs() == 1
    assert _live(ms_emulator, BOB) == {}


def test_a_read_only_connection_is_not_written(
    app: Any, db: Database, company: Any, ms_emulator: MicrosoftEmulator, ms_cfg: Any
) -> None:
    ms_connect(db, ms_emulator, ms_cfg, "bob", write=False)
    sent = send_request(db, limit=20)
    _book(db, sent.request_id, _options_with(db, sent.request_id, "bob")[0], "ms-ro-key-0123456")
    assert _worker(app, db).run_jobs() == 1
    assert _live(ms_emulator, BOB) == {}
    assert not ms_emulator.graph_requests("POST", "me/calendar/events")
