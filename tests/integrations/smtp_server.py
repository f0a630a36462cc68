"""A real SMTP server on loopback for tests (aiosmtpd), with optional TLS and login.

    with SMTPTestServer() as server:                      # plain SMTP
        ... send to server.host, server.port ...
        server.messages[0].message  # parsed EmailMessage

    cert = make_certificate(tmp_path)                     # self-signed, for 127.0.0.1
    with SMTPTestServer(tls="starttls", cert=cert, users={"bob": "pw"}) as server: ...

Clients trust the certificate with ``cert.client_context()``.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import email.policy
import ipaddress
import socket
import ssl
import warnings
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import BaseThreadedController
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loopback import listening_socket, port_of

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate and key (PEM files) valid for 127.0.0.1 and localhost."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only this certificate (host name checked)."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def make_certificate(folder: Path) -> Certificate:
    """Write a fresh self-signed EC certificate for ``127.0.0.1``/``localhost`` into ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "panelslot test SMTP")])
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / "smtp-cert.pem"
    key_path = folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


@dataclass(frozen=True)
class ReceivedMail:
    """One mail as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Handler:
    users: dict[str, str] | None
    refuse: frozenset[str]
    data_reply: str | None = None
    data_delay: float = 0.0
    received: list[ReceivedMail] = field(default_factory=list)
    failed_logins: list[str] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        login = session.auth_data
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.received.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=bytes(envelope.original_content or envelope.content),
                tls=session.ssl is not None or _on_tls(server),
                login=login.decode() if isinstance(login, bytes) else login,
            )
        )
        return self.data_reply or "250 OK queued"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.users is not None and isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode()
            if self.users.get(user) == auth_data.password.decode():
                return AuthResult(success=True, auth_data=user)
            self.failed_logins.append(user)
        return AuthResult(success=False, handled=False)


def _on_tls(server: Any) -> bool:
    """Whether the connection is TLS from the first byte (``session.ssl`` covers STARTTLS)."""
    transport = getattr(server, "transport", None)
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class _SocketController(BaseThreadedController):
    """aiosmtpd's threaded controller on a socket bound here (its ``Controller`` binds
    a host and port of its own, so the port would have to be guessed first). The two
    methods are the ones aiosmtpd's base class asks a subclass to provide."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)

    def _trigger_server(self) -> None:
        # one connection makes aiosmtpd build its SMTP instance (and report its errors)
        with socket.create_connection(self.sock.getsockname()[:2], timeout=1.0) as raw:
            if self.ssl_context is None:
                raw.recv(1024)
                return
            client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            client.check_hostname = False
            client.verify_mode = ssl.CERT_NONE
            with client.wrap_socket(raw) as wrapped:
                wrapped.recv(1024)


class SMTPTestServer:
    """aiosmtpd on 127.0.0.1 and a free port, collecting every mail in ``messages``.

    ``tls``: ``"none"`` (plain), ``"starttls"`` (offered and required before MAIL)
    or ``"ssl"`` (TLS from the first byte); both TLS modes need ``cert``.
    ``users``: user name to password; when given, login is required.
    ``refuse``: addresses answered with 550 at RCPT.
    ``data_reply``: the reply to DATA instead of ``250`` (the mail is still recorded).
    ``data_delay``: seconds to wait before recording a mail and answering its DATA.
    """

    def __init__(
        self,
        *,
        tls: Literal["none", "starttls", "ssl"] = "none",
        cert: Certificate | None = None,
        users: dict[str, str] | None = None,
        refuse: tuple[str, ...] = (),
        data_reply: str | None = None,
        data_delay: float = 0.0,
    ) -> None:
        if tls != "none" and cert is None:
            raise ValueError("a TLS test server needs cert=make_certificate(folder)")
        self.tls = tls
        self.host = HOST
        self.port = 0
        self._handler = _Handler(
            users=users,
            refuse=frozenset(a.lower() for a in refuse),
            data_reply=data_reply,
            data_delay=data_delay,
        )
        self._cert = cert
        self._users = users
        self._controller: _SocketController | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        return self._handler.received

    @property
    def failed_logins(self) -> list[str]:
        return self._handler.failed_logins

    def start(self) -> SMTPTestServer:
        kwargs: dict[str, Any] = {}
        if self.tls == "starttls":
            assert self._cert is not None
            kwargs["tls_context"] = self._cert.server_context()
            kwargs["require_starttls"] = True
        elif self.tls == "ssl":
            assert self._cert is not None
            kwargs["ssl_context"] = self._cert.server_context()
        if self._users is not None:
            kwargs["authenticator"] = self._handler.authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = self.tls == "starttls"
        sock = listening_socket()
        self.port = port_of(sock)
        with warnings.catch_warnings():  # AUTH over implicit TLS is fine
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            controller = _SocketController(self._handler, sock, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
