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

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

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


class PrivatePeer(OSError):
    """A connection reached a non-public address (DNS rebinding): closed before any byte."""

    def __init__(self, host: str, address: str) -> None:
        self.host, self.address = host, address
        super().__init__(
            f"{host} answered from {address}, a private or local address; "
            "only public servers can be used"
        )


def peer_refusal(exc: BaseException) -> PrivatePeer | None:
    """The :class:`PrivatePeer` somewhere in ``exc``'s chain (requests wraps it), or None."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        err = stack.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, PrivatePeer):
            return err
        stack.extend(e for e in (err.__cause__, err.__context__) if e is not None)
        stack.extend(a for a in err.args if isinstance(a, BaseException))
        reason = getattr(err, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return None


def _named(host: str, port: int | None) -> str:
    return f"[{host}]:{port}".lower() if ":" in host else f"{host}:{port}".lower()


def _checked(base: Any, allowed: frozenset[str]) -> Any:
    """``base`` (a urllib3 connection class) that refuses a socket to a private peer."""

    class Checked(base):  # type: ignore[misc]
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()
            peer = str(sock.getpeername()[0]).split("%")[0]
            if not ipaddress.ip_address(peer).is_global and _named(self.host, self.port) not in (
                allowed
            ):
                sock.close()
                raise PrivatePeer(self.host, peer)
            return sock

    return Checked


def guarded_session(allowed: Collection[str] = ()) -> requests.Session:
    """A ``requests.Session`` whose connections check the address they actually reached:
    one that lands on a private address is closed before the request is sent, so a host
    that resolves to a public address for the guard and to a private one for the
    connection (DNS rebinding) is refused too. ``allowed`` as for :func:`private_host_reason`."""
    names = frozenset(allowed)

    class Pool(HTTPConnectionPool):
        ConnectionCls = _checked(HTTPConnection, names)

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = _checked(HTTPSConnection, names)

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    session = requests.Session()
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session
