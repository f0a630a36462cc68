"""Start a real Radicale CalDAV server on loopback for tests (a subprocess).

The listening socket is bound here (port 0) and handed to the subprocess, which
serves Radicale's application on it (``tests/integrations/radicale_host.py``).
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.loopback import HOST, listening_socket, port_of, socket_activated

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RadicaleServer:
    """A running Radicale; ``users`` maps user -> password when htpasswd auth is on."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _config(tmp: Path, folder: Path, users: dict[str, str] | None) -> Path:
    auth = "[auth]\ndelay = 0\n"
    if users is None:
        auth += "type = none\n"
    else:
        htpasswd = tmp / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
        auth += f"type = htpasswd\nhtpasswd_filename = {htpasswd}\nhtpasswd_encryption = plain\n"
    path = tmp / "radicale.ini"
    path.write_text(f"[storage]\nfilesystem_folder = {folder}\n\n{auth}")
    return path


def start_radicale(tmp: Path, users: dict[str, str] | None = None) -> RadicaleServer:
    """Run Radicale with storage in ``tmp``; auth ``none``, or htpasswd (plain) for ``users``."""
    folder = tmp / "collections"
    log = tmp / "radicale.log"
    conf = _config(tmp, folder, users)
    sock = listening_socket()
    port = port_of(sock)
    start = socket_activated(
        [sys.executable, "-m", "tests.integrations.radicale_host", str(conf)], [sock]
    )
    with sock, log.open("wb") as out:
        process = subprocess.Popen(
            start.argv,
            env=start.env,
            pass_fds=start.pass_fds,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = RadicaleServer(process, port, folder, log)
    _wait_until_answering(server)
    return server


def _wait_until_answering(server: RadicaleServer) -> None:
    """Until Radicale answers an HTTP request (the socket accepts from the start)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Radicale exited early: {server.log.read_text()[-2000:]}")
        conn = http.client.HTTPConnection(HOST, server.port, timeout=0.5)
        try:
            conn.request("OPTIONS", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.03)
        finally:
            conn.close()
    server.stop()
    raise RuntimeError(
        f"Radicale did not answer on port {server.port}: {server.log.read_text()[-2000:]}"
    )
