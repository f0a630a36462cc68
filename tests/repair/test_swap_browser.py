"""Chromium (Playwright): the coordinator swaps an interviewer on a booked request, choosing
from the list the engine checked; the page then shows the new interviewer and the mails are
queued (REQUEST to the new one, CANCEL to the one who left)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.booking.test_browser import browser, live  # noqa: F401  (the shared fixtures)
from tests.fixtures.booking import policy, send_request
from tests.fixtures.webapp import NOW, PASSWORD
from tests.repair.test_handle import design_option
from web.domain import booking
from web.store.db import Database
from web.store.models import OutboxMail

pytestmark = pytest.mark.browser


def test_coordinator_swaps_an_interviewer(
    browser: Any,  # noqa: F811
    live: str,  # noqa: F811
    db: Database,
    company: Any,
) -> None:
    from playwright.sync_api import expect

    sent = send_request(db, options=[design_option()])
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key="swap-browser-123456",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    page = browser.new_page()
    try:
        page.goto(f"{live}/requests/{sent.request_id}")
        page.get_by_label("E-mail").fill("ann@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live}/requests/{sent.request_id}")
        row = page.locator("tr", has_text="System design")
        expect(row.locator(".seat-person")).to_have_text("Alice Okafor")
        select_ = row.get_by_label("Replace Alice Okafor with")
        options = select_.locator("option").all_text_contents()
        assert options == ["Bob Lindqvist"]  # only the engine-checked replacements
        # Coding at 11:00 UTC: eli (New York) is outside working hours, alice not in the pool
        coding = page.locator("tr", has_text="Coding").get_by_label("Replace Devi Raman with")
        assert coding.locator("option").all_text_contents() == ["Bob Lindqvist"]
        select_.select_option(label="Bob Lindqvist")
        row.get_by_role("button", name="Swap").click()
        expect(page.locator("body")).to_contain_text("Swapped: bob takes the seat")
        expect(page.locator("tr", has_text="System design").locator(".seat-person")).to_have_text(
            "Bob Lindqvist"
        )
    finally:
        page.close()
    with db.session() as s:
        mails = {(m.to_addr, m.ics_method) for m in s.scalars(select(OutboxMail))}
    assert ("bob@example.com", "REQUEST") in mails
    assert ("alice@example.com", "CANCEL") in mails
