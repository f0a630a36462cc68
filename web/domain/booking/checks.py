"""Re-checks: which offered options still pass every engine rule, busy time, live reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from integrations.errors import IntegrationError
from scheduler import engine
from scheduler.intervals import subtract
from scheduler.model import Interval, Option
from web.domain.audit import record_request
from web.domain.booking.errors import OptionUnknown
from web.domain.booking.picture import LoopPicture, loop_picture, stored_option
from web.domain.booking.policy import BookingPolicy
from web.domain.busy import load_busy
from web.domain.failures import LIVE_FALLBACK
from web.domain.sync.livecheck import Fallback, live_check
from web.store.db import Database
from web.store.models import (
    Booking,
    CalendarSource,
    Interviewer,
    OfferedOption,
    SchedulingRequest,
)

log = logging.getLogger(__name__)


def valid_options(
    s: Session,
    req: SchedulingRequest,
    now: datetime,
    *,
    ignore_booking: Booking | None = None,
    picture: LoopPicture | None = None,
) -> list[OfferedOption]:
    """The request's offered options that still pass every engine rule right now."""
    rows = [o for o in req.options if not o.withdrawn]
    if not rows:
        return []
    pic = picture or loop_picture(s, req.loop_id)
    if pic.loop is None:
        return []
    window = Interval(
        min(o.start for o in rows) - timedelta(days=1), max(o.end for o in rows) + timedelta(days=1)
    )
    people = _option_people(rows, pic.keys)
    excl = ignore_booking.id if ignore_booking is not None else None
    stored = load_busy(
        s,
        people,
        window,
        now=now,
        include_holds=False,
        week_zones=_zones(pic, people),
        exclude_booking_id=excl,
    )
    busy, booked = stored.busy, stored.booked
    out = []
    for row in rows:
        if ignore_booking is not None and row.id == ignore_booking.option_id:
            continue
        opt = stored_option(row)
        if not engine.check_option(opt, pic.loop, pic.interviewers, busy, now=now, booked=booked):
            out.append(row)
    return out


@dataclass(frozen=True)
class LiveRead:
    """Busy time per interviewer key, read live; the calendars whose stored busy time
    stood in, for the booking to record (:func:`record_fallbacks`)."""

    busy: dict[str, list[Interval]] = field(default_factory=dict)
    fell_back: tuple[Fallback, ...] = ()


def live_busy(
    db: Database, request_id: int, option_id: int, now: datetime, policy: BookingPolicy
) -> LiveRead:
    """Busy time read live from the option's interviewers' calendars (stored blocks where a
    calendar cannot be read), before the booking transaction: no network I/O under a lock."""
    if not policy.live_check:
        return LiveRead()
    with db.session() as s:
        row = s.get(OfferedOption, option_id)
        if row is None or row.request_id != request_id:
            return LiveRead()
        opt = stored_option(row)
        keys = set(opt.interviewer_ids())
        ids = {
            iid: key
            for iid, key in s.execute(
                select(CalendarSource.interviewer_id, Interviewer.key)
                .join(Interviewer, Interviewer.id == CalendarSource.interviewer_id)
                .where(Interviewer.key.in_(keys))
            )
        }
        if not ids:
            return LiveRead()
        window = Interval(opt.start - timedelta(hours=2), opt.end + timedelta(hours=2))
        try:
            found = live_check(s, list(ids), window, now, policy.sync)
        except (IntegrationError, SQLAlchemyError, OSError) as exc:
            # the stored busy time still guards the booking; say why it stands in
            log.warning(
                "live calendar check of option %s failed (%s: %s); the booking is checked "
                "against the stored busy time only",
                option_id,
                type(exc).__name__,
                exc,
                exc_info=exc,
            )
            s.rollback()  # nothing was written; leave the session usable for its exit
            return LiveRead()
    busy = {ids[i]: list(v) for i, v in found.busy.items() if i in ids}
    return LiveRead(busy, tuple(found.fell_back))


def record_fallbacks(
    s: Session, req: SchedulingRequest, booking_id: int, live: LiveRead, now: datetime
) -> None:
    """One audit entry per calendar whose stored busy time stood in for the live read of
    booking ``booking_id``: the request page tells the coordinator (nothing fetched, no URL)."""
    for fb in live.fell_back:
        record_request(s, now, "system", LIVE_FALLBACK, req, booking=booking_id, **fb.as_json())


def recheck(
    s: Session,
    req: SchedulingRequest,
    opt: Option,
    now: datetime,
    live: dict[str, list[Interval]] | None = None,
    *,
    exclude_booking: Booking | None = None,
) -> list[str]:
    """The engine's problems with ``opt`` now; ``exclude_booking`` (the booking being moved)
    does not count against it: neither its sessions nor its own written-back events, in the
    stored blocks and in the live read."""
    pic = loop_picture(s, req.loop_id)
    if pic.loop is None:
        return [pic.problem]
    missing = [k for k in opt.interviewer_ids() if k not in pic.interviewers]
    if missing:
        return [f"interviewer {k!r} is no longer in the loop" for k in missing]
    window = Interval(opt.start - timedelta(days=1), opt.end + timedelta(days=1))
    # the whole local ISO weeks of the window's days: weekly caps count the week
    excl = exclude_booking.id if exclude_booking is not None else None
    stored = load_busy(
        s,
        pic.keys,
        window,
        now=now,
        include_holds=False,
        week_zones=_zones(pic, pic.keys),
        exclude_booking_id=excl,
    )
    busy, booked = stored.busy, stored.booked
    own = _own_spans(exclude_booking, pic.keys)
    for key, spans in (live or {}).items():
        busy.setdefault(key, []).extend(subtract(spans, own.get(key, [])))
    return engine.check_option(opt, pic.loop, pic.interviewers, busy, now=now, booked=booked)


def _zones(pic: LoopPicture, people: dict[int, str]) -> dict[int, str]:
    """Interviewer id -> zone, from the loop picture (the weekly caps' local weeks)."""
    return {iid: pic.interviewers[key].timezone for iid, key in people.items()}


def _own_spans(b: Booking | None, keys: dict[int, str]) -> dict[str, list[Interval]]:
    """Interviewer key -> the spans of ``b``'s sessions (its own events in a live read)."""
    out: dict[str, list[Interval]] = {}
    for bs in b.sessions if b is not None else ():
        if bs.interviewer_id in keys:
            out.setdefault(keys[bs.interviewer_id], []).append(Interval(bs.start, bs.end))
    return out


def _option_people(rows: list[OfferedOption], keys: dict[int, str]) -> dict[int, str]:
    """The interviewer ids (of ``keys``) that appear in the rows: the checks look at no one else."""
    wanted = {k for row in rows for d in row.sessions for k in d["interviewers"]}
    return {iid: key for iid, key in keys.items() if key in wanted}


def offered(s: Session, req: SchedulingRequest, option_id: int) -> OfferedOption:
    row = s.get(OfferedOption, option_id)
    if row is None or row.request_id != req.id or row.withdrawn:
        raise OptionUnknown("That time is not one of the options offered to you; pick one below.")
    return row
