"""Response headers on every page, and the one check of a ``next=`` redirect target.

The Content-Security-Policy allows scripts, styles and images from the app's
own origin only: no inline script, no inline style, no framing. Signed-in
pages, personal-link pages (``/c/``, ``/i/``) and the API (``/api/``) are never cached.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request, session

from web.store.settings import AppSettings

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
PRIVATE_PREFIXES = ("/c/", "/i/", "/api/")
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(resp: Response, *, hsts: bool, private: bool) -> Response:
    """Set the headers every response carries (``private``: never stored by a cache)."""
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if hsts:
        resp.headers.setdefault("Strict-Transport-Security", HSTS)
    if private:
        resp.headers["Cache-Control"] = "private, no-store"
    return resp


def init_app(app: Flask, settings: AppSettings) -> None:
    hsts = settings.security.secure_cookies and settings.mode == "production"

    @app.after_request
    def _headers(resp: Response) -> Response:
        private = "coordinator_id" in session or request.path.startswith(PRIVATE_PREFIXES)
        return security_headers(resp, hsts=hsts, private=private)


def safe_next(raw: str | None) -> str | None:
    """``raw`` if it is a path on this site, as a browser would read it; else None.

    Browsers drop tabs and line breaks from URLs and treat ``\\`` as ``/``, so
    ``/%09/evil.example`` and ``/\\evil.example`` lead off-site: refused, as is
    anything with a scheme, a host, or a control character.
    """
    if not raw:
        return None
    decoded = unquote(raw)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded) or "\\" in decoded:
        return None
    if not raw.startswith("/") or raw.startswith("//") or decoded.startswith("//"):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return None
    return raw
