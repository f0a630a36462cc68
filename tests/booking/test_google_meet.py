"""Google Meet as a loop's video link, end to end: the real google-api-python-client against
the loopback Google emulator creates the organiser's event with conference data, the link is
stored on the booking, and everyone gets an updated REQUEST (same UID, SEQUENCE + 1) by real
SMTP (aiosmtpd). Without a Google calendar the loop's URL template is used and the
coordinator is told."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from sqlalchemy import select

from integrations.backoff import Backoff  # noqa: E402
from integrations.crypto import KEY_ENV_VAR, generate_key  # noqa: E402
from integrations.google_auth import GoogleClientConfig, encrypt_credentials  # noqa: E402
from integrations.mail import SMTPMailer  # noqa: E402
from tests.booking.test_smtp import _invites  # noqa: E402
from tests.fixtures.booking import (  # noqa: E402
    NOW,
    interviewer_id,
    policy,
    request_row,
    send_request,
)
from tests.fixtures.webapp import get_csrf, signed_in  # noqa: E402, F401, F811
from tests.integrations.google_emulator import GoogleEmulator  # noqa: E402
from tests.integrations.smtp_server import SMTPTestServer  # noqa: E402
from tests.web.test_loops import _form as loop_form  # noqa: E402
from tests.web.test_loops import _ids as loop_ids  # noqa: E402
from web.domain import booking, services  # noqa: E402
from web.domain.sync.config import SyncConfig  # noqa: E402
from web.domain.worker import Worker, deliver_due  # noqa: E402
from web.store.db import Database  # noqa: E402
from web.store.models import CalendarSource, Loop  # noqa: E402

REFRESH = "meet-refresh-token"
TEMPLATE = "https://video.example/{booking}"


class NoSleep:
    def __call__(self, seconds: float) -> None:
        return None


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emu:
        emu.add_calendar("primary")
        emu.issue_refresh_token(REFRESH)
        yield emu


@pytest.fixture
def google_cfg(emulator: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncConfig]:
    monkeypatch.setenv(KEY_ENV_VAR, generate_key())
    cfg = SyncConfig(
        timeout=5.0,
        google=GoogleClientConfig(
            client_id="panelslot-test-client",
            client_secret="client-secret-value",
            redirect_uri="http://panelslot.test/i/oauth/google/callback",
            token_uri=emulator.token_uri,
        ),
        google_api_endpoint=emulator.api_endpoint,
        google_backoff=Backoff(attempts=2, base_seconds=0.01, sleep=NoSleep()),
    )
    yield cfg


@pytest.fixture
def smtp() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


def _mailer(server: SMTPTestServer) -> SMTPMailer:
    return SMTPMailer(
        server.host, server.port, security="none", timeout=5, sender="jobs@acme.example"
    )


def _meet_loop(db: Database) -> None:
    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert loop is not None
        loop.video = booking.GOOGLE_MEET
        loop.video_url_template = TEMPLATE


def _connect_google(db: Database, cfg: SyncConfig, key: str) -> None:
    creds = Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=REFRESH,
        token_uri=cfg.google.token_uri,
        client_id=cfg.google.client_id,
        client_secret=cfg.google.client_secret,
    )
    with db.session() as s:
        s.add(
            CalendarSource(
                interviewer_id=interviewer_id(db, key),
                kind="google",
                label=f"{key}-google",
                credentials=encrypt_credentials(creds),
            )
        )


def _book_with(db: Database, key: str, idem: str) -> Any:
    """Send a request and book its first option in which ``key`` interviews."""
    sent = send_request(db, limit=20)
    rows = request_row(db, sent.request_id).options
    mine = [
        o.id
        for o in rows
        if any(key in sl.interviewers for sl in services.stored_option(o).sessions)
    ]
    assert mine, f"no option with {key}"
    booking.book(
        db,
        sent.request_id,
        mine[0],
        idempotency_key=idem,
        candidate_tz="Asia/Kolkata",
        now=NOW,
        policy=policy(live_check=False, candidate_invites="session"),
        link="http://panelslot.test/c/x",
    )
    return sent, mine


def _worker(app: Any, db: Database, server: SMTPTestServer, cfg: SyncConfig) -> Worker:
    # the worker reads calendars as configured here (not as the app's settings say)
    worker = Worker(app.extensions["panelslot.settings"], db, _mailer(server), sync_config=cfg)
    worker.clock = lambda: NOW
    return worker


def test_google_meet_link_reaches_everyone_in_an_updated_invite(
    app: Any,
    client: Any,
    db: Database,
    company: Any,
    emulator: GoogleEmulator,
    google_cfg: SyncConfig,
    smtp: SMTPTestServer,
) -> None:
    _meet_loop(db)
    _connect_google(db, google_cfg, "bob")
    sent, mine = _book_with(db, "bob", "meet-book-key-000001")

    # the first invitations: no link yet, it follows
    deliver_due(db, _mailer(smtp), NOW)
    first = _invites(smtp)
    assert first and all(int(ev["SEQUENCE"]) == 0 for _, _, ev, _ in first)
    assert all("LOCATION" not in ev for _, _, ev, _ in first)
    cand = next(m for r, _, _, m in first if r == "priya@example.org")
    assert "Google Meet link follows" in cand.get_body(("plain",)).get_content()
    app.config["PANELSLOT_NOW"] = NOW
    assert "being created" in client.get(sent.url).get_data(as_text=True)

    # the write-back creates the organiser's event with conference data
    worker = _worker(app, db, smtp, google_cfg)
    assert worker.run_jobs() == 1
    b = request_row(db, sent.request_id).bookings[0]
    link = b.video_link
    assert link and link.startswith("https://meet.google.test/")
    assert b.sequence == 1
    [event] = emulator.live_events("primary")
    assert event["hangoutLink"] == link
    assert event["conferenceData"]["entryPoints"][0]["uri"] == link
    assert event["location"] == link
    bob = interviewer_id(db, "bob")
    assert event["iCalUID"] in {bs.uid for bs in b.sessions if bs.interviewer_id == bob}

    # everyone gets an updated REQUEST: same UIDs, SEQUENCE + 1, the Meet link
    start = len(smtp.messages)
    deliver_due(db, _mailer(smtp), NOW)
    updated = _invites(smtp, start)
    assert sorted(r for r, *_ in updated) == sorted(r for r, *_ in first)
    first_uids = {(r, str(ev["UID"])) for r, _, ev, _ in first}
    assert {(r, str(ev["UID"])) for r, _, ev, _ in updated} == first_uids
    for _, method, ev, msg in updated:
        assert method == "REQUEST"
        assert int(ev["SEQUENCE"]) == 1
        assert str(ev["LOCATION"]) == link
        assert link in msg.get_body(("plain",)).get_content()
    notice = [
        r.message
        for r in smtp.messages[start:]
        if list(r.rcpt_tos) == ["ann@example.com"] and "Video link" in str(r.message["Subject"])
    ]
    assert (
        notice
        and "Google Meet created in Bob Lindqvist" in notice[0].get_body(("plain",)).get_content()
    )

    # the confirmation page shows the link
    html = client.get(sent.url).get_data(as_text=True)
    assert f'href="{link}"' in html

    # a reschedule keeps the same Meet link: REQUEST with SEQUENCE 2 carries it, no new Meet
    booking.reschedule(
        db,
        sent.request_id,
        mine[1],
        idempotency_key="meet-move-key-000001",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False, candidate_invites="session"),
    )
    assert worker.run_jobs() == 1
    moved = request_row(db, sent.request_id).bookings[-1]
    assert moved.video_link == link and moved.sequence == 2
    assert {e.get("hangoutLink") for e in emulator.live_events("primary")} <= {link, None}
    start = len(smtp.messages)
    deliver_due(db, _mailer(smtp), NOW)
    again = _invites(smtp, start)
    requests = [ev for _, method, ev, _ in again if method == "REQUEST"]
    assert requests and all(str(ev["LOCATION"]) == link for ev in requests)
    assert all(int(ev["SEQUENCE"]) == 2 for _, _, ev, _ in again)


def test_without_a_google_calendar_the_template_is_used_and_the_coordinator_told(
    app: Any,
    db: Database,
    company: Any,
    google_cfg: SyncConfig,
    emulator: GoogleEmulator,
    smtp: SMTPTestServer,
) -> None:
    _meet_loop(db)
    sent, _ = _book_with(db, "bob", "meet-book-key-000002")
    deliver_due(db, _mailer(smtp), NOW)
    b = request_row(db, sent.request_id).bookings[0]
    url = TEMPLATE.replace("{booking}", b.uid_base)
    invites = _invites(smtp)
    assert invites and all(str(ev["LOCATION"]) == url for _, _, ev, _ in invites)
    notice = next(
        r.message
        for r in smtp.messages
        if list(r.rcpt_tos) == ["ann@example.com"] and "booked" in str(r.message["Subject"])
    )
    assert (
        "no interviewer of this booking has a connected Google Calendar"
        in notice.get_body(("plain",)).get_content()
    )
    start = len(smtp.messages)
    assert _worker(app, db, smtp, google_cfg).run_jobs() == 1
    deliver_due(db, _mailer(smtp), NOW)
    assert smtp.messages[start:] == []  # no second invitation
    assert request_row(db, sent.request_id).bookings[0].video_link is None
    assert emulator.live_events("primary") == []


def test_meet_failure_falls_back_to_the_template_in_an_update(
    app: Any,
    db: Database,
    company: Any,
    google_cfg: SyncConfig,
    emulator: GoogleEmulator,
    smtp: SMTPTestServer,
) -> None:
    _meet_loop(db)
    _connect_google(db, google_cfg, "bob")
    sent, _ = _book_with(db, "bob", "meet-book-key-000003")
    deliver_due(db, _mailer(smtp), NOW)
    emulator.fail_next(403, times=5, reason="forbidden", path_contains="/events")
    assert _worker(app, db, smtp, google_cfg).run_jobs() == 1
    b = request_row(db, sent.request_id).bookings[0]
    url = TEMPLATE.replace("{booking}", b.uid_base)
    assert b.video_link == url and b.sequence == 1
    start = len(smtp.messages)
    deliver_due(db, _mailer(smtp), NOW)
    updated = _invites(smtp, start)
    assert updated and all(str(ev["LOCATION"]) == url for _, _, ev, _ in updated)
    assert all(int(ev["SEQUENCE"]) == 1 for _, _, ev, _ in updated)
    notice = next(
        r.message
        for r in smtp.messages[start:]
        if list(r.rcpt_tos) == ["ann@example.com"] and "Video link" in str(r.message["Subject"])
    )
    text = notice.get_body(("plain",)).get_content()
    assert "could not be created" in text and "template is used" in text
    assert REFRESH not in text


def test_coordinator_chooses_google_meet_in_the_loop_form(
    signed_in: Any,  # noqa: F811
    db: Database,
) -> None:
    page = signed_in.get("/loops/new").get_data(as_text=True)
    assert 'value="google_meet"' in page
    token = get_csrf(signed_in, "/loops/new")
    data = {**loop_form(loop_ids(db), video="google_meet"), "csrf_token": token}
    assert signed_in.post("/loops/new", data=data).status_code == 302
    with db.session() as s:
        assert s.scalar(select(Loop.video).where(Loop.key == "final")) == "google_meet"
    bad = {**loop_form(loop_ids(db), key="other", video="zoom"), "csrf_token": token}
    resp = signed_in.post("/loops/new", data=bad)
    assert resp.status_code == 400 and "Not a valid choice" in resp.get_data(as_text=True)
