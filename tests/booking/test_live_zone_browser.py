"""In real Chromium with the browser's zone emulated: a Los Angeles browser on a request
planned for Sydney is told so and offered live times in its own hours, and books one;
a live request works in Kolkata, Los Angeles and Auckland."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.booking.test_browser import browser, live  # noqa: F401  (the shared fixtures)
from tests.fixtures.booking import request_row
from tests.fixtures.live import add_pacific_panel, make_live, planned
from web.domain import services
from web.domain.booking.live import inside
from web.store.db import Database

pytestmark = pytest.mark.browser
HOURS = (8 * 60, 20 * 60)


@pytest.fixture
def site(browser: Any, live: str, company: Any) -> tuple[Any, str]:  # noqa: F811
    return browser, live


def _times(page: Any) -> list[tuple[datetime, datetime]]:
    out = []
    for el in page.locator("label.slot > .when > .range").all():
        end = el.get_attribute("data-end")
        start = el.locator("time").get_attribute("datetime")
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        out.append(
            (
                datetime.strptime(start, fmt).replace(tzinfo=UTC),
                datetime.strptime(end, fmt).replace(tzinfo=UTC),
            )
        )
    return out


def test_a_los_angeles_browser_on_a_sydney_request(site: tuple[Any, str], db: Database) -> None:
    chromium, base = site
    sent = planned(db)
    ctx = chromium.new_context(timezone_id="America/Los_Angeles", locale="en-US")
    page = ctx.new_page()
    try:
        page.goto(base + sent.url)
        page.wait_for_url("**tz=America*")  # the page's script reports the browser's zone
        notice = page.locator("#zone-notice").inner_text()
        assert notice.startswith(
            "These times were planned for Sydney. You seem to be in Los Angeles, where"
        )
        found = _times(page)
        assert found
        for a, b in found:
            assert inside(a, b, "America/Los_Angeles", HOURS)
        page.locator("label.slot").first.click()
        page.locator("button.book").click()
        page.wait_for_selector("text=You are booked")
    finally:
        ctx.close()
    req = request_row(db, sent.request_id)
    b = services.active_booking(req)
    assert b is not None and b.candidate_tz == "America/Los_Angeles"
    assert all(inside(bs.start, bs.end, "America/Los_Angeles", HOURS) for bs in b.sessions)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Los_Angeles", "Pacific/Auckland"])
def test_a_live_request_in_the_browser_zone(site: tuple[Any, str], db: Database, zone: str) -> None:
    chromium, base = site
    add_pacific_panel(db)  # the panel has hours inside Auckland's day too
    sent = planned(db)
    make_live(db, sent)
    ctx = chromium.new_context(timezone_id=zone, locale="en-GB")
    page = ctx.new_page()
    try:
        page.goto(base + sent.url)
        page.wait_for_url("**tz=*")
        assert page.locator("#zone-label").get_attribute("data-tz") == zone
        assert page.locator("#zone-notice").count() == 0
        found = _times(page)
        for a, b in found:
            assert inside(a, b, zone, HOURS)
        assert page.locator("#live-title").count() == 1
        assert found  # options exist, and every one is inside 08:00-20:00 there
        if zone == "Pacific/Auckland":
            local = [(a.astimezone(ZoneInfo(zone)), b.astimezone(ZoneInfo(zone))) for a, b in found]
            assert all(a.hour >= 8 and (b.hour, b.minute) <= (20, 0) for a, b in local), local
            assert all(a.date() == b.date() for a, b in local)
    finally:
        ctx.close()
    assert request_row(db, sent.request_id).candidate_zone == zone
