"""Store calendar busy time in the database (the worker's sync job).

ICS sources (files and URLs) are read through integrations' feed backend; the
full provider sync (CalDAV, Google, ETag state kept between runs) is the
calendar issue's and plugs in through ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import BusyRead
from integrations.errors import CalendarError
from scheduler.model import Interval
from web.models import BusyBlock, CalendarSource, Interviewer

PAST = timedelta(days=1)
AHEAD = timedelta(days=90)

Reader = Callable[[CalendarSource, Interviewer, Interval], BusyRead]


def read_ics(source: CalendarSource, who: Interviewer, window: Interval) -> BusyRead:
    from integrations.calendars.feed import ICSFeedBackend

    backend = ICSFeedBackend(source.url, timezone=who.timezone, email=who.email, name=source.label)
    return backend.read_busy(window)


BACKENDS: dict[str, Reader] = {"ics": read_ics}


@dataclass(frozen=True)
class SourceResult:
    source_id: int
    label: str
    ok: bool
    busy: int
    events_read: int
    error: str | None


def sync_interviewer(s: Session, who: Interviewer, now: datetime) -> list[SourceResult]:
    """Read every calendar of ``who``; a failing one keeps its last good blocks."""
    window = Interval(now - PAST, now + AHEAD)
    results = []
    for src in who.calendars:
        src.last_attempt_at = now
        reader = BACKENDS.get(src.kind)
        if reader is None:
            src.last_error = f"{src.kind} calendars are not supported by this build"
            results.append(SourceResult(src.id, src.label, False, 0, 0, src.last_error))
            continue
        try:
            read = reader(src, who, window)
        except CalendarError as exc:
            src.last_error = str(exc)
            results.append(SourceResult(src.id, src.label, False, 0, 0, src.last_error))
            continue
        s.execute(delete(BusyBlock).where(BusyBlock.source_id == src.id))
        s.add_all(
            BusyBlock(interviewer_id=who.id, source_id=src.id, start=iv.start, end=iv.end)
            for iv in read.busy
        )
        src.last_good_sync_at = now
        src.last_error = None
        src.events_read = read.events_read
        results.append(
            SourceResult(src.id, src.label, True, len(read.busy), read.events_read, None)
        )
    return results


def sync_all(s: Session, now: datetime) -> list[SourceResult]:
    people = s.scalars(
        select(Interviewer)
        .where(Interviewer.active.is_(True))
        .options(selectinload(Interviewer.calendars))
    )
    out: list[SourceResult] = []
    for who in people:
        out.extend(sync_interviewer(s, who, now))
    return out
