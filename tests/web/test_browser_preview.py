"""Chromium on a laptop screen (1366x768), with JavaScript on and off: the preview's send
bar count, folded near-duplicates, unclipped timeline labels, a suggestion button that
finds options, a failed search that keeps the form, and a draft deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.webapp import PASSWORD
from tests.web.test_browser import chromium_page, live_url  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def laptop(live_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:  # noqa: F811
    """A signed-in coordinator's page on a laptop screen."""
    with chromium_page(request.param, viewport=LAPTOP, timezone_id="Europe/London") as pg:
        pg.on("dialog", lambda d: d.accept())  # "Really delete draft?"
        pg.goto(f"{live_url}/login")
        pg.get_by_label("E-mail").fill("ann@example.com")
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url(f"{live_url}/requests")
        pg.js = request.param
        yield pg


def _fill(page: Any, base: str, loop: str, first: str, last: str) -> None:
    page.goto(f"{base}/requests/new")
    page.get_by_label("Candidate name").fill("Priya Sharma")
    page.get_by_label("Candidate e-mail").fill("priya@candidate.example")
    page.get_by_label("Candidate time zone").fill("Asia/Kolkata")
    page.get_by_label("Loop").select_option(label=loop)
    page.get_by_label("From").fill(first)
    page.get_by_label("To", exact=True).fill(last)
    page.get_by_label("Note to the candidate").fill("Bring a laptop")
    page.get_by_role("button", name="Find times").click()


def test_send_bar_counts_ticked_options(laptop: Any, live_url: str) -> None:  # noqa: F811
    page = laptop
    _fill(page, live_url, "Backend onsite", "2027-03-03", "2027-03-05")
    page.wait_for_url("**/preview")
    bar = page.locator("#sendbar")
    assert bar.evaluate("e => getComputedStyle(e).position") == "sticky"
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= LAPTOP["height"]  # on screen at once
    button = bar.get_by_role("button", name="Send ticked options")
    assert button.is_visible()
    count = page.locator("#ticked-count")
    if not page.js:
        assert not count.is_visible()  # without JS: a plain button
        return
    assert count.inner_text() == "5 option(s) ticked"
    boxes = page.locator('section.option > .option-head input[name="options"]')
    unticked = [i for i in range(boxes.count()) if not boxes.nth(i).is_checked()]
    ticked = [i for i in range(boxes.count()) if boxes.nth(i).is_checked()]
    boxes.nth(unticked[0]).check()
    assert count.inner_text() == "6 option(s) ticked"
    boxes.nth(ticked[0]).uncheck()
    boxes.nth(ticked[1]).uncheck()
    assert count.inner_text() == "4 option(s) ticked"
    assert bar.bounding_box()["y"] + box["height"] <= LAPTOP["height"]  # still in view


def test_folded_look_alikes_open_and_labels_fit(laptop: Any, live_url: str) -> None:  # noqa: F811
    page = laptop
    _fill(page, live_url, "Backend onsite", "2027-03-03", "2027-03-05")
    page.wait_for_url("**/preview")
    details = page.locator("details.similar").first
    summary = details.locator("summary")
    assert summary.inner_text().startswith("+") and summary.inner_text().endswith("similar")
    hidden_box = details.locator('.similar-row input[name="options"]').first
    if details.get_attribute("open") is None:
        assert not hidden_box.is_visible()
        summary.click()
    assert hidden_box.is_visible()
    # every label of every timeline is inside its picture: none clipped
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('svg.timeline')].flatMap(svg => {
            const w = svg.viewBox.baseVal.width;
            return [...svg.querySelectorAll('text')].map(t => {
                const b = t.getBBox();
                return b.x < 0 || b.x + b.width > w ? t.textContent : null;
            }).filter(x => x);
        })"""
    )
    assert overflow == []
    names = page.evaluate(
        """() => [...document.querySelectorAll('svg.timeline text.tl-name')].map(t =>
            t.getBBox().x + t.getBBox().width)"""
    )
    assert names and max(names) < 210  # the label column (LABEL_W) holds the names
    hours = page.evaluate(
        "() => [...document.querySelectorAll('svg.timeline')].map(s => s.dataset.hours)"
    )
    assert len(set(hours)) == 1


def test_failed_search_keeps_the_form_and_a_suggestion_finds_options(
    laptop: Any,
    live_url: str,  # noqa: F811
) -> None:
    page = laptop
    _fill(page, live_url, "Phone screen", "2027-03-06", "2027-03-07")  # a weekend
    page.get_by_text("No time fits everyone in this window").wait_for()
    assert page.get_by_label("Candidate name").input_value() == "Priya Sharma"
    assert page.get_by_label("Candidate e-mail").input_value() == "priya@candidate.example"
    assert page.get_by_label("Candidate time zone").input_value() == "Asia/Kolkata"
    assert page.get_by_label("From").input_value() == "2027-03-06"
    assert page.get_by_label("To", exact=True).input_value() == "2027-03-07"
    assert page.get_by_label("Note to the candidate").input_value() == "Bring a laptop"
    loop = page.get_by_label("Loop")
    assert loop.evaluate("s => s.options[s.selectedIndex].text") == "Phone screen"
    assert page.locator("ul.why li").count() >= 1
    later = page.locator("form.try button", has_text="Search until")
    label = later.first.inner_text()
    later.first.click()
    page.wait_for_url("**/preview")
    found = int(label.rsplit(": ", 1)[1].split(" ")[0])
    assert page.locator('input[name="options"]').count() == min(found, 20)
    assert "With the later end date" in page.locator(".flash").inner_text()


def test_a_draft_deleted(laptop: Any, live_url: str) -> None:  # noqa: F811
    page = laptop
    _fill(page, live_url, "Backend onsite", "2027-03-03", "2027-03-05")
    page.wait_for_url("**/preview")
    rid = page.url.rstrip("/").split("/")[-2]
    page.goto(f"{live_url}/requests?status=draft")
    assert page.locator(f'a[href="/requests/{rid}"]').count() == 1
    page.goto(f"{live_url}/requests/{rid}")
    page.get_by_role("button", name="Delete draft").click()
    page.wait_for_url(f"{live_url}/requests")
    assert "Draft deleted." in page.locator(".flash").inner_text()
    assert page.locator(f'a[href="/requests/{rid}"]').count() == 0
    assert page.goto(f"{live_url}/requests/{rid}").status == 404
