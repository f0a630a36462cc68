"""Serve Radicale's WSGI application on a socket handed over by socket activation.

Radicale's own server only binds the ``hosts`` it is given, and refuses port 0, so
a test could only guess a free port and race for it. Run as
``python -m tests.integrations.radicale_host CONFIG`` through
:func:`tests.loopback.socket_activated`: it serves descriptor 3 with Radicale's own
request handler and a threading WSGI server, as ``radicale.server.serve`` does,
until it is terminated.
"""

from __future__ import annotations

import os
import socket
import socketserver
import sys
from wsgiref.simple_server import WSGIServer

from radicale import config
from radicale.app import Application
from radicale.server import RequestHandler

from tests.loopback import SD_LISTEN_FDS_START


class _InheritedSocketServer(socketserver.ThreadingMixIn, WSGIServer):
    """A WSGI server on an already bound and listening socket."""

    daemon_threads = True

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock.getsockname(), RequestHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_bind()

    def server_bind(self) -> None:
        # bound already: record the address and the WSGI environ, as WSGIServer does
        host, port = self.socket.getsockname()[:2]
        self.server_address = (host, port)
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


def main(argv: list[str]) -> None:
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        sys.exit("radicale_host: start me with tests.loopback.socket_activated (one socket)")
    configuration = config.load([(argv[0], False)])
    # what radicale.server.serve sets: the application checks body sizes itself
    configuration.update({"server": {"_internal_server": "True"}}, "server", privileged=True)
    sock = socket.socket(fileno=SD_LISTEN_FDS_START)
    with _InheritedSocketServer(sock) as server:
        server.set_app(Application(configuration))
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
