"""Start a real Dovecot IMAP server on loopback for tests (``dovecot -F -c CONF``).

The configuration is written into a fresh folder: it listens on 127.0.0.1 only (a plain
port with STARTTLS, and an IMAPS port) with a self-signed certificate, allows plaintext
logins, reads users from a passwd-file and keeps mail in Maildirs in the same folder.
Run as root, mail belongs to ``nobody`` (Dovecot refuses mail access as UID 0); run as
another user, every Dovecot process runs as that user.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.integrations.smtp_server import Certificate, make_certificate
from tests.loopback import listening_socket, port_of, socket_activated

HOST = "127.0.0.1"
NOBODY = 65534


def dovecot_binary() -> str | None:
    """The ``dovecot`` master binary (Debian puts it in /usr/sbin), or None."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


@dataclass
class DovecotServer:
    """A running Dovecot; ``port`` is plain IMAP (STARTTLS offered), ``tls_port`` IMAPS."""

    process: subprocess.Popen[bytes]
    folder: Path
    port: int
    tls_port: int
    cert: Certificate
    mail_uid: int
    users: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in plain connection (loopback) as ``user``."""
        conn = imaplib.IMAP4(HOST, self.port, timeout=10)
        conn.login(user, self.users[user])
        return conn

    def deliver(self, user: str, message: bytes, mailbox: str = "INBOX") -> None:
        """Put ``message`` into ``user``'s mailbox with IMAP APPEND."""
        conn = self.client(user)
        try:
            if mailbox != "INBOX":
                conn.create(mailbox)
            typ, data = conn.append(mailbox, None, None, message)
            assert typ == "OK", data
        finally:
            conn.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_passwd(folder: Path, users: dict[str, str], uid: int) -> None:
    lines = [
        f"{name}:{{PLAIN}}{pw}:{uid}:{uid}::{folder}/mail/{name}\n" for name, pw in users.items()
    ]
    tmp = folder / "passwd.new"
    tmp.write_text("".join(lines))
    os.chmod(tmp, 0o644)
    tmp.replace(folder / "passwd")  # atomic: Dovecot never reads half a file


def _config(folder: Path, port: int, tls_port: int, cert: Certificate, capability: str) -> str:
    own_users = ""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid()).pw_name
        own_users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    uid = NOBODY if os.getuid() == 0 else os.getuid()
    return f"""protocols = imap
listen = {HOST}
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
{own_users}first_valid_uid = {min(uid, 500)}
ssl = yes
ssl_cert = <{cert.cert_path}
ssl_key = <{cert.key_path}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{folder}/mail/%u
{capability}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{  # no growing delay after the wrong-password test
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/passwd
}}
"""


def start_dovecot(users: dict[str, str], *, capability: str | None = None) -> DovecotServer:
    """Run Dovecot for ``users`` (name -> password); ``capability`` replaces the list of
    capabilities announced after login (to test clients without MOVE, for example)."""
    binary = dovecot_binary()
    if binary is None:
        raise RuntimeError("dovecot is not installed (apt-get install -y dovecot-imapd)")
    # not under pytest's tmp_path: its 0700 parents keep Dovecot's unprivileged users out
    folder = Path(tempfile.mkdtemp(prefix="panelslot-dovecot-"))
    os.chmod(folder, 0o755)
    uid = NOBODY if os.getuid() == 0 else os.getuid()
    (folder / "mail").mkdir()
    if os.getuid() == 0:
        os.chown(folder / "mail", NOBODY, NOBODY)
    cert = make_certificate(folder / "tls")
    # Dovecot takes its listeners by socket activation (it matches them by port), so the
    # ports stay ours from bind to exit
    plain, tls = listening_socket(), listening_socket()
    port, tls_port = port_of(plain), port_of(tls)
    extra = f"imap_capability = {capability}" if capability else ""
    conf = folder / "dovecot.conf"
    conf.write_text(_config(folder, port, tls_port, cert, extra))
    _write_passwd(folder, dict(users), uid)
    start = socket_activated([binary, "-F", "-c", str(conf)], [plain, tls])
    with plain, tls, (folder / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            start.argv, env=start.env, pass_fds=start.pass_fds, stdout=out, stderr=out
        )
    server = DovecotServer(process, folder, port, tls_port, cert, uid, dict(users))
    _wait_until_up(server)
    return server


def _wait_until_up(server: DovecotServer) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = (server.folder / "stdout.log").read_text(errors="replace")
            raise RuntimeError(f"dovecot exited early: {output[-2000:]}{server.log[-2000:]}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    log = server.log
    server.stop()
    raise RuntimeError(f"dovecot did not start on port {server.port}: {log[-2000:]}")
