"""Interviewers' answers by mail: iTIP ``REPLY`` messages (RFC 5546, iMIP RFC 6047) read
from the organiser's IMAP mailbox with the standard library's ``imaplib``.

* :class:`ImapSettings` names the mailbox: ``security`` is ``"ssl"`` (IMAPS, usually port
  993), ``"starttls"`` (upgrade a plain connection, usually 143) or ``"none"`` (loopback
  only: the password is never sent in the clear to another host).
* :func:`parse_reply` turns one message into an :class:`AttendeeResponse` or raises
  :class:`ReplyRejected` with the reason.
* :func:`read_replies` reads every unseen message once: it fetches with ``BODY.PEEK``,
  matches each REPLY by UID and SEQUENCE against the interviews sent (replies to an older
  SEQUENCE are kept apart as stale), then marks the message ``\\Seen``; understood REPLYs
  are moved to ``processed_mailbox`` when one is set. A message that cannot be read is
  skipped with a logged reason and also marked seen, so it is not read again. Pass
  ``on_read`` to store the answers before anything is marked (at-least-once).

The password is never logged, never part of ``repr`` and never part of an error.
"""

from __future__ import annotations

import email
import imaplib
import ipaddress
import logging
import re
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parseaddr
from typing import Any

import icalendar

from integrations.calendars.answers import (
    address_email,
    attendee_props,
    dtstamp_of,
    partstat_of,
    sequence_of,
)
from integrations.calendars.base import AttendeeResponse, latest_responses
from integrations.errors import CalendarError, IntegrationError
from integrations.ics import parse_calendar
from integrations.mail import SECURITY_MODES, Security

log = logging.getLogger(__name__)

PASSWORD_VARIABLE = "PANELSLOT_MAIL_IMAP_PASSWORD"
CALENDAR_TYPES = ("text/calendar", "application/ics")
SOURCE = "imip"
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class ImapError(IntegrationError):
    """The mailbox could not be read. ``permanent``: the server refused the login."""

    def __init__(self, target: str, message: str, *, permanent: bool = False) -> None:
        self.target = target
        self.message = message
        self.permanent = permanent
        super().__init__(f"{target}: {message}")


class ImapConfigError(ValueError):
    """A mailbox setting is not usable; names the setting and its value."""

    def __init__(self, setting: str, value: object, hint: str) -> None:
        self.setting = setting
        self.value = value
        self.hint = hint
        super().__init__(f"{setting}={value!r}: {hint}")


class ReplyRejected(ValueError):
    """A message is not an iTIP REPLY this module can use; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ImapSettings:
    """The organiser's mailbox that receives the interviewers' REPLY mails."""

    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    security: Security = "ssl"
    mailbox: str = "INBOX"
    processed_mailbox: str | None = None  # move understood REPLYs here (None: leave them)
    timeout: float = 30.0
    max_messages: int = 200  # per read; the rest waits for the next one
    max_bytes: int = 2_000_000  # larger messages are skipped unread
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() for c in self.host):
            raise ImapConfigError("mail.imap_host", self.host, "give the IMAP server's host name")
        if not 0 < self.port < 65536:
            raise ImapConfigError("mail.imap_port", self.port, "must be a port number (993, 143)")
        if self.security not in SECURITY_MODES:
            raise ImapConfigError("mail.imap_security", self.security, "use ssl, starttls or none")
        if self.security == "none" and not _is_loopback(self.host):
            raise ImapConfigError(
                "mail.imap_security", self.security, "passwords are only sent over TLS; use ssl"
            )
        if not self.username or not self.password:
            raise ImapConfigError(
                "mail.imap_username",
                self.username,
                f"set the user name and the password ({PASSWORD_VARIABLE})",
            )
        for name, value in (
            ("mailbox", self.mailbox),
            ("processed_mailbox", self.processed_mailbox),
        ):
            if value is not None and (not value or not value.isascii() or not value.isprintable()):
                raise ImapConfigError(f"mail.imap_{name}", value, "use a plain ASCII folder name")
        if self.timeout <= 0 or self.max_messages < 1 or self.max_bytes < 1:
            raise ImapConfigError("mail.imap_timeout", self.timeout, "limits must be positive")

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, host: str, username: str, **options: object
    ) -> ImapSettings:
        """Settings whose password is read from ``PANELSLOT_MAIL_IMAP_PASSWORD``."""
        password = environ.get(PASSWORD_VARIABLE, "")
        return cls(host=host, username=username, password=password, **options)  # type: ignore[arg-type]

    @property
    def target(self) -> str:
        """The mailbox, for messages: no credentials."""
        scheme = "imaps" if self.security == "ssl" else "imap"
        return f"{scheme}://{self.host}:{self.port}/{self.mailbox}"


@dataclass(frozen=True)
class SkippedMessage:
    """A message that gave no usable answer; ``message_uid`` is its IMAP UID."""

    message_uid: int
    reason: str


@dataclass(frozen=True)
class MailboxRead:
    """What one read of the mailbox found.

    ``answers``: REPLYs to the SEQUENCE last sent, newest per (UID, attendee).
    ``stale``: REPLYs to an older SEQUENCE (the invite changed since; not acted on).
    ``skipped``: messages that gave nothing, with the reason. ``left``: unseen messages
    left for the next read (more than ``max_messages``).
    """

    answers: tuple[AttendeeResponse, ...] = ()
    stale: tuple[AttendeeResponse, ...] = ()
    skipped: tuple[SkippedMessage, ...] = ()
    left: int = 0


# ------------------------------------------------------------------------ parsing


def parse_reply(data: bytes) -> AttendeeResponse:
    """The answer in one iMIP REPLY message; raise :class:`ReplyRejected` with the reason."""
    message = email.message_from_bytes(data)
    parts = [p for p in message.walk() if p.get_content_type() in CALENDAR_TYPES]
    if not parts:
        raise ReplyRejected("no text/calendar part: not a calendar reply")
    reasons = []
    for part in parts:
        try:
            return _reply_in(part, sender=parseaddr(message.get("From", ""))[1].lower())
        except ReplyRejected as exc:
            reasons.append(exc.reason)
    raise ReplyRejected("; ".join(dict.fromkeys(reasons)))


def _reply_in(part: Message, *, sender: str) -> AttendeeResponse:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload.strip():
        raise ReplyRejected("the calendar part is empty")
    try:
        cal = parse_calendar(payload, "REPLY")
    except CalendarError as exc:
        raise ReplyRejected(f"the calendar part cannot be read ({exc.message})") from None
    method = str(cal.get("METHOD", "")).strip().upper()
    if method != "REPLY":
        raise ReplyRejected(f"METHOD is {method or 'missing'}, not REPLY")
    events = list(cal.walk("VEVENT"))
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    if not masters:
        raise ReplyRejected("no VEVENT answering the whole event (only RECURRENCE-ID ones)")
    vevent = masters[0]
    uid = str(vevent.get("UID", "")).strip()
    if not uid:
        raise ReplyRejected("the VEVENT has no UID")
    try:
        sequence = sequence_of(vevent)
    except ValueError:
        raise ReplyRejected(f"SEQUENCE {vevent.get('SEQUENCE')!r} is not a number") from None
    attendee = _replying_attendee(vevent, sender)
    return AttendeeResponse(
        uid, sequence, address_email(attendee), partstat_of(attendee), dtstamp_of(vevent), SOURCE
    )


def _replying_attendee(vevent: icalendar.Component, sender: str) -> object:
    """The one ATTENDEE of a REPLY; with several (some clients send all), the sender's."""
    props = [p for p in attendee_props(vevent) if address_email(p)]
    if len(props) == 1:
        return props[0]
    if not props:
        raise ReplyRejected("the REPLY names no ATTENDEE with an e-mail address")
    own = [p for p in props if address_email(p) == sender]
    if len(own) == 1:
        return own[0]
    raise ReplyRejected(f"the REPLY names {len(props)} attendees and none is the sender")


def match_replies(
    replies: list[tuple[int, AttendeeResponse]], expected: Mapping[str, int]
) -> tuple[list[AttendeeResponse], list[AttendeeResponse], list[SkippedMessage]]:
    """Split (message UID, reply) pairs by the SEQUENCE last sent per event UID.

    Returns (current, stale, skipped): a reply to a UID not in ``expected`` or to a
    SEQUENCE never sent is skipped with the reason.
    """
    current: list[AttendeeResponse] = []
    stale: list[AttendeeResponse] = []
    skipped: list[SkippedMessage] = []
    for message_uid, reply in replies:
        sent = expected.get(reply.uid)
        if sent is None:
            skipped.append(SkippedMessage(message_uid, f"UID {reply.uid!r} is no interview sent"))
        elif reply.sequence < sent:
            stale.append(reply)
        elif reply.sequence > sent:
            reason = f"SEQUENCE {reply.sequence} of {reply.uid!r} was never sent (last {sent})"
            skipped.append(SkippedMessage(message_uid, reason))
        else:
            current.append(reply)
    return current, stale, skipped


# ------------------------------------------------------------------------ IMAP


def read_replies(
    settings: ImapSettings,
    expected: Mapping[str, int],
    on_read: Callable[[MailboxRead], None] | None = None,
) -> MailboxRead:
    """Read the unseen messages of the mailbox once; see the module's description.

    ``expected`` maps each interview event's UID to the SEQUENCE last sent for it.
    ``on_read`` (e.g. "store the answers and commit") runs before any message is marked:
    if it raises, nothing is marked and the same messages are read again next time.
    Raises :class:`ImapError` when the server cannot be reached or refuses the login;
    a bad message never raises.
    """
    with _session(settings) as conn:
        _select(conn, settings)
        unseen = _search_unseen(conn, settings)
        batch = unseen[: settings.max_messages]
        replies, skipped = _fetch_replies(conn, settings, batch)
        current, stale, unmatched = match_replies(replies, expected)
        skipped += unmatched
        for item in skipped:
            log.warning(
                "iMIP: skipped message %s in %s: %s", item.message_uid, settings.target, item.reason
            )
        read = MailboxRead(
            answers=tuple(latest_responses(current)),
            stale=tuple(stale),
            skipped=tuple(skipped),
            left=len(unseen) - len(batch),
        )
        if on_read is not None:
            on_read(read)
        _mark_seen(conn, settings, batch)
        if settings.processed_mailbox:
            _move(conn, settings, [uid for uid, _ in replies])
    return read


@contextmanager
def _session(settings: ImapSettings) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection; every failure becomes an :class:`ImapError`."""
    conn: imaplib.IMAP4 | None = None
    try:
        conn = _connect(settings)
        try:
            conn.login(settings.username, settings.password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            raise ImapError(
                settings.target, "the server refused the user name or password", permanent=True
            ) from None
        except UnicodeError:
            raise ImapError(
                settings.target,
                "IMAP LOGIN sends only ASCII user names and passwords",
                permanent=True,
            ) from None
        yield conn
    except imaplib.IMAP4.error as exc:
        raise ImapError(
            settings.target, f"the IMAP server failed ({_scrub(exc, settings)})"
        ) from None
    except OSError as exc:
        raise ImapError(
            settings.target, f"could not talk to the IMAP server ({type(exc).__name__})"
        ) from None
    finally:
        if conn is not None:
            _logout(conn)


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    context = settings.tls_context or ssl.create_default_context()
    if settings.security == "ssl":
        return imaplib.IMAP4_SSL(
            settings.host, settings.port, ssl_context=context, timeout=settings.timeout
        )
    conn = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            conn.starttls(ssl_context=context)
        except imaplib.IMAP4.error:
            _logout(conn)
            raise ImapError(
                settings.target, "the server does not offer STARTTLS; use ssl or another port"
            ) from None
    return conn


def _logout(conn: imaplib.IMAP4) -> None:
    with suppress(imaplib.IMAP4.error, OSError):  # the connection is gone either way
        conn.logout()


def _scrub(exc: BaseException, settings: ImapSettings) -> str:
    text = " ".join(str(exc).split())[:200]
    return text.replace(settings.password, "***")


def quote_mailbox(name: str) -> str:
    """``name`` as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(settings: ImapSettings, what: str, answer: tuple[str, Sequence[Any]]) -> Sequence[Any]:
    typ, data = answer
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(settings.target, f"the server refused to {what} ({typ} {detail[:160]})")
    return data


def _select(conn: imaplib.IMAP4, settings: ImapSettings) -> None:
    _check(
        settings,
        f"open the folder {settings.mailbox!r}",
        conn.select(quote_mailbox(settings.mailbox)),
    )


def _search_unseen(conn: imaplib.IMAP4, settings: ImapSettings) -> list[int]:
    data = _check(settings, "search for unseen messages", conn.uid("SEARCH", "UNSEEN"))
    found = b" ".join(d for d in data if isinstance(d, bytes))
    return sorted(int(n) for n in found.split())


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(u) for u in uids)


def _sizes(conn: imaplib.IMAP4, settings: ImapSettings, uids: list[int]) -> dict[int, int]:
    data = _check(
        settings, "read message sizes", conn.uid("FETCH", _uid_set(uids), "(RFC822.SIZE)")
    )
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _body(conn: imaplib.IMAP4, settings: ImapSettings, uid: int) -> bytes | None:
    data = _check(settings, f"read message {uid}", conn.uid("FETCH", str(uid), "(BODY.PEEK[])"))
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            found = _UID.search(item[0]) if isinstance(item[0], bytes) else None
            if found is None or int(found.group(1)) == uid:
                return item[1]
    return None


def _fetch_replies(
    conn: imaplib.IMAP4, settings: ImapSettings, uids: list[int]
) -> tuple[list[tuple[int, AttendeeResponse]], list[SkippedMessage]]:
    """Every REPLY among ``uids`` (message UID, answer), and the messages that were not."""
    if not uids:
        return [], []
    sizes = _sizes(conn, settings, uids)
    replies: list[tuple[int, AttendeeResponse]] = []
    skipped: list[SkippedMessage] = []
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > settings.max_bytes:
            skipped.append(
                SkippedMessage(uid, f"{size} bytes is over the {settings.max_bytes} limit")
            )
            continue
        data = _body(conn, settings, uid)
        if data is None:
            skipped.append(SkippedMessage(uid, "the server sent no message body"))
            continue
        try:
            replies.append((uid, parse_reply(data)))
        except ReplyRejected as exc:
            skipped.append(SkippedMessage(uid, exc.reason))
        except (ValueError, TypeError, KeyError) as exc:  # a defect no check foresaw
            skipped.append(SkippedMessage(uid, f"cannot be read ({type(exc).__name__})"))
    return replies, skipped


def _mark_seen(conn: imaplib.IMAP4, settings: ImapSettings, uids: list[int]) -> None:
    if uids:
        answer = conn.uid("STORE", _uid_set(uids), "+FLAGS.SILENT", r"(\Seen)")
        _check(settings, "mark messages as read", answer)


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    """The capabilities after login (imaplib keeps only the ones from before)."""
    typ, data = conn.capability()
    if typ != "OK":
        return set()
    words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
    return {w.upper() for w in words.split()}


def _move(conn: imaplib.IMAP4, settings: ImapSettings, uids: list[int]) -> None:
    """Move ``uids`` to ``processed_mailbox``: MOVE (RFC 6851) or COPY, \\Deleted, EXPUNGE."""
    if not uids or not settings.processed_mailbox:
        return
    folder = quote_mailbox(settings.processed_mailbox)
    conn.create(folder)  # "already exists" is a NO that needs no handling
    caps = _capabilities(conn)
    uid_set = _uid_set(uids)
    if "MOVE" in caps:
        _check(settings, "move read replies", conn.uid("MOVE", uid_set, folder))
        return
    _check(settings, "copy read replies", conn.uid("COPY", uid_set, folder))
    _check(
        settings, "flag read replies", conn.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
    )
    if "UIDPLUS" in caps:
        _check(settings, "expunge read replies", conn.uid("EXPUNGE", uid_set))
    else:
        _check(settings, "expunge read replies", conn.expunge())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
