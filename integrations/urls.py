"""URLs shown to people: one redaction rule for every calendar, feed and endpoint URL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["link_problem", "redact_url", "safe_link"]


LINK_SCHEMES = ("https", "http")


def link_problem(url: str) -> str | None:
    """Why ``url`` may not become a link in a page, a mail or an invite (None: it may).

    Only http(s) URLs with a host and no spaces or control characters: a
    ``javascript:`` or ``data:`` "link" typed into a template would run in the
    candidate's browser.
    """
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "a link has no spaces or line breaks"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a readable URL"
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return "give an https:// link"
    return None


def safe_link(url: str) -> str:
    """``url`` if it may be a link, else "" (for values stored before the check existed)."""
    return url if url and link_problem(url) is None else ""


def redact_url(url: str) -> str:
    """A feed URL safe to show: no credentials, no secret path or query.

    Private feed URLs are capabilities (Google's ``.../private-<token>/basic.ics``,
    Outlook's ``.../<id>/<secret>/calendar.ics``), so only the scheme, host and
    last path segment are kept: ``https://u:pw@h/a/secret/c.ics?k=1`` ->
    ``https://***@h/.../c.ics?...``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unreadable URL>"
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"
    if parts.username is not None or parts.password is not None:
        host = f"***@{host}"
    segments = [seg for seg in parts.path.split("/") if seg]
    path = parts.path if len(segments) <= 1 else f"/.../{segments[-1]}"
    return urlunsplit((parts.scheme, host, path, "..." if parts.query else "", ""))
