"""The mailers that do not talk SMTP (memory, ``.eml`` folder, none) and
:func:`make_mailer`, which picks one from the ``[mail]`` settings."""

from __future__ import annotations

import email.policy
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from integrations.mail.message import (
    MailConfigError,
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    build_message,
    is_security,
    utc_now,
)
from integrations.mail.smtp import SMTPMailer


@dataclass
class MemoryMailer(Mailer):
    """Keeps every mail (and its built MIME message) in memory; for tests.

    ``fail_next`` makes the next that many sends raise a temporary
    :class:`MailDeliveryError`, to exercise retries.
    """

    sender: str = "panelslot@localhost"
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)
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
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)

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
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)
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
        if not is_security(smtp_security):
            raise MailConfigError("mail.smtp_security", smtp_security, "use starttls, ssl or none")
        return SMTPMailer(
            host=smtp_host,
            port=smtp_port,
            security=smtp_security,
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
