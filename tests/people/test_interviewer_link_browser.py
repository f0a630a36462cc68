"""Chromium on a laptop screen: the coordinator sends an interviewer their personal page
link in one click; the mail is delivered by the outbox to a real SMTP server (aiosmtpd on
loopback); the interviewer opens the link from the captured mail and sees the upcoming
interview first."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.booking.test_browser import browser, live  # noqa: F401 - Chromium, the live server
from tests.booking.test_smtp import _mailer, smtp  # noqa: F401 - the SMTP server fixture
from tests.fixtures.webapp import NOW, PASSWORD
from tests.integrations.smtp_server import SMTPTestServer
from tests.people.helpers import book_first
from web.domain.worker import deliver_due
from web.store.db import Database

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
LINK_RE = re.compile(r"http://panelslot\.test(/i/[A-Za-z0-9_.\-]+)")


def test_coordinator_sends_the_link_and_the_interviewer_opens_it(
    browser: Any,  # noqa: F811
    live: str,  # noqa: F811
    db: Database,
    company: Any,
    smtp: SMTPTestServer,  # noqa: F811
) -> None:
    live_url = live
    first = book_first(db, "browser-link").sessions[0]
    who = first.interviewer
    deliver_due(db, _mailer(smtp), NOW)  # the booking's own mails
    mark = len(smtp.messages)

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_url}/login")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/requests")
    page.goto(f"{live_url}/interviewers")
    page.get_by_role("link", name=who.name, exact=True).click()
    page.get_by_role("button", name="Send personal page link").click()
    flash = page.locator(".flash").inner_text()
    assert f"Sent {who.name} their personal page link at {who.email}." in flash

    assert deliver_due(db, _mailer(smtp), NOW) == (1, 0)
    [mail] = smtp.messages[mark:]
    assert list(mail.rcpt_tos) == [who.email]
    [path] = LINK_RE.findall(mail.message.get_body(("plain",)).get_content())

    context.close()
    fresh = browser.new_context(viewport=LAPTOP)
    mine = fresh.new_page()
    mine.goto(live_url + path)  # the mailed link, on the test server's address
    assert mine.locator("h1").first.inner_text() == who.name
    assert mine.locator("h2").first.inner_text() == "Upcoming interviews"
    row = mine.locator("table.upcoming tbody tr").first
    assert row.get_attribute("data-booked-session") == str(first.id)
    text = row.inner_text()
    assert "Priya Nair" in text and f"Backend onsite: {first.session_name}" in text
    stamp = first.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row.locator("time").first.get_attribute("datetime") == stamp
    box = row.bounding_box()
    assert box is not None and box["y"] < 768  # first thing on the screen, no scrolling
    fresh.close()
