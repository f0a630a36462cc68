"""Coordinators' scheduling requests: draft, offer and send, list, resend, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.engine import pick_diverse
from scheduler.model import Interval
from web.domain import booking as booking_service
from web.domain import services
from web.domain.audit import Actor, record_by
from web.store.models import (
    AuditLog,
    Booking,
    BookingSession,
    CandidateReply,
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


def draft_request(
    s: Session, draft: RequestDraft, who: Actor, *, home_tz: str, now: datetime, limit: int = 20
) -> SchedulingRequest:
    """Search the loop and keep the result as a draft request with ranked options. Commits.

    Raises ``LookupError`` for an unknown loop and ``services.SearchProblem`` when the
    engine cannot search; ``home_tz`` is the zone searched when the candidate's is unknown.
    """
    loop = services.load_loop(s, draft.loop_id)
    if loop is None:
        raise LookupError(draft.loop_id)
    zone = draft.candidate_tz or home_tz
    result = services.search(
        s,
        loop,
        candidate_tz=zone,
        date_from=draft.date_from,
        date_to=draft.date_to,
        hours=draft.hours,
        now=now,
        limit=limit,
    )
    req = _new_request(draft, who, loop.id, now)
    req.search_tz = zone
    s.add(req)
    s.flush()
    for rank, opt in enumerate(result.options, start=1):
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
    record_by(s, now, who, "request_drafted", "request", req.id, options=len(result.options))
    s.commit()
    return req


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
) -> Busy:
    """Busy time (calendars, other bookings, other requests' holds) around the options."""
    if not req.options or not people:
        return {}
    window = Interval(
        min(o.start for o in req.options) - timedelta(hours=14),
        max(o.end for o in req.options) + timedelta(hours=14),
    )
    pic = services.load_busy(s, people.values(), window, exclude_request_id=req.id, now=now)
    return {k: [(iv.start, iv.end) for iv in v] for k, v in pic.busy.items()}


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
    needs_you: dict[int, list[str]]  # request id -> why it needs the coordinator now


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
    return RequestPage(rows, total, booked_at, needs_coordinator(s, [r.id for r in rows]))


CANDIDATE_REPLIED = "candidate replied: needs you"
REPLY_NEEDS_YOU = ("found", "nothing")  # the candidate's ranges: options to send, or none fit


def needs_coordinator(s: Session, request_ids: Sequence[int]) -> dict[int, list[str]]:
    """Why each of these requests needs its coordinator now (requests that do not are left
    out): one plain reason each, e.g. "candidate replied: needs you" while the options found
    inside a candidate's own ranges wait to be sent, or nothing fit them, until the
    coordinator sends or dismisses. Other reasons add their own query here."""
    out: dict[int, list[str]] = {}
    if not request_ids:
        return out
    replied = s.scalars(
        select(CandidateReply.request_id).where(
            CandidateReply.request_id.in_(list(request_ids)),
            CandidateReply.state.in_(REPLY_NEEDS_YOU),
        )
    )
    for rid in replied:
        out.setdefault(rid, []).append(CANDIDATE_REPLIED)
    return out


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
