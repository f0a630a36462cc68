"""Loopback sockets for the test servers: bind port 0 and keep the socket.

A port found by binding port 0 and closing the socket again ("free port") can be
taken by anything else on the machine before the server binds it, and a test then
talks to the wrong server or fails to start. Every helper here keeps the socket it
bound for as long as the port is in use:

* :func:`listening_socket`: a listening socket on 127.0.0.1, for a server in this
  process (``loop.create_server(sock=...)``, ``socketserver`` and the like);
* :func:`refusing_port` (and the ``refused_port`` fixture, for a whole test): a port
  where connecting is refused: bound, so nothing else can listen there, but never
  listening;
* :func:`socket_activated`: a command line that hands listening sockets to a server
  in a subprocess the way systemd's socket activation does (``LISTEN_FDS``,
  ``LISTEN_PID``, descriptors from 3 on); Dovecot and gunicorn take them.

Servers that can do neither bind port 0 themselves and say which port they got
(Radicale logs it; see ``tests/integrations/radicale_server.py``).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

HOST = "127.0.0.1"
SD_LISTEN_FDS_START = 3  # the first descriptor of socket activation (sd_listen_fds(3))


def listening_socket(host: str = HOST, backlog: int = 64) -> socket.socket:
    """A TCP socket bound to a port the kernel picked on ``host``, already listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def port_of(sock: socket.socket) -> int:
    """The port ``sock`` is bound to."""
    return int(sock.getsockname()[1])


@contextmanager
def refusing_port(host: str = HOST) -> Iterator[int]:
    """A port on ``host`` where every connection is refused while the block runs.

    The socket is bound and never listens: the kernel answers a connection with a
    reset, and no other process can start listening on the port meanwhile.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        yield port_of(sock)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for the whole test."""
    with refusing_port() as port:
        yield port


# Runs in the child: move the inherited sockets to 3, 4, ... (through descriptors
# above all of them, so that none is overwritten before it is moved), announce them
# for this very process, and become the server (exec keeps the process id).
_SHIM = """
import fcntl, os, sys
fds = [int(fd) for fd in sys.argv[1].split(",")]
end = 3 + len(fds)
moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, end) for fd in fds]
for fd in fds:
    if fd >= end:
        os.close(fd)
for target, fd in enumerate(moved, start=3):
    os.dup2(fd, target)
    os.close(fd)
os.environ["LISTEN_FDS"] = str(len(fds))
os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp(sys.argv[2], sys.argv[2:])
"""


@dataclass(frozen=True)
class Activation:
    """What ``subprocess.Popen`` needs to start a socket-activated server."""

    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...]


def socket_activated(
    argv: Sequence[str], sockets: Sequence[socket.socket], env: Mapping[str, str] | None = None
) -> Activation:
    """Start ``argv`` with ``sockets`` as its socket-activation descriptors, in order
    (the first is descriptor 3). Use as
    ``Popen(a.argv, env=a.env, pass_fds=a.pass_fds)``; the caller may close its own
    copies of the sockets once the process has started."""
    if not sockets:
        raise ValueError("socket activation needs at least one socket")
    fds = tuple(sock.fileno() for sock in sockets)
    base = dict(os.environ if env is None else env)
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        base.pop(name, None)
    shim = [sys.executable, "-c", _SHIM, ",".join(map(str, fds))]
    return Activation(argv=[*shim, *argv], env=base, pass_fds=fds)
