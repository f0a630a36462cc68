"""Calendar write-back: interview events in interviewers' writable calendars."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import CalendarBackend, InterviewEvent
from integrations.errors import CalendarError
from web.booking.invites import video_url
from web.models import (
    Booking,
    BookingSession,
    CalendarSource,
    Interviewer,
)

log = logging.getLogger(__name__)


WriterFactory = Callable[[CalendarSource, Interviewer], CalendarBackend | None]
WRITERS: dict[str, WriterFactory] = {}


def register_writer(kind: str, factory: WriterFactory) -> None:
    """Make sources of ``kind`` writable: ``factory`` builds the backend (None: not writable)."""
    WRITERS[kind] = factory


def _caldav_writer(src: CalendarSource, who: Interviewer) -> CalendarBackend | None:
    from web import calsync

    backend: CalendarBackend = calsync.BACKENDS["caldav"](
        src, who, calsync.default_config()
    ).backend  # type: ignore[attr-defined]
    return backend


def _google_writer(src: CalendarSource, who: Interviewer) -> CalendarBackend | None:
    from web import calsync

    backend: CalendarBackend = calsync.google_backend(src, who, calsync.default_config())
    return backend


# CalDAV and Google calendars are writable; ICS feeds are read-only.
register_writer("caldav", _caldav_writer)
register_writer("google", _google_writer)


def _event_ids(bs: BookingSession) -> dict[str, str]:
    if not bs.calendar_event_id:
        return {}
    try:
        data = json.loads(bs.calendar_event_id)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _store_ids(bs: BookingSession, ids: dict[str, str]) -> None:
    bs.calendar_event_id = json.dumps(ids, sort_keys=True) if ids else None


def writeback(s: Session, booking_ids: Sequence[int], now: datetime) -> str:
    """Write, update or delete the interview events in interviewers' writable calendars."""
    notes = []
    for bid in booking_ids:
        b = s.scalar(
            select(Booking)
            .where(Booking.id == bid)
            .options(
                selectinload(Booking.sessions)
                .selectinload(BookingSession.interviewer)
                .selectinload(Interviewer.calendars)
            )
        )
        if b is None:
            continue
        req = b.request
        live = b.status == "confirmed"
        for bs in b.sessions:
            ids = _event_ids(bs)
            who = bs.interviewer
            for src in who.calendars:
                factory = WRITERS.get(src.kind)
                key = str(src.id)
                if factory is None:
                    continue
                try:
                    backend = factory(src, who)
                    if backend is None:
                        continue
                    if live and bs.active:
                        ev = InterviewEvent(
                            uid=bs.uid,
                            summary=f"Interview: {req.loop.name} ({req.candidate_name}): "
                            f"{bs.session_name}",
                            start=bs.start,
                            end=bs.end,
                            organizer_email=req.coordinator.email,
                            attendees=(who.email,),
                            location=video_url(req, b),
                            sequence=b.sequence,
                        )
                        if key in ids:
                            backend.update_event(ids[key], ev)
                            notes.append(f"updated {bs.uid} in {src.label or src.kind}")
                        else:
                            ids[key] = backend.write_event(ev)
                            notes.append(f"wrote {bs.uid} to {src.label or src.kind}")
                    elif key in ids:
                        backend.cancel_event(ids.pop(key))
                        notes.append(f"deleted {bs.uid} from {src.label or src.kind}")
                except CalendarError as exc:
                    log.warning("calendar write-back to %s failed: %s", src.label, exc)
                    notes.append(f"{src.label or src.kind}: {exc}")
            _store_ids(bs, ids)
    return "; ".join(notes) or "no writable calendars"


def job_writeback(s: Session, job: Any, now: datetime) -> str:
    """The worker's handler for ``calendar_writeback`` job rows."""
    ids = [int(i) for i in (job.payload or {}).get("booking_ids", [])]
    return writeback(s, ids, now)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
