"""Live check: re-read interviewers' calendars before a booking is confirmed, falling
back, per calendar, to its stored blocks (and saying why: in the log, and as a
:class:`Fallback` the booking records for the coordinator)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from integrations.budget import BudgetExceeded, ReaderCrashed
from integrations.errors import CalendarError, CalendarTimeout, ReconnectRequired
from scheduler.intervals import merge
from scheduler.model import Interval
from web.domain.busy import load_busy
from web.domain.failures import shown_error
from web.domain.sync.config import SyncConfig
from web.domain.sync.sync import Job, one_line, plan, prepare, read_all

log = logging.getLogger(__name__)


CAUSE_CHARS = 160


@dataclass(frozen=True)
class Fallback:
    """A calendar that could not be read live, so its stored busy time stood in.

    ``cause`` is short and holds nothing fetched and no URL (see :func:`cause_of`);
    ``stored_at`` is when the stored busy time was last read (None: never)."""

    interviewer_id: int
    name: str
    zone: str
    calendar: str
    cause: str
    stored_at: datetime | None

    def as_json(self) -> dict[str, object]:
        stored = self.stored_at.isoformat() if self.stored_at is not None else None
        return {
            "interviewer_id": self.interviewer_id,
            "name": self.name,
            "zone": self.zone,
            "calendar": self.calendar,
            "cause": self.cause,
            "stored_at": stored,
        }


def cause_of(exc: Exception | None) -> str:
    """Why a read failed, for people: by the error's type, with at most the error's own
    message (never its source, which may be a feed URL), URLs redacted."""
    if isinstance(exc, BudgetExceeded):
        return "timed out" if exc.resource == "time" else "it needed too much memory"
    if isinstance(exc, CalendarTimeout):
        return "timed out"
    if isinstance(exc, ReaderCrashed):
        return "the reader stopped"
    if isinstance(exc, ReconnectRequired):
        return "access was revoked; it must be reconnected"
    if isinstance(exc, CalendarError):
        return shown_error(exc.message)[:CAUSE_CHARS]
    if exc is not None:
        return f"unexpected failure ({type(exc).__name__})"
    return "it could not be read live"


@dataclass
class LiveCheck:
    """Busy time per interviewer id, and which calendars could not be read live."""

    busy: dict[int, list[Interval]] = field(default_factory=dict)
    fallbacks: dict[int, list[str]] = field(default_factory=dict)  # id -> "label: why"
    fell_back: list[Fallback] = field(default_factory=list)


def live_check(
    s: Session,
    interviewer_ids: Iterable[int],
    window: Interval,
    now: datetime,
    cfg: SyncConfig | None = None,
) -> LiveCheck:
    """Read the interviewers' calendars now, falling back to stored blocks per calendar.

    Nothing is written: the caller's transaction stays untouched.
    """
    cfg = cfg or SyncConfig()
    result = LiveCheck()
    people = plan(s, list(interviewer_ids))
    jobs = [prepare(src, who, cfg) for who in people for src in who.calendars]
    jobs = read_all(jobs, window, cfg.parallel, "live")
    spans: dict[int, list[Interval]] = {who.id: [] for who in people}
    stored: list[Job] = []
    for job in jobs:
        live = job.live
        if live is not None:
            spans[job.who.id].extend(live.busy)
            continue
        stored.append(job)
        if job.read_result is None:  # could not be read live: the stored blocks stand in
            why = one_line(job.error or "not readable live", 300)
            log.warning(
                "live check of calendar %s (interviewer %s) failed, using its stored "
                "blocks instead: %s",
                job.src.id,
                job.who.key,
                why,
            )
            result.fallbacks.setdefault(job.who.id, []).append(why)
            result.fell_back.append(_fallback(job))
    for who_id, found in _stored_blocks(s, stored, window, now).items():
        spans[who_id].extend(found)
    for who_id, found in spans.items():
        result.busy[who_id] = merge(_clip(found, window))
    return result


def _fallback(job: Job) -> Fallback:
    who, src = job.who, job.src
    return Fallback(
        who.id,
        who.name,
        who.timezone,
        shown_error(src.label)[:CAUSE_CHARS],
        cause_of(job.failure),
        src.last_good_sync_at,
    )


def _stored_blocks(
    s: Session, jobs: list[Job], window: Interval, now: datetime
) -> dict[int, list[Interval]]:
    """The stored calendar blocks of the jobs' calendars, per interviewer id."""
    if not jobs:
        return {}
    people = {job.who.id: job.who.key for job in jobs}
    pic = load_busy(
        s,
        people,
        window,
        now=now,
        include_holds=False,
        include_bookings=False,
        sources=[job.src.id for job in jobs],
    )
    return {iid: pic.busy[key] for iid, key in people.items()}


def _clip(spans: Iterable[Interval], window: Interval) -> list[Interval]:
    return [
        Interval(max(iv.start, window.start), min(iv.end, window.end))
        for iv in spans
        if iv.start < window.end and window.start < iv.end
    ]


def live_busy(
    s: Session,
    interviewer_ids: Iterable[int],
    window: Interval,
    now: datetime,
    cfg: SyncConfig | None = None,
) -> dict[int, list[Interval]]:
    """Calendar busy time per interviewer id, read live where possible (for booking)."""
    return live_check(s, interviewer_ids, window, now, cfg).busy
