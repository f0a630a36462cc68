"""Mails read back from an outbox folder of ``.eml`` files (the demo's outbox page)."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path


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
