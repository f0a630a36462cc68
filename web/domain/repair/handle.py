"""Handling a dropout: replace the interviewer from the pool, or tell the coordinator.

Each call is one serialised write transaction on the locked request. It is idempotent:
a dropout of an interviewer who is no longer in the session (already replaced), of a
session that is over or of a booking that is not confirmed does nothing, and the
coordinator is told of one interviewer leaving one session once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from web.domain.audit import record_request
from web.domain.booking.errors import BookingClosed
from web.domain.booking.policy import BookingPolicy
from web.domain.booking.transactions import lock_request, write_transaction
from web.domain.repair.model import Dropout, RepairPolicy, RepairResult
from web.domain.repair.notify import already_told, escalate
from web.domain.repair.staffing import replacements
from web.domain.repair.swap import swap_interviewer
from web.store.db import Database
from web.store.models import Booking, BookingSession, Interviewer, SchedulingRequest


class SwapRefused(BookingClosed):
    """A manual swap the engine does not allow now (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _live_session(
    s: Session, booking_session_id: int, interviewer_id: int, now: datetime
) -> tuple[SchedulingRequest, Booking, BookingSession] | str:
    """The locked request, booking and session row, or why there is nothing to do."""
    bs = s.get(BookingSession, booking_session_id)
    if bs is None:
        return "the booked session no longer exists"
    req = lock_request(s, bs.booking.request_id)
    s.refresh(bs)
    b = bs.booking
    if b.status != "confirmed" or not bs.active:
        return "the booking is not confirmed any more"
    if bs.interviewer_id != interviewer_id:
        return "the interviewer is no longer in that session (already handled)"
    if bs.end <= now:
        return "the session is over"
    return req, b, bs


def handle_dropout(
    db: Database, dropout: Dropout, now: datetime, policy: BookingPolicy
) -> RepairResult:
    """Repair the booking of ``dropout`` by the loop's policy; see the module's description."""
    with write_transaction(db) as s:
        found = _live_session(s, dropout.booking_session_id, dropout.interviewer_id, now)
        if isinstance(found, str):
            return RepairResult("ignored", found)
        req, b, bs = found
        rp = RepairPolicy.of(req.loop)
        reason = rp.refusal(b, bs, now)
        if reason is None:
            fits = replacements(s, req, b, bs, now)
            if fits:
                _seen(s, req, b, bs, dropout, now)
                joiner = fits[0]
                swap_interviewer(
                    s, req, b, bs, joiner, now, policy, actor="system", cause=dropout.cause
                )
                b.auto_repairs += 1
                record_request(
                    s,
                    now,
                    "system",
                    "repair_replaced",
                    req,
                    booking=b.id,
                    booking_session=bs.id,
                    joined=joiner.key,
                    cause=dropout.cause,
                )
                return RepairResult("replaced", "", b.id, joiner.key)
            reason = f"nobody in the pool of {bs.session_name} is free at that time"
        if already_told(s, req, dropout):
            return RepairResult("ignored", "the coordinator was told already", b.id)
        _seen(s, req, b, bs, dropout, now)
        escalate(s, req, b, bs, dropout, reason, now, base_url=policy.public_url)
        return RepairResult("escalated", reason, b.id)


def _seen(
    s: Session, req: SchedulingRequest, b: Booking, bs: BookingSession, d: Dropout, now: datetime
) -> None:
    record_request(
        s,
        now,
        "system",
        "dropout_seen",
        req,
        booking=b.id,
        booking_session=bs.id,
        interviewer=bs.interviewer.key,
        cause=d.cause,
        detail=d.detail[:500],
    )


def swap_choices(s: Session, b: Booking, now: datetime) -> dict[int, list[tuple[int, str]]]:
    """Seat id -> (interviewer id, name) of everyone the engine lets take that seat now
    (seats of a confirmed booking that have not started)."""
    if b.status != "confirmed":
        return {}
    return {
        bs.id: [(p.id, p.name) for p in replacements(s, b.request, b, bs, now)]
        for bs in b.sessions
        if bs.active and bs.start > now
    }


def manual_swap(
    db: Database,
    booking_session_id: int,
    leaver_id: int,
    joiner_id: int,
    now: datetime,
    policy: BookingPolicy,
    *,
    actor: str,
) -> RepairResult:
    """The coordinator puts ``joiner_id`` in ``leaver_id``'s seat: re-checked here by the
    engine; refused (:class:`SwapRefused`) when it no longer fits."""
    with write_transaction(db) as s:
        found = _live_session(s, booking_session_id, leaver_id, now)
        if isinstance(found, str):
            raise SwapRefused(found)
        req, b, bs = found
        joiner = next((p for p in replacements(s, req, b, bs, now) if p.id == joiner_id), None)
        if joiner is None:
            who = s.get(Interviewer, joiner_id)
            name = who.name if who else f"interviewer {joiner_id}"
            raise SwapRefused(
                f"{name} cannot take that session now (busy, capped or not in the pool)"
            )
        swap_interviewer(s, req, b, bs, joiner, now, policy, actor=actor, cause="manual")
        return RepairResult("replaced", "", b.id, joiner.key)
