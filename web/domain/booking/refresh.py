"""Fresh options when the offered ones went stale (run by the worker), and holds."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.model import Option
from web.domain import jobs, services
from web.domain.audit import record_request
from web.domain.booking.checks import valid_options
from web.domain.booking.invites import candidate_zone
from web.domain.booking.policy import BOOKED, OPEN, BookingPolicy
from web.store.db import Database
from web.store.models import (
    JobRequest,
    OfferedOption,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


REFRESH_EVERY = timedelta(minutes=10)


def top_up_in(
    s: Session, req: SchedulingRequest, now: datetime, *, holds: bool, limit: int = 5
) -> int:
    """When no offered option is valid any more, add fresh ones from the engine (caller commits).

    The engine search can take a second on a big loop, so web requests never run it:
    they enqueue a ``refresh_options`` job (:func:`request_fresh_options`) for the worker.
    """
    if req.status not in OPEN and req.status not in BOOKED:
        return 0
    ignore = services.active_booking(req)
    if valid_options(s, req, now, ignore_booking=ignore):
        return 0
    loop_row = services.load_loop(s, req.loop_id)
    if loop_row is None:
        return 0
    try:
        result = services.search(
            s,
            loop_row,
            candidate_tz=candidate_zone(req),
            date_from=req.date_from,
            date_to=req.date_to,
            hours=(req.candidate_hours_start, req.candidate_hours_end),
            now=now,
            limit=limit,
            exclude_request_id=req.id,
        )
    except services.SearchProblem:
        return 0
    taken = {(o.start, o.end, tuple(map(tuple, _keys(o.sessions)))) for o in req.options}
    rank = max((o.rank for o in req.options), default=0)
    added = 0
    by_key = {i.key: i.id for i in result.interviewers.values()}
    for opt in result.options:
        sig = (opt.start, opt.end, tuple(tuple(sl.interviewers) for sl in opt.sessions))
        if sig in taken:
            continue
        rank += 1
        row = _offer_one(s, req, opt, rank)
        if holds and req.status in OPEN:
            services.add_holds(s, row, opt, by_key, req.expires_at)
        added += 1
    record_request(s, now, "system", "options_refreshed", req, added=added)
    return added


def _offer_one(s: Session, req: SchedulingRequest, opt: Option, rank: int) -> OfferedOption:
    row = OfferedOption(
        request_id=req.id,
        rank=rank,
        score=opt.score,
        sessions=services.option_json(opt),
        start=opt.start,
        end=opt.end,
    )
    s.add(row)
    s.flush()
    return row


def _refresh_jobs(s: Session, request_id: int, since: datetime) -> list[JobRequest]:
    rows = s.scalars(
        select(JobRequest).where(
            JobRequest.kind == "refresh_options",
            JobRequest.request_id == request_id,
            JobRequest.created_at > since,
        )
    )
    return list(rows)


def refresh_pending(s: Session, request_id: int, now: datetime) -> bool:
    """Whether the worker is still looking for fresh options for this request."""
    return any(
        j.status in ("pending", "running")
        for j in _refresh_jobs(s, request_id, now - REFRESH_EVERY)
    )


def request_fresh_options(
    db: Database, request_id: int, now: datetime, policy: BookingPolicy, *, limit: int = 5
) -> bool:
    """Ask the worker for fresh options (at most once per REFRESH_EVERY); True if asked now."""
    with db.session() as s:
        if _refresh_jobs(s, request_id, now - REFRESH_EVERY):
            return False
        jobs.enqueue(
            s,
            "refresh_options",
            {"request_id": request_id, "holds": policy.holds, "limit": limit},
            now=now,
            requested_by="candidate",
            request_id=request_id,
        )
        return True


def job_refresh_options(s: Session, job: Any, now: datetime) -> str:
    """The worker's handler for ``refresh_options`` job rows."""
    payload = job.payload or {}
    req = s.get(SchedulingRequest, int(payload.get("request_id", 0)))
    if req is None:
        return "request not found"
    added = top_up_in(
        s, req, now, holds=bool(payload.get("holds", True)), limit=int(payload.get("limit", 5))
    )
    return f"{added} fresh option(s) offered"


def _keys(sessions: Sequence[dict[str, Any]]) -> list[list[str]]:
    return [list(d["interviewers"]) for d in sessions]


def apply_hold_policy(s: Session, req: SchedulingRequest, policy: BookingPolicy) -> None:
    """After offering: drop the request's holds when holds are switched off."""
    if not policy.holds:
        services.release_holds(s, req)
