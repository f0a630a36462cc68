"""The loop as the engine sees it, read with a few plain queries (cached briefly for pages)."""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.model import Interviewer as EInterviewer
from scheduler.model import Loop as ELoop
from scheduler.model import Option, SessionSlot, SessionSpec, WorkingHours
from web.domain.services import loop_with_sessions
from web.domain.zones import parse_week
from web.store.models import (
    Interviewer,
    Loop,
    LoopSession,
    OfferedOption,
    SessionPool,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopPicture:
    """What the checks need of a loop, read with a few plain queries (no ORM graph)."""

    loop: ELoop | None
    problem: str
    interviewers: dict[str, EInterviewer]
    keys: dict[int, str]  # interviewer row id -> key
    names: dict[str, str]  # key -> name
    sessions: tuple[tuple[str, int], ...] = ()  # (name, minutes) in loop order


def _week(hours: dict[str, list[str]]) -> WorkingHours:
    return _week_cached(json.dumps(hours, sort_keys=True))


@lru_cache(maxsize=4096)
def _week_cached(text_: str) -> WorkingHours:
    return parse_week(json.loads(text_))


def loop_picture(s: Session, loop_id: int) -> LoopPicture:
    lp = s.get(Loop, loop_id)
    if lp is None:
        return LoopPicture(None, "the loop was deleted", {}, {}, {})
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
            problem = f"session {name!r} has too few active interviewers"
            return LoopPicture(None, problem, people, keys, names, shape)
        specs.append(SessionSpec(name, minutes, tuple(pools[sid]), required))
    if not specs:
        return LoopPicture(None, "the loop has no sessions", people, keys, names, shape)
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
        )
        .join(Interviewer, Interviewer.id == SessionPool.interviewer_id)
        .where(SessionPool.session_id.in_(session_ids), Interviewer.active.is_(True))
        .order_by(Interviewer.key)
    ).all()
    for sid, iid, key, name, email, tz, hours, cap in rows:
        pools[sid].append(key)
        if key not in people:
            people[key] = EInterviewer(
                id=key,
                name=name,
                email=email,
                timezone=tz,
                working_hours=_week(hours or {}),
                max_interviews_per_day=cap,
            )
            keys[iid] = key
            names[key] = name
    return pools, people, keys, names


PICTURE_TTL = 10.0  # seconds


@dataclass
class PictureCache:
    """Loop pictures kept for a few seconds, for showing pages only; owned by the app.

    The key includes the loop row's timestamps, so an edited loop is read again at once;
    pool or interviewer edits show within ``ttl``. Booking always reads afresh. At most
    ``max_size`` pictures are kept: the oldest goes first.
    """

    ttl: float = PICTURE_TTL
    max_size: int = 512
    clock: Callable[[], float] = time.monotonic
    _kept: OrderedDict[tuple[int, datetime, datetime], tuple[float, LoopPicture]] = field(
        default_factory=OrderedDict, repr=False
    )

    def get(self, s: Session, loop_id: int) -> LoopPicture:
        lp = s.get(Loop, loop_id)
        if lp is None:
            return loop_picture(s, loop_id)
        key = (loop_id, lp.created_at, lp.updated_at)
        hit = self._kept.get(key)
        now = self.clock()
        if hit is not None and hit[0] > now:
            return hit[1]
        pic = loop_picture(s, loop_id)
        self._kept[key] = (now + self.ttl, pic)
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_size:
            self._kept.popitem(last=False)
        return pic


def stored_option(row: OfferedOption) -> Option:
    """The engine option of an offered row (ISO 8601 UTC times in its JSON)."""
    return Option(
        row.score,
        tuple(
            SessionSlot(
                d["name"],
                datetime.fromisoformat(d["start"]).astimezone(UTC),
                datetime.fromisoformat(d["end"]).astimezone(UTC),
                tuple(d["interviewers"]),
            )
            for d in row.sessions
        ),
    )
