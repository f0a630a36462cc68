"""Dropouts that are not repaired automatically: the coordinator's mail and page notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from web.domain.audit import record_request
from web.domain.booking.invites import outbox_mail, when_text
from web.domain.repair.model import CAUSE_WORDS, Dropout
from web.domain.zones import zone_ok
from web.store.models import AuditLog, Booking, BookingSession, SchedulingRequest

ESCALATED = "repair_escalated"
DISMISSED = "repair_notice_dismissed"


@dataclass(frozen=True)
class RepairNotice:
    """What the request page shows: who dropped out of which session, why, and why it was
    not repaired automatically (``reason``)."""

    booking_session_id: int
    interviewer: str
    session: str
    start: datetime
    cause: str
    detail: str
    reason: str
    at: datetime

    @property
    def cause_text(self) -> str:
        return CAUSE_WORDS.get(self.cause, self.cause)


def find_new_times_path(req: SchedulingRequest) -> str:
    """The coordinator's search for new times of a booked request."""
    return f"/requests/{req.id}/reschedule"


def _entries(s: Session, ids: list[int], actions: tuple[str, ...]) -> list[AuditLog]:
    return list(
        s.scalars(
            select(AuditLog)
            .where(
                AuditLog.object_type == "request",
                AuditLog.object_id.in_([str(i) for i in ids]),
                AuditLog.action.in_(actions),
            )
            .order_by(AuditLog.id)
        )
    )


def already_told(s: Session, req: SchedulingRequest, d: Dropout) -> bool:
    """The coordinator was told of this interviewer leaving this session before."""
    return any(
        e.detail.get("booking_session") == d.booking_session_id
        and e.detail.get("interviewer_id") == d.interviewer_id
        for e in _entries(s, [req.id], (ESCALATED,))
    )


def escalate(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    bs: BookingSession,
    d: Dropout,
    reason: str,
    now: datetime,
    *,
    base_url: str = "",
) -> None:
    """Tell the coordinator (mail and audit entry, which the request page shows)."""
    who = bs.interviewer
    coord = req.coordinator
    tz = coord.timezone if zone_ok(coord.timezone) else "UTC"
    link = f"{base_url}{find_new_times_path(req)}"
    body = (
        f"{who.name} {CAUSE_WORDS[d.cause]} {bs.session_name} with {req.candidate_name} "
        f"({req.loop.name}), {when_text(bs.start, bs.end, tz)}."
        + (f"\n\n{d.detail}" if d.detail else "")
        + f"\n\nIt was not repaired automatically: {reason}.\n\nFind new times: {link}"
    )
    subject = f"Action needed: {who.name} dropped out of {req.candidate_name}'s interview"
    s.add(outbox_mail(req, "repair_notice", coord.email, subject, body, now))
    record_request(
        s,
        now,
        "system",
        ESCALATED,
        req,
        booking=b.id,
        booking_session=bs.id,
        interviewer_id=who.id,
        interviewer=who.key,
        cause=d.cause,
        detail=d.detail[:500],
        reason=reason,
    )


def _seat_key(detail: dict[str, Any]) -> tuple[object, object]:
    return detail.get("booking_session"), detail.get("interviewer_id")


def open_notices_for(s: Session, ids: list[int]) -> dict[int, list[RepairNotice]]:
    """Per request id, the dropouts the coordinator was told of that still stand: the
    interviewer is still in the session of a confirmed booking and the coordinator has
    not dismissed the notice. Two queries, however many requests."""
    if not ids:
        return {}
    entries = _entries(s, ids, (ESCALATED, DISMISSED))
    gone = {_seat_key(e.detail) for e in entries if e.action == DISMISSED}
    told = [e for e in entries if e.action == ESCALATED and _seat_key(e.detail) not in gone]
    wanted = {int(e.detail.get("booking_session") or 0) for e in told}
    seats = {
        bs.id: bs
        for bs in s.scalars(
            select(BookingSession)
            .where(BookingSession.id.in_(wanted))
            .options(joinedload(BookingSession.booking), joinedload(BookingSession.interviewer))
        )
    }
    out: dict[int, list[RepairNotice]] = {}
    for e in told:
        bs = seats.get(int(e.detail.get("booking_session") or 0))
        if bs is None or not bs.active or bs.booking.status != "confirmed":
            continue
        if bs.interviewer_id != e.detail.get("interviewer_id"):
            continue
        out.setdefault(int(e.object_id), []).append(_notice(bs, e))
    return out


def _notice(bs: BookingSession, e: AuditLog) -> RepairNotice:
    return RepairNotice(
        bs.id,
        bs.interviewer.name,
        bs.session_name,
        bs.start,
        str(e.detail.get("cause", "")),
        str(e.detail.get("detail", "")),
        str(e.detail.get("reason", "")),
        e.at,
    )


def open_notices(s: Session, req: SchedulingRequest) -> list[RepairNotice]:
    """The request page's notices (see :func:`open_notices_for`)."""
    return open_notices_for(s, [req.id]).get(req.id, [])


def dismiss_notice(
    s: Session, req: SchedulingRequest, booking_session_id: int, actor: str, now: datetime
) -> bool:
    """The coordinator has seen to an open notice (audited); False if none stands."""
    notice = next(
        (n for n in open_notices(s, req) if n.booking_session_id == booking_session_id), None
    )
    bs = s.get(BookingSession, booking_session_id)
    if notice is None or bs is None:
        return False
    record_request(
        s,
        now,
        actor,
        DISMISSED,
        req,
        booking_session=bs.id,
        interviewer_id=bs.interviewer_id,
        interviewer=bs.interviewer.key,
        cause=notice.cause,
    )
    s.commit()
    return True
