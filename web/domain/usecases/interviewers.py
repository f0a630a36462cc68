"""Coordinators managing interviewers: the list, create and edit, (de)activate, calendars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.domain import services
from web.domain import sync as calsync
from web.domain.audit import Actor, record_by
from web.domain.jobs import enqueue
from web.domain.personal_links import link_mail
from web.store.models import CalendarSource, Interviewer


class KeyTaken(ValueError):
    """Another row of the same kind already has this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


@dataclass(frozen=True)
class InterviewerFields:
    """What a coordinator types about an interviewer (already validated)."""

    key: str
    name: str
    email: str
    timezone: str
    working_hours: dict[str, list[str]]
    max_interviews_per_day: int | None
    max_interviews_per_week: int | None = None  # per local ISO week; None = no cap


def list_interviewers(s: Session, *, include_inactive: bool) -> list[Interviewer]:
    """Interviewers by name, with their calendars loaded."""
    q = select(Interviewer).options(selectinload(Interviewer.calendars)).order_by(Interviewer.name)
    if not include_inactive:
        q = q.where(Interviewer.active.is_(True))
    return list(s.scalars(q))


def active_interviewers(s: Session) -> list[Interviewer]:
    """Active interviewers by name (the choices of a loop's pools)."""
    q = select(Interviewer).where(Interviewer.active.is_(True)).order_by(Interviewer.name)
    return list(s.scalars(q))


def get_interviewer(s: Session, iid: int) -> Interviewer | None:
    return s.scalar(
        select(Interviewer)
        .where(Interviewer.id == iid)
        .options(selectinload(Interviewer.calendars))
    )


def key_taken(s: Session, model: Any, key: str, own_id: int | None) -> bool:
    """Whether another row of ``model`` (Interviewer, Loop) uses ``key``."""
    found = s.scalar(select(model.id).where(model.key == key))
    return found is not None and found != own_id


def _fill(row: Interviewer, fields: InterviewerFields) -> Interviewer:
    row.key = fields.key
    row.name = fields.name
    row.email = fields.email
    row.timezone = fields.timezone
    row.working_hours = fields.working_hours
    row.max_interviews_per_day = fields.max_interviews_per_day
    row.max_interviews_per_week = fields.max_interviews_per_week
    return row


def create_interviewer(
    s: Session, fields: InterviewerFields, who: Actor, now: datetime
) -> Interviewer:
    """A new active interviewer; raises :class:`KeyTaken`. Commits."""
    if key_taken(s, Interviewer, fields.key, None):
        raise KeyTaken(fields.key)
    row = _fill(Interviewer(link_nonce=services.new_nonce()), fields)
    s.add(row)
    s.flush()
    record_by(s, now, who, "interviewer_created", "interviewer", row.id)
    s.commit()
    return row


def update_interviewer(
    s: Session, row: Interviewer, fields: InterviewerFields, who: Actor, now: datetime
) -> None:
    """Save an edit; raises :class:`KeyTaken`. Commits."""
    if key_taken(s, Interviewer, fields.key, row.id):
        raise KeyTaken(fields.key)
    _fill(row, fields)
    record_by(s, now, who, "interviewer_edited", "interviewer", row.id)
    s.commit()


def toggle_active(s: Session, row: Interviewer, who: Actor, now: datetime) -> None:
    """Activate or deactivate; deactivating revokes the personal links. Commits."""
    row.active = not row.active
    if not row.active:
        row.link_nonce = services.new_nonce()
    action = "interviewer_" + ("activated" if row.active else "deactivated")
    record_by(s, now, who, action, "interviewer", row.id)
    s.commit()


class InterviewerInactive(ValueError):
    """An inactive interviewer's personal links do not work: nothing to send."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def send_personal_link(
    s: Session, row: Interviewer, link: str, sender: str, who: Actor, now: datetime
) -> None:
    """Mail ``row`` their personal page ``link`` through the outbox, audited (the link
    itself is not logged: it opens the page). Raises :class:`InterviewerInactive`. Commits."""
    if not row.active:
        raise InterviewerInactive(row.key)
    mail = link_mail(row, link, sender, now)
    s.add(mail)
    s.flush()
    record_by(s, now, who, "interviewer_link_sent", "interviewer", row.id, mail_id=mail.id)
    s.commit()


def add_calendar(
    s: Session, row: Interviewer, *, kind: str, url: str, label: str, who: Actor, now: datetime
) -> CalendarSource:
    """Add a calendar (named after its URL when ``label`` is empty) and queue a sync. Commits."""
    cal = CalendarSource(kind=kind, label=label or url.rsplit("/", 1)[-1], url=url)
    row.calendars.append(cal)
    s.flush()
    enqueue(s, "sync_interviewer", {"interviewer_id": row.id}, now=now, requested_by=who.name)
    record_by(s, now, who, "calendar_added", "interviewer", row.id, kind=cal.kind)
    s.commit()
    return cal


def queue_sync(s: Session, row: Interviewer, requested_by: str, now: datetime) -> None:
    """Ask the worker to read the interviewer's calendars. Commits."""
    enqueue(s, "sync_interviewer", {"interviewer_id": row.id}, now=now, requested_by=requested_by)
    s.commit()


def sync_status(cal: CalendarSource, at: datetime, stale_after: timedelta) -> tuple[str, str]:
    """(css class, text) of a calendar's sync state."""
    if cal.needs_reconnect:
        return "bad", f"reconnect needed (the interviewer must reconnect): {cal.last_error}"
    if cal.last_error and (
        cal.last_good_sync_at is None or (cal.last_attempt_at or at) >= cal.last_good_sync_at
    ):
        kept = (
            f" (using the last good copy from {calsync.ago(at - cal.last_good_sync_at)})"
            if cal.last_good_sync_at
            else ""
        )
        return "bad", f"error: {cal.last_error}{kept}"
    if cal.last_good_sync_at is None:
        return "warn", "never synced"
    age = at - cal.last_good_sync_at
    text = f"synced {calsync.ago(age)}"
    if age > stale_after:
        return "warn", f"stale: {text} (older than {stale_after.total_seconds() / 60:g} min)"
    return "ok", text
