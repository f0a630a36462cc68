"""Delivery to an SMTP server (:class:`SMTPMailer`); the password never reaches a log,
a ``repr`` or an error."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from integrations.errors import MailError
from integrations.mail.message import (
    PASSWORD_VARIABLE,
    SECURITY_MODES,
    USERNAME_VARIABLE,
    MailConfigError,
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    Security,
    build_message,
    utc_now,
)


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
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)

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
        except OSError as exc:  # smtplib's errors are OSErrors too
            raise self._failure(exc) from None
        if refused:
            raise self._error(
                "delivered, except to: "
                + ", ".join(f"{a} ({code})" for a, (code, _) in sorted(refused.items())),
                permanent=True,
                refused=tuple(sorted(refused)),
            )

    def _failure(self, exc: OSError) -> MailDeliveryError:
        """The error for a delivery that failed with ``exc``: the server's answers first,
        then TLS, time-outs and the network."""
        if isinstance(exc, smtplib.SMTPException):
            answered = self._smtp_failure(exc)
            if answered is not None:
                return answered
        if isinstance(exc, ssl.SSLCertVerificationError):
            return self._error(
                f"the server's TLS certificate was not trusted ({exc.verify_message}); "
                "check mail.smtp_host and the server certificate",
                permanent=True,
            )
        if isinstance(exc, ssl.SSLError):
            return self._error(
                f"TLS failed ({exc.reason or 'handshake error'}); "
                "check mail.smtp_security and mail.smtp_port",
                permanent=True,
            )
        if isinstance(exc, TimeoutError):
            return self._no_answer()
        if isinstance(exc, ConnectionRefusedError):
            return self._error(
                "connection refused: no SMTP server is listening there; "
                "check mail.smtp_host and mail.smtp_port",
                permanent=False,
            )
        if isinstance(exc, socket.gaierror):
            return self._error(
                "the host name could not be resolved; check mail.smtp_host", permanent=False
            )
        return self._error(f"delivery failed ({type(exc).__name__}: {_text(exc)})", permanent=False)

    def _smtp_failure(self, exc: smtplib.SMTPException) -> MailDeliveryError | None:
        """The error for what the server answered, or None for other SMTP errors."""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return self._error(
                f"the server refused the login; check the user name and {PASSWORD_VARIABLE}",
                permanent=True,
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            what = "STARTTLS" if self.security == "starttls" else "the command"
            return self._error(
                f"the server does not support {what} ({_text(exc)}); check mail.smtp_security",
                permanent=True,
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = {addr: code for addr, (code, _) in exc.recipients.items()}
            return self._error(
                "every recipient was refused: "
                + ", ".join(f"{a} ({c})" for a, c in sorted(codes.items())),
                permanent=all(c >= 500 for c in codes.values()),
                refused=tuple(sorted(codes)),
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._error(
                f"the server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            if isinstance(exc.__context__, TimeoutError):  # smtplib wraps read timeouts
                return self._no_answer()
            return self._error(
                "the server closed the connection (if this persists, "
                "check mail.smtp_security and mail.smtp_port)",
                permanent=False,
            )
        return None

    def _no_answer(self) -> MailDeliveryError:
        return self._error(
            f"no answer within {self.timeout:g} s; check mail.smtp_host and mail.smtp_port",
            permanent=False,
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
