"""Live check: re-read interviewers' calendars before a booking is confirmed, falling
back, per calendar, to its stored blocks (and saying why)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from scheduler.intervals import merge
from scheduler.model import Interval
from web.domain.busy import load_busy
from web.domain.sync.config import SyncConfig
from web.domain.sync.sync import Job, one_line, plan, prepare, read_all

log = logging.getLogger(__name__)


@dataclass
class LiveCheck:
    """Busy time per interviewer id, and which calendars could not be read live."""

    busy: dict[int, list[Interval]] = field(default_factory=dict)
    fallbacks: dict[int, list[str]] = field(default_factory=dict)  # id -> "label: why"


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
    for who_id, found in _stored_blocks(s, stored, window, now).items():
        spans[who_id].extend(found)
    for who_id, found in spans.items():
        result.busy[who_id] = merge(_clip(found, window))
    return result


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
