"""The candidate's times and the zone picker in real Chromium, with the browser's zone
and locale emulated: the clock follows the locale, offsets are given per day across a
clock change, and the picker finds each city with and without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.booking.test_browser import browser, live  # noqa: F401  (the shared fixtures)
from tests.fixtures.booking import request_row, send_request
from tests.fixtures.zones import CITIES, send_across_us_clock_change
from web.domain import services
from web.store.db import Database

pytestmark = pytest.mark.browser


@pytest.fixture
def site(browser: Any, live: str, company: Any) -> tuple[Any, str]:  # noqa: F811
    """The browser and the live server's address, with the company's data in place."""
    return browser, live


def _first_option(db: Database, sent: Any) -> Any:
    req = request_row(db, sent.request_id)
    return services.stored_option(next(o for o in req.options if o.id == sent.option_ids[0]))


@pytest.mark.parametrize(
    ("locale", "twelve"), [("en-US", True), ("en-GB", False), ("de-DE", False)]
)
def test_the_clock_follows_the_browser_locale(
    site: tuple[Any, str],
    db: Database,
    locale: str,
    twelve: bool,
) -> None:
    chromium, base = site
    sent = send_request(db, tz="Asia/Kolkata")
    opt = _first_option(db, sent)
    ctx = chromium.new_context(timezone_id="Asia/Kolkata", locale=locale)
    page = ctx.new_page()
    try:
        page.goto(base + sent.url + "?tz=Asia/Kolkata")
        page.wait_for_selector("#zone-name")
        when = page.locator(f'label[for="opt-{sent.option_ids[0]}"] .when time')
        stamp = opt.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert when.get_attribute("datetime") == stamp  # the instant never changes
        text = when.inner_text()
        local = opt.start.astimezone(ZoneInfo("Asia/Kolkata"))
        if twelve:
            page.wait_for_function(
                "() => /[AP]M/.test(document.querySelector('.when time').textContent)"
            )
            text = when.inner_text()
            hour = int(local.strftime("%I"))
            assert re.fullmatch(rf"0?{hour}:{local:%M}\s?[AP]M–\d{{1,2}}:\d{{2}}\s?[AP]M", text)
            legend = page.locator("fieldset.day legend .date").first.inner_text()
            assert re.match(r"^\w+, \w+ \d{1,2}, \d{4}$", legend), legend  # month first
        else:
            assert re.fullmatch(r"\d{2}:\d{2}–\d{2}:\d{2}", text) and text.startswith(
                f"{local:%H:%M}"
            )
            assert "AM" not in page.locator("#offer").inner_text()
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("locale", "twelve"), [("en-US", True), ("en-GB", False), ("de-DE", False)]
)
def test_the_clock_follows_the_locale_without_javascript(
    site: tuple[Any, str],
    db: Database,
    locale: str,
    twelve: bool,
) -> None:
    """No script: the server reads the clock from the Accept-Language Chromium sends."""
    chromium, base = site
    sent = send_request(db, tz="Asia/Kolkata")
    opt = _first_option(db, sent)
    ctx = chromium.new_context(timezone_id="Asia/Kolkata", locale=locale, java_script_enabled=False)
    page = ctx.new_page()
    try:
        page.goto(base + sent.url + "?tz=Asia/Kolkata")
        when = page.locator(f'label[for="opt-{sent.option_ids[0]}"] .when time')
        assert when.get_attribute("datetime") == opt.start.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        local = opt.start.astimezone(ZoneInfo("Asia/Kolkata"))
        end = opt.end.astimezone(ZoneInfo("Asia/Kolkata"))
        text = when.inner_text()
        if twelve:
            want = f"{local:%-I:%M %p}–{end:%-I:%M %p}"
        else:
            want = f"{local:%H:%M}–{end:%H:%M}"
            assert "AM" not in page.locator("#offer").inner_text()
            assert "PM" not in page.locator("#offer").inner_text()
        assert text == want, (locale, text)
    finally:
        ctx.close()


def test_a_window_across_the_us_clock_change_shows_offsets_per_day(
    site: tuple[Any, str],
    db: Database,
) -> None:
    chromium, base = site
    sent = send_across_us_clock_change(db)
    ctx = chromium.new_context(timezone_id="America/Los_Angeles", locale="en-GB")
    page = ctx.new_page()
    try:
        page.goto(base + sent.url)  # the browser's zone is the planned one: no move
        page.wait_for_selector("fieldset.day")
        offsets = page.locator("fieldset.day legend .day-offset").all_inner_texts()
        assert "UTC-08:00" in offsets and "UTC-07:00" in offsets
        page.wait_for_function(
            "() => document.getElementById('zone-name').textContent.includes('Pacific Time')"
        )
        header = page.locator("#zone-name").inner_text()
        assert header == "Pacific Time (America/Los_Angeles)"  # no one offset, no 'Standard'
        assert page.locator("#zone-human").inner_text() == "Pacific Time (Los Angeles)"
        assert page.locator("#zone-dst").count() == 1
        for el in page.locator(".when time").all():
            at = datetime.strptime(el.get_attribute("datetime"), "%Y-%m-%dT%H:%M:%SZ")
            day = at.replace(tzinfo=UTC).astimezone(ZoneInfo("America/Los_Angeles"))
            legend = el.locator("xpath=ancestor::fieldset[1]/legend").inner_text()
            assert day.strftime("%d %B %Y") in legend
    finally:
        ctx.close()


@pytest.mark.parametrize("script", [True, False], ids=["js", "nojs"])
def test_the_zone_picker_finds_each_city(
    site: tuple[Any, str],
    db: Database,
    script: bool,
) -> None:
    chromium, base = site
    sent = send_request(db, tz="Europe/London")
    ctx = chromium.new_context(
        timezone_id="Europe/London", locale="en-GB", java_script_enabled=script
    )
    page = ctx.new_page()
    try:
        for typed, zone in CITIES:
            page.goto(base + sent.url + "?tz=Europe/London")
            if script:
                page.locator("#tz").fill("")
                page.locator("#tz").press_sequentially(typed)
                first = page.locator("#tz-suggestions button").first
                first.wait_for(timeout=10_000)
                assert first.get_attribute("data-zone") == zone, typed
                assert re.search(r"now \d{1,2}:\d{2}", first.inner_text())
                first.click()
            else:
                page.fill("#tz", typed)
                page.get_by_role("button", name="Show times").click()
            page.wait_for_url(re.compile(r".*tz=(?!Europe%2FLondon).*"), timeout=10_000)
            assert zone in page.locator("#zone-name").inner_text(), typed
            assert page.locator("#tz").input_value() == zone
    finally:
        ctx.close()


def test_an_ambiguous_abbreviation_gives_a_page_of_choices(
    site: tuple[Any, str],
    db: Database,
) -> None:
    chromium, base = site
    sent = send_request(db, tz="Europe/London")
    ctx = chromium.new_context(timezone_id="Europe/London", java_script_enabled=False)
    page = ctx.new_page()
    try:
        page.goto(base + sent.url + "?tz=Europe/London")
        page.fill("#tz", "IST")
        page.get_by_role("button", name="Show times").click()
        page.wait_for_selector("#zone-choices")
        assert "Europe/London" in page.locator("#zone-name").inner_text()  # no guess
        page.locator('#zone-choices a[data-zone="Asia/Kolkata"]').click()
        page.wait_for_url("**tz=Asia/Kolkata**")
        assert "Asia/Kolkata, UTC+05:30" in page.locator("#zone-name").inner_text()
    finally:
        ctx.close()
