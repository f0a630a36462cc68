"""A real HTTP server on loopback for feed tests (http.server in a thread)."""

from __future__ import annotations

import gzip
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Static:
    """A document; answers 304 to a matching If-None-Match / If-Modified-Since."""

    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    content_type: str = "text/calendar; charset=utf-8"


@dataclass
class Status:
    code: int
    body: bytes = b"error"


@dataclass
class Redirect:
    location: str
    code: int = 302


@dataclass
class Huge:
    """``size`` bytes of a valid-looking calendar start, streamed in chunks."""

    size: int
    declare_length: bool = True


@dataclass
class Slow:
    """Answers after ``delay`` seconds, unless the client hangs up first."""

    delay: float
    body: bytes = b""


@dataclass
class Drip:
    """Declares ``size`` bytes, then sends one byte every ``every`` seconds."""

    size: int
    every: float


Route = Static | Status | Redirect | Huge | Slow | Drip


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    bytes_sent: int = 0
    hung_up: threading.Event = field(default_factory=threading.Event)  # a client closed early

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
            server.seen.append(self.seen)
            route = server.routes.get(self.path.split("?")[0])
            try:
                self._serve(route)
            except (BrokenPipeError, ConnectionResetError):
                self._hung_up()  # as the client should on a huge or dripping body

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            """A POST (a webhook) is read and answered like a GET of its path."""
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def _hung_up(self) -> int:
            self.seen.status = -1
            server.hung_up.set()
            return -1

        def _client_closes_within(self, seconds: float) -> bool:
            """Wait up to ``seconds`` for the client to close its end (an empty read)."""
            readable, _, _ = select.select([self.connection], [], [], seconds)
            if not readable:
                return False
            try:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            except ConnectionResetError:
                return True

        def send_response(self, code: int, message: str | None = None) -> None:
            self.seen.status = code  # recorded before the client can see the answer
            super().send_response(code, message)

        def _serve(self, route: Route | None) -> int:
            if route is None:
                return self._send(404, b"not found")
            if isinstance(route, Status):
                return self._send(route.code, route.body)
            if isinstance(route, Redirect):
                return self._send(route.code, b"", {"Location": route.location})
            if isinstance(route, Slow):
                if self._client_closes_within(route.delay):
                    return self._hung_up()
                return self._send(200, route.body)
            if isinstance(route, Huge):
                return self._huge(route)
            if isinstance(route, Drip):
                self.send_response(200)
                self.send_header("Content-Length", str(route.size))
                self.end_headers()
                for sent in range(1, route.size + 1):
                    self.wfile.write(b"B")
                    self.wfile.flush()
                    server.bytes_sent = sent
                    time.sleep(route.every)
                return 200
            return self._static(route)

        def _static(self, route: Static) -> int:
            validators = {}
            if route.etag:
                validators["ETag"] = route.etag
            if route.last_modified:
                validators["Last-Modified"] = route.last_modified
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (route.etag and inm == route.etag) or (
                route.last_modified and not inm and ims == route.last_modified
            ):
                return self._send(304, b"", validators)
            body = route.body
            headers = {"Content-Type": route.content_type, **validators}
            if route.gzip:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            return self._send(200, body, headers)

        def _huge(self, route: Huge) -> int:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            if route.declare_length:
                self.send_header("Content-Length", str(route.size))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            line = b"X-FILLER:" + b"x" * 1000 + b"\r\n"
            head = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:huge\r\n"
            sent = 0
            for piece in _pieces(head, line, route.size):
                data = piece if route.declare_length else b"%x\r\n%s\r\n" % (len(piece), piece)
                self.wfile.write(data)
                sent += len(piece)
                server.bytes_sent = sent
            if not route.declare_length:
                self.wfile.write(b"0\r\n\r\n")
            return 200

        def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> int:
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
            return code

    return Handler


def _pieces(head: bytes, line: bytes, size: int) -> Iterator[bytes]:
    block = head + line * 64
    sent = 0
    while sent < size:
        piece = block[: size - sent]
        yield piece
        sent += len(piece)
        block = line * 64


def serve() -> tuple[FeedServer, Callable[[], None]]:
    """Start a server; returns it and a stop function."""
    state = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)

    return state, stop
