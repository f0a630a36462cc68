"""Idle workers LISTEN for queued work on PostgreSQL and wake at once.

A worker's listener holds one connection of its own in autocommit mode, ``LISTEN``s on
:data:`web.store.queue_notify.CHANNEL` and, for each notification of its own schema, sets
the wake-up event of the queue named ("jobs" or "mail"); the loops then claim at once
instead of at their next poll. A lost connection is logged and opened again after a pause;
meanwhile (and on SQLite, which has no notifications) the poll interval is the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from web.store.db import Database
from web.store.queue_notify import CHANNEL

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a lost connection
WAIT_SECONDS = 1.0  # how long one wait for notifications lasts (the stop check)


@dataclass
class QueueListener:
    db: Database
    wake: Mapping[str, threading.Event]
    stop: threading.Event
    listening: threading.Event = field(default_factory=threading.Event)  # LISTEN is active
    woken: Counter[str] = field(default_factory=Counter)  # wake-ups by queue

    def run(self) -> None:
        """Listen until ``stop``, opening the connection again when it is lost."""
        while not self.stop.is_set():
            try:
                self._listen()
            except (SQLAlchemyError, psycopg.Error, OSError) as exc:
                log.warning("queue listener: %s; polling until it reconnects", exc)
            self.listening.clear()
            self.stop.wait(RETRY_SECONDS)

    def _listen(self) -> None:
        raw = self.db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            if not isinstance(conn, psycopg.Connection):
                raise OSError(f"LISTEN needs psycopg 3, not {type(conn).__name__}")
            conn.rollback()  # leave any transaction the pool began, then autocommit
            conn.autocommit = True
            row = conn.execute("SELECT current_schema()").fetchone()
            schema = str(row[0]) if row else "public"
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            while not self.stop.is_set():
                for note in conn.notifies(timeout=WAIT_SECONDS):
                    self._woken(schema, str(note.payload))
        finally:
            raw.invalidate()  # never back to the pool: it is in autocommit and listening

    def _woken(self, schema: str, payload: str) -> None:
        their_schema, _, queue = payload.rpartition(":")
        if their_schema == schema and queue in self.wake:
            self.woken[queue] += 1
            self.wake[queue].set()
