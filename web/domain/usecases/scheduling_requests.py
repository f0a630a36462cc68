"""Coordinators' scheduling requests: draft, offer and send, list, resend, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.engine import pick_diverse
from scheduler.model import Interval
from web.domain import booking as booking_service
from web.domain import services
from web.domain.audit import Actor, record, record_by
from web.domain.usecases import draft_search, request_flags
from web.store.models import (
    AuditLog,
    Booking,
    BookingSession,
    Interviewer,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
)

STATUSES = ("draft", "sent", "opened", "booked", "rescheduled", "cancelled", "expired")
Busy = dict[str, list[tuple[datetime, datetime]]]


@dataclass(frozen=True)
class RequestDraft:
    """What a coordinator types to start a request (already validated)."""

    loop_id: int
    candidate_name: str
    candidate_email: str
    candidate_tz: str | None
    date_from: date
    date_to: date
    hours: tuple[int, int]
    note: str


def own_request(s: Session, rid: int, coordinator_id: int) -> SchedulingRequest | None:
    """The request if it is this coordinator's."""
    req = s.get(SchedulingRequest, rid)
    return req if req is not None and req.coordinator_id == coordinator_id else None


def _new_request(draft: RequestDraft, who: Actor, loop_id: int, now: datetime) -> SchedulingRequest:
    return SchedulingRequest(
        coordinator_id=who.coordinator_id,
        loop_id=loop_id,
        candidate_name=draft.candidate_name,
        candidate_email=draft.candidate_email,
        candidate_tz=draft.candidate_tz,
        date_from=draft.date_from,
        date_to=draft.date_to,
        candidate_hours_start=draft.hours[0],
        candidate_hours_end=draft.hours[1],
        note=draft.note,
        status="draft",
        token_nonce=services.new_nonce(),
        created_at=now,
    )


class NoOptions(Exception):
    """The search found no option: nothing is saved; ``found`` says why and what would fit."""

    def __init__(self, found: draft_search.Found) -> None:
        self.found = found
        super().__init__("no option fits")


def criteria_of(draft: RequestDraft, home_tz: str) -> draft_search.Criteria:
    """The search a draft asks for; ``home_tz`` is searched when the candidate's is unknown."""
    return draft_search.Criteria(
        draft.loop_id, draft.candidate_tz or home_tz, draft.date_from, draft.date_to, draft.hours
    )


def draft_request(
    s: Session,
    draft: RequestDraft,
    who: Actor,
    *,
    home_tz: str,
    now: datetime,
    limit: int = 20,
) -> SchedulingRequest:
    """Search the loop and keep the result as a draft request with ranked options. Commits.

    Raises ``LookupError`` for an unknown loop, ``services.SearchProblem`` when the engine
    cannot search, and :class:`NoOptions` (nothing saved) when no option fits."""
    loop = services.load_loop(s, draft.loop_id)
    if loop is None:
        raise LookupError(draft.loop_id)
    criteria = criteria_of(draft, home_tz)
    found = draft_search.find(s, criteria, now=now, limit=limit, wanted=1)
    if not found.options:
        raise NoOptions(found)
    req = _new_request(draft, who, loop.id, now)
    req.search_tz = criteria.candidate_tz
    s.add(req)
    s.flush()
    for rank, opt in enumerate(found.options, start=1):
        s.add(
            OfferedOption(
                request_id=req.id,
                rank=rank,
                score=opt.score,
                sessions=services.option_json(opt),
                start=opt.start,
                end=opt.end,
            )
        )
    record_by(s, now, who, "request_drafted", "request", req.id, options=len(found.options))
    s.commit()
    return req


def try_change(
    s: Session,
    draft: RequestDraft,
    change: draft_search.LoopChange,
    *,
    home_tz: str,
    now: datetime,
) -> draft_search.Found:
    """Every option the draft's search gives with one loop change, for this search only:
    nothing is saved (options that break the stored loop's rules could not be booked)."""
    if services.load_loop(s, draft.loop_id) is None:
        raise LookupError(draft.loop_id)
    criteria = criteria_of(draft, home_tz)
    return draft_search.find(s, criteria, now=now, limit=0, wanted=1, change=change)


def explain_draft(
    s: Session, req: SchedulingRequest, *, wanted: int, now: datetime
) -> draft_search.Found:
    """A draft's search again (its own options left out of the holds), explained when it
    gives fewer than ``wanted`` options."""
    criteria = draft_search.Criteria(
        req.loop_id,
        req.search_tz or req.candidate_tz or "UTC",
        req.date_from,
        req.date_to,
        (req.candidate_hours_start, req.candidate_hours_end),
    )
    return draft_search.find(
        s, criteria, now=now, limit=wanted, wanted=wanted, exclude_request_id=req.id
    )


def delete_draft(s: Session, req: SchedulingRequest, who: Actor, now: datetime) -> bool:
    """Delete a draft that was never sent (False: it is not a draft). Audited. Commits."""
    if req.status != "draft":
        return False
    rid = req.id
    s.delete(req)
    record_by(s, now, who, "request_draft_deleted", "request", rid)
    s.commit()
    return True


def expire_drafts(s: Session, now: datetime, days: int) -> int:
    """Delete drafts created more than ``days`` days ago and never sent (audited); how many.
    ``days`` 0 or less: drafts never expire. The caller commits."""
    if days <= 0:
        return 0
    rows = s.scalars(
        select(SchedulingRequest).where(
            SchedulingRequest.status == "draft",
            SchedulingRequest.created_at <= now - timedelta(days=days),
        )
    ).all()
    for req in rows:
        rid = req.id
        s.delete(req)
        record(s, now, "worker", "request_draft_expired", "request", rid, days=days)
    return len(rows)


def people_for(s: Session, req: SchedulingRequest) -> dict[str, Interviewer]:
    """The interviewers named by the request's options and bookings, by key."""
    keys = {k for o in req.options for sl in o.sessions for k in sl["interviewers"]}
    for b in req.bookings:
        keys |= {bs.interviewer.key for bs in b.sessions}
    if not keys:
        return {}
    return {i.key: i for i in s.scalars(select(Interviewer).where(Interviewer.key.in_(keys)))}


def busy_for(
    s: Session, req: SchedulingRequest, people: dict[str, Interviewer], now: datetime
) -> tuple[Busy, Busy]:
    """(busy time: calendars and other bookings; other requests' holds) around the options."""
    if not req.options or not people:
        return {}, {}
    window = Interval(
        min(o.start for o in req.options) - timedelta(hours=30),
        max(o.end for o in req.options) + timedelta(hours=30),
    )
    pic = services.load_busy(s, people.values(), window, include_holds=False, now=now)
    by_id = {p.id: p.key for p in people.values()}
    held = draft_search.holds_of(s, by_id, window, now, req.id)
    return (
        {k: [(iv.start, iv.end) for iv in v] for k, v in pic.busy.items()},
        {k: [(h.interval.start, h.interval.end) for h in v] for k, v in held.items()},
    )


def default_offer(req: SchedulingRequest, count: int, zone: str) -> list[int]:
    """Tick the top ``count`` options, spread over days as the engine spreads its list."""
    pairs = [(services.stored_option(row), row.id) for row in req.options]
    ids = {id(option): row_id for option, row_id in pairs}
    chosen = pick_diverse([option for option, _ in pairs], count, zone)
    return [ids[id(option)] for option in chosen]


@dataclass(frozen=True)
class Sending:
    """How a request goes out: the candidate's link, whose name signs the mail, for how long."""

    link: str
    sender: str
    link_days: int


def send_request(
    s: Session,
    req: SchedulingRequest,
    option_ids: set[int],
    sending: Sending,
    who: Actor,
    *,
    policy: booking_service.BookingPolicy,
    now: datetime,
    live: bool = False,
) -> int:
    """Offer the chosen options (holding them) and mail the link; how many. Commits.

    ``live``: no fixed times (and no zone guess): the candidate's page searches live in
    their own zone and hours."""
    opts = [] if live else [services.stored_option(o) for o in req.options if o.id in option_ids]
    if live:
        req.live = True
        req.candidate_tz = None
        req.search_tz = None
    req.expires_at = now + timedelta(days=sending.link_days)
    services.offer(s, req, opts, hold_until=req.expires_at)
    booking_service.apply_hold_policy(s, req, policy)
    req.status = "sent"
    req.sent_at = now
    mail = services.candidate_mail(req, sending.link, sending.sender)
    mail.next_attempt_at = now
    s.add(mail)
    record_by(
        s,
        now,
        who,
        "request_sent",
        "request",
        req.id,
        offered=len(opts),
        **({"live": True} if live else {}),
    )
    s.commit()
    return len(opts)


def resend_request(
    s: Session, req: SchedulingRequest, sending: Sending, who: Actor, now: datetime
) -> None:
    """Mail the link again, extending its life. Commits."""
    req.expires_at = now + timedelta(days=sending.link_days)
    mail = services.candidate_mail(req, sending.link, sending.sender, resend=True)
    mail.next_attempt_at = now
    s.add(mail)
    record_by(s, now, who, "request_resent", "request", req.id)
    s.commit()


def _cancelled_mail(req: SchedulingRequest, sender: str, now: datetime) -> OutboxMail:
    return OutboxMail(
        kind="request_cancelled",
        request_id=req.id,
        to_addr=req.candidate_email,
        subject=f"Interview scheduling cancelled: {req.loop.name}",
        text_body=f"Hello {req.candidate_name},\n\nThe scheduling of your interview "
        f"({req.loop.name}) has been cancelled by {sender}. "
        "Your earlier link no longer works.\n",
        next_attempt_at=now,
        from_name=sender,
        reply_to=req.coordinator.email,
    )


def cancel_request(
    s: Session,
    req: SchedulingRequest,
    sender: str,
    who: Actor,
    *,
    policy: booking_service.BookingPolicy,
    now: datetime,
) -> None:
    """Cancel: the link stops working, a booking's invites are withdrawn (CANCELs, holds,
    calendar events), and a candidate who had the link is told. Commits."""
    was_sent = req.status != "draft"
    req.status = "cancelled"
    req.cancelled_at = now
    req.token_nonce = services.new_nonce()
    booking_service.cancel_in_session(s, req, now=now, policy=policy, actor=who.name)
    if was_sent:
        s.add(_cancelled_mail(req, sender, now))
    record_by(s, now, who, "request_cancelled", "request", req.id)
    s.commit()


@dataclass(frozen=True)
class RequestPage:
    rows: list[SchedulingRequest]
    total: int
    booked_at: dict[int, datetime]  # request id -> first session of its booking


def _first_starts(s: Session, booking_ids: list[int]) -> dict[int, datetime]:
    if not booking_ids:
        return {}
    first: dict[int, datetime] = {}
    for bid, start in s.execute(
        select(BookingSession.booking_id, func.min(BookingSession.start))
        .where(BookingSession.booking_id.in_(booking_ids))
        .group_by(BookingSession.booking_id)
    ):
        first[bid] = start if start.tzinfo else start.replace(tzinfo=UTC)
    return first


def list_requests(
    s: Session, coordinator_id: int, status: str, page: int, per_page: int
) -> RequestPage:
    """One page of the coordinator's requests, newest first (``status`` empty: all)."""
    q = select(SchedulingRequest).where(SchedulingRequest.coordinator_id == coordinator_id)
    if status:
        q = q.where(SchedulingRequest.status == status)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = list(
        s.scalars(
            q.options(
                selectinload(SchedulingRequest.loop), selectinload(SchedulingRequest.bookings)
            )
            .order_by(SchedulingRequest.created_at.desc(), SchedulingRequest.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    first = _first_starts(s, [b.id for r in rows for b in r.bookings if b.status == "confirmed"])
    booked_at = {}
    for r in rows:
        b = services.active_booking(r)
        if b is not None and b.id in first:
            booked_at[r.id] = first[b.id]
    return RequestPage(rows, total, booked_at)


def request_mails(s: Session, req: SchedulingRequest) -> list[OutboxMail]:
    q = select(OutboxMail).where(OutboxMail.request_id == req.id).order_by(OutboxMail.id)
    return list(s.scalars(q))


def recent_audit(s: Session, limit: int = 200) -> list[AuditLog]:
    return list(s.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))


@dataclass(frozen=True)
class MoveChoices:
    """A booked request, its booking, and the options it may move to now."""

    req: SchedulingRequest
    booking: Booking
    options: list[OfferedOption]


def move_choices(
    s: Session, req: SchedulingRequest, *, holds: bool, now: datetime
) -> MoveChoices | None:
    """Where a booked interview can move (None: nothing is booked). With no valid option
    left, fresh ones are searched and committed: the coordinator waits for the engine;
    candidates never do."""
    b = services.active_booking(req)
    if b is None or req.status not in booking_service.BOOKED:
        return None
    rows = booking_service.valid_options(s, req, now, ignore_booking=b)
    if not rows and booking_service.top_up_in(s, req, now, holds=holds):
        s.commit()
        req = s.get(SchedulingRequest, req.id) or req
        b = services.active_booking(req) or b
        rows = booking_service.valid_options(s, req, now, ignore_booking=b)
    return MoveChoices(req, b, rows)


def needs_coordinator(
    s: Session, rows: list[SchedulingRequest], *, now: datetime, stale_after: timedelta
) -> dict[int, list[request_flags.Reason]]:
    """Per request (id), what needs its coordinator; requests needing nothing are left out.

    The one place for these reasons: a candidate's reply waiting (options found inside
    their own times, or none fit), a failed mail, a stale calendar of one of its
    interviewers, an interviewer's decline / new conflict / "can't make it" that the
    repair brought to the coordinator. Each reason is its own small function, merged
    below; each costs a fixed number of queries for the whole page of requests."""
    live = [r for r in rows if r.status in request_flags.OPEN_FOR_FLAGS]
    if not live:
        return {}
    found: dict[int, list[request_flags.Reason]] = {}
    sent = [r for r in live if r.status != "draft"]
    for part in (
        request_flags.candidate_replied(s, [r.id for r in live]),
        request_flags.failed_mail(s, [r.id for r in live]),
        request_flags.stale_calendars(s, sent, now, stale_after),
        request_flags.dropouts(s, [r.id for r in sent]),
    ):
        for rid, reasons in part.items():
            found.setdefault(rid, []).extend(reasons)
    return found
