"""Who can take an interviewer's place in a booked session: the engine's rules decide."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import engine
from scheduler.model import Interval, Option, SessionSlot
from web.domain.busy import load_busy
from web.domain.engine_values import loop_picture
from web.store.models import Booking, BookingSession, Interviewer, SchedulingRequest

# how far around the session busy time is read: a week either side for the weekly caps
HORIZON = timedelta(days=8)


def booked_option(b: Booking, keys: dict[int, str]) -> Option:
    """The booking as an engine option (interviewers no longer active keep a key no pool has)."""
    slots: dict[str, list[BookingSession]] = {}
    for bs in sorted(b.sessions, key=lambda x: (x.start, x.id or 0)):
        if bs.active:
            slots.setdefault(bs.uid, []).append(bs)
    return Option(
        1.0,
        tuple(
            SessionSlot(
                rows[0].session_name,
                rows[0].start,
                rows[0].end,
                tuple(keys.get(r.interviewer_id, f"#{r.interviewer_id}") for r in rows),
            )
            for rows in slots.values()
        ),
    )


def swapped(option: Option, uid_slot: str, leaver: str, joiner: str) -> Option:
    """``option`` with ``leaver`` replaced by ``joiner`` in the session named ``uid_slot``."""
    return Option(
        option.score,
        tuple(
            replace(
                slot, interviewers=tuple(joiner if k == leaver else k for k in slot.interviewers)
            )
            if slot.name == uid_slot
            else slot
            for slot in option.sessions
        ),
    )


def replacements(
    s: Session, req: SchedulingRequest, b: Booking, target: BookingSession, now: datetime
) -> list[Interviewer]:
    """The pool members who may take ``target``'s interviewer's place, best first (the
    fewest interviews around that time): every engine rule (pool, working hours, busy time,
    other requests' holds, daily and weekly caps, one session each) holds with them in it.
    The booking's own sessions and written-back events do not count; nor does the notice."""
    pic = loop_picture(s, req.loop_id)
    if pic.loop is None:
        return []
    loop = replace(pic.loop, settings=replace(pic.loop.settings, min_notice_hours=0))
    spec = next((x for x in loop.sessions if x.name == target.session_name), None)
    if spec is None:
        return []
    option = booked_option(b, pic.keys)
    leaver = pic.keys.get(target.interviewer_id, f"#{target.interviewer_id}")
    seated = {k for slot in option.sessions for k in slot.interviewers}
    pool = [k for k in spec.pool if k not in seated]
    people = {i: k for i, k in pic.keys.items() if k in pool or k in seated}
    window = Interval(target.start - HORIZON, target.end + HORIZON)
    busy = load_busy(s, people, window, now=now, exclude_request_id=req.id, exclude_booking_id=b.id)

    def problems(opt: Option) -> set[str]:
        found = engine.check_option(
            opt, loop, pic.interviewers, busy.busy, now=now, booked=busy.booked
        )
        return set(found)

    before = problems(option)
    fits = [k for k in pool if not problems(swapped(option, spec.name, leaver, k)) - before]
    fits.sort(key=lambda k: (len(busy.booked.get(k, [])), k))
    ids = {k: i for i, k in pic.keys.items()}
    wanted = [ids[k] for k in fits]
    rows = {r.id: r for r in s.scalars(select(Interviewer).where(Interviewer.id.in_(wanted)))}
    return [rows[ids[k]] for k in fits]
