"""What a mail is: :class:`OutgoingMail`, its MIME form (:func:`build_message`), the
mail errors and the :class:`Mailer` interface. Pure: nothing here sends anything."""

from __future__ import annotations

import abc
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, make_msgid
from typing import Literal, TypeGuard

from integrations.errors import MailError

Security = Literal["starttls", "ssl", "none"]
SECURITY_MODES: tuple[str, ...] = ("starttls", "ssl", "none")
CALENDAR_METHODS: tuple[str, ...] = ("REQUEST", "CANCEL", "PUBLISH")
PASSWORD_VARIABLE = "PANELSLOT_MAIL_SMTP_PASSWORD"
USERNAME_VARIABLE = "PANELSLOT_MAIL_SMTP_USERNAME"


def is_security(value: str) -> TypeGuard[Security]:
    """Whether ``value`` names a security mode (``mail.smtp_security``)."""
    return value in SECURITY_MODES


def utc_now() -> datetime:
    """The default clock of the mailers (tests pass their own)."""
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
    sender_name: str = ""  # the From display name; the address stays ``sender``'s
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
    _check_content(mail, from_, date)
    if mail.sender_name:
        from_ = formataddr((mail.sender_name, getaddresses([from_])[0][1]))
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
    _add_bodies(msg, mail, method)
    return msg


def _check_content(mail: OutgoingMail, from_: str, date: datetime) -> None:
    """Raise :class:`MailContentError` for anything that must not reach a header."""
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
    for name, text in (("subject", mail.subject), ("sender_name", mail.sender_name)):
        if "\r" in text or "\n" in text:
            raise MailContentError(name, text, f"no line breaks in the {name}")
    for name, value in mail.headers:
        if name.lower() in _RESERVED_HEADERS:
            raise MailContentError("headers", name, "set it through the OutgoingMail field")
        if not name or not name.isascii() or any(c in name for c in ": \t\r\n"):
            raise MailContentError("headers", name, "not a valid header name")
        if "\r" in value or "\n" in value:
            raise MailContentError(f"headers[{name}]", value, "no line breaks in headers")


def _add_bodies(msg: EmailMessage, mail: OutgoingMail, method: str | None) -> None:
    """Text, HTML and, for an invite, the calendar alternative and its attachment."""
    msg.set_content(mail.text, cte="quoted-printable")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    if mail.ics is None:
        return
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


def html_paragraphs(text: str) -> str:
    """Plain text as the HTML part says it: a paragraph per blank-line block, a ``<br>``
    per line break, every character escaped (the markup is added after escaping)."""
    blocks = [block for block in text.split("\n\n") if block.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
    )
