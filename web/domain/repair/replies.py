"""Interviewers' iTIP REPLYs read from the organiser's IMAP mailbox (integrations.imip),
matched by UID and SEQUENCE to booked seats; a DECLINED answer is a dropout."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from integrations.imip import ImapSettings, MailboxRead, read_replies
from web.domain.booking.policy import BookingPolicy
from web.domain.repair.detect import expected_sequences, seat_of
from web.domain.repair.handle import handle_dropout
from web.domain.repair.model import Dropout, RepairResult
from web.store.db import Database
from web.store.settings import MailSettings


def imap_settings(mail: MailSettings, environ: Mapping[str, str]) -> ImapSettings | None:
    """The mailbox of the settings (None when ``mail.imap_host`` is empty); raises
    ``ImapConfigError`` naming the setting when it is incomplete."""
    if not mail.imap_host:
        return None
    return ImapSettings.from_environ(
        environ,
        host=mail.imap_host,
        username=mail.imap_username,
        port=int(mail.imap_port),
        security=mail.imap_security,
        mailbox=mail.imap_mailbox or "INBOX",
        processed_mailbox=mail.imap_processed_mailbox or None,
    )


def repair_from_replies(
    db: Database, mailbox: ImapSettings, now: datetime, policy: BookingPolicy
) -> list[RepairResult]:
    """Read the unseen REPLYs once; each current DECLINED answer is handled before the
    messages are marked seen (at-least-once; handling is idempotent)."""
    with db.session() as s:
        expected = dict(expected_sequences(s, now))
    results: list[RepairResult] = []

    def on_read(read: MailboxRead) -> None:
        for answer in read.answers:
            if not answer.declined:
                continue
            with db.session() as s:
                bs = seat_of(s, answer.uid, answer.attendee, now)
                dropout = (
                    Dropout(bs.id, bs.interviewer_id, "declined", "declined by mail (iTIP REPLY)")
                    if bs is not None
                    else None
                )
            if dropout is not None:
                results.append(handle_dropout(db, dropout, now, policy))

    read_replies(mailbox, expected, on_read=on_read)
    return results
