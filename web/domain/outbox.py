"""Outbox delivery: at least once, with a stable Message-ID, the attempt recorded first.

Each mail is claimed on a lease and its attempt committed *before* the SMTP transaction
starts; the outcome is written in a second transaction. A worker that dies between the
server's "250 queued" and that second commit leaves a mail that another worker sends again
once the lease runs out: a duplicate, rare (the window is one round trip) and harmless
(the same ``Message-ID``, which mail clients fold together).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from integrations.errors import MailError
from integrations.mail import Mailer, OutgoingMail, RetryPolicy, retry_at
from web.domain.leases import Holdings, claim_row, due_mail, fail_exhausted
from web.store.db import Database
from web.store.models import OutboxMail

log = logging.getLogger(__name__)

UNHELD_LEASE = timedelta(minutes=5)  # a claim made without a worker's holdings


def message_id(row: OutboxMail) -> str:
    """The same on every attempt: the row's id and creation second."""
    return f"<panelslot-outbox-{row.id}-{int(row.created_at.timestamp())}@panelslot.local>"


def outgoing(row: OutboxMail) -> OutgoingMail:
    return OutgoingMail(
        to=(row.to_addr,),
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        ics=row.ics.encode("utf-8") if row.ics else None,
        ics_method=row.ics_method or "REQUEST",
        message_id=message_id(row),
        sender_name=row.from_name or "",
        reply_to=row.reply_to or None,
    )


def claim_mail(
    s: Session, now: datetime, holdings: Holdings | None, max_attempts: int
) -> OutboxMail | None:
    """The next due mail on a lease, its attempt counted (committed by the caller). When
    none is due, mails whose lease ran out on their last allowed attempt are marked failed."""
    owner = holdings.owner if holdings else "deliver_due"
    until = holdings.until(now) if holdings else now + UNHELD_LEASE
    row_id = claim_row(
        s, OutboxMail, due_mail(now, max_attempts), locked_until=until, locked_by=owner
    )
    if row_id is None:
        fail_exhausted(s, OutboxMail, now, max_attempts)
        return None
    if holdings:
        holdings.hold(OutboxMail, row_id)
    return s.get(OutboxMail, row_id)


def record_outcome(
    row: OutboxMail, error: MailError | None, now: datetime, policy: RetryPolicy
) -> None:
    row.locked_until = row.locked_by = None
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, None
        return
    row.last_error = str(error)
    when = retry_at(error, row.attempts, now, policy=policy)
    if when is None:
        row.status = "failed"
    else:
        row.next_attempt_at = when


def deliver_due(
    db: Database,
    mailer: Mailer,
    now: datetime,
    *,
    max_attempts: int = 8,
    batch: int = 50,
    holdings: Holdings | None = None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[int, int]:
    """Send due outbox mail, one claim and one outcome transaction per mail; returns
    (sent, failed attempts). ``clock`` (when given) times each mail instead of ``now``."""
    policy = RetryPolicy(max_attempts=max_attempts)
    sent = failed = 0
    for _ in range(batch):
        at = clock() if clock else now
        with db.session(immediate=True) as s:
            row = claim_mail(s, at, holdings, max_attempts)
            if row is None:
                break
            row_id, mail = row.id, outgoing(row)
        error: MailError | None = None
        try:  # the claim and its attempt are committed: at least once, never uncounted
            mailer.send(mail)
        except MailError as exc:
            error = exc
            log.warning("mail %s to %s not delivered: %s", row_id, mail.to[0], exc)
        with db.session() as s:
            done = s.get(OutboxMail, row_id)
            assert done is not None
            record_outcome(done, error, clock() if clock else now, policy)
        if holdings:
            holdings.drop(OutboxMail, row_id)
        sent, failed = (sent + 1, failed) if error is None else (sent, failed + 1)
    return sent, failed
