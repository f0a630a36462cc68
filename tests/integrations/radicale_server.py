"""Start a real Radicale CalDAV server on loopback for tests (a subprocess)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RadicaleServer:
    """A running Radicale; ``users`` maps user -> password when htpasswd auth is on."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_radicale(tmp: Path, users: dict[str, str] | None = None) -> RadicaleServer:
    """Run ``python -m radicale`` in ``tmp``; auth ``none``, or htpasswd (plain) for ``users``."""
    port = free_port()
    folder = tmp / "collections"
    log = tmp / "radicale.log"
    args = [
        sys.executable,
        "-m",
        "radicale",
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--storage-filesystem-folder",
        str(folder),
    ]
    if users is None:
        args += ["--auth-type", "none", "--auth-delay", "0"]
    else:
        htpasswd = tmp / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
        args += [
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(htpasswd),
            "--auth-htpasswd-encryption",
            "plain",
            "--auth-delay",
            "0",
        ]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    server = RadicaleServer(process, port, folder, log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Radicale exited early: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.03)
    server.stop()
    raise RuntimeError(f"Radicale did not start on port {port}: {log.read_text()[-2000:]}")
