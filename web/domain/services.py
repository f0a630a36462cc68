"""Domain operations of the web app: DB rows <-> engine values, search, requests, outbox."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session, selectinload

from integrations.mail import html_paragraphs
from scheduler import engine
from scheduler.busy import Busy
from scheduler.errors import SchedulerError
from scheduler.model import Interval, Option
from web.domain.busy import load_busy as load_busy  # re-exported for the views
from web.domain.busy_cache import PreparedBusy
from web.domain.engine_values import loop_picture
from web.domain.engine_values import option_json as option_json  # re-exported
from web.domain.engine_values import stored_option as stored_option  # re-exported
from web.domain.mailtext import candidate_clock
from web.store.models import (
    Booking,
    Hold,
    Interviewer,
    Loop,
    LoopSession,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
)
from web.store.statuses import UNDECIDED


class SearchProblem(ValueError):
    """A search cannot run; ``message`` is one line for the coordinator."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


# ---------------------------------------------------------------- rows -> engine


def load_loop(s: Session, loop_id: int) -> Loop | None:
    return s.scalar(
        select(Loop)
        .where(Loop.id == loop_id)
        .options(
            selectinload(Loop.sessions)
            .selectinload(LoopSession.pool)
            .selectinload(Interviewer.calendars)
        )
    )


def loop_interviewers(loop: Loop) -> dict[int, Interviewer]:
    return {i.id: i for s in loop.sessions for i in s.pool if i.active}


def search_window(date_from: date, date_to: date) -> Interval:
    """UTC instants that cover every candidate-local day of the range (any zone)."""
    start = datetime.combine(date_from, datetime.min.time(), UTC) - timedelta(days=1)
    end = datetime.combine(date_to, datetime.min.time(), UTC) + timedelta(days=2)
    return Interval(start, end)


@dataclass(frozen=True)
class SearchResult:
    options: list[Option]
    interviewers: dict[str, Interviewer]  # key -> row
    loop: Loop


def search(
    s: Session,
    loop_row: Loop,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    hours: tuple[int, int],
    now: datetime,
    limit: int = 20,
    exclude_request_id: int | None = None,
    prepared: PreparedBusy | None = None,
) -> SearchResult:
    """The loop's options; with ``prepared`` (the app's cache) the busy time of those
    whose busy version did not change is not read again."""
    picture = loop_picture(s, loop_row.id)
    if picture.loop is None:
        raise SearchProblem("loop", picture.problem)
    people = loop_interviewers(loop_row)
    window = search_window(date_from, date_to)
    weeks = {p.id: p.timezone for p in people.values()}
    busy: Mapping[str, Busy]
    if prepared is None:
        pic = load_busy(
            s,
            people.values(),
            window,
            now=now,
            include_holds=True,
            exclude_request_id=exclude_request_id,
            week_zones=weeks,
        )
        busy, booked = pic.busy, pic.booked
    else:
        busy, booked = prepared.load(
            s,
            people.values(),
            window,
            now=now,
            exclude_request_id=exclude_request_id,
            week_zones=weeks,
        )
    try:
        options = engine.find_options(
            picture.loop,
            picture.interviewers,
            busy,
            candidate_tz=candidate_tz,
            date_from=date_from,
            date_to=date_to,
            now=now,
            candidate_hours=hours,
            limit=limit,
            booked=booked,
        )
    except NotImplementedError:
        raise SearchProblem("engine", "the slot engine is not available in this build") from None
    except SchedulerError as exc:
        raise SearchProblem("search", str(exc)) from None
    return SearchResult(options, {p.key: p for p in people.values()}, loop_row)


# ---------------------------------------------------------------- candidate links


INTERVIEWER_SALT = "panelslot.interviewer-link"


class ClockedSigner(TimestampSigner):
    """A timestamp signer that stamps the caller's ``now`` instead of reading the clock."""

    def __init__(self, *args: Any, signed_at: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_at = signed_at

    def get_timestamp(self) -> int:
        if self.signed_at is None:
            raise ValueError("ClockedSigner needs signed_at to sign")
        return int(self.signed_at.timestamp())


def _serializer(
    secret: str, now: datetime | None = None, salt: str = "panelslot.candidate-link"
) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=salt, signer=ClockedSigner, signer_kwargs={"signed_at": now}
    )


def candidate_token(secret: str, req: SchedulingRequest, *, now: datetime) -> str:
    return _serializer(secret, now).dumps({"r": req.id, "n": req.token_nonce})


class LinkProblem(ValueError):
    """Why a candidate link cannot be used: kind is tampered | expired | revoked."""

    def __init__(self, kind: str, request: SchedulingRequest | None = None) -> None:
        self.kind = kind
        self.request = request
        super().__init__(kind)


def verify_candidate_token(
    s: Session, secret: str, token: str, *, max_age_days: int, now: datetime
) -> SchedulingRequest:
    try:
        data = signed_payload(_serializer(secret), token, timedelta(days=max_age_days), now)
    except SignatureExpired:
        raise LinkProblem("expired") from None
    except BadSignature:
        raise LinkProblem("tampered") from None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        raise LinkProblem("tampered")
    req = s.get(SchedulingRequest, data["r"])
    if req is None or not secrets.compare_digest(str(data.get("n", "")), req.token_nonce):
        raise LinkProblem("revoked", req)
    if req.status == "cancelled":
        raise LinkProblem("cancelled", req)
    if req.status == "expired" or (req.expires_at is not None and req.expires_at <= now):
        raise LinkProblem("expired", req)
    return req


def signed_payload(
    ser: URLSafeTimedSerializer, token: str, max_age: timedelta, now: datetime
) -> Any:
    """``token``'s payload if its signature holds and it was signed within ``max_age`` of the
    given ``now`` (not the wall clock); raises ``BadSignature`` / ``SignatureExpired``."""
    data, signed_at = ser.loads(token, return_timestamp=True)
    if now - signed_at > max_age:
        raise SignatureExpired("link expired", payload=data, date_signed=signed_at)
    return data


def candidate_link_payload(secret: str, token: str) -> tuple[int, str] | None:
    """(request id, nonce) of a candidate link whose signature holds, whatever its age (to
    prefetch the request, or to reach a booked interview behind an old link); ``None`` for a
    tampered link. :func:`verify_candidate_token` does every check."""
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        return None
    return int(data["r"]), str(data.get("n", ""))


def interviewer_token(secret: str, row: Interviewer, *, now: datetime) -> str:
    ser = _serializer(secret, now, salt=INTERVIEWER_SALT)
    return ser.dumps({"i": row.id, "n": row.link_nonce})


def verify_interviewer_token(
    s: Session, secret: str, token: str, *, max_age_days: int, now: datetime
) -> Interviewer | None:
    ser = _serializer(secret, salt=INTERVIEWER_SALT)
    try:
        data = signed_payload(ser, token, timedelta(days=max_age_days), now)
    except BadSignature:
        return None
    row = s.get(Interviewer, data.get("i")) if isinstance(data, dict) else None
    if row is None or not row.active or data.get("n") != row.link_nonce:
        return None
    return row


# ---------------------------------------------------------------- requests


def offer(
    s: Session, req: SchedulingRequest, options: Sequence[Option], *, hold_until: datetime | None
) -> list[OfferedOption]:
    """Replace the request's offered options (and holds) by ``options``."""
    for old in list(req.options):
        s.delete(old)
    s.execute(delete(Hold).where(Hold.request_id == req.id))
    s.flush()
    keys = {o for opt in options for o in opt.interviewer_ids()}
    by_key = {i.key: i.id for i in s.scalars(select(Interviewer).where(Interviewer.key.in_(keys)))}
    rows = []
    for rank, opt in enumerate(options, start=1):
        row = OfferedOption(
            request_id=req.id,
            rank=rank,
            score=opt.score,
            sessions=option_json(opt),
            start=opt.start,
            end=opt.end,
        )
        s.add(row)
        s.flush()
        rows.append(row)
        add_holds(s, row, opt, by_key, hold_until)
    return rows


def add_holds(
    s: Session,
    row: OfferedOption,
    opt: Option,
    by_key: dict[str, int],
    until: datetime | None,
) -> None:
    """Keep the option's interviewer-times away from other requests until ``until``."""
    for slot in opt.sessions:
        for key in slot.interviewers:
            s.add(
                Hold(
                    request_id=row.request_id,
                    option_id=row.id,
                    interviewer_id=by_key[key],
                    start=slot.start,
                    end=slot.end,
                    expires_at=until,
                )
            )


def release_holds(s: Session, req: SchedulingRequest) -> None:
    s.execute(delete(Hold).where(Hold.request_id == req.id))


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def candidate_mail(
    req: SchedulingRequest, link: str, coordinator_name: str, *, resend: bool = False
) -> OutboxMail:
    """The candidate's link mail: the loop and its sessions with their lengths, the
    candidate's zone (detected, else guessed), the link's expiry in that zone, the note;
    from the coordinator's name, replies to the coordinator. HTML and text say the same."""
    loop = req.loop
    clock = candidate_clock(req)
    when = req.expires_at or req.sent_at or req.created_at
    zone = clock.zone_name(when) if (req.candidate_zone or req.candidate_tz) else None
    lines = [
        f"Hello {req.candidate_name},",
        "",
        f"{coordinator_name} invites you to schedule your interview: {loop.name}.",
        "It has these sessions:",
        *[f"- {ls.name}, {ls.duration_minutes} minutes" for ls in loop.sessions],
        "",
        "Pick the time that suits you best here:",
        "",
        link,
        "",
        f"Your time zone: {zone}. The page shows the times in it; you can change it there."
        if zone
        else "The page shows the times in your own time zone (your browser's, or one you choose).",
        "The link is personal; please do not share it.",
    ]
    if req.expires_at:
        lines.append(f"It works until {clock.moment(req.expires_at)}, {clock.zone_name(when)}.")
    if req.note:
        lines += ["", req.note]
    text = "\n".join(lines) + "\n"
    anchor = f'<a href="{_esc(link)}">{_esc(link)}</a>'
    html = html_paragraphs(text.strip()).replace(_esc(link), anchor, 1)
    subject = ("Reminder: " if resend else "") + f"Schedule your interview: {loop.name}"
    coord = req.coordinator
    return OutboxMail(
        kind="candidate_link",
        request_id=req.id,
        to_addr=req.candidate_email,
        subject=subject,
        text_body=text,
        html_body=html,
        from_name=coordinator_name or coord.name or coord.email,
        reply_to=coord.email,
    )


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def active_booking(req: SchedulingRequest) -> Booking | None:
    for b in reversed(req.bookings):
        if b.status == "confirmed":
            return b
    return None


def expire_requests(s: Session, now: datetime) -> int:
    """Mark open requests past their expiry as expired and release their holds."""
    rows = s.scalars(
        select(SchedulingRequest).where(
            and_(
                SchedulingRequest.status.in_(UNDECIDED),
                SchedulingRequest.expires_at.is_not(None),
                SchedulingRequest.expires_at <= now,
            )
        )
    ).all()
    for req in rows:
        req.status = "expired"
        release_holds(s, req)
    return len(rows)
