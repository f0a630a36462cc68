"""Which worker runs the periodic schedule, and the loops every worker runs.

Any number of workers share one PostgreSQL queue, but APScheduler must not share its job
store between schedulers: exactly one worker, the *ticker*, runs the schedule. It is elected
with a session-level PostgreSQL advisory lock (``pg_try_advisory_lock``) held on a dedicated
connection; when the ticker dies its connection closes, the lock is free, and the next
worker to try takes over. SQLite has one worker, which is always the ticker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from web.store.db import Database

log = logging.getLogger(__name__)

LOCK_SQL = text("SELECT pg_try_advisory_lock(hashtext('panelslot-ticker:' || current_schema()))")


@dataclass
class TickerLock:
    """The advisory lock naming the ticker (one per database schema)."""

    db: Database
    _conn: Connection | None = field(default=None, repr=False)

    def try_hold(self) -> bool:
        """Hold the lock (again); False when another worker holds it or the database is
        gone (then the schedule must stop here)."""
        if self.db.engine.dialect.name == "sqlite":
            return True
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            conn = self.db.engine.connect()
            got = bool(conn.execute(LOCK_SQL).scalar())
            conn.commit()
        except SQLAlchemyError:
            log.warning("ticker lock: the database did not answer", exc_info=True)
            self.drop()
            return False
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def drop(self) -> None:
        """Let the lock go: the connection is closed for real (not pooled), which ends the
        session and its advisory lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:
                log.debug("ticker lock: closing the connection failed", exc_info=True)


def run_loop(
    stop: threading.Event,
    wake: threading.Event,
    every: float,
    step: Callable[[], int],
    name: str,
    idle: threading.Event | None = None,
) -> None:
    """Call ``step`` until ``stop``; right away again while it finds work, else after
    ``every`` seconds or a wake-up. A failing step is logged and tried again. ``idle`` is
    set while the loop waits (it found no work)."""
    while not stop.is_set():
        if idle is not None:
            idle.clear()
        try:
            busy = step()
        except Exception:  # noqa: BLE001 - logged; a worker loop must not die
            log.exception("worker loop %s failed", name)
            busy = 0
        if not busy and not stop.is_set():
            if idle is not None:
                idle.set()
            wake.wait(every)
            wake.clear()


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
