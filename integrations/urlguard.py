"""The one SSRF guard: a URL is fetched only when every address of its host is public.

Calendar feeds, the interviewer's "add a feed" form and outbound webhooks ask it before any
request; the check runs again at each redirect hop where the caller follows redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

Resolver = Callable[[str, None], Sequence[tuple[Any, ...]]]


def private_host_reason(url: str, resolve: Resolver = socket.getaddrinfo) -> str | None:
    """Why ``url`` may not be fetched (its host is unknown, or resolves to a loopback,
    private, link-local or otherwise non-global address), or ``None``."""
    host = urlsplit(url.replace("webcal://", "https://", 1)).hostname or ""
    try:
        infos = resolve(host, None)
    except (socket.gaierror, UnicodeError):
        return f"unknown host {host!r}; check the URL"
    for info in infos:
        if not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global:
            return f"{host} is a private or local address; only public servers can be used"
    return None


def refuse_private(url: str) -> None:
    """The guard as a webhooks ``UrlGuard``: raises ``ValueError`` with the reason."""
    reason = private_host_reason(url)
    if reason is not None:
        raise ValueError(reason)
