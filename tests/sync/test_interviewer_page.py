"""The interviewer's own page: signed link, ICS/CalDAV/Google connections (credentials never
shown or logged), test connection, zone and hours preview, private revocable ICS feed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import undefer

from tests.fixtures.sync import day_events, ics, interviewer_id, utc
from tests.fixtures.webapp import NOW, csrf_of
from tests.integrations.feed_server import FeedServer, Static
from tests.integrations.google_emulator import GoogleEmulator
from tests.integrations.radicale_server import RadicaleServer, start_radicale
from web.domain import services
from web.store.db import Database
from web.store.models import (
    Booking,
    BookingSession,
    BusyBlock,
    CalendarSource,
    Interviewer,
    JobRequest,
    Loop,
    SchedulingRequest,
)

DAV_PASSWORD = "Very-Secret-dav-Pa55"
FEED_SECRET = "s3cr3t-feed-path-9f8e7d"
DAY = utc(2027, 3, 2)


@pytest.fixture(autouse=True)
def _server_settings(monkeypatch: pytest.MonkeyPatch, emulator: GoogleEmulator) -> None:
    """Settings the app reads at creation: loopback feeds allowed, Google -> the emulator."""
    monkeypatch.setenv("PANELSLOT_SYNC_ALLOW_PRIVATE_FEEDS", "true")
    monkeypatch.setenv("PANELSLOT_GOOGLE_CLIENT_ID", "panelslot-test-client")
    monkeypatch.setenv("PANELSLOT_GOOGLE_CLIENT_SECRET", "google-client-secret-value")
    monkeypatch.setenv("PANELSLOT_GOOGLE_AUTH_URI", f"{emulator.base_url}/auth")
    monkeypatch.setenv("PANELSLOT_GOOGLE_TOKEN_URI", emulator.token_uri)
    monkeypatch.setenv("PANELSLOT_GOOGLE_API_ENDPOINT", emulator.api_endpoint)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator's token URL is http


@pytest.fixture
def page(app: Any, db: Database, company: Any) -> str:
    """The personal page URL of alice."""
    with db.session() as s:
        alice = s.scalars(select(Interviewer).where(Interviewer.key == "alice")).one()
        if not alice.link_nonce:
            alice.link_nonce = services.new_nonce()
        s.flush()
        return f"/i/{services.interviewer_token(app.config['SECRET_KEY'], alice, now=NOW)}"


def post(client: Any, url: str, form_page: str, data: dict[str, str]) -> Any:
    token = csrf_of(client.get(form_page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def sources(db: Database) -> list[CalendarSource]:
    with db.session() as s:
        rows = list(s.scalars(select(CalendarSource).options(undefer("*"))))
        for r in rows:
            s.expunge(r)
        return rows


def test_bad_or_revoked_links_are_404(client: Any, page: str, db: Database) -> None:
    ok = client.get(page)
    assert ok.status_code == 200
    assert ok.headers["Referrer-Policy"] == "no-referrer"  # the link never leaks as a Referer
    assert "no-store" in ok.headers["Cache-Control"]
    assert client.get(page[:-3] + "xyz").status_code == 404
    with db.session() as s:
        s.scalars(select(Interviewer).where(Interviewer.key == "alice")).one().link_nonce = "new"
    assert client.get(page).status_code == 404


def test_forms_need_csrf(client: Any, page: str) -> None:
    assert client.post(f"{page}/sync").status_code == 400
    assert (
        client.post(f"{page}/calendars/ics", data={"url": "https://x.example/a.ics"}).status_code
        == 400
    )


def test_add_ics_feed_tests_it_and_hides_the_secret_url(
    client: Any, page: str, db: Database, feeds: FeedServer
) -> None:
    feeds.routes[f"/{FEED_SECRET}/cal.ics"] = Static(ics(*day_events("a", DAY, [9, 11])))
    resp = post(
        client,
        f"{page}/calendars/ics",
        page,
        {"label": "Work (Outlook)", "url": feeds.url(f"/{FEED_SECRET}/cal.ics")},
    )
    assert resp.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Work (Outlook): connection works: 2 events read, 2 busy blocks this week." in html
    assert "2 busy blocks this week, synced just now" in html
    assert FEED_SECRET not in html
    (src,) = sources(db)
    assert src.kind == "ics" and src.last_good_sync_at == NOW


def test_private_addresses_are_refused_unless_allowed(client: Any, page: str, app: Any) -> None:
    settings = app.extensions["panelslot.settings"]
    app.extensions["panelslot.settings"] = settings.updated({"sync.allow_private_feeds": False})
    resp = post(client, f"{page}/calendars/ics", page, {"url": "http://127.0.0.1:9/x.ics"})
    assert resp.status_code == 400
    assert "private or local address" in resp.get_data(as_text=True)


def test_url_with_credentials_is_refused_and_not_echoed(client: Any, page: str) -> None:
    resp = post(
        client, f"{page}/calendars/ics", page, {"url": "https://bob:hunter2pw@cal.example/x.ics"}
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "put no user name or password in the URL" in html and "hunter2pw" not in html


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"), users={"alice": DAV_PASSWORD})
    yield server
    server.stop()


def test_add_caldav_password_is_encrypted_never_shown_or_logged(
    client: Any, page: str, db: Database, radicale: RadicaleServer, caplog: Any
) -> None:
    import caldav

    dav = caldav.DAVClient(url=radicale.url, username="alice", password=DAV_PASSWORD)
    name = f"work-{uuid.uuid4().hex[:8]}"
    cal = dav.principal().make_calendar(name=name, cal_id=name)
    cal.add_event(ical=ics(*day_events("w", DAY, [10])).decode())
    caplog.set_level(logging.DEBUG)

    resp = post(
        client,
        f"{page}/calendars/caldav",
        page,
        {
            "label": "Nextcloud",
            "url": radicale.url,
            "username": "alice",
            "password": DAV_PASSWORD,
            "calendars": str(cal.url),  # only this calendar of the account counts
        },
    )
    assert resp.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Nextcloud: connection works: 1 event read, 1 busy block this week." in html
    assert DAV_PASSWORD not in html
    (src,) = sources(db)
    assert src.kind == "caldav" and src.credentials and DAV_PASSWORD not in src.credentials
    assert DAV_PASSWORD not in caplog.text

    # a wrong password: an error on the page, still no password anywhere
    resp = post(
        client,
        f"{page}/calendars/caldav",
        page,
        {"label": "Bad", "url": radicale.url, "username": "alice", "password": "Wrong-pw-123"},
    )
    html = client.get(page).get_data(as_text=True)
    assert "Bad: access was revoked or expired; connect again." in html
    assert "Wrong-pw-123" not in html and "Wrong-pw-123" not in caplog.text
    # a form error re-renders the form without the password
    resp = post(
        client,
        f"{page}/calendars/caldav",
        page,
        {"url": "ftp://nope", "username": "alice", "password": DAV_PASSWORD},
    )
    assert resp.status_code == 400 and DAV_PASSWORD not in resp.get_data(as_text=True)


def test_test_connection_and_remove(
    client: Any, page: str, db: Database, feeds: FeedServer
) -> None:
    feeds.routes["/c.ics"] = Static(ics(*day_events("a", DAY, [9])))
    post(client, f"{page}/calendars/ics", page, {"label": "cal", "url": feeds.url("/c.ics")})
    (src,) = sources(db)
    feeds.routes["/c.ics"] = Static(ics(*day_events("a", DAY, [9, 13, 15])))
    post(client, f"{page}/calendars/{src.id}/test", page, {})
    html = client.get(page).get_data(as_text=True)
    assert "cal: connection works: 3 events read, 3 busy blocks this week." in html
    post(client, f"{page}/calendars/{src.id}/remove", page, {})
    assert sources(db) == []
    with db.session() as s:
        assert s.scalar(select(BusyBlock.id)) is None


def test_sync_now_queues_a_job(client: Any, page: str, db: Database) -> None:
    assert post(client, f"{page}/sync", page, {}).status_code == 302
    with db.session() as s:
        job = s.scalar(select(JobRequest))
        assert job is not None and job.kind == "sync_interviewer"
        assert job.requested_by == "interviewer:alice"


def _consent(
    emulator: GoogleEmulator, location: str, refresh: str = "google-refresh-1"
) -> dict[str, str]:
    """Play Google's part: the user allows access; returns the callback arguments."""
    args = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    emulator.authorize("auth-code-1", args["code_challenge"], refresh, scope=args["scope"])
    return {"code": "auth-code-1", "state": args["state"], "scope": args["scope"]}


def test_connect_google_through_the_oauth_flow(
    client: Any, page: str, db: Database, emulator: GoogleEmulator
) -> None:
    emulator.add_event(
        "primary",
        {
            "start": {"dateTime": DAY.replace(hour=9).isoformat()},
            "end": {"dateTime": DAY.replace(hour=10).isoformat()},
        },
    )
    resp = post(client, f"{page}/google/connect", page, {})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(f"{emulator.base_url}/auth?")
    args = parse_qs(urlsplit(location).query)
    assert args["code_challenge_method"] == ["S256"] and args["access_type"] == ["offline"]
    assert args["redirect_uri"] == ["http://panelslot.test/i/oauth/google/callback"]
    assert args["login_hint"] == ["alice@example.com"]

    callback = _consent(emulator, location)
    resp = client.get("/i/oauth/google/callback", query_string=callback)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page)
    html = client.get(page).get_data(as_text=True)
    assert "Google Calendar: connection works" in html and "1 busy block this week" in html
    (src,) = sources(db)
    assert src.kind == "google" and src.credentials
    assert "google-refresh-1" not in src.credentials and "google-refresh-1" not in html
    assert "google-client-secret-value" not in html

    # the callback cannot be replayed: the state was used up
    again = client.get("/i/oauth/google/callback", query_string=callback)
    assert again.status_code == 404


def test_google_callback_with_a_forged_state_is_refused(
    client: Any, page: str, db: Database, emulator: GoogleEmulator
) -> None:
    resp = post(client, f"{page}/google/connect", page, {})
    callback = _consent(emulator, resp.headers["Location"])
    callback["state"] = "forged-state"
    resp = client.get("/i/oauth/google/callback", query_string=callback)
    assert resp.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "does not match this session" in html
    assert sources(db) == []


def test_google_denied_consent(client: Any, page: str, db: Database) -> None:
    post(client, f"{page}/google/connect", page, {})
    resp = client.get("/i/oauth/google/callback", query_string={"error": "access_denied"})
    assert resp.status_code == 302
    assert "Access was not granted" in client.get(page).get_data(as_text=True)
    assert sources(db) == []


def test_zone_and_hours_preview_then_save(client: Any, page: str, db: Database) -> None:
    data = {"timezone": "America/New_York", "working_hours": "mon-fri 09:00-17:00", "do": "preview"}
    resp = post(client, f"{page}/hours", page, data)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # 1 Mar 2027 is before the US DST switch (14 Mar): 09:00 EST = 14:00 UTC
    assert "Mon 01 Mar" in html and "09:00–17:00" in html and "14:00–22:00 UTC" in html
    with db.session() as s:
        assert s.scalars(select(Interviewer.timezone).where(Interviewer.key == "alice")).one() == (
            "Africa/Lagos"
        )
    data["do"] = "save"
    assert post(client, f"{page}/hours", page, data).status_code == 302
    with db.session() as s:
        row = s.scalars(select(Interviewer).where(Interviewer.key == "alice")).one()
        assert row.timezone == "America/New_York" and row.working_hours["mon"] == ["09:00-17:00"]
        assert "sat" not in row.working_hours
    bad = post(client, f"{page}/hours", page, {"timezone": "Mars/Base", "working_hours": "mon 9-5"})
    assert bad.status_code == 400 and "not a known time zone" in bad.get_data(as_text=True)


def _booked_session(db: Database, company: Any) -> None:
    with db.session() as s:
        loop = s.scalars(select(Loop).where(Loop.key == "onsite")).one()
        req = SchedulingRequest(
            coordinator_id=company["ann"],
            loop_id=loop.id,
            candidate_name="Priya Nair",
            candidate_email="priya@example.org",
            date_from=date(2027, 3, 3),
            date_to=date(2027, 3, 10),
            token_nonce="n",
            status="booked",
        )
        booking = Booking(request=req, uid_base="b1")
        booking.sessions.append(
            BookingSession(
                interviewer_id=interviewer_id(db, "alice"),
                session_name="System design",
                start=utc(2027, 3, 4, 10),
                end=utc(2027, 3, 4, 11),
                uid="b1-design@panelslot.test",
            )
        )
        s.add(req)
        s.add(booking)


def test_private_ics_feed_of_interviews_and_revocation(
    client: Any, page: str, db: Database, company: Any
) -> None:
    _booked_session(db, company)
    html = client.get(page).get_data(as_text=True)
    assert "System design" in html  # upcoming interviews
    post(client, f"{page}/feed", page, {})
    with db.session() as s:
        first = s.scalars(select(Interviewer.feed_token).where(Interviewer.key == "alice")).one()
    assert first
    html = client.get(page).get_data(as_text=True)
    assert f"http://panelslot.test/i/feed/{first}.ics" in html

    resp = client.get(f"/i/feed/{first}.ics")
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(resp.data)
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "b1-design@panelslot.test"
    assert event.decoded("DTSTART") == utc(2027, 3, 4, 10)
    assert "Priya Nair" in str(event["SUMMARY"])

    post(client, f"{page}/feed", page, {})  # regenerate = revoke the old address
    with db.session() as s:
        second = s.scalars(select(Interviewer.feed_token).where(Interviewer.key == "alice")).one()
    assert second and second != first
    assert client.get(f"/i/feed/{first}.ics").status_code == 404
    assert client.get(f"/i/feed/{second}.ics").status_code == 200

    post(client, f"{page}/feed/revoke", page, {})
    assert client.get(f"/i/feed/{second}.ics").status_code == 404
    assert "No feed address yet." in client.get(page).get_data(as_text=True)


def test_coordinator_view_offers_the_personal_link(signed_in: Any, db: Database, app: Any) -> None:
    iid = interviewer_id(db, "alice")
    html = signed_in.get(f"/interviewers/{iid}").get_data(as_text=True)
    start = html.index("http://panelslot.test/i/")
    link = html[start : html.index('"', start)]
    resp = signed_in.get(link.replace("http://panelslot.test", ""))
    assert resp.status_code == 200 and "Alice Okafor" in resp.get_data(as_text=True)


def test_later_time_shows_sync_age(client: Any, page: str, app: Any, feeds: FeedServer) -> None:
    feeds.routes["/c.ics"] = Static(ics(*day_events("a", DAY, [9])))
    post(client, f"{page}/calendars/ics", page, {"label": "cal", "url": feeds.url("/c.ics")})
    app.config["PANELSLOT_NOW"] = NOW + timedelta(minutes=3)
    assert "1 busy block this week, synced 3 min ago" in client.get(page).get_data(as_text=True)


def test_caldav_refused_password_is_replaced_in_place(
    client: Any, page: str, db: Database, radicale: RadicaleServer
) -> None:
    import re

    post(
        client,
        f"{page}/calendars/caldav",
        page,
        {"label": "Dav", "url": radicale.url, "username": "alice", "password": "Old-wrong-pw"},
    )
    (src,) = sources(db)
    assert src.needs_reconnect
    html = client.get(page).get_data(as_text=True)
    assert "Enter the new password below." in html and "<details open>" in html
    token = re.search(rf'name="pw{src.id}-csrf_token" type="hidden" value="([^"]+)"', html)
    assert token
    resp = client.post(
        f"{page}/calendars/{src.id}/password",
        data={
            f"pw{src.id}-csrf_token": token.group(1),
            f"pw{src.id}-username": "alice",
            f"pw{src.id}-password": DAV_PASSWORD,
        },
    )
    assert resp.status_code == 302
    (src,) = sources(db)
    assert not src.needs_reconnect and src.last_error is None and src.last_good_sync_at == NOW
    html = client.get(page).get_data(as_text=True)
    assert "Dav: connection works" in html and DAV_PASSWORD not in html
    # without the form's own CSRF token: refused
    bad = client.post(
        f"{page}/calendars/{src.id}/password",
        data={f"pw{src.id}-username": "alice", f"pw{src.id}-password": "x"},
    )
    assert bad.status_code == 400
