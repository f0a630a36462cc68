"""What makes a request need its coordinator, one small function per reason; they are
merged by :func:`web.domain.usecases.scheduling_requests.needs_coordinator`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from web.domain import services
from web.domain.usecases.interviewers import sync_status
from web.store.models import Interviewer, OutboxMail, SchedulingRequest


@dataclass(frozen=True)
class Reason:
    """Why a request needs its coordinator: ``key`` (a CSS-safe word) and one line."""

    key: str
    text: str


OPEN_FOR_FLAGS = ("draft", "sent", "opened", "booked", "rescheduled")


def failed_mail(s: Session, ids: list[int]) -> dict[int, list[Reason]]:
    q = (
        select(OutboxMail.request_id, OutboxMail.to_addr)
        .where(OutboxMail.request_id.in_(ids), OutboxMail.status == "failed")
        .order_by(OutboxMail.id)
    )
    out: dict[int, list[Reason]] = {}
    for rid, to in s.execute(q):
        if rid is not None and not out.get(rid):
            out[rid] = [Reason("mail", f"a mail to {to} failed")]
    return out


def _interviewer_ids(rows: list[SchedulingRequest]) -> dict[int, set[str]]:
    """Request id -> keys of the interviewers of its active booking, or else its options."""
    out: dict[int, set[str]] = {}
    for r in rows:
        b = services.active_booking(r)
        if b is not None:
            out[r.id] = {bs.interviewer.key for bs in b.sessions if bs.active}
        else:
            out[r.id] = {k for o in r.options for sl in o.sessions for k in sl["interviewers"]}
    return out


def stale_calendars(
    s: Session, rows: list[SchedulingRequest], now: datetime, stale_after: timedelta
) -> dict[int, list[Reason]]:
    keys = _interviewer_ids(rows)
    wanted = set().union(*keys.values()) if keys else set()
    if not wanted:
        return {}
    people = s.scalars(
        select(Interviewer)
        .where(Interviewer.key.in_(wanted))
        .options(selectinload(Interviewer.calendars))
    )
    bad = {
        p.key: p.name
        for p in people
        if any(sync_status(c, now, stale_after)[0] != "ok" for c in p.calendars)
    }
    out: dict[int, list[Reason]] = {}
    for rid, ks in keys.items():
        names = sorted(bad[k] for k in ks if k in bad)
        if names:
            out[rid] = [Reason("calendar", f"stale calendar: {', '.join(names)}")]
    return out
