"""Outgoing mail: message building (iMIP invites), SMTP delivery, test and demo mailers, retries.

* :class:`OutgoingMail` is what the application wants sent; :func:`build_message`
  turns it into a MIME message with the stdlib ``email`` package (``message``).
* :class:`Mailer` is the one interface: ``send(mail)`` delivers or raises
  :class:`~integrations.errors.MailError`. :class:`SMTPMailer` talks to a real server
  (``smtp``), :class:`MemoryMailer` keeps mails in a list (tests),
  :class:`DirectoryMailer` writes ``.eml`` files into a folder (``mailers``; the demo's
  outbox page reads them with :func:`read_outbox`, ``outbox``).
* :func:`next_attempt` (from :mod:`integrations.backoff`, the one retry-timing module) is
  the delivery retry schedule (exponential backoff, jitter); :func:`retry_at` applies it
  to a failed delivery (``retry``).

The SMTP password is never logged, never part of ``repr`` and never part of an error.
"""

from integrations.backoff import DEFAULT_RETRY, RetryPolicy, next_attempt
from integrations.mail.mailers import (
    MAILER_KINDS,
    DirectoryMailer,
    MemoryMailer,
    NullMailer,
    make_mailer,
)
from integrations.mail.message import (
    CALENDAR_METHODS,
    PASSWORD_VARIABLE,
    SECURITY_MODES,
    USERNAME_VARIABLE,
    MailConfigError,
    MailContentError,
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    Security,
    build_message,
    html_paragraphs,
    is_permanent,
)
from integrations.mail.outbox import StoredMail, parse_stored, read_outbox
from integrations.mail.retry import retry_at
from integrations.mail.smtp import SMTPMailer

__all__ = [
    "CALENDAR_METHODS",
    "DEFAULT_RETRY",
    "MAILER_KINDS",
    "PASSWORD_VARIABLE",
    "SECURITY_MODES",
    "USERNAME_VARIABLE",
    "DirectoryMailer",
    "MailConfigError",
    "MailContentError",
    "MailDeliveryError",
    "Mailer",
    "MemoryMailer",
    "NullMailer",
    "OutgoingMail",
    "RetryPolicy",
    "SMTPMailer",
    "Security",
    "StoredMail",
    "build_message",
    "html_paragraphs",
    "is_permanent",
    "make_mailer",
    "next_attempt",
    "parse_stored",
    "read_outbox",
    "retry_at",
]
