"""PostgreSQL NOTIFY when work is queued, so idle workers wake at once.

Every session of a PostgreSQL :class:`~web.store.db.Database` notifies the channel
:data:`CHANNEL` when a flush adds a ``job_requests`` or ``outbox_mails`` row, or puts one
back to ``pending`` (Retry, Resend); the payload is ``<schema>:jobs`` or ``<schema>:mail``,
so workers of other schemas in the same database ignore it. PostgreSQL delivers a
notification only when its transaction commits (and folds repeats within one), so a worker
never wakes for a row it cannot see yet. Polling stays the fallback; SQLite has no
notifications and keeps polling.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

CHANNEL = "panelslot_queue"
QUEUES = {"job_requests": "jobs", "outbox_mails": "mail"}
NOTIFY_SQL = text("SELECT pg_notify(:channel, current_schema() || ':' || :queue)")


def install(factory: sessionmaker[Session]) -> None:
    """Notify from every session ``factory`` makes (PostgreSQL only)."""
    event.listen(factory, "after_flush", _after_flush)


def notify_queue(s: Session, queue: str) -> None:
    """Tell listening workers that ``queue`` ("jobs" or "mail") has work, on commit;
    nothing on SQLite."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection().execute(NOTIFY_SQL, {"channel": CHANNEL, "queue": queue})


def _queue_of(obj: Any) -> str | None:
    return QUEUES.get(getattr(obj, "__tablename__", ""))


def queues_touched(s: Session) -> set[str]:
    """The queues a flush of ``s`` adds work to: new rows, rows made pending again."""
    found = {q for obj in s.new if (q := _queue_of(obj))}
    for obj in s.dirty:
        queue = _queue_of(obj)
        if queue and obj.status == "pending" and inspect(obj).attrs.status.history.added:
            found.add(queue)
    return found


def _after_flush(s: Session, _context: Any) -> None:
    for queue in sorted(queues_touched(s)):
        notify_queue(s, queue)
