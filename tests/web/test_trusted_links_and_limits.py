"""Issue 10 items without a test of their own until now: HSTS when secure cookies are on,
mailed links from ``server.public_url`` whatever the ``Host`` header says, the limit on
``/account`` password checks, and feed errors that never echo what was fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.calendars.feed import ICSFeedBackend
from integrations.errors import CalendarError
from scheduler.model import Interval
from tests.fixtures.sync import utc
from tests.fixtures.webapp import PASSWORD, SECRET, get_csrf
from tests.integrations.feed_server import FeedServer, Static, Status
from tests.web.test_requests import draft, send
from web.store.db import Database
from web.store.models import OutboxMail
from web.ui.helpers import public_url


def _production_app(database_url: str, tmp_path: Path, secure: bool) -> Any:
    from web.ui.app import create_app

    return create_app(
        {
            "server.mode": "production",
            "database.url": database_url,
            "mail.sender": "file",
            "mail.outbox_dir": str(tmp_path / "outbox"),
            "security.secret_key": SECRET,
            "security.secure_cookies": secure,
            "server.public_url": "https://panelslot.example/",
        }
    )


@pytest.mark.parametrize("secure", [True, False])
def test_hsts_is_sent_when_secure_cookies_are_on(
    database_url: str, tmp_path: Path, secure: bool
) -> None:
    app = _production_app(database_url, tmp_path, secure)
    try:
        resp = app.test_client().get("/login", base_url="https://panelslot.example")
        hsts = resp.headers.get("Strict-Transport-Security")
        assert (hsts is not None) == secure
        if secure:
            assert hsts is not None and "max-age=31536000" in hsts
    finally:
        app.extensions["panelslot.db"].dispose()


def test_mailed_links_come_from_the_public_url_not_the_host_header(
    database_url: str, tmp_path: Path, signed_in: Any, db: Database
) -> None:
    app = _production_app(database_url, tmp_path, True)
    try:
        with app.test_request_context("/requests/1/send", headers={"Host": "evil.example"}):
            assert public_url("/c/tok") == "https://panelslot.example/c/tok"
    finally:
        app.extensions["panelslot.db"].dispose()
    rid = draft(signed_in, db)  # and a real send, in the testing app (public_url set)
    assert send(signed_in, rid).status_code == 302
    with db.session() as s:
        mail = s.scalar(select(OutboxMail).where(OutboxMail.request_id == rid))
        assert mail is not None and "http://panelslot.test/c/" in mail.text_body


def test_password_checks_on_the_account_page_are_limited(
    app: Any, signed_in: Any, company: dict[str, int]
) -> None:
    limit = int(app.extensions["panelslot.settings"].security.signin_max_failures)

    def change(current: str) -> Any:
        form = {
            "csrf_token": get_csrf(signed_in, "/account"),
            "name": "Ann",
            "timezone": "Europe/London",
            "current_password": current,
            "new_password": "another-Long-password-42",
            "confirm_password": "another-Long-password-42",
        }
        return signed_in.post("/account", data=form)

    for _ in range(limit):
        resp = change("wrong password")
        assert resp.status_code == 400
        assert "The current password is wrong." in resp.get_data(as_text=True)
    resp = change(PASSWORD)  # even the right one waits now
    assert resp.status_code == 400
    assert "Too many password checks" in resp.get_data(as_text=True)


WEEK = Interval(utc(2027, 3, 1), utc(2027, 3, 8))
BODY_SECRET = "INTERNAL-ADMIN-TOKEN-7f3e"


@pytest.mark.parametrize(
    "route",
    [
        Static(f"<html>not a calendar {BODY_SECRET}</html>".encode()),
        Status(500, f"Traceback: db password {BODY_SECRET}".encode()),
        Status(403, f"<h1>Forbidden</h1>{BODY_SECRET}".encode()),
    ],
    ids=["not-ical", "500", "403"],
)
def test_feed_errors_never_echo_the_body(feeds: FeedServer, route: Any) -> None:
    feeds.routes["/f.ics"] = route
    backend = ICSFeedBackend(feeds.url("/f.ics"), timezone="Europe/London")
    with pytest.raises(CalendarError) as err:
        backend.read_busy(WEEK)
    assert BODY_SECRET not in str(err.value)
