"""The booking service: book, reschedule and cancel a candidate's interview.

Every operation is one database transaction that re-checks the chosen option, writes
the booking, releases holds, and puts the invites, reminders and the calendar
write-back job into the outbox/job tables, so they exist exactly when the booking does.

Racing bookers: on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (one writer
at a time, and the re-check sees every committed booking); on PostgreSQL the request
row is locked (``FOR UPDATE``) and the exclusion constraint of migration 0002 refuses an
overlapping active session of the same interviewer, whatever the re-check saw. Both
databases also carry the overlap guard in the schema (triggers on SQLite).

Idempotency: each booking form carries a key; submitting it again returns the booking
it made instead of booking twice.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import CalendarBackend, InterviewEvent
from integrations.errors import CalendarError
from integrations.invites import (
    InviteError,
    Participant,
    SessionTime,
    build_invites,
    google_calendar_url,
    ics_download,
    loop_uid,
    session_uid,
)
from scheduler import engine
from scheduler.model import Interval, Option, SessionSlot, SessionSpec, Settings, WorkingHours
from scheduler.model import Interviewer as EInterviewer
from scheduler.model import Loop as ELoop
from web import jobs, services
from web.db import Database
from web.models import (
    AuditLog,
    Booking,
    BookingSession,
    BusyBlock,
    CalendarSource,
    Hold,
    Interviewer,
    JobRequest,
    Loop,
    LoopSession,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
    SessionPool,
)
from web.settings import AppSettings
from web.zones import offset_label, parse_week, zone_ok

log = logging.getLogger(__name__)

OPEN = ("sent", "opened")
BOOKED = ("booked", "rescheduled")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


# ------------------------------------------------------------------ policy, errors


@dataclass(frozen=True)
class BookingPolicy:
    """The [booking] settings the service needs, plus where links and UIDs point."""

    candidate_invites: str = "session"  # session | loop
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    change_cutoff: timedelta = timedelta(hours=24)
    holds: bool = True
    live_check: bool = True  # read booked interviewers' calendars before booking
    domain: str = "panelslot.local"

    @classmethod
    def from_settings(cls, settings: AppSettings) -> BookingPolicy:
        public = str(settings["server.public_url"] or "")
        host = re.sub(r"^[a-z]+://", "", public).split("/")[0].split(":")[0]
        return cls(
            candidate_invites=str(settings["booking.candidate_invites"]),
            reminders=parse_reminders(str(settings["booking.reminders"])),
            change_cutoff=timedelta(hours=float(settings["booking.change_cutoff_hours"])),
            holds=bool(settings["booking.holds"]),
            domain=host or "panelslot.local",
        )


def parse_reminders(textval: str) -> tuple[timedelta, ...]:
    """'24h,1h' -> (24 h, 1 h); '' -> (); units m, h, d."""
    out = []
    for part in textval.split(","):
        if not part.strip():
            continue
        m = _DURATION.match(part)
        if not m:
            raise ValueError(
                f"booking.reminders = {textval!r}: write durations like '24h,1h' or '30m'"
            )
        n = float(m.group(1))
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        out.append(timedelta(**{unit: n}))
    return tuple(sorted(set(out), reverse=True))


class BookingError(Exception):
    """A booking operation refused; ``kind`` says why, ``message`` is one line for people."""

    kind = "error"

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        self.message = message
        self.problems = tuple(problems)
        super().__init__(message)


class OptionTaken(BookingError):
    """The option is no longer free (another booking won, or a calendar changed)."""

    kind = "taken"


class OptionUnknown(BookingError):
    """The option id is not one offered on this request."""

    kind = "unknown"


class BookingClosed(BookingError):
    """The request cannot take this operation now (not open, not booked, past the cut-off)."""

    kind = "closed"


@dataclass(frozen=True)
class Outcome:
    booking_id: int
    created: bool  # False: the idempotency key had booked this already
    status: str


# ------------------------------------------------------------------ transactions


@contextmanager
def write_transaction(db: Database) -> Iterator[Session]:
    """A session whose transaction is serialised on SQLite (BEGIN IMMEDIATE)."""
    s = db.sessionmaker()
    try:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(text("BEGIN IMMEDIATE"))
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


def _lock_request(s: Session, request_id: int) -> SchedulingRequest:
    q = select(SchedulingRequest).where(SchedulingRequest.id == request_id)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    req = s.scalar(q)
    if req is None:
        raise BookingClosed("This interview request no longer exists.")
    return req


def _lock_interviewers(s: Session, opt: Option) -> None:
    """PostgreSQL: lock the option's interviewers (in id order) so that bookings touching
    the same people run one after the other and the re-check sees the winner's rows (daily
    caps included); the exclusion constraint stays as the last guard. SQLite is already
    serialised by BEGIN IMMEDIATE."""
    if s.get_bind().dialect.name != "postgresql":
        return
    s.execute(
        select(Interviewer.id)
        .where(Interviewer.key.in_(set(opt.interviewer_ids())))
        .order_by(Interviewer.id)
        .with_for_update()
    ).all()


def _replay(s: Session, req: SchedulingRequest, key: str) -> Outcome | None:
    if not key:
        return None
    row = s.scalar(select(Booking).where(Booking.idempotency_key == key))
    if row is None:
        return None
    if row.request_id != req.id:
        raise BookingClosed("This form belongs to another request; reload the page.")
    return Outcome(row.id, False, row.status)


def _is_overlap(exc: Exception) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return "overlap" in msg or "exclusion" in msg or "conflicting key" in msg


# ------------------------------------------------------------------ checks


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
    pools: dict[int, list[str]] = {sid: [] for sid, *_ in sessions}
    people: dict[str, EInterviewer] = {}
    keys: dict[int, str] = {}
    names: dict[str, str] = {}
    if sessions:
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
            .where(SessionPool.session_id.in_(list(pools)), Interviewer.active.is_(True))
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
    shape = tuple((name, minutes) for _, name, minutes, _ in sessions)
    specs = []
    for sid, name, minutes, required in sessions:
        if len(pools[sid]) < required:
            return LoopPicture(
                None,
                f"session {name!r} has too few active interviewers",
                people,
                keys,
                names,
                shape,
            )
        specs.append(SessionSpec(name, minutes, tuple(pools[sid]), required))
    if not specs:
        return LoopPicture(None, "the loop has no sessions", people, keys, names, shape)
    eloop = ELoop(
        id=lp.key,
        name=lp.name,
        sessions=tuple(specs),
        order=lp.order,
        min_gap_minutes=lp.min_gap_minutes,
        max_gap_minutes=lp.max_gap_minutes,
        settings=Settings(
            granularity_minutes=lp.granularity_minutes,
            min_notice_hours=lp.min_notice_hours,
            buffer_before_minutes=lp.buffer_before_minutes,
            buffer_after_minutes=lp.buffer_after_minutes,
        ),
    )
    return LoopPicture(eloop, "", people, keys, names, shape)


_PICTURES: dict[tuple[int, datetime, datetime], tuple[float, LoopPicture]] = {}
PICTURE_TTL = 10.0  # seconds


def cached_loop_picture(s: Session, loop_id: int) -> LoopPicture:
    """:func:`loop_picture` kept per process for a few seconds, for showing pages only.

    The key includes the loop row's timestamps, so an edited loop is read again at once;
    pool or interviewer edits show within PICTURE_TTL. Booking always reads afresh.
    """
    lp = s.get(Loop, loop_id)
    if lp is None:
        return loop_picture(s, loop_id)
    key = (loop_id, lp.created_at, lp.updated_at)
    hit = _PICTURES.get(key)
    clock = time.monotonic()
    if hit is not None and hit[0] > clock:
        return hit[1]
    pic = loop_picture(s, loop_id)
    if len(_PICTURES) > 512:
        _PICTURES.clear()
    _PICTURES[key] = (clock + PICTURE_TTL, pic)
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
    busy, booked = busy_now(s, pic.keys, window)
    if ignore_booking is not None:
        busy, booked = (
            _without(ignore_booking, pic.keys, busy),
            _without(ignore_booking, pic.keys, booked),
        )
    out = []
    for row in rows:
        if ignore_booking is not None and row.id == ignore_booking.option_id:
            continue
        opt = stored_option(row)
        if not engine.check_option(opt, pic.loop, pic.interviewers, busy, now=now, booked=booked):
            out.append(row)
    return out


def _without(
    booking: Booking, keys: dict[int, str], table: dict[str, list[Interval]]
) -> dict[str, list[Interval]]:
    mine = {
        (keys[bs.interviewer_id], bs.start, bs.end)
        for bs in booking.sessions
        if bs.interviewer_id in keys
    }
    return {k: [iv for iv in v if (k, iv.start, iv.end) not in mine] for k, v in table.items()}


def _live_busy(
    db: Database, request_id: int, option_id: int, now: datetime, policy: BookingPolicy
) -> dict[str, list[Interval]]:
    """Busy time read live from the option's interviewers' calendars (stored blocks where a
    calendar cannot be read), before the booking transaction: no network I/O under a lock."""
    if not policy.live_check:
        return {}
    from web import calsync

    with db.session() as s:
        row = s.get(OfferedOption, option_id)
        if row is None or row.request_id != request_id:
            return {}
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
            return {}
        window = Interval(opt.start - timedelta(hours=2), opt.end + timedelta(hours=2))
        try:
            found = calsync.live_busy(s, list(ids), window, now)
        except Exception:  # noqa: BLE001 - the stored busy time still guards the booking
            log.exception("live calendar check failed; using stored busy time")
            return {}
    return {ids[i]: list(v) for i, v in found.items() if i in ids}


def _recheck(
    s: Session,
    req: SchedulingRequest,
    opt: Option,
    now: datetime,
    live: dict[str, list[Interval]] | None = None,
) -> list[str]:
    pic = loop_picture(s, req.loop_id)
    if pic.loop is None:
        return [pic.problem]
    missing = [k for k in opt.interviewer_ids() if k not in pic.interviewers]
    if missing:
        return [f"interviewer {k!r} is no longer in the loop" for k in missing]
    window = Interval(opt.start - timedelta(days=1), opt.end + timedelta(days=1))
    busy, booked = busy_now(s, pic.keys, window)
    for key, spans in (live or {}).items():
        busy.setdefault(key, []).extend(spans)
    return engine.check_option(opt, pic.loop, pic.interviewers, busy, now=now, booked=booked)


def busy_now(
    s: Session, keys: dict[int, str], window: Interval
) -> tuple[dict[str, list[Interval]], dict[str, list[Interval]]]:
    """Stored calendar busy time and active bookings (holds only steer what is offered)."""
    by_id = dict(keys)
    busy: dict[str, list[Interval]] = {k: [] for k in by_id.values()}
    booked: dict[str, list[Interval]] = {k: [] for k in by_id.values()}
    if not by_id:
        return busy, booked
    for iid, start, end in s.execute(
        select(BusyBlock.interviewer_id, BusyBlock.start, BusyBlock.end).where(
            BusyBlock.interviewer_id.in_(list(by_id)),
            BusyBlock.start < window.end,
            BusyBlock.end > window.start,
        )
    ):
        busy[by_id[iid]].append(Interval(start, end))
    for iid, start, end in s.execute(
        select(BookingSession.interviewer_id, BookingSession.start, BookingSession.end).where(
            BookingSession.interviewer_id.in_(list(by_id)),
            BookingSession.active.is_(True),
            BookingSession.start < window.end,
            BookingSession.end > window.start,
        )
    ):
        busy[by_id[iid]].append(Interval(start, end))
        booked[by_id[iid]].append(Interval(start, end))
    return busy, booked


def _offered(s: Session, req: SchedulingRequest, option_id: int) -> OfferedOption:
    row = s.get(OfferedOption, option_id)
    if row is None or row.request_id != req.id or row.withdrawn:
        raise OptionUnknown("That time is not one of the options offered to you; pick one below.")
    return row


def first_start(b: Booking) -> datetime:
    return min(bs.start for bs in b.sessions)


def can_change(b: Booking, now: datetime, policy: BookingPolicy) -> bool:
    return now < first_start(b) - policy.change_cutoff


# ------------------------------------------------------------------ book / reschedule / cancel


def book(
    db: Database,
    request_id: int,
    option_id: int,
    *,
    idempotency_key: str,
    candidate_tz: str | None,
    now: datetime,
    policy: BookingPolicy,
    actor: str = "candidate",
    link: str = "",
) -> Outcome:
    """Book an offered option: re-check, write, invite, in one transaction.

    ``link`` is the candidate's personal page, quoted in their mails for changes."""
    live = _live_busy(db, request_id, option_id, now, policy)
    try:
        with write_transaction(db) as s:
            req = _lock_request(s, request_id)
            replay = _replay(s, req, idempotency_key)
            if replay is not None:
                return replay
            if req.status in BOOKED:
                raise BookingClosed("This interview is already booked.")
            if req.status not in OPEN:
                raise BookingClosed(f"This request is {req.status}; it cannot be booked.")
            row = _offered(s, req, option_id)
            opt = stored_option(row)
            _lock_interviewers(s, opt)
            problems = _recheck(s, req, opt, now, live)
            if problems:
                raise OptionTaken("Sorry, that time was just taken.", problems=problems)
            b = _new_booking(
                s,
                req,
                row,
                opt,
                idempotency_key,
                candidate_tz,
                now,
                sequence=0,
                domain=policy.domain,
            )
            req.status = "booked"
            services.release_holds(s, req)
            s.flush()
            _outbox_booked(s, req, b, now, policy, previous=None, link=link)
            jobs.enqueue(s, "calendar_writeback", {"booking_ids": [b.id]}, requested_by=actor)
            _audit(s, now, actor, "booking_created", req, booking=b.id, option=row.rank)
            s.flush()
            return Outcome(b.id, True, b.status)
    except IntegrityError as exc:
        return _after_integrity_error(db, request_id, idempotency_key, exc)
    except OperationalError as exc:
        if _is_overlap(exc):
            raise OptionTaken("Sorry, that time was just taken.") from None
        raise


def _after_integrity_error(db: Database, request_id: int, key: str, exc: IntegrityError) -> Outcome:
    with db.session() as s:
        row = s.scalar(select(Booking).where(Booking.idempotency_key == key)) if key else None
        if row is not None and row.request_id == request_id:
            return Outcome(row.id, False, row.status)
    if _is_overlap(exc):
        raise OptionTaken("Sorry, that time was just taken.") from None
    raise exc


def reschedule(
    db: Database,
    request_id: int,
    option_id: int,
    *,
    idempotency_key: str,
    candidate_tz: str | None,
    now: datetime,
    policy: BookingPolicy,
    actor: str = "candidate",
    enforce_cutoff: bool = True,
    link: str = "",
) -> Outcome:
    """Move the booking to another offered option; the old times stay booked unless it works."""
    live = _live_busy(db, request_id, option_id, now, policy)
    try:
        with write_transaction(db) as s:
            req = _lock_request(s, request_id)
            replay = _replay(s, req, idempotency_key)
            if replay is not None:
                return replay
            old = services.active_booking(req)
            if old is None or req.status not in BOOKED:
                raise BookingClosed("There is no booked interview to move.")
            if enforce_cutoff and not can_change(old, now, policy):
                raise BookingClosed(_cutoff_message(policy))
            row = _offered(s, req, option_id)
            if row.id == old.option_id:
                raise OptionUnknown("That is the time you already have; pick another one.")
            opt = stored_option(row)
            _lock_interviewers(s, opt)
            # Free the old times inside this transaction only: a failure rolls back.
            for bs in old.sessions:
                bs.active = False
            old.status = "replaced"
            s.flush()
            problems = _recheck(s, req, opt, now, live)
            if problems:
                raise OptionTaken("Sorry, that time was just taken.", problems=problems)
            b = _new_booking(
                s,
                req,
                row,
                opt,
                idempotency_key,
                candidate_tz or old.candidate_tz,
                now,
                sequence=old.sequence + 1,
                domain=policy.domain,
                uid_base=old.uid_base,
            )
            _carry_event_ids(old, b)
            req.status = "rescheduled"
            _cancel_reminders(s, req)
            s.flush()
            _outbox_booked(s, req, b, now, policy, previous=old, link=link)
            jobs.enqueue(
                s, "calendar_writeback", {"booking_ids": [b.id, old.id]}, requested_by=actor
            )
            _audit(s, now, actor, "booking_rescheduled", req, booking=b.id, replaced=old.id)
            s.flush()
            return Outcome(b.id, True, b.status)
    except IntegrityError as exc:
        return _after_integrity_error(db, request_id, idempotency_key, exc)
    except OperationalError as exc:
        if _is_overlap(exc):
            raise OptionTaken("Sorry, that time was just taken.") from None
        raise


def cancel(
    db: Database,
    request_id: int,
    *,
    now: datetime,
    policy: BookingPolicy,
    actor: str = "candidate",
    reason: str = "",
    enforce_cutoff: bool = True,
) -> int:
    """Cancel the booked interview (and the request); returns the booking id."""
    with write_transaction(db) as s:
        req = _lock_request(s, request_id)
        b = services.active_booking(req)
        if b is None or req.status not in BOOKED:
            raise BookingClosed("There is no booked interview to cancel.")
        if enforce_cutoff and not can_change(b, now, policy):
            raise BookingClosed(_cutoff_message(policy))
        cancel_in_session(s, req, now=now, policy=policy, actor=actor, reason=reason)
        req.status = "cancelled"
        req.cancelled_at = now
        s.flush()
        return b.id


def cancel_in_session(
    s: Session,
    req: SchedulingRequest,
    *,
    now: datetime,
    policy: BookingPolicy,
    actor: str,
    reason: str = "",
) -> list[int]:
    """Cancel the request's confirmed bookings in the caller's transaction (CANCEL invites,
    reminders withdrawn, holds released, calendar events deleted by the worker)."""
    done = []
    services.release_holds(s, req)
    for b in req.bookings:
        if b.status != "confirmed":
            continue
        b.status = "cancelled"
        b.cancelled_at = now
        b.sequence += 1
        for bs in b.sessions:
            bs.active = False
        s.flush()
        _outbox_cancelled(s, req, b, now, policy, reason=reason)
        jobs.enqueue(s, "calendar_writeback", {"booking_ids": [b.id]}, requested_by=actor)
        _audit(s, now, actor, "booking_cancelled", req, booking=b.id, reason=reason[:500])
        done.append(b.id)
    _cancel_reminders(s, req)
    return done


def _cutoff_message(policy: BookingPolicy) -> str:
    hours = policy.change_cutoff.total_seconds() / 3600
    shown = f"{hours:g} hour{'s' if hours != 1 else ''}"
    return (
        f"Changes online close {shown} before the interview; "
        "please contact your recruiter to change it now."
    )


def _new_booking(
    s: Session,
    req: SchedulingRequest,
    row: OfferedOption,
    opt: Option,
    key: str,
    candidate_tz: str | None,
    now: datetime,
    *,
    sequence: int,
    domain: str,
    uid_base: str = "",
) -> Booking:
    b = Booking(
        request_id=req.id,
        option_id=row.id,
        status="confirmed",
        idempotency_key=key or None,
        sequence=sequence,
        created_at=now,
        candidate_tz=candidate_tz if candidate_tz and zone_ok(candidate_tz) else None,
        uid_base=uid_base,
    )
    s.add(b)
    s.flush()
    if not b.uid_base:
        b.uid_base = f"r{req.id}b{b.id}"
    keys = opt.interviewer_ids()
    by_key = {
        i.key: i for i in s.scalars(select(Interviewer).where(Interviewer.key.in_(set(keys))))
    }
    order = [ls.name for ls in req.loop.sessions]
    for slot in opt.sessions:
        index = order.index(slot.name) if slot.name in order else len(order)
        uid = session_uid(b.uid_base, index, domain)
        for key_ in slot.interviewers:
            s.add(
                BookingSession(
                    booking_id=b.id,
                    interviewer_id=by_key[key_].id,
                    session_name=slot.name,
                    start=slot.start,
                    end=slot.end,
                    active=True,
                    uid=uid,
                )
            )
    s.flush()
    s.refresh(b, ["sessions"])
    return b


def _carry_event_ids(old: Booking, new: Booking) -> None:
    """Calendar events written for the old booking are updated, not duplicated."""
    ids = {(bs.uid, bs.interviewer_id): bs for bs in old.sessions if bs.calendar_event_id}
    for bs in new.sessions:
        prev = ids.get((bs.uid, bs.interviewer_id))
        if prev is not None:
            bs.calendar_event_id = prev.calendar_event_id
            prev.calendar_event_id = None


def _cancel_reminders(s: Session, req: SchedulingRequest) -> None:
    s.execute(
        update(OutboxMail)
        .where(
            OutboxMail.request_id == req.id,
            OutboxMail.kind == "reminder",
            OutboxMail.status == "pending",
        )
        .values(status="cancelled")
    )


def _audit(
    s: Session, now: datetime, actor: str, action: str, req: SchedulingRequest, **detail: Any
) -> None:
    s.add(
        AuditLog(
            at=now,
            actor=actor,
            coordinator_id=req.coordinator_id if actor.startswith("coordinator") else None,
            action=action,
            object_type="request",
            object_id=str(req.id),
            detail=detail,
        )
    )


# ------------------------------------------------------------------ invites and mails


@dataclass(frozen=True)
class SessionGroup:
    """One session of a booking with its interviewers (one UID)."""

    uid: str
    name: str
    start: datetime
    end: datetime
    people: tuple[Interviewer, ...]


def session_groups(b: Booking) -> list[SessionGroup]:
    groups: dict[str, list[BookingSession]] = {}
    for bs in sorted(b.sessions, key=lambda x: (x.start, x.id or 0)):
        groups.setdefault(bs.uid, []).append(bs)
    return [
        SessionGroup(
            uid=uid,
            name=rows[0].session_name,
            start=rows[0].start,
            end=rows[0].end,
            people=tuple(r.interviewer for r in rows),
        )
        for uid, rows in groups.items()
    ]


def video_url(req: SchedulingRequest, b: Booking) -> str:
    template = req.loop.video_url_template or ""
    return template.replace("{request}", str(req.id)).replace("{booking}", b.uid_base)


def candidate_zone(req: SchedulingRequest, b: Booking | None = None) -> str:
    for tz in ((b.candidate_tz if b else None), req.candidate_tz, req.coordinator.timezone):
        if tz and zone_ok(tz):
            return tz
    return "UTC"


def when_text(start: datetime, end: datetime, tz: str) -> str:
    a, z = start.astimezone(ZoneInfo(tz)), end.astimezone(ZoneInfo(tz))
    return f"{a:%A %d %B %Y, %H:%M}-{z:%H:%M} ({tz}, {offset_label(tz, start)})"


def _organizer(req: SchedulingRequest) -> Participant:
    c = req.coordinator
    return Participant(email=c.email, name=c.name or c.email, role="CHAIR")


def _candidate(req: SchedulingRequest) -> Participant:
    return Participant(email=req.candidate_email, name=req.candidate_name)


def _times(groups: Sequence[SessionGroup], *, with_people: bool) -> list[SessionTime]:
    return [
        SessionTime(
            uid=g.uid,
            name=g.name,
            start=g.start,
            end=g.end,
            attendees=tuple(Participant(email=p.email, name=p.name) for p in g.people)
            if with_people
            else (),
        )
        for g in groups
    ]


def _mail(
    req: SchedulingRequest,
    kind: str,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    *,
    ics: bytes | None = None,
    method: str | None = None,
    at: datetime | None = None,
) -> OutboxMail:
    from markupsafe import escape

    html = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
    return OutboxMail(
        kind=kind,
        request_id=req.id,
        to_addr=to,
        subject=subject,
        text_body=body,
        html_body=html,
        ics=ics.decode("utf-8") if ics else None,
        ics_method=method,
        status="pending",
        attempts=0,
        next_attempt_at=at or now,
        created_at=now,
    )


def _invites(
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    method: str,
    sequence: int,
) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes, str]]]:
    """(candidate copies [(summary, ics)], interviewer copies [(email, ics, summary)])."""
    organizer = _organizer(req)
    cand = _candidate(req)
    summary = f"Interview: {req.loop.name} ({req.candidate_name})"
    url = video_url(req, b)
    m: Any = method
    staff = build_invites(
        _times(groups, with_people=True),
        grouping="session",
        organizer=organizer,
        attendees=[cand] if policy.candidate_invites == "session" else [],
        sequence=sequence,
        now=now,
        summary=summary,
        video_url=url,
        method=m,
    )
    staff_copies = []
    for inv in staff:
        for addr in inv.recipients:
            if addr.lower() != req.candidate_email.lower():
                staff_copies.append((addr, inv.ics, inv.summary))
    show = bool(req.loop.show_interviewer_names)
    ctz = ZoneInfo(candidate_zone(req, b))
    if policy.candidate_invites == "loop" and len(groups) > 1:
        mine = build_invites(
            _times(groups, with_people=show),
            grouping="loop",
            organizer=organizer,
            attendees=[cand],
            sequence=sequence,
            now=now,
            summary=f"Interview: {req.loop.name}",
            loop_uid=loop_uid(b.uid_base, policy.domain),
            video_url=url,
            method=m,
            agenda_tz=ctz,
        )
    else:
        mine = build_invites(
            _times(groups, with_people=show),
            grouping="session",
            organizer=organizer,
            attendees=[cand],
            sequence=sequence,
            now=now,
            summary=f"Interview: {req.loop.name}",
            video_url=url,
            method=m,
        )
    return [(inv.summary, inv.ics) for inv in mine], staff_copies


def _outbox_booked(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    now: datetime,
    policy: BookingPolicy,
    *,
    previous: Booking | None,
    link: str = "",
) -> None:
    groups = session_groups(b)
    tz = candidate_zone(req, b)
    verb = "rescheduled" if previous else "booked"
    try:
        cand_copies, staff_copies = _invites(
            req, b, groups, now, policy, method="REQUEST", sequence=b.sequence
        )
    except InviteError as exc:
        raise BookingClosed(f"The invite cannot be built: {exc}") from None
    lines = "\n".join(f"- {g.name}: {when_text(g.start, g.end, tz)}" for g in groups)
    url = video_url(req, b)
    join = f"\n\nJoin: {url}" if url else ""
    for summary, ics in cand_copies:
        s.add(
            _mail(
                req,
                "invite",
                req.candidate_email,
                f"{'Updated: ' if previous else ''}{summary}",
                f"Hello {req.candidate_name},\n\nYour interview ({req.loop.name}) is {verb}:\n"
                f"{lines}{join}\n\nThe attached invitation adds it to your calendar. "
                + (
                    f"To reschedule or cancel: {link}"
                    if link
                    else "To reschedule or cancel, use the link in your first e-mail."
                ),
                now,
                ics=ics,
                method="REQUEST",
            )
        )
    for addr, ics, summary in staff_copies:
        who = next((p for g in groups for p in g.people if p.email.lower() == addr.lower()), None)
        ptz = who.timezone if who and zone_ok(who.timezone) else "UTC"
        mine = [g for g in groups if any(p.email.lower() == addr.lower() for p in g.people)]
        text_lines = "\n".join(f"- {g.name}: {when_text(g.start, g.end, ptz)}" for g in mine)
        s.add(
            _mail(
                req,
                "invite",
                addr,
                f"{'Updated: ' if previous else ''}{summary}",
                f"Hello {who.name if who else ''},\n\nYou interview {req.candidate_name} "
                f"({req.loop.name}):\n{text_lines}{join}",
                now,
                ics=ics,
                method="REQUEST",
            )
        )
    if previous is not None:
        _outbox_dropped_people(s, req, previous, b, now, policy)
    _add_reminders(s, req, b, groups, now, policy, link=link)
    coord = req.coordinator
    s.add(
        _mail(
            req,
            "booking_notice",
            coord.email,
            f"{req.candidate_name} {verb} {req.loop.name}",
            f"{req.candidate_name} {verb} their interview ({req.loop.name}):\n"
            + "\n".join(
                f"- {g.name} with {', '.join(p.name for p in g.people)}: "
                f"{when_text(g.start, g.end, coord.timezone if zone_ok(coord.timezone) else 'UTC')}"
                for g in groups
            ),
            now,
        )
    )


def _outbox_dropped_people(
    s: Session, req: SchedulingRequest, old: Booking, new: Booking, now: datetime, p: BookingPolicy
) -> None:
    """Interviewers of the old booking who are not in the same session any more get CANCEL."""
    new_people = {(bs.uid, bs.interviewer_id) for bs in new.sessions}
    dropped = [bs for bs in old.sessions if (bs.uid, bs.interviewer_id) not in new_people]
    by_uid: dict[str, list[BookingSession]] = {}
    for bs in dropped:
        by_uid.setdefault(bs.uid, []).append(bs)
    for uid, rows in by_uid.items():
        group = SessionGroup(uid, rows[0].session_name, rows[0].start, rows[0].end, ())
        for bs in rows:
            who = bs.interviewer
            summary = f"Interview: {req.loop.name} ({req.candidate_name}): {group.name}"
            cal = build_invites(
                [
                    SessionTime(
                        uid,
                        group.name,
                        group.start,
                        group.end,
                        (Participant(who.email, who.name),),
                    )
                ],
                grouping="session",
                organizer=_organizer(req),
                attendees=[],
                sequence=new.sequence,
                now=now,
                summary=f"Interview: {req.loop.name} ({req.candidate_name})",
                method="CANCEL",
            )[0]
            s.add(
                _mail(
                    req,
                    "invite_cancel",
                    who.email,
                    f"Cancelled: {summary}",
                    f"Hello {who.name},\n\nYou are no longer needed for this interview "
                    f"({group.name} with {req.candidate_name}); it was rescheduled.",
                    now,
                    ics=cal.ics,
                    method="CANCEL",
                )
            )


def _outbox_cancelled(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    now: datetime,
    policy: BookingPolicy,
    *,
    reason: str,
) -> None:
    groups = session_groups(b)
    cand_copies, staff_copies = _invites(
        req, b, groups, now, policy, method="CANCEL", sequence=b.sequence
    )
    why = f"\n\nReason given: {reason.strip()}" if reason.strip() else ""
    for summary, ics in cand_copies:
        s.add(
            _mail(
                req,
                "invite_cancel",
                req.candidate_email,
                f"Cancelled: {summary}",
                f"Hello {req.candidate_name},\n\nYour interview ({req.loop.name}) is cancelled."
                f"{why}",
                now,
                ics=ics,
                method="CANCEL",
            )
        )
    for addr, ics, summary in staff_copies:
        s.add(
            _mail(
                req,
                "invite_cancel",
                addr,
                f"Cancelled: {summary}",
                f"The interview with {req.candidate_name} ({req.loop.name}) is cancelled.{why}",
                now,
                ics=ics,
                method="CANCEL",
            )
        )
    coord = req.coordinator
    s.add(
        _mail(
            req,
            "booking_notice",
            coord.email,
            f"Cancelled: {req.candidate_name}, {req.loop.name}",
            f"The interview of {req.candidate_name} ({req.loop.name}) was cancelled.{why}",
            now,
        )
    )


def _add_reminders(
    s: Session,
    req: SchedulingRequest,
    b: Booking,
    groups: Sequence[SessionGroup],
    now: datetime,
    policy: BookingPolicy,
    *,
    link: str = "",
) -> None:
    """Reminder mails parked in the outbox until their time (the worker sends due mail)."""
    if not groups:
        return
    tz = candidate_zone(req, b)
    start, end = groups[0].start, groups[-1].end
    url = video_url(req, b)
    join = f"\n\nJoin: {url}" if url else ""
    for before in policy.reminders:
        at = start - before
        if at <= now:
            continue
        s.add(
            _mail(
                req,
                "reminder",
                req.candidate_email,
                f"Reminder: your interview ({req.loop.name}) {_in_words(before)}",
                f"Hello {req.candidate_name},\n\nA reminder: your interview ({req.loop.name}) is "
                f"{when_text(start, end, tz)}.{join}" + (f"\n\nYour page: {link}" if link else ""),
                now,
                at=at,
            )
        )
        for g in groups:
            for who in g.people:
                at_i = g.start - before
                if at_i <= now:
                    continue
                ptz = who.timezone if zone_ok(who.timezone) else "UTC"
                s.add(
                    _mail(
                        req,
                        "reminder",
                        who.email,
                        f"Reminder: interview with {req.candidate_name} {_in_words(before)}",
                        f"Hello {who.name},\n\nA reminder: {g.name} with {req.candidate_name} "
                        f"({req.loop.name}) is {when_text(g.start, g.end, ptz)}.{join}",
                        now,
                        at=at_i,
                    )
                )


def _in_words(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (60 * 24) == 0:
        n, unit = minutes // (60 * 24), "day"
    elif minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"in {n} {unit}{'s' if n != 1 else ''}"


# ------------------------------------------------------------------ downloads


def download_ics(req: SchedulingRequest, b: Booking, now: datetime, policy: BookingPolicy) -> bytes:
    groups = session_groups(b)
    show = bool(req.loop.show_interviewer_names)
    grouping: Any = "loop" if policy.candidate_invites == "loop" and len(groups) > 1 else "session"
    return ics_download(
        _times(groups, with_people=show),
        organizer=_organizer(req),
        now=now,
        summary=f"Interview: {req.loop.name}",
        grouping=grouping,
        loop_uid=loop_uid(b.uid_base, policy.domain) if grouping == "loop" else None,
        sequence=b.sequence,
        video_url=video_url(req, b),
        agenda_tz=ZoneInfo(candidate_zone(req, b)),
    )


def google_links(req: SchedulingRequest, b: Booking) -> list[tuple[str, str]]:
    """(label, url) per session: "add to Google Calendar"."""
    url = video_url(req, b)
    return [
        (
            g.name,
            google_calendar_url(
                title=f"Interview: {req.loop.name}: {g.name}",
                start=g.start,
                end=g.end,
                details=f"Join: {url}" if url else "",
                location=url,
            ),
        )
        for g in session_groups(b)
    ]


# ------------------------------------------------------------------ fresh options, holds


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
        if holds and req.status in OPEN:
            for sl in opt.sessions:
                for k in sl.interviewers:
                    s.add(
                        Hold(
                            request_id=req.id,
                            option_id=row.id,
                            interviewer_id=by_key[k],
                            start=sl.start,
                            end=sl.end,
                            expires_at=req.expires_at,
                        )
                    )
        added += 1
    _audit(s, now, "system", "options_refreshed", req, added=added)
    return added


def _refresh_jobs(s: Session, request_id: int, since: datetime) -> list[JobRequest]:
    rows = s.scalars(
        select(JobRequest).where(
            JobRequest.kind == "refresh_options", JobRequest.created_at > since
        )
    )
    return [j for j in rows if (j.payload or {}).get("request_id") == request_id]


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
        row = jobs.enqueue(
            s,
            "refresh_options",
            {"request_id": request_id, "holds": policy.holds, "limit": limit},
            requested_by="candidate",
        )
        row.created_at = now
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


# ------------------------------------------------------------------ "none of these work"


def none_work(
    s: Session, req: SchedulingRequest, ranges: str, tz: str, now: datetime
) -> OutboxMail:
    """Store the candidate's own time ranges and tell the coordinator (caller commits)."""
    req.candidate_reply = f"[{tz}] {ranges.strip()}"
    coord = req.coordinator
    mail = _mail(
        req,
        "candidate_reply",
        coord.email,
        f"{req.candidate_name}: none of the offered times work",
        f"{req.candidate_name} says none of the offered times for {req.loop.name} work.\n\n"
        f"Times that suit them (their zone: {tz}):\n{ranges.strip()}",
        now,
    )
    s.add(mail)
    _audit(s, now, "candidate", "candidate_none_work", req, zone=tz)
    return mail


# ------------------------------------------------------------------ calendar write-back

WriterFactory = Callable[[CalendarSource, Interviewer], CalendarBackend | None]
WRITERS: dict[str, WriterFactory] = {}


def register_writer(kind: str, factory: WriterFactory) -> None:
    """Make sources of ``kind`` writable: ``factory`` builds the backend (None: not writable)."""
    WRITERS[kind] = factory


def _caldav_writer(src: CalendarSource, who: Interviewer) -> CalendarBackend | None:
    from web import calsync

    backend: CalendarBackend = calsync.BACKENDS["caldav"](
        src, who, calsync.default_config()
    ).backend  # type: ignore[attr-defined]
    return backend


def _google_writer(src: CalendarSource, who: Interviewer) -> CalendarBackend | None:
    from web import calsync

    backend: CalendarBackend = calsync.google_backend(src, who, calsync.default_config())
    return backend


# CalDAV and Google calendars are writable; ICS feeds are read-only.
register_writer("caldav", _caldav_writer)
register_writer("google", _google_writer)


def _event_ids(bs: BookingSession) -> dict[str, str]:
    if not bs.calendar_event_id:
        return {}
    try:
        data = json.loads(bs.calendar_event_id)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _store_ids(bs: BookingSession, ids: dict[str, str]) -> None:
    bs.calendar_event_id = json.dumps(ids, sort_keys=True) if ids else None


def writeback(s: Session, booking_ids: Sequence[int], now: datetime) -> str:
    """Write, update or delete the interview events in interviewers' writable calendars."""
    notes = []
    for bid in booking_ids:
        b = s.scalar(
            select(Booking)
            .where(Booking.id == bid)
            .options(
                selectinload(Booking.sessions)
                .selectinload(BookingSession.interviewer)
                .selectinload(Interviewer.calendars)
            )
        )
        if b is None:
            continue
        req = b.request
        live = b.status == "confirmed"
        for bs in b.sessions:
            ids = _event_ids(bs)
            who = bs.interviewer
            for src in who.calendars:
                factory = WRITERS.get(src.kind)
                key = str(src.id)
                if factory is None:
                    continue
                try:
                    backend = factory(src, who)
                    if backend is None:
                        continue
                    if live and bs.active:
                        ev = InterviewEvent(
                            uid=bs.uid,
                            summary=f"Interview: {req.loop.name} ({req.candidate_name}): "
                            f"{bs.session_name}",
                            start=bs.start,
                            end=bs.end,
                            organizer_email=req.coordinator.email,
                            attendees=(who.email,),
                            location=video_url(req, b),
                            sequence=b.sequence,
                        )
                        if key in ids:
                            backend.update_event(ids[key], ev)
                            notes.append(f"updated {bs.uid} in {src.label or src.kind}")
                        else:
                            ids[key] = backend.write_event(ev)
                            notes.append(f"wrote {bs.uid} to {src.label or src.kind}")
                    elif key in ids:
                        backend.cancel_event(ids.pop(key))
                        notes.append(f"deleted {bs.uid} from {src.label or src.kind}")
                except CalendarError as exc:
                    log.warning("calendar write-back to %s failed: %s", src.label, exc)
                    notes.append(f"{src.label or src.kind}: {exc}")
            _store_ids(bs, ids)
    return "; ".join(notes) or "no writable calendars"


def job_writeback(s: Session, job: Any, now: datetime) -> str:
    """The worker's handler for ``calendar_writeback`` job rows."""
    ids = [int(i) for i in (job.payload or {}).get("booking_ids", [])]
    return writeback(s, ids, now)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
