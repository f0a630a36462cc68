"""Database rows as engine values: the loop picture and stored options (the one copy of each).

Search, the offer checks, the booking re-check and the pages all read a loop through
:func:`loop_picture`, so "a pool too small" and "no sessions" have one rule and one message.
Offered options are stored as JSON (:func:`option_json`) and read back by :func:`stored_option`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.model import Interviewer as EInterviewer
from scheduler.model import Loop as ELoop
from scheduler.model import Option, SessionSlot, SessionSpec, Settings, WorkingHours
from scheduler.optionjson import sessions_json
from web.domain.zones import parse_week
from web.store.models import Interviewer, Loop, LoopSession, OfferedOption, SessionPool

LOOP_DELETED = "the loop was deleted"


@dataclass(frozen=True)
class LoopPicture:
    """What the engine needs of a loop, read with a few plain queries (no ORM graph).

    ``loop`` is ``None`` when the loop cannot be searched; ``problem`` then says why, in one
    line for the coordinator."""

    loop: ELoop | None
    problem: str
    interviewers: dict[str, EInterviewer]
    keys: dict[int, str]  # interviewer row id -> key
    names: dict[str, str]  # key -> name
    sessions: tuple[tuple[str, int], ...] = ()  # (name, minutes) in loop order


def pool_too_small(loop_name: str, session_name: str, required: int, active: int) -> str:
    """The one message for a session whose pool has fewer active interviewers than it needs."""
    return (
        f"session {session_name!r} of loop {loop_name!r} needs {required} interviewer(s) "
        f"but its pool has {active} active: edit the loop's pool"
    )


def no_sessions(loop_name: str) -> str:
    return f"loop {loop_name!r} has no sessions: add one"


def loop_with_sessions(row: Loop, sessions: Sequence[SessionSpec]) -> ELoop:
    """The engine's loop for ``row`` with the given engine sessions."""
    return ELoop(
        id=row.key,
        name=row.name,
        sessions=tuple(sessions),
        order=row.order,
        min_gap_minutes=row.min_gap_minutes,
        max_gap_minutes=row.max_gap_minutes,
        settings=Settings(
            granularity_minutes=row.granularity_minutes,
            min_notice_hours=row.min_notice_hours,
            buffer_before_minutes=row.buffer_before_minutes,
            buffer_after_minutes=row.buffer_after_minutes,
        ),
        offer_from_ranges=row.offer_from_ranges is not False,
    )


def loop_picture(s: Session, loop_id: int) -> LoopPicture:
    """The loop as the engine sees it; inactive interviewers are left out of pools."""
    lp = s.get(Loop, loop_id)
    if lp is None:
        return LoopPicture(None, LOOP_DELETED, {}, {}, {})
    sessions = s.execute(
        select(LoopSession.id, LoopSession.name, LoopSession.duration_minutes, LoopSession.required)
        .where(LoopSession.loop_id == loop_id)
        .order_by(LoopSession.position)
    ).all()
    pools, people, keys, names = _pools(s, [sid for sid, *_ in sessions])
    shape = tuple((name, minutes) for _, name, minutes, _ in sessions)
    specs = []
    for sid, name, minutes, required in sessions:
        if len(pools[sid]) < required:
            problem = pool_too_small(lp.name, name, required, len(pools[sid]))
            return LoopPicture(None, problem, people, keys, names, shape)
        specs.append(SessionSpec(name, minutes, tuple(pools[sid]), required))
    if not specs:
        return LoopPicture(None, no_sessions(lp.name), people, keys, names, shape)
    return LoopPicture(loop_with_sessions(lp, specs), "", people, keys, names, shape)


def _pools(
    s: Session, session_ids: list[int]
) -> tuple[dict[int, list[str]], dict[str, EInterviewer], dict[int, str], dict[str, str]]:
    """(session id -> active pool keys, key -> engine interviewer, row id -> key, key -> name)."""
    pools: dict[int, list[str]] = {sid: [] for sid in session_ids}
    people: dict[str, EInterviewer] = {}
    keys: dict[int, str] = {}
    names: dict[str, str] = {}
    if not session_ids:
        return pools, people, keys, names
    rows = s.execute(
        select(
            SessionPool.session_id,
            Interviewer.id,
            Interviewer.key,
            Interviewer.name,
            Interviewer.email,
            Interviewer.timezone,
            Interviewer.working_hours,
            Interviewer.max_interviews_per_day,
            Interviewer.max_interviews_per_week,
        )
        .join(Interviewer, Interviewer.id == SessionPool.interviewer_id)
        .where(SessionPool.session_id.in_(session_ids), Interviewer.active.is_(True))
        .order_by(Interviewer.key)
    ).all()
    for sid, iid, key, name, email, tz, hours, cap, week_cap in rows:
        pools[sid].append(key)
        if key not in people:
            people[key] = EInterviewer(
                id=key,
                name=name,
                email=email,
                timezone=tz,
                working_hours=_week(hours or {}),
                max_interviews_per_day=cap,
                max_interviews_per_week=week_cap,
            )
            keys[iid] = key
            names[key] = name
    return pools, people, keys, names


def _week(hours: dict[str, list[str]]) -> WorkingHours:
    return _week_cached(json.dumps(hours, sort_keys=True))


@lru_cache(maxsize=4096)
def _week_cached(text_: str) -> WorkingHours:
    return parse_week(json.loads(text_))


# ---------------------------------------------------------------- options <-> JSON


def parse_instant(text: str) -> datetime:
    """A stored instant: ISO 8601 with ``Z`` or an explicit offset, returned in UTC.

    A time without an offset is refused (``ValueError``): reading it in the server's own
    zone, as one old copy did, would move the interview."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"stored time {text!r} has no UTC offset")
    return dt.astimezone(UTC)


def option_json(option: Option) -> list[dict[str, Any]]:
    """The sessions of ``option`` as stored (the one shape: :mod:`scheduler.optionjson`)."""
    return sessions_json(option)


def option_from_json(score: float, sessions: Sequence[dict[str, Any]]) -> Option:
    return Option(
        score,
        tuple(
            SessionSlot(
                d["name"],
                parse_instant(d["start"]),
                parse_instant(d["end"]),
                tuple(d["interviewers"]),
            )
            for d in sessions
        ),
    )


def stored_option(row: OfferedOption) -> Option:
    """The engine option of an offered row."""
    return option_from_json(row.score, row.sessions)
