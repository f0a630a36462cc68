"""Sync: read every ``CalendarSource`` and store its busy time as ``BusyBlock`` rows.

Network reads happen outside write transactions; with ``commit=True`` each source is
committed on its own. A source that fails keeps its last good blocks; ``last_error``
says why and ``needs_reconnect`` is set when the provider revoked access.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import BusyRead
from integrations.errors import IntegrationError, ReconnectRequired
from scheduler.intervals import merge
from scheduler.model import Interval
from web.domain.sync.config import SyncConfig
from web.domain.sync.readers import Reader, reader_for
from web.store.models import BookingSession, BusyBlock, CalendarSource, Interviewer

log = logging.getLogger(__name__)

# What a provider library may raise that its backend did not turn into an
# IntegrationError: logged with its traceback, and it fails only that calendar.
UNTRANSLATED = (OSError, ValueError, LookupError, TypeError, AttributeError, RuntimeError)


@dataclass(frozen=True)
class SourceResult:
    """What one sync of one calendar did (the CLI prints these)."""

    source_id: int
    label: str
    ok: bool
    busy: int
    events_read: int
    error: str | None
    kind: str = ""
    interviewer_id: int = 0
    interviewer_key: str = ""
    seconds: float = 0.0
    unchanged: bool = False
    reconnect: bool = False
    kept_blocks: int = 0  # last good blocks kept when the read failed
    warnings: tuple[str, ...] = ()  # what the reader guessed or repaired (unknown TZIDs ...)

    def as_json(self) -> dict[str, Any]:
        return {
            "interviewer": self.interviewer_key,
            "calendar_id": self.source_id,
            "calendar": self.label,
            "kind": self.kind,
            "ok": self.ok,
            "events_read": self.events_read,
            "busy_intervals": self.busy,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "reconnect": self.reconnect,
            "kept_blocks": self.kept_blocks,
            "warnings": list(self.warnings),
        }


def one_line(text: str, limit: int = 600) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class Job:
    """One calendar's read: prepared and finished with the session, read in any thread."""

    src: CalendarSource
    who: Interviewer
    reader: Reader | None = None
    read_result: BusyRead | None = None
    error: str | None = None
    reconnect: bool = False
    seconds: float = 0.0
    failure: Exception | None = None  # what the read raised (the live check says why)

    @property
    def live(self) -> BusyRead | None:
        """What the read found, unless it failed or the stored blocks stand."""
        if self.read_result is None or self.reader is None or self.reader.use_stored:
            return None
        return self.read_result


def _failure(job: Job, exc: Exception) -> None:
    src = job.src
    job.failure = exc
    if isinstance(exc, ReconnectRequired):
        job.error, job.reconnect = one_line(str(exc)), True
    elif isinstance(exc, IntegrationError):  # CalendarError, TokenKeyError, GoogleAuthError
        job.error = one_line(str(exc))
    else:
        log.error("calendar %s: unexpected failure", job.src.id, exc_info=exc)
        job.error = (
            f"{src.label or src.kind}: unexpected failure ({type(exc).__name__}); see the log"
        )


def prepare(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> Job:
    """Build the calendar's reader (reads credentials and state: session thread only)."""
    job = Job(src, who)
    started = time.perf_counter()
    try:
        job.reader = reader_for(src, who, cfg)
    except (IntegrationError, *UNTRANSLATED) as exc:  # one calendar never stops the others
        _failure(job, exc)
    job.seconds = time.perf_counter() - started
    return job


def read(job: Job, window: Interval) -> Job:
    """Talk to the provider (no database access: safe in a worker thread)."""
    if job.reader is None:
        return job
    started = time.perf_counter()
    try:
        job.read_result = job.reader.read(window)
    except (IntegrationError, *UNTRANSLATED) as exc:  # one calendar never stops the others
        _failure(job, exc)
    job.seconds += time.perf_counter() - started
    return job


def read_all(jobs: list[Job], window: Interval, parallel: int, name: str) -> list[Job]:
    """Read every job, up to ``parallel`` at once; in order."""
    if len(jobs) <= 1 or parallel <= 1:
        return [read(j, window) for j in jobs]
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=name) as pool:
        return list(pool.map(lambda j: read(j, window), jobs))


def _warnings(found: BusyRead) -> tuple[str, ...]:
    notes = list(getattr(found, "warnings", ()))
    for tzid in getattr(found, "unknown_tzids", ()):
        text = f"unknown time zone {tzid!r}: its times were read in the interviewer's zone"
        if not any(tzid in n for n in notes):
            notes.append(text)
    return tuple(one_line(n, 300) for n in notes)


def _lock_source(s: Session, job: Job, now: datetime) -> None:
    """Save the reader's state and write the source row first: that takes its row lock
    (PostgreSQL) or the write lock (SQLite) before the stored blocks are compared, so two
    syncs of one calendar (the periodic one and "sync now", or the worker and
    `panelslot sync`) take turns."""
    src = job.src
    if job.reader is not None:
        try:
            job.reader.save(src)
        except IntegrationError as exc:
            log.warning("calendar %s: state not saved: %s", src.id, exc)
    src.last_attempt_at = now
    src.last_duration_ms = int(job.seconds * 1000)
    s.flush()
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(CalendarSource.id).where(CalendarSource.id == src.id).with_for_update())


def _failed(s: Session, job: Job, base: dict[str, Any], started: float) -> SourceResult:
    src = job.src
    src.last_error = job.error
    if job.reconnect:
        src.needs_reconnect = True
    kept = len(s.scalars(select(BusyBlock.id).where(BusyBlock.source_id == src.id)).all())
    return SourceResult(
        **base,
        ok=False,
        busy=0,
        events_read=0,
        error=job.error,
        seconds=job.seconds + time.perf_counter() - started,
        reconnect=job.reconnect,
        kept_blocks=kept,
    )


def _stored(s: Session, job: Job, found: BusyRead, now: datetime) -> int:
    """Store the read's busy time (unless the stored blocks stand); the count kept."""
    src = job.src
    if job.live is None:  # unchanged and already stored
        count = src.busy_count or 0
    else:
        own = own_events(s, job.who.id)
        busy = merge(iv for iv in found.busy if (iv.start, iv.end) not in own)
        _store_blocks(s, job.who.id, src.id, busy)
        count = len(busy)
    src.last_good_sync_at = now
    src.last_error = None
    src.needs_reconnect = False
    src.events_read = found.events_read
    src.busy_count = count
    return count


def own_events(s: Session, interviewer_id: int) -> set[tuple[datetime, datetime]]:
    """The spans of the interviewer's active booked sessions: an event read at exactly such a
    span is the interview itself (written back, or added from its invitation), which the
    booking already counts; stored as busy time it would block the booking's own reschedule
    and look like a conflict with it."""
    rows = s.execute(
        select(BookingSession.start, BookingSession.end).where(
            BookingSession.interviewer_id == interviewer_id, BookingSession.active.is_(True)
        )
    )
    return {(start, end) for start, end in rows}


def finish(s: Session, job: Job, now: datetime) -> SourceResult:
    """Store what the read found (or keep the last good blocks and record the error)."""
    src, who = job.src, job.who
    base: dict[str, Any] = {
        "source_id": src.id,
        "label": src.label or src.kind,
        "kind": src.kind,
        "interviewer_id": who.id,
        "interviewer_key": who.key,
    }
    started = time.perf_counter()
    _lock_source(s, job, now)
    found = job.read_result
    if found is None:
        return _failed(s, job, base, started)
    count = _stored(s, job, found, now)
    return SourceResult(
        **base,
        ok=True,
        busy=count,
        events_read=found.events_read,
        error=None,
        seconds=job.seconds + time.perf_counter() - started,
        unchanged=found.unchanged,
        warnings=_warnings(found),
    )


def _store_blocks(s: Session, who_id: int, src_id: int, busy: Iterable[Interval]) -> None:
    """Make the source's stored blocks equal ``busy``, touching only the rows that differ."""
    wanted = {(iv.start, iv.end) for iv in busy}
    rows = s.execute(
        select(BusyBlock.id, BusyBlock.start, BusyBlock.end).where(BusyBlock.source_id == src_id)
    ).all()
    have = {(start, end): bid for bid, start, end in rows}
    gone = [bid for span, bid in have.items() if span not in wanted]
    if gone:
        s.execute(delete(BusyBlock).where(BusyBlock.id.in_(gone)))
    s.add_all(
        BusyBlock(interviewer_id=who_id, source_id=src_id, start=a, end=b)
        for a, b in sorted(wanted - set(have))
    )


def sync_source(
    s: Session,
    who: Interviewer,
    src: CalendarSource,
    now: datetime,
    cfg: SyncConfig | None = None,
) -> SourceResult:
    """Read one calendar and store its busy time; never raises for a calendar's fault."""
    cfg = cfg or SyncConfig()
    return finish(s, read(prepare(src, who, cfg), cfg.window(now)), now)


Progress = Callable[[SourceResult], None]


def sync_sources(
    s: Session,
    pairs: Sequence[tuple[Interviewer, CalendarSource]],
    now: datetime,
    cfg: SyncConfig | None = None,
    *,
    commit: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    """Sync many calendars: up to ``cfg.parallel`` provider reads at once, while the
    results are stored one by one, in order, by this thread (the session's)."""
    cfg = cfg or SyncConfig()
    window = cfg.window(now)
    results: list[SourceResult] = []

    def done(job: Job) -> None:
        result = finish(s, job, now)
        if commit:
            s.commit()
        else:
            s.flush()
        results.append(result)
        if progress is not None:
            progress(result)

    if cfg.parallel <= 1 or len(pairs) <= 1:
        for who, src in pairs:
            done(read(prepare(src, who, cfg), window))
        return results
    with ThreadPoolExecutor(max_workers=cfg.parallel, thread_name_prefix="calsync") as pool:
        futures = [pool.submit(read, prepare(src, who, cfg), window) for who, src in pairs]
        for future in futures:
            done(future.result())
    return results


def sync_interviewer(
    s: Session,
    who: Interviewer,
    now: datetime,
    cfg: SyncConfig | None = None,
    *,
    commit: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    """Read every calendar of ``who``; a failing one keeps its last good blocks."""
    pairs = [(who, src) for src in who.calendars]
    return sync_sources(s, pairs, now, cfg, commit=commit, progress=progress)


def plan(s: Session, interviewer_ids: Sequence[int] | None = None) -> list[Interviewer]:
    """Active interviewers (or the ones named) with their calendars loaded."""
    q = select(Interviewer).options(selectinload(Interviewer.calendars)).order_by(Interviewer.key)
    if interviewer_ids is None:
        q = q.where(Interviewer.active.is_(True))
    else:
        q = q.where(Interviewer.id.in_(list(interviewer_ids)))
    return list(s.scalars(q))


def sync_all(
    s: Session,
    now: datetime,
    cfg: SyncConfig | None = None,
    *,
    interviewer_ids: Sequence[int] | None = None,
    commit: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    pairs = [(who, src) for who in plan(s, interviewer_ids) for src in who.calendars]
    return sync_sources(s, pairs, now, cfg, commit=commit, progress=progress)


def busy_summary(s: Session, who: Interviewer, now: datetime, days: int = 7) -> dict[int, int]:
    """Source id -> busy blocks stored for the next ``days`` days."""
    rows = s.execute(
        select(BusyBlock.source_id, BusyBlock.id).where(
            BusyBlock.interviewer_id == who.id,
            BusyBlock.end > now,
            BusyBlock.start < now + timedelta(days=days),
        )
    )
    out: dict[int, int] = {}
    for sid, _ in rows:
        out[sid] = out.get(sid, 0) + 1
    return out


def clear_source(s: Session, src: CalendarSource) -> None:
    """Forget a source's stored blocks (before it is deleted or replaced)."""
    s.execute(delete(BusyBlock).where(BusyBlock.source_id == src.id))
