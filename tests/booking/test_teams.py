"""Microsoft Teams as a loop's video link, end to end: the organiser's event is created in
their Microsoft 365 mailbox on the loopback Graph emulator as a Teams meeting, the join URL
is stored on the booking and everyone gets an updated invitation carrying it. Without a
Teams link the loop's template is used and the coordinator is told."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from integrations.crypto import KEY_ENV_VAR, generate_key
from integrations.mail import MemoryMailer
from tests.booking.test_writeback_msgraph import _book, _live, _options_with
from tests.fixtures.booking import NOW, request_row, send_request
from tests.fixtures.msgraph import ms_connect, ms_environment
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from web.domain import booking
from web.domain.worker import Worker, deliver_due
from web.store.db import Database
from web.store.models import Loop

BOB = "bob@example.com"
TEMPLATE = "https://video.example/{booking}"


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, ms_emulator: MicrosoftEmulator) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV_VAR, generate_key())
    ms_environment(monkeypatch, ms_emulator)
    yield


def _teams_loop(db: Database) -> None:
    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert loop is not None
        loop.video = booking.TEAMS
        loop.video_url_template = TEMPLATE


def _run(app: Any, db: Database, mailer: MemoryMailer) -> Any:
    """Book an option with Bob, send the first invitations, run the write-back job."""
    sent = send_request(db, limit=20)
    _book(db, sent.request_id, _options_with(db, sent.request_id, "bob")[0], "teams-key-0001")
    deliver_due(db, mailer, NOW)
    worker = Worker(app.extensions["panelslot.settings"], db, mailer)
    worker.clock = lambda: NOW
    assert worker.run_jobs() == 1
    return sent


def _texts(mailer: MemoryMailer, start: int = 0) -> list[tuple[tuple[str, ...], str, str]]:
    return [
        (m.to, m.subject, mailer.messages[i].get_body(("plain",)).get_content())
        for i, m in enumerate(mailer.sent)
        if i >= start
    ]


def test_teams_link_reaches_everyone_in_an_updated_invite(
    app: Any, db: Database, company: Any, ms_emulator: MicrosoftEmulator, ms_cfg: Any
) -> None:
    _teams_loop(db)
    ms_connect(db, ms_emulator, ms_cfg, "bob")
    mailer = MemoryMailer(sender="jobs@acme.example")
    sent = _run(app, db, mailer)
    first = _texts(mailer)
    assert any("Microsoft Teams link follows" in body for _, _, body in first)

    b = request_row(db, sent.request_id).bookings[0]
    link = b.video_link
    assert link and link.startswith("https://teams.microsoft.test/")
    assert b.sequence == 1
    written = [ev for ev in _live(ms_emulator, BOB).values() if ev.get("isOnlineMeeting")]
    assert [ev["onlineMeeting"]["joinUrl"] for ev in written] == [link]
    assert written[0]["onlineMeetingProvider"] == "teamsForBusiness"

    start = len(mailer.sent)
    deliver_due(db, mailer, NOW)
    updated = _texts(mailer, start)
    assert updated and all(link in body for _, _, body in updated)
    assert any(
        "Microsoft Teams created in Bob Lindqvist" in body
        for to, subject, body in updated
        if "Video link" in subject
    )


def test_without_a_teams_link_the_template_is_used_and_the_coordinator_told(
    app: Any, db: Database, company: Any, ms_emulator: MicrosoftEmulator, ms_cfg: Any
) -> None:
    _teams_loop(db)
    ms_emulator.mailbox(BOB).teams_enabled = False  # the tenant does not allow Teams meetings
    ms_connect(db, ms_emulator, ms_cfg, "bob")
    mailer = MemoryMailer(sender="jobs@acme.example")
    sent = _run(app, db, mailer)
    b = request_row(db, sent.request_id).bookings[0]
    url = TEMPLATE.replace("{booking}", b.uid_base)
    assert b.video_link == url and b.sequence == 1
    start = len(mailer.sent)
    deliver_due(db, mailer, NOW)
    notes = [body for _, subject, body in _texts(mailer, start) if "Video link" in subject]
    assert notes and "Microsoft gave no Microsoft Teams link" in notes[0]


def test_without_a_microsoft_calendar_the_coordinator_is_told_at_booking(
    app: Any, db: Database, company: Any
) -> None:
    _teams_loop(db)
    mailer = MemoryMailer(sender="jobs@acme.example")
    sent = _run(app, db, mailer)
    assert request_row(db, sent.request_id).bookings[0].video_link is None
    assert any(
        "no interviewer of this booking has a connected Microsoft 365 calendar" in body
        for _, _, body in _texts(mailer)
    )
