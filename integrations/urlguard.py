"""The one SSRF guard: a URL is fetched only when every address of its host is public.

Calendar feeds, the interviewer's "add a feed" form and outbound webhooks ask it before any
request; the check runs again at each redirect hop where the caller follows redirects.

An operator may name servers that are fetched although their addresses are private (an
intranet calendar server): ``sync.allowed_feed_hosts``, a list of ``host:port`` entries,
matched on the host and port *as written in the URL* (port 443 for https, 80 for http when
none is written). Every other host, and every redirect hop to another host or port, still
has to be public.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Collection, Sequence
from typing import Any
from urllib.parse import urlsplit

Resolver = Callable[[str, None], Sequence[tuple[Any, ...]]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ENTRY = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$")


def host_port(url: str) -> str:
    """``host:port`` of ``url`` as the allow-list spells it (lower case, IPv6 in brackets,
    the scheme's port when none is written); "" when the URL has no host."""
    try:
        parts = urlsplit(url.replace("webcal://", "https://", 1))
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if not host or port is None:
        return ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_allowed_hosts(text: str) -> frozenset[str]:
    """The ``host:port`` entries of a comma- or space-separated list; ``ValueError`` naming
    the first entry that is not one."""
    entries = [e for e in re.split(r"[\s,]+", text.strip()) if e]
    for entry in entries:
        port = entry.rsplit(":", 1)[-1]
        if not _ENTRY.match(entry) or not 0 < int(port) < 65536:
            raise ValueError(f"{entry!r} is not host:port (for example cal.intranet.example:443)")
    return frozenset(e.lower() for e in entries)


def allowed_hosts_problem(text: str) -> str | None:
    """Why ``text`` is not a valid allow-list, or None (for the settings check)."""
    try:
        parse_allowed_hosts(text)
    except ValueError as exc:
        return str(exc)
    return None


def private_host_reason(
    url: str, resolve: Resolver = socket.getaddrinfo, allowed: Collection[str] = ()
) -> str | None:
    """Why ``url`` may not be fetched (its host is unknown, or resolves to a loopback,
    private, link-local or otherwise non-global address), or ``None``. A ``host:port`` in
    ``allowed`` (:func:`parse_allowed_hosts`) may be fetched whatever its address."""
    if allowed and host_port(url) in allowed:
        return None
    host = urlsplit(url.replace("webcal://", "https://", 1)).hostname or ""
    try:
        infos = resolve(host, None)
    except (socket.gaierror, UnicodeError):
        return f"unknown host {host!r}; check the URL"
    for info in infos:
        if not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global:
            return f"{host} is a private or local address; only public servers can be used"
    return None


def refuse_private(url: str, allowed: Collection[str] = ()) -> None:
    """The guard as a webhooks ``UrlGuard``: raises ``ValueError`` with the reason."""
    reason = private_host_reason(url, allowed=allowed)
    if reason is not None:
        raise ValueError(reason)
