"""Health: whether the engine may trust a calendar's stored busy time, and why not
(:func:`calendar_health`, :func:`stale_by_key`, :func:`option_staleness`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.model import Option
from web.domain.sync.config import STALE_AFTER
from web.store.models import CalendarSource, Interviewer


@dataclass(frozen=True)
class CalendarHealth:
    """Whether the engine may trust a calendar's stored busy time, and why not."""

    source_id: int
    interviewer_id: int
    label: str
    kind: str
    stale: bool
    reconnect: bool
    last_good_sync_at: datetime | None
    reason: str  # "" when fresh and error-free

    @property
    def css(self) -> str:
        if self.reconnect or (self.stale and self.last_good_sync_at is not None):
            return "bad"
        if self.stale or self.reason:
            return "warn"
        return "ok"


def ago(delta: timedelta) -> str:
    mins = int(delta.total_seconds() // 60)
    if mins < 1:
        return "just now"
    if mins < 60:
        return f"{mins} min ago"
    if mins < 48 * 60:
        return f"{mins // 60} h ago"
    return f"{mins // 1440} days ago"


def calendar_health(
    src: CalendarSource, now: datetime, stale_after: timedelta = STALE_AFTER
) -> CalendarHealth:
    good = src.last_good_sync_at
    stale = good is None or now - good > stale_after
    parts = []
    if good is None:
        parts.append("never synced")
    elif stale:
        parts.append(f"last good sync {ago(now - good)}")
    if src.needs_reconnect:
        parts.append("access was revoked: the interviewer must reconnect")
    if src.last_error:
        parts.append(f"error: {src.last_error}")
    return CalendarHealth(
        source_id=src.id,
        interviewer_id=src.interviewer_id,
        label=src.label or src.kind,
        kind=src.kind,
        stale=stale,
        reconnect=bool(src.needs_reconnect),
        last_good_sync_at=good,
        reason="; ".join(parts),
    )


def status_text(src: CalendarSource, now: datetime, stale_after: timedelta = STALE_AFTER) -> str:
    """One line for pages: "synced 3 min ago", "stale: ...", "reconnect needed: ..."."""
    h = calendar_health(src, now, stale_after)
    if h.reconnect:
        return f"reconnect needed: {h.reason}"
    if h.stale:
        return f"stale: {h.reason}"
    assert h.last_good_sync_at is not None
    text = f"synced {ago(now - h.last_good_sync_at)}"
    if src.last_error:
        text += f" (last attempt failed: {src.last_error})"
    return text


def stale_calendars(
    s: Session,
    interviewer_ids: Iterable[int],
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> dict[int, list[CalendarHealth]]:
    """Interviewer id -> their stale calendars (only interviewers with any)."""
    ids = list(interviewer_ids)
    out: dict[int, list[CalendarHealth]] = {}
    if not ids:
        return out
    for src in s.scalars(
        select(CalendarSource)
        .where(CalendarSource.interviewer_id.in_(ids))
        .order_by(CalendarSource.id)
    ):
        h = calendar_health(src, now, stale_after)
        if h.stale:
            out.setdefault(h.interviewer_id, []).append(h)
    return out


def stale_by_key(
    s: Session,
    keys: Iterable[str],
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> dict[str, list[CalendarHealth]]:
    """Like :func:`stale_calendars`, keyed by interviewer key (as engine options are)."""
    rows = s.execute(select(Interviewer.key, Interviewer.id).where(Interviewer.key.in_(list(keys))))
    id_by_key: dict[str, int] = {key: iid for key, iid in rows}
    by_id = stale_calendars(s, id_by_key.values(), now, stale_after)
    return {k: by_id[i] for k, i in id_by_key.items() if i in by_id}


def option_staleness(option: Option, stale: Mapping[str, Sequence[CalendarHealth]]) -> list[str]:
    """Warnings for an option whose interviewers have stale calendars (empty: trustworthy)."""
    seen: list[str] = []
    for slot in option.sessions:
        for key in slot.interviewers:
            if key in stale and key not in seen:
                seen.append(key)
    return [f"{key}: calendar {h.label} is stale ({h.reason})" for key in seen for h in stale[key]]
