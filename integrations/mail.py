"""Outgoing mail: message building (iMIP invites), SMTP delivery, test and demo mailers, retries.

* :class:`OutgoingMail` is what the application wants sent; :func:`build_message`
  turns it into a MIME message with the stdlib ``email`` package.
* :class:`Mailer` is the one interface: ``send(mail)`` delivers or raises
  :class:`~integrations.errors.MailError`. :class:`SMTPMailer` talks to a real server,
  :class:`MemoryMailer` keeps mails in a list (tests), :class:`DirectoryMailer` writes
  ``.eml`` files into a folder (the demo's outbox page reads them with :func:`read_outbox`).
* :func:`next_attempt` (from :mod:`integrations.backoff`, the one retry-timing module) is
  the delivery retry schedule (exponential backoff, jitter).

The SMTP password is never logged, never part of ``repr`` and never part of an error.
"""

from __future__ import annotations

import abc
import base64
import email.policy
import random
import re
import secrets
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Literal

from integrations.backoff import DEFAULT_RETRY as DEFAULT_RETRY  # re-exported
from integrations.backoff import RetryPolicy as RetryPolicy  # re-exported
from integrations.backoff import next_attempt as next_attempt  # re-exported
from integrations.errors import MailError

Security = Literal["starttls", "ssl", "none"]
SECURITY_MODES: tuple[str, ...] = ("starttls", "ssl", "none")
CALENDAR_METHODS: tuple[str, ...] = ("REQUEST", "CANCEL", "PUBLISH")
PASSWORD_VARIABLE = "PANELSLOT_MAIL_SMTP_PASSWORD"
USERNAME_VARIABLE = "PANELSLOT_MAIL_SMTP_USERNAME"


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------ errors


class MailDeliveryError(MailError):
    """Delivery failed. ``permanent`` failures (bad login, refused address) are not retried.

    ``target`` names the server without credentials (``smtp://host:port``);
    ``refused`` lists the recipients the server refused.
    """

    def __init__(
        self,
        target: str,
        message: str,
        *,
        permanent: bool,
        refused: tuple[str, ...] = (),
    ) -> None:
        self.target = target
        self.message = message
        self.permanent = permanent
        self.refused = refused
        super().__init__(f"{target}: {message}")


class MailConfigError(MailError):
    """A mail setting is wrong (``field`` names it, as in the ``[mail]`` configuration)."""

    permanent = True

    def __init__(self, field: str, value: object, hint: str) -> None:
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(f"mail setting {field}={value!r}: {hint}")


class MailContentError(MailError):
    """A mail cannot be built: a field (address, header) holds an invalid value."""

    permanent = True

    def __init__(self, field: str, value: object, hint: str) -> None:
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(f"mail {field}={value!r}: {hint}")


def is_permanent(error: MailError) -> bool:
    """Whether retrying cannot help (bad settings, refused login or address)."""
    return bool(getattr(error, "permanent", False))


# ---------------------------------------------------------------------- messages


@dataclass(frozen=True)
class OutgoingMail:
    """One mail to send. Lists are accepted for ``to``/``cc`` and a mapping for ``headers``.

    ``ics`` adds an inline ``text/calendar`` alternative and the same file as an
    attachment; ``ics_method`` (REQUEST, CANCEL or PUBLISH) defaults to the file's
    ``METHOD`` and must match it.
    ``message_id`` keeps a retried delivery recognisable as the same mail.
    """

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    cc: tuple[str, ...] = ()
    sender: str = ""
    reply_to: str | None = None
    ics: bytes | None = None
    ics_method: str | None = None
    ics_filename: str = "invite.ics"
    headers: tuple[tuple[str, str], ...] = ()
    message_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("to", "cc"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            elif not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.headers, Mapping):
            object.__setattr__(self, "headers", tuple(self.headers.items()))
        elif not isinstance(self.headers, tuple):
            object.__setattr__(self, "headers", tuple(self.headers))

    @property
    def recipients(self) -> tuple[str, ...]:
        """Bare addresses of every ``to`` and ``cc`` recipient."""
        return tuple(addr for _, addr in getaddresses([*self.to, *self.cc]) if addr)


_RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Message-ID",
        "Reply-To",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    )
)


def build_message(
    mail: OutgoingMail,
    *,
    date: datetime,
    sender: str = "",
    message_id_domain: str = "panelslot.local",
) -> EmailMessage:
    """The MIME message for ``mail``.

    Without ``ics``: ``text/plain``, or ``multipart/alternative`` (text, HTML).
    With ``ics``: ``multipart/mixed`` holding ``multipart/alternative`` (text, HTML,
    ``text/calendar; method=...; charset=UTF-8``) and the file as an ``application/ics``
    attachment, the layout calendar clients recognise as an iMIP invite.
    """
    from_ = mail.sender or sender
    if not from_:
        raise MailContentError("sender", from_, "set mail.from_address (the From address)")
    _check_addresses("sender", [from_])
    if not mail.to:
        raise MailContentError("to", mail.to, "at least one recipient is needed")
    _check_addresses("to", mail.to)
    _check_addresses("cc", mail.cc)
    if mail.reply_to:
        _check_addresses("reply_to", [mail.reply_to])
    if date.tzinfo is None:
        raise MailContentError("date", date, "must be timezone-aware")
    if "\r" in mail.subject or "\n" in mail.subject:
        raise MailContentError("subject", mail.subject, "no line breaks in the subject")
    for name, value in mail.headers:
        if name.lower() in _RESERVED_HEADERS:
            raise MailContentError("headers", name, "set it through the OutgoingMail field")
        if not name or not name.isascii() or any(c in name for c in ": \t\r\n"):
            raise MailContentError("headers", name, "not a valid header name")
        if "\r" in value or "\n" in value:
            raise MailContentError(f"headers[{name}]", value, "no line breaks in headers")
    method = _calendar_method(mail) if mail.ics is not None else None

    msg = EmailMessage()
    try:
        msg["From"] = from_
        msg["To"] = ", ".join(mail.to)
        if mail.cc:
            msg["Cc"] = ", ".join(mail.cc)
        if mail.reply_to:
            msg["Reply-To"] = mail.reply_to
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(date.astimezone(UTC))
        msg["Message-ID"] = mail.message_id or make_msgid(domain=message_id_domain)
        for name, value in mail.headers:
            msg[name] = value
    except ValueError:  # the email package refused a header (checked above; belt and braces)
        raise MailContentError("headers", mail.subject, "a header could not be encoded") from None

    msg.set_content(mail.text, cte="quoted-printable")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    if mail.ics is not None:
        if mail.html is None:
            msg.make_alternative()
        msg.add_alternative(
            mail.ics,
            maintype="text",
            subtype="calendar",
            params={"method": str(method), "charset": "UTF-8"},
        )
        msg.make_mixed()
        msg.add_attachment(
            mail.ics,
            maintype="application",
            subtype="ics",
            filename=mail.ics_filename,
            params={"name": mail.ics_filename},
        )
    return msg


_METHOD_LINE = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)


def _calendar_method(mail: OutgoingMail) -> str:
    """The iTIP method of ``mail.ics``: the file's METHOD, checked against ``ics_method``."""
    assert mail.ics is not None
    found = _METHOD_LINE.search(mail.ics)
    in_file = found.group(1).decode().upper() if found else None
    method = (mail.ics_method or in_file or "").upper()
    if method not in CALENDAR_METHODS:
        raise MailContentError(
            "ics_method", mail.ics_method or in_file, "use REQUEST, CANCEL or PUBLISH"
        )
    if in_file is not None and in_file != method:
        raise MailContentError(
            "ics_method", mail.ics_method, f"the calendar file says METHOD:{in_file}"
        )
    return method


def _check_addresses(field_name: str, values: Iterable[str]) -> None:
    for value in values:
        if "\r" in value or "\n" in value:
            raise MailContentError(field_name, value, "no line breaks in addresses")
        parsed = getaddresses([value])
        if not parsed or not all(_plausible(addr) for _, addr in parsed):
            raise MailContentError(field_name, value, "must be an address like name@example.com")


def _plausible(addr: str) -> bool:
    local, _, domain = addr.rpartition("@")
    return bool(local) and bool(domain) and not any(c.isspace() for c in addr)


# ----------------------------------------------------------------------- mailers


class Mailer(abc.ABC):
    """Sends one mail or raises :class:`~integrations.errors.MailError`."""

    @abc.abstractmethod
    def send(self, message: OutgoingMail) -> None:
        """Deliver ``message``; raise ``MailError`` when it was not delivered."""


@dataclass
class SMTPMailer(Mailer):
    """Delivery to an SMTP server.

    ``security``: ``"starttls"`` (upgrade a plain connection, usually port 587),
    ``"ssl"`` (TLS from the first byte, usually port 465) or ``"none"`` (a local relay;
    credentials are refused without TLS). ``tls_context`` defaults to the system's
    trusted certificates with host name checking.
    """

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    sender: str = ""
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)
    local_hostname: str | None = None
    message_id_domain: str = "panelslot.local"
    clock: Callable[[], datetime] = field(default=_utcnow, repr=False)

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() for c in self.host):
            raise MailConfigError("mail.smtp_host", self.host, "give the SMTP server's host name")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise MailConfigError(
                "mail.smtp_port", self.port, "must be a port number (587, 465, 25)"
            )
        if self.security not in SECURITY_MODES:
            raise MailConfigError("mail.smtp_security", self.security, "use starttls, ssl or none")
        if self.timeout <= 0:
            raise MailConfigError("mail.smtp_timeout", self.timeout, "must be more than 0 seconds")
        if self.security == "none" and (self.username or self.password):
            raise MailConfigError(
                "mail.smtp_security",
                self.security,
                "credentials are never sent unencrypted; use starttls or ssl",
            )
        if bool(self.username) != bool(self.password):
            raise MailConfigError(
                "mail.smtp_username",
                self.username or "",
                f"set both the user name and the password ({PASSWORD_VARIABLE}) or neither",
            )

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        *,
        host: str,
        port: int = 587,
        security: Security = "starttls",
        username: str | None = None,
        **options: object,
    ) -> SMTPMailer:
        """A mailer whose credentials come from the environment.

        The password is read from ``PANELSLOT_MAIL_SMTP_PASSWORD``; the user name from
        ``username`` or else ``PANELSLOT_MAIL_SMTP_USERNAME``.
        """
        user = username or environ.get(USERNAME_VARIABLE) or None
        password = environ.get(PASSWORD_VARIABLE) or None
        return cls(
            host=host,
            port=port,
            security=security,
            username=user,
            password=password,
            **options,  # type: ignore[arg-type]
        )

    @property
    def target(self) -> str:
        """The server, for messages: no credentials."""
        scheme = "smtps" if self.security == "ssl" else "smtp"
        return f"{scheme}://{self.host}:{self.port}"

    def send(self, message: OutgoingMail) -> None:
        msg = build_message(
            message,
            date=self.clock(),
            sender=self.sender,
            message_id_domain=self.message_id_domain,
        )
        recipients = list(message.recipients)
        try:
            refused = self._deliver(msg, recipients)
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError:
            raise self._error(
                f"the server refused the login; check the user name and {PASSWORD_VARIABLE}",
                permanent=True,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            what = "STARTTLS" if self.security == "starttls" else "the command"
            raise self._error(
                f"the server does not support {what} ({_text(exc)}); check mail.smtp_security",
                permanent=True,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: code for addr, (code, _) in exc.recipients.items()}
            raise self._error(
                "every recipient was refused: "
                + ", ".join(f"{a} ({c})" for a, c in sorted(codes.items())),
                permanent=all(c >= 500 for c in codes.values()),
                refused=tuple(sorted(codes)),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise self._error(
                f"the server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib wraps read timeouts
                raise self._error(
                    f"no answer within {self.timeout:g} s; check mail.smtp_host and mail.smtp_port",
                    permanent=False,
                ) from None
            raise self._error(
                "the server closed the connection (if this persists, "
                "check mail.smtp_security and mail.smtp_port)",
                permanent=False,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise self._error(
                f"the server's TLS certificate was not trusted ({exc.verify_message}); "
                "check mail.smtp_host and the server certificate",
                permanent=True,
            ) from None
        except ssl.SSLError as exc:
            raise self._error(
                f"TLS failed ({exc.reason or 'handshake error'}); "
                "check mail.smtp_security and mail.smtp_port",
                permanent=True,
            ) from None
        except TimeoutError:
            raise self._error(
                f"no answer within {self.timeout:g} s; check mail.smtp_host and mail.smtp_port",
                permanent=False,
            ) from None
        except ConnectionRefusedError:
            raise self._error(
                "connection refused: no SMTP server is listening there; "
                "check mail.smtp_host and mail.smtp_port",
                permanent=False,
            ) from None
        except socket.gaierror:
            raise self._error(
                "the host name could not be resolved; check mail.smtp_host", permanent=False
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise self._error(
                f"delivery failed ({type(exc).__name__}: {_text(exc)})", permanent=False
            ) from None
        if refused:
            raise self._error(
                "delivered, except to: "
                + ", ".join(f"{a} ({code})" for a, (code, _) in sorted(refused.items())),
                permanent=True,
                refused=tuple(sorted(refused)),
            )

    def _deliver(
        self, msg: EmailMessage, recipients: Sequence[str]
    ) -> dict[str, tuple[int, bytes]]:
        context = self.tls_context or ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=context,
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        with client:
            client.ehlo()
            if self.security == "starttls":
                if not client.has_extn("starttls"):
                    raise self._error(
                        "the server does not offer STARTTLS; "
                        "check mail.smtp_security and mail.smtp_port",
                        permanent=True,
                    )
                client.starttls(context=context)
                client.ehlo()
            if self.username and self.password:
                client.login(self.username, self.password)
            return client.send_message(msg, to_addrs=list(recipients))

    def _error(
        self, message: str, *, permanent: bool, refused: tuple[str, ...] = ()
    ) -> MailDeliveryError:
        return MailDeliveryError(
            self.target, self._scrub(message), permanent=permanent, refused=refused
        )

    def _scrub(self, text: str) -> str:
        """Remove the password, in any form a server might echo, from ``text``."""
        if not self.password:
            return text
        secrets_ = [self.password]
        encoded = [self.password.encode()]
        if self.username:
            encoded.append(f"\0{self.username}\0{self.password}".encode())
            encoded.append(f"{self.username} {self.password}".encode())
        secrets_ += [base64.b64encode(e).decode() for e in encoded]
        for secret in sorted(secrets_, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:200]


@dataclass
class MemoryMailer(Mailer):
    """Keeps every mail (and its built MIME message) in memory; for tests.

    ``fail_next`` makes the next that many sends raise a temporary
    :class:`MailDeliveryError`, to exercise retries.
    """

    sender: str = "panelslot@localhost"
    clock: Callable[[], datetime] = field(default=_utcnow, repr=False)
    fail_next: int = 0
    sent: list[OutgoingMail] = field(default_factory=list)
    messages: list[EmailMessage] = field(default_factory=list)

    def send(self, message: OutgoingMail) -> None:
        msg = build_message(message, date=self.clock(), sender=self.sender)
        if self.fail_next > 0:
            self.fail_next -= 1
            raise MailDeliveryError("memory://", "simulated temporary failure", permanent=False)
        self.sent.append(message)
        self.messages.append(msg)


@dataclass
class DirectoryMailer(Mailer):
    """Writes each mail as an ``.eml`` file into ``folder`` (created when missing).

    File names sort by sending time: ``20261201T150000123456Z-1a2b3c4d.eml``.
    """

    folder: Path
    sender: str = "panelslot@localhost"
    clock: Callable[[], datetime] = field(default=_utcnow, repr=False)

    def send(self, message: OutgoingMail) -> None:
        now = self.clock()
        msg = build_message(message, date=now, sender=self.sender)
        data = msg.as_bytes(policy=email.policy.SMTP)
        folder = Path(self.folder)
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
            partial = path.with_suffix(".part")
            with open(partial, "xb") as fh:
                fh.write(data)
            partial.replace(path)
        except OSError as exc:
            raise MailDeliveryError(
                str(folder),
                f"cannot write the outbox file ({exc.strerror or exc}); "
                "check that the folder exists and is writable",
                permanent=False,
            ) from None


@dataclass
class NullMailer(Mailer):
    """Builds (so bad mails still fail) and then drops every mail; ``mail.sender = "none"``."""

    sender: str = "panelslot@localhost"
    clock: Callable[[], datetime] = field(default=_utcnow, repr=False)
    dropped: int = 0

    def send(self, message: OutgoingMail) -> None:
        build_message(message, date=self.clock(), sender=self.sender)
        self.dropped += 1


MAILER_KINDS: tuple[str, ...] = ("smtp", "file", "none")


def make_mailer(
    kind: str,
    *,
    from_address: str,
    outbox_dir: str | Path = "outbox",
    smtp_host: str = "localhost",
    smtp_port: int = 587,
    smtp_security: str = "starttls",
    smtp_username: str = "",
    smtp_password: str = "",
    timeout: float = 30.0,
) -> Mailer:
    """The mailer the ``[mail]`` settings describe (``mail.sender``: smtp, file or none)."""
    if kind == "smtp":
        if smtp_security not in SECURITY_MODES:
            raise MailConfigError("mail.smtp_security", smtp_security, "use starttls, ssl or none")
        return SMTPMailer(
            host=smtp_host,
            port=smtp_port,
            security=smtp_security,  # type: ignore[arg-type]
            username=smtp_username or None,
            password=smtp_password or None,
            timeout=timeout,
            sender=from_address,
        )
    if kind == "file":
        return DirectoryMailer(Path(outbox_dir), sender=from_address)
    if kind == "none":
        return NullMailer(sender=from_address)
    raise MailConfigError("mail.sender", kind, "use smtp, file or none")


@dataclass(frozen=True)
class StoredMail:
    """A mail read back from an outbox folder (for the demo's outbox page)."""

    path: Path
    subject: str
    sender: str
    to: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    calendar_method: str | None
    ics: bytes | None


def read_outbox(folder: Path, *, limit: int | None = None) -> list[StoredMail]:
    """The ``.eml`` files of ``folder``, newest first; a missing folder is empty."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)
    if limit is not None:
        paths = paths[:limit]
    return [parse_stored(p.read_bytes(), p) for p in paths]


def parse_stored(data: bytes, path: Path) -> StoredMail:
    """Parse one stored mail."""
    msg = message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    method: str | None = None
    ics: bytes | None = None
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            method = (part.get_param("method") or "").upper() or None  # type: ignore[union-attr]
            ics = part.get_payload(decode=True)  # type: ignore[assignment]
            break
    try:
        date = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    return StoredMail(
        path=path,
        subject=str(msg["Subject"] or ""),
        sender=str(msg["From"] or ""),
        to=tuple(addr for _, addr in getaddresses([str(msg["To"] or "")]) if addr),
        date=date,
        text=_lf(text_part.get_content()) if text_part is not None else "",
        html=_lf(html_part.get_content()) if html_part is not None else None,
        calendar_method=method,
        ics=ics,
    )


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


# ------------------------------------------------------------------------ retries


def retry_at(
    error: MailError,
    attempts: int,
    now: datetime,
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """``next_attempt`` for a failed delivery; ``None`` for permanent errors too."""
    if is_permanent(error):
        return None
    return next_attempt(attempts, now, policy=policy, rand=rand)
