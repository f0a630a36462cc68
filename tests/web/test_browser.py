"""Real Chromium (Debian's, through Playwright): sign in, create a request, see the timeline."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.fixtures.webapp import PASSWORD

pytestmark = pytest.mark.browser
IN_CI = os.environ.get("CI", "").lower() == "true"


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if IN_CI:
            pytest.fail("CI=true but chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium not installed: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true but playwright is not installed")
        pytest.skip("playwright not installed")
    return path


@pytest.fixture
def live_url(app: Any, company: dict[str, int]) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def chromium_page(js: bool, **context: Any) -> Iterator[Any]:
    """A page of a fresh headless Chromium; ``context`` goes to ``new_context``."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        ctx = browser.new_context(java_script_enabled=js, **context)
        pg = ctx.new_page()
        pg.set_default_timeout(15000)
        try:
            yield pg
        finally:
            ctx.close()
            browser.close()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def page(live_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    # the workspace must work with JavaScript switched off too
    with chromium_page(request.param, timezone_id="America/Los_Angeles") as pg:
        yield pg


def test_sign_in_create_request_and_see_timeline(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/requests")
    assert "/login" in page.url
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/requests")

    page.get_by_role("link", name="New request", exact=True).first.click()
    page.get_by_label("Candidate name").fill("Priya Sharma")
    page.get_by_label("Candidate e-mail").fill("priya@candidate.example")
    page.get_by_label("Candidate time zone").fill("Asia/Kolkata")
    page.get_by_label("Loop").select_option(label="Backend onsite")
    page.get_by_label("From").fill("2027-03-03")
    page.get_by_label("To", exact=True).fill("2027-03-05")
    page.get_by_role("button", name="Find times").click()

    page.wait_for_url("**/preview")
    timelines = page.locator("svg.timeline")
    assert timelines.count() >= 1
    first = timelines.first
    assert first.is_visible()
    labels = first.locator("text.tl-name").all_text_contents()
    assert labels[0].startswith("Priya Sharma (candidate)")
    assert len(labels) >= 2  # the candidate and at least one interviewer
    assert first.locator("text.tl-zone").first.text_content() == "Asia/Kolkata"
    assert first.locator("rect.tl-block").count() >= 2
    box = first.bounding_box()
    assert box is not None and box["width"] > 300

    page.get_by_role("button", name="Send ticked options").click()
    page.wait_for_url("**/requests/*")
    assert "Sent" in page.locator(".flash").inner_text()
    assert page.locator(".status").first.inner_text() == "sent"
