"""The candidate's page in real Chromium (Playwright) with the browser in a given time zone:
local times shown, booking, the confirmation, and the SMTP invite holding the same instants."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.fixtures.booking import request_row, send_request
from tests.fixtures.webapp import IN_CI, NOW
from tests.integrations.smtp_server import SMTPTestServer
from web.domain import services
from web.domain.worker import deliver_due
from web.store.db import Database

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture skips (or fails in CI)
    expect = None

pytestmark = pytest.mark.browser

ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        exe = None
    if exe is None:
        reason = "Chromium/Playwright not installed (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires the browser tests")
        pytest.skip(reason)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def live(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


ZONES = [
    ("Asia/Kolkata", "India Standard Time, UTC+05:30"),
    ("America/Los_Angeles", "Pacific Standard Time, UTC-08:00"),
]


@pytest.mark.parametrize(("zone", "label"), ZONES)
def test_candidate_books_in_their_own_zone(
    browser: Any, live: str, db: Database, company: Any, database_url: str, zone: str, label: str
) -> None:
    sent = send_request(db, tz="Europe/London")  # the coordinator's guess; the browser knows
    opt = services.stored_option(
        next(o for o in request_row(db, sent.request_id).options if o.id == sent.option_ids[0])
    )
    local = ZoneInfo(zone)
    ctx = browser.new_context(timezone_id=zone, locale="en-GB")
    page = ctx.new_page()
    try:
        page.goto(live + sent.url)
        # the script moves to the browser's zone (Chromium may name an alias: Asia/Calcutta)
        page.wait_for_url("**tz=**", timeout=10_000)
        expect(page.locator("#zone-name")).to_contain_text(label)  # after the script ran
        slot = page.locator(f'label[for="opt-{sent.option_ids[0]}"] .when')
        shown = slot.inner_text()
        expected = f"{opt.start.astimezone(local):%H:%M}–{opt.end.astimezone(local):%H:%M}"
        assert shown == expected
        # the browser's own clock agrees with the server's rendering
        browser_time = slot.evaluate(
            "el => new Date(el.dataset.start).toLocaleTimeString('en-GB', "
            "{hour: '2-digit', minute: '2-digit'})"
        )
        assert browser_time == expected.split("–")[0]
        day = opt.start.astimezone(local).strftime("%A %d %B %Y")
        assert page.locator("fieldset.day legend", has_text=day).count() == 1
        page.locator(f'label[for="opt-{sent.option_ids[0]}"]').click()
        page.get_by_role("button", name="Book this time").click()
        page.wait_for_selector("text=You are booked", timeout=10_000)
        expect(page.locator("#zone-name")).to_contain_text(label)  # after the script ran
        booked = page.locator(".booked-sessions .when").all_inner_texts()
        assert booked == [
            f"{sl.start.astimezone(local):%A %d %B %Y, %H:%M}–{sl.end.astimezone(local):%H:%M}"
            for sl in opt.sessions
        ]
        assert page.get_by_role("link", name="Add to calendar").count() == 1
    finally:
        ctx.close()
    req = request_row(db, sent.request_id)
    chosen = req.bookings[0].candidate_tz
    assert req.status == "booked" and chosen is not None
    assert (
        opt.start.astimezone(ZoneInfo(chosen)).utcoffset()
        == opt.start.astimezone(local).utcoffset()
    )
    with SMTPTestServer() as smtp:
        from integrations.mail import SMTPMailer

        deliver_due(
            db, SMTPMailer(smtp.host, smtp.port, security="none", sender="j@acme.example"), NOW
        )
        starts = []
        for rec in smtp.messages:
            if "priya@example.org" not in rec.rcpt_tos:
                continue
            for part in rec.message.walk():
                if part.get_content_type() == "text/calendar":
                    cal = icalendar.Calendar.from_ical(part.get_content())
                    starts += [e.decoded("DTSTART") for e in cal.walk("VEVENT")]
            assert chosen in rec.message.get_body(("plain",)).get_content()
    assert sorted(starts) == [sl.start for sl in opt.sessions]


def test_page_works_without_javascript(
    browser: Any, live: str, db: Database, company: Any, database_url: str
) -> None:
    sent = send_request(db, tz="America/Sao_Paulo")
    opt = services.stored_option(
        next(o for o in request_row(db, sent.request_id).options if o.id == sent.option_ids[1])
    )
    ctx = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB", java_script_enabled=False)
    page = ctx.new_page()
    try:  # (a 24-hour clock: en-GB; Chromium's default en-US reads a 12-hour one)
        page.goto(live + sent.url)
        assert "tz=" not in page.url
        assert "America/Sao_Paulo, UTC-03:00" in page.locator("#zone-name").inner_text()
        # the zone picker is a plain GET form
        page.fill("#tz", "Asia/Tokyo")
        page.get_by_role("button", name="Show times").click()
        page.wait_for_url("**tz=Asia%2FTokyo**")
        tokyo = ZoneInfo("Asia/Tokyo")
        assert (
            page.locator(f'label[for="opt-{sent.option_ids[1]}"] .when').inner_text()
            == f"{opt.start.astimezone(tokyo):%H:%M}–{opt.end.astimezone(tokyo):%H:%M}"
        )
        page.locator(f"#opt-{sent.option_ids[1]}").check()
        page.get_by_role("button", name="Book this time").click()
        page.wait_for_selector("text=You are booked")
        assert "Asia/Tokyo, UTC+09:00" in page.locator("#zone-name").inner_text()
    finally:
        ctx.close()
    assert request_row(db, sent.request_id).bookings[0].option_id == sent.option_ids[1]
