"""Coordinators managing loops: the list with its pools, create and edit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.domain import services
from web.domain.audit import Actor, record_by
from web.domain.usecases.interviewers import KeyTaken, key_taken
from web.store.models import Interviewer, Loop, LoopSession, SessionPool

# The loop's own settings as the form names them (copied onto the row as they are).
LOOP_FIELDS = (
    "key",
    "name",
    "order",
    "min_gap_minutes",
    "max_gap_minutes",
    "granularity_minutes",
    "min_notice_hours",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "video_url_template",
    "video",
    "show_interviewer_names",
    "live_fallback",
    "hide_candidate_names",
    "offer_from_ranges",
    "auto_repair",
    "repair_min_hours_before",
    "max_auto_repairs",
)


@dataclass(frozen=True)
class SessionFields:
    name: str
    duration_minutes: int
    required: int
    pool: tuple[int, ...]


@dataclass(frozen=True)
class LoopFields:
    """A loop as typed: ``settings`` holds the :data:`LOOP_FIELDS` (strings stripped)."""

    settings: dict[str, Any]
    sessions: tuple[SessionFields, ...]

    @property
    def key(self) -> str:
        return str(self.settings["key"])


def list_loops(s: Session) -> tuple[list[Loop], dict[int, list[str]]]:
    """Loops by name, and the interviewer names of each session's pool by session id."""
    rows = list(s.scalars(select(Loop).options(selectinload(Loop.sessions)).order_by(Loop.name)))
    pools: dict[int, list[str]] = {}
    for sid, name in s.execute(
        select(SessionPool.session_id, Interviewer.name)
        .join(Interviewer, Interviewer.id == SessionPool.interviewer_id)
        .order_by(Interviewer.key)
    ):
        pools.setdefault(sid, []).append(name)
    return rows, pools


def active_loops(s: Session) -> list[Loop]:
    return list(s.scalars(select(Loop).where(Loop.active.is_(True)).order_by(Loop.name)))


def get_loop(s: Session, lid: int) -> Loop | None:
    return services.load_loop(s, lid)


def _save(s: Session, row: Loop, fields: LoopFields) -> None:
    for name in LOOP_FIELDS:
        setattr(row, name, fields.settings[name])
    row.video_url_template = row.video_url_template or ""
    row.sessions.clear()
    s.flush()
    people = {i.id: i for i in s.scalars(select(Interviewer))}
    for pos, sf in enumerate(fields.sessions):
        row.sessions.append(
            LoopSession(
                position=pos,
                name=sf.name,
                duration_minutes=sf.duration_minutes,
                required=sf.required or 1,
                pool=[people[i] for i in sf.pool if i in people],
            )
        )


def create_loop(s: Session, fields: LoopFields, who: Actor, now: datetime) -> Loop:
    """A new loop; raises :class:`KeyTaken`. Commits."""
    if key_taken(s, Loop, fields.key, None):
        raise KeyTaken(fields.key)
    row = Loop(key=fields.key, name=str(fields.settings["name"]))
    s.add(row)
    _save(s, row, fields)
    s.flush()
    record_by(s, now, who, "loop_created", "loop", row.id)
    s.commit()
    return row


def update_loop(s: Session, row: Loop, fields: LoopFields, who: Actor, now: datetime) -> None:
    """Save an edit (the sessions are replaced); raises :class:`KeyTaken`. Commits."""
    if key_taken(s, Loop, fields.key, row.id):
        raise KeyTaken(fields.key)
    _save(s, row, fields)
    record_by(s, now, who, "loop_edited", "loop", row.id)
    s.commit()
