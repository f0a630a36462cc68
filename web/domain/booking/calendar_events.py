"""Calendar write-back: interview events in interviewers' writable calendars."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import CalendarBackend, InterviewEvent
from integrations.errors import CalendarError
from web.domain.booking.outbox import outbox_video_update
from web.domain.booking.policy import BookingPolicy
from web.domain.booking.video import (
    MeetOrganiser,
    meet_organiser,
    no_organiser_note,
    policy_from_payload,
    template_url,
    video_provider,
    video_url,
    wants_meet,
)
from web.domain.sync.config import SyncConfig
from web.domain.sync.msgraph import msgraph_backend
from web.domain.sync.readers import caldav_backend, google_backend
from web.store.models import (
    Booking,
    BookingSession,
    CalendarSource,
    Interviewer,
)

log = logging.getLogger(__name__)


WriterFactory = Callable[[CalendarSource, Interviewer], CalendarBackend | None]
Writers = Mapping[str, WriterFactory]


def calendar_writers(cfg: SyncConfig) -> dict[str, WriterFactory]:
    """The writable source kinds and how their backends are built (None: not writable).

    CalDAV, Google and Microsoft 365 calendars are writable; ICS feeds are read-only."""
    return {
        "caldav": lambda src, who: caldav_backend(src, who, cfg),
        "google": lambda src, who: google_backend(src, who, cfg),
        "msgraph": lambda src, who: _msgraph_writer(src, who, cfg),
    }


def _msgraph_writer(
    src: CalendarSource, who: Interviewer, cfg: SyncConfig
) -> CalendarBackend | None:
    """Microsoft 365: writable unless write-back is off or the account was connected
    read-only (Calendars.Read)."""
    if not cfg.microsoft_write_back or not src.credentials or src.needs_reconnect:
        return None
    backend = msgraph_backend(src, who, cfg)
    return backend if getattr(backend.credentials, "can_write", False) else None


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


def writeback(
    s: Session,
    booking_ids: Sequence[int],
    now: datetime,
    *,
    writers: Writers,
    policy: BookingPolicy | None = None,
    link: str = "",
) -> str:
    """Write, update or delete the interview events in interviewers' writable calendars
    (``writers``, by source kind), creating the Google Meet or Teams meeting first where
    the loop asks for it."""
    notes: list[str] = []
    for bid in booking_ids:
        b = _load_booking(s, bid)
        if b is None:
            continue
        if b.status == "confirmed" and b.video_link is None and wants_meet(b.request):
            _decide_video(s, b, now, policy or BookingPolicy(), link, writers, notes)
        for bs in b.sessions:
            _write_session(b, bs, writers, notes)
    return "; ".join(notes) or "no writable calendars"


def _load_booking(s: Session, booking_id: int) -> Booking | None:
    return s.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.sessions)
            .selectinload(BookingSession.interviewer)
            .selectinload(Interviewer.calendars)
        )
    )


def _event(b: Booking, bs: BookingSession) -> InterviewEvent:
    req = b.request
    return InterviewEvent(
        uid=bs.uid,
        summary=f"Interview: {req.loop.name} ({req.candidate_name}): {bs.session_name}",
        start=bs.start,
        end=bs.end,
        organizer_email=req.coordinator.email,
        attendees=(bs.interviewer.email,),
        location=video_url(req, b),
        sequence=b.sequence,
    )


def _write_session(b: Booking, bs: BookingSession, writers: Writers, notes: list[str]) -> None:
    """Bring each writable calendar of the session's interviewer in line with the booking."""
    ids = _event_ids(bs)
    live = b.status == "confirmed" and bs.active
    for src in bs.interviewer.calendars:
        factory = writers.get(src.kind)
        if factory is None:
            continue
        try:
            backend = factory(src, bs.interviewer)
            if backend is not None:
                _write_one(backend, src, b, bs, ids, live, notes)
        except CalendarError as exc:
            log.warning("calendar write-back to %s failed: %s", src.label, exc)
            notes.append(f"{src.label or src.kind}: {exc}")
    _store_ids(bs, ids)


def _write_one(
    backend: CalendarBackend,
    src: CalendarSource,
    b: Booking,
    bs: BookingSession,
    ids: dict[str, str],
    live: bool,
    notes: list[str],
) -> None:
    key, where = str(src.id), src.label or src.kind
    if live and key in ids:
        backend.update_event(ids[key], _event(b, bs))
        notes.append(f"updated {bs.uid} in {where}")
    elif live:
        ids[key] = backend.write_event(_event(b, bs))
        notes.append(f"wrote {bs.uid} to {where}")
    elif key in ids:
        backend.cancel_event(ids.pop(key))
        notes.append(f"deleted {bs.uid} from {where}")


def _decide_video(
    s: Session,
    b: Booking,
    now: datetime,
    policy: BookingPolicy,
    link: str,
    writers: Writers,
    notes: list[str],
) -> None:
    """Create the online meeting in the organiser's calendar (else fall back to the
    template), store the link and send everyone the updated invitation."""
    req = b.request
    organiser = meet_organiser(b)
    url, note = None, ""
    if organiser is not None:
        url, note = _create_meet(b, organiser, writers, notes)
    if url is None:
        provider = video_provider(req)
        url = template_url(req, b)
        note = note or (no_organiser_note(provider) + "." if provider else "")
        if organiser is None:
            return  # the invitations already carry the template (see video.video_note)
    b.video_link = url
    b.sequence += 1
    s.flush()
    outbox_video_update(s, req, b, now, policy, note=note, link=link)


def _create_meet(
    b: Booking, organiser: MeetOrganiser, writers: Writers, notes: list[str]
) -> tuple[str | None, str]:
    """(join URL or None, a line for the coordinator): the organiser's event is written as an
    online meeting and its id kept, so the later pass updates it instead of writing again."""
    bs, src, p = organiser.session, organiser.source, organiser.provider
    who = bs.interviewer
    where = src.label or p.calendar
    try:
        factory = writers.get(src.kind)
        backend = factory(src, who) if factory else None
        if backend is None:
            raise CalendarError(where, "the calendar is not writable")
        backend.options = replace(backend.options, **{p.option: True})  # type: ignore[attr-defined]
        ids = _event_ids(bs)
        event_id = ids.get(str(src.id)) or backend.write_event(_event(b, bs))
        ids[str(src.id)] = event_id
        _store_ids(bs, ids)
        link = backend.conference_link(event_id)  # type: ignore[attr-defined]
    except CalendarError as exc:
        log.warning("%s in %s failed: %s", p.name, where, exc)
        notes.append(f"{p.name}: {exc}")
        return None, (
            f"Video: the {p.name} could not be created in {who.name}'s {p.calendar} "
            f"({exc}); the loop's link template is used instead."
        )
    if not link:
        notes.append(f"{p.name}: no link returned")
        return None, (
            f"Video: {p.vendor} gave no {p.name} link for {who.name}'s calendar; "
            "the loop's link template is used instead."
        )
    notes.append(f"{p.name} created in {where}")
    return link, f"Video: {p.name} created in {who.name}'s {p.calendar}: {link}"


def job_writeback(s: Session, job: Any, now: datetime, writers: Writers) -> str:
    """The worker's handler for ``calendar_writeback`` job rows."""
    payload = job.payload or {}
    ids = [int(i) for i in payload.get("booking_ids", [])]
    policy, link = policy_from_payload(payload.get("policy"))
    notes = [drop_events(s, entry, writers) for entry in payload.get("drop_events", [])]
    notes.append(writeback(s, ids, now, writers=writers, policy=policy, link=link))
    return "; ".join(n for n in notes if n)


def drop_events(s: Session, entry: Mapping[str, Any], writers: Writers) -> str:
    """Delete the events written for an interviewer who left a session (``entry``:
    ``{"interviewer_id": ..., "events": {calendar source id: event id}}``)."""
    who = s.get(Interviewer, int(entry.get("interviewer_id", 0)))
    events = entry.get("events") or {}
    if who is None or not isinstance(events, dict):
        return ""
    notes: list[str] = []
    for src in who.calendars:
        event_id, factory = events.get(str(src.id)), writers.get(src.kind)
        if event_id is None or factory is None:
            continue
        try:
            backend = factory(src, who)
            if backend is not None:
                backend.cancel_event(str(event_id))
                notes.append(f"deleted {who.key}'s event from {src.label or src.kind}")
        except CalendarError as exc:
            log.warning("calendar write-back to %s failed: %s", src.label, exc)
            notes.append(f"{src.label or src.kind}: {exc}")
    return "; ".join(notes)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
