"""URLs shown to people: one redaction rule for every calendar, feed and endpoint URL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["redact_url"]


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
