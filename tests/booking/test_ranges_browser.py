"""In real Chromium (the browser in Kolkata): a candidate says none of the times work,
marks their own hours on the grid (and, another run, types them), gets options inside
them at once and books one; with ``offer_from_ranges`` off, the coordinator sees the flag,
sends the times found in one click, and the candidate books from the mailed link."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.booking.test_browser import browser, live  # noqa: F401  (the shared fixtures)
from tests.fixtures.booking import request_row, send_request
from tests.fixtures.webapp import PASSWORD
from web.domain import services
from web.store.db import Database
from web.store.models import Loop, OutboxMail

pytestmark = pytest.mark.browser
TZ = "Asia/Kolkata"
FMT = "%Y-%m-%dT%H:%M:%SZ"
# Wed 3 and Wed 10 March 2027, 14:00-18:00 in Kolkata = 08:30-12:30 UTC
LO, HI = (8, 30), (12, 30)


@pytest.fixture
def site(browser: Any, live: str, company: Any) -> tuple[Any, str]:  # noqa: F811
    return browser, live


def _utc(text: str) -> datetime:
    return datetime.strptime(text, FMT).replace(tzinfo=UTC)


def _inside(start: datetime, end: datetime) -> bool:
    lo = start.replace(hour=LO[0], minute=LO[1], second=0)
    hi = start.replace(hour=HI[0], minute=HI[1], second=0)
    return start.day in (3, 10) and lo <= start and end <= hi


def _offered(page: Any) -> list[tuple[datetime, datetime]]:
    out = []
    for el in page.locator("label.slot > .when > .range").all():
        start = el.locator("time").get_attribute("datetime")
        out.append((_utc(start), _utc(el.get_attribute("data-end"))))
    return out


def _open(chromium: Any, url: str) -> tuple[Any, Any]:
    ctx = chromium.new_context(timezone_id=TZ, locale="en-GB")
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_url("**tz=**")  # the page's script reports the browser's zone
    return ctx, page


def _say_none_work(page: Any, *, boxes: list[str] = (), text: str = "") -> None:  # type: ignore[assignment]
    page.locator("#none-work summary").click()
    for label in boxes:
        page.get_by_label(label, exact=True).check()
    if text:
        page.locator("#ranges").fill(text)
    page.locator("#ranges-send").click()


def _book_first_and_check(page: Any, db: Database, rid: int) -> None:
    found = _offered(page)
    assert found and all(_inside(a, b) for a, b in found), found
    page.locator("label.slot").first.click()
    page.locator("button.book").click()
    page.wait_for_selector("text=You are booked")
    b = services.active_booking(request_row(db, rid))
    assert b is not None and b.candidate_tz == TZ
    assert _inside(min(bs.start for bs in b.sessions), max(bs.end for bs in b.sessions))


@pytest.mark.parametrize("how", ["grid", "text"])
def test_own_hours_end_in_a_booking(site: tuple[Any, str], db: Database, how: str) -> None:
    chromium, base = site
    sent = send_request(db, tz="Europe/London")
    ctx, page = _open(chromium, base + sent.url)
    try:
        if how == "grid":
            _say_none_work(page, boxes=["Wed 03 Mar 14:00–16:00", "Wed 03 Mar 16:00–18:00"])
        else:
            _say_none_work(page, text="Wed 2pm–6pm")
        page.wait_for_selector("#my-ranges")
        shown = [t.get_attribute("datetime") for t in page.locator("#my-ranges time").all()]
        expected = ["2027-03-03T08:30:00Z"] + (["2027-03-10T08:30:00Z"] if how == "text" else [])
        assert shown == expected
        _book_first_and_check(page, db, sent.request_id)
    finally:
        ctx.close()


def test_the_coordinator_sends_them_in_one_click(site: tuple[Any, str], db: Database) -> None:
    chromium, base = site
    with db.session() as s:
        s.execute(update(Loop).values(offer_from_ranges=False))
        s.commit()
    sent = send_request(db, tz="Europe/London")
    ctx, page = _open(chromium, base + sent.url)
    try:
        _say_none_work(page, boxes=["Wed 03 Mar 14:00–16:00", "Wed 03 Mar 16:00–18:00"])
        outcome = page.locator("#ranges-outcome").inner_text()
        assert "will send them to you shortly" in outcome
        assert [t.get_attribute("datetime") for t in page.locator("#ranges-reply time").all()] == [
            "2027-03-03T08:30:00Z"
        ]
    finally:
        ctx.close()
    coord = chromium.new_context(timezone_id="Europe/London", locale="en-GB")
    cp = coord.new_page()
    try:
        cp.goto(base + "/requests")
        cp.get_by_label("E-mail").fill("ann@example.com")
        cp.get_by_label("Password").fill(PASSWORD)
        cp.get_by_role("button", name="Sign in").click()
        cp.wait_for_url(base + "/requests")
        row = cp.locator("tr", has_text="Priya Nair")
        assert "candidate replied: needs you" in row.inner_text()
        row.get_by_role("link", name="Priya Nair").click()
        cp.get_by_role("button", name="Send these times to the candidate").click()
        cp.wait_for_selector("text=Sent ")
        cp.goto(base + "/requests")
        assert "needs you" not in cp.locator("tr", has_text="Priya Nair").inner_text()
    finally:
        coord.close()
    with db.session() as s:
        mail = s.scalar(select(OutboxMail).where(OutboxMail.kind == "candidate_ranges_sent"))
        assert mail is not None
        link = re.search(r"https?://\S+/c/\S+", mail.text_body)
        assert link
    path = "/c/" + link.group(0).split("/c/", 1)[1]
    ctx, page = _open(chromium, base + path)
    try:
        _book_first_and_check(page, db, sent.request_id)
    finally:
        ctx.close()


def test_dragging_across_the_grid_ticks_each_box(site: tuple[Any, str], db: Database) -> None:
    chromium, base = site
    sent = send_request(db, tz="Europe/London")
    ctx, page = _open(chromium, base + sent.url)
    try:
        page.locator("#none-work summary").click()
        labels = [f"Thu 04 Mar {a}" for a in ("10:00–12:00", "12:00–14:00", "14:00–16:00")]
        boxes = [page.get_by_label(label, exact=True) for label in labels]
        boxes[0].scroll_into_view_if_needed()
        start, end = boxes[0].bounding_box(), boxes[2].bounding_box()
        page.mouse.move(start["x"] + 3, start["y"] + 3)
        page.mouse.down()
        page.mouse.move(end["x"] + 3, end["y"] + 3, steps=8)
        page.mouse.up()
        assert [b.is_checked() for b in boxes] == [True, True, True]
        boxes[1].click()  # a plain click still toggles one box
        assert [b.is_checked() for b in boxes] == [True, False, True]
    finally:
        ctx.close()
