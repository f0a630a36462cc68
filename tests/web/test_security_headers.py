"""Security headers on every response, a CSP without inline script, and safe ``next=``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.webapp import PASSWORD, get_csrf
from web.ui.security import safe_next

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "ui" / "templates"


def test_every_page_carries_the_headers(client: Any, company: dict[str, int]) -> None:
    for path in ("/login", "/healthz", "/c/not-a-token", "/static/app.css", "/nope"):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_link_pages_and_signed_in_pages_are_never_cached(signed_in: Any, app: Any) -> None:
    assert "no-store" in signed_in.get("/requests").headers["Cache-Control"]
    assert "no-store" in app.test_client().get("/c/whatever").headers["Cache-Control"]
    assert "no-store" not in app.test_client().get("/login").headers.get("Cache-Control", "")


def test_no_template_has_inline_script_or_handlers() -> None:
    for page in TEMPLATES.rglob("*.html"):
        text = page.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{page}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{page}: an on* handler attribute"
        assert "javascript:" not in text, page


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "evil.example",
        "/%2F/evil.example",
    ],
)
def test_next_never_leaves_the_site(client: Any, company: dict[str, int], target: str) -> None:
    token = get_csrf(client, "/login")
    resp = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil" not in location and "\n" not in location


def test_next_keeps_a_path_on_the_site() -> None:
    assert safe_next("/requests/5?tab=x") == "/requests/5?tab=x"
    assert safe_next("") is None and safe_next(None) is None
