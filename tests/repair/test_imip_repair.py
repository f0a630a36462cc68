"""A decline by mail: alice's iTIP REPLY (PARTSTAT=DECLINED, the session's UID and the
SEQUENCE sent) lands in a real Dovecot; the worker reads it with imaplib, replaces her from
the pool, and the iTIP mails go out over real SMTP (aiosmtpd on loopback). A REPLY to an
older SEQUENCE changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from integrations.mail import SMTPMailer
from tests.fixtures.webapp import NOW
from tests.integrations.dovecot_server import DovecotServer, start_dovecot
from tests.integrations.imip_mail import reply_ics, reply_mail
from tests.integrations.smtp_server import SMTPTestServer
from tests.integrations.test_imip_dovecot import _need_dovecot
from tests.repair.test_handle import _book, _seat, design_option
from tests.sync.test_repair_detect import assert_replaced
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import BookingSession

USER, PASSWORD = "organiser", "Imap-pa55-not-logged"


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    _need_dovecot()
    server = start_dovecot({USER: PASSWORD})
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


def _worker(app: Any, db: Database, smtp: SMTPTestServer, dovecot: DovecotServer) -> Worker:
    base = app.extensions["panelslot.settings"]
    mail = replace(
        base.mail,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_username=USER,
        imap_mailbox="INBOX",
    )
    mailer = SMTPMailer(
        smtp.host, smtp.port, security="none", timeout=5, sender="jobs@acme.example"
    )
    return Worker(replace(base, mail=mail), db, mailer, clock=lambda: NOW)


def _seat_of(db: Database, seat: int) -> str:
    with db.session() as s:
        bs = s.get(BookingSession, seat)
        assert bs is not None
        return bs.interviewer.key


def alice_says(uid: str, partstat: str, sequence: int = 0) -> bytes:
    ics = reply_ics(uid, "alice@example.com", partstat, sequence=sequence)
    return reply_mail(ics, sender="alice@example.com")


def test_decline_by_mail_is_replaced(
    app: Any, db: Database, company: Any, dovecot: DovecotServer, smtp: SMTPTestServer
) -> None:
    rid, bid = _book(db, options=[design_option()])
    seat, _, _ = _seat(db, bid, "System design")
    with db.session() as s:
        uid = s.get(BookingSession, seat).uid  # type: ignore[union-attr]
    worker = _worker(app, db, smtp, dovecot)
    worker.deliver()
    env = {"PANELSLOT_MAIL_IMAP_PASSWORD": PASSWORD}
    dovecot.deliver(USER, alice_says(uid, "ACCEPTED"))
    worker.read_replies(env)
    assert _seat_of(db, seat) == "alice"  # an acceptance changes nothing
    mark = len(smtp.messages)
    dovecot.deliver(USER, alice_says(uid, "DECLINED"))
    worker.read_replies(env)
    worker.deliver()
    assert _seat_of(db, seat) == "bob"
    assert_replaced(smtp, mark, uid)
    # the same REPLY again (now one SEQUENCE behind): nothing twice
    mark = len(smtp.messages)
    dovecot.deliver(USER, alice_says(uid, "DECLINED"))
    worker.read_replies(env)
    worker.deliver()
    assert smtp.messages[mark:] == []
