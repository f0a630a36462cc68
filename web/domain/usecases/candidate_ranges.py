""" "None of these work" as availability the engine can use.

The candidate gives their own ranges (a day-by-day grid, or text read by
:mod:`web.domain.rangetext`) in their zone. They are stored in UTC (a :class:`CandidateReply`
with its :class:`CandidateRange` rows, replaced on resubmit), and the engine searches inside
them at once: each range is one search over its local day with the range as the candidate's
hours (same loop, rules, busy time and other requests' holds as the live search). Then

* the loop offers what was found right there (``offer_from_ranges``): it becomes the
  request's offered set, booked through the ordinary path;
* or the coordinator is flagged with the options found and sends them in one click
  (:func:`send_found`), or dismisses the reply;
* or nothing fits: the engine's explanation (``scheduler.explain_why.why``) says why, in a
  sentence for the candidate and a list for the coordinator, who is also mailed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduler import explain
from scheduler.engine import pick_diverse
from scheduler.localtime import local_instant
from scheduler.model import Interval, Option
from web.domain import booking as booking_service
from web.domain import services
from web.domain.audit import Actor, record_by, record_request
from web.domain.booking.invites import outbox_mail
from web.domain.booking.live import live_dates
from web.domain.engine_values import loop_picture, option_from_json
from web.domain.rangetext import DAY_END, DAY_START, DayRange, clock
from web.store.models import CandidateRange, CandidateReply, Hold, OutboxMail, SchedulingRequest

MAX_SPANS = 42  # ranges one reply may give (six a day over a week)
NEEDS_YOU = ("found", "nothing")  # reply states the coordinator must act on
GRID_BLOCK = 120  # minutes per box of the day-by-day grid
PLAIN = {
    "candidate_hours": "the interviewers are not working inside the hours you gave",
    "working_hours": "the interviewers are not working at those times",
    "busy": "the interviewers are already busy at those times",
    "holds": "those times are kept for other candidates",
    "daily_cap": "the interviewers already have all the interviews they take on those days",
    "weekly_cap": "the interviewers already have all the interviews they take in those weeks",
    "min_notice": "those times are too soon to arrange",
    "gaps": "the sessions do not fit one after another inside them",
    "pool_size": "not enough interviewers are free",
}


@dataclass(frozen=True, order=True)
class DaySpan:
    """A range on one local day of the candidate: minutes after local midnight."""

    day: date
    start: int
    end: int

    def label(self) -> str:
        return f"{self.day.strftime('%a %d %b')} {clock(self.start)}–{clock(self.end)}"


class NoneStillFree(ValueError):
    """None of the ``found`` options kept on a reply is free any more."""

    def __init__(self, found: int) -> None:
        self.found = found
        super().__init__(f"none of the {found} time(s) found is still free")


class TooManyRanges(ValueError):
    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"{count} ranges; at most {MAX_SPANS}")


def window_days(req: SchedulingRequest, zone: str, now: datetime) -> list[date]:
    """The days the candidate may mark: the request's, or as many from tomorrow."""
    first, last = live_dates(req, zone, now)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def grid_blocks() -> list[tuple[int, int]]:
    return [(m, m + GRID_BLOCK) for m in range(DAY_START, DAY_END, GRID_BLOCK)]


def merged(spans: Iterable[DaySpan]) -> list[DaySpan]:
    """Touching or overlapping spans of a day made one."""
    out: list[DaySpan] = []
    for sp in sorted(spans):
        if out and out[-1].day == sp.day and sp.start <= out[-1].end:
            out[-1] = DaySpan(sp.day, out[-1].start, max(out[-1].end, sp.end))
        else:
            out.append(sp)
    return out


def spans_of_text(ranges: Sequence[DayRange], days: Sequence[date]) -> list[DaySpan]:
    """Typed weekday ranges on each day of the window with that weekday."""
    return [DaySpan(d, r.start, r.end) for d in days for r in ranges if d.weekday() == r.weekday]


def spans_of_grid(cells: Iterable[tuple[date, int]]) -> list[DaySpan]:
    """Ticked grid boxes (day, first minute), neighbours joined."""
    return merged(DaySpan(d, m, m + GRID_BLOCK) for d, m in cells)


def utc_interval(span: DaySpan, zone: str) -> Interval:
    tz = ZoneInfo(zone)
    return Interval(local_instant(span.day, span.start, tz), local_instant(span.day, span.end, tz))


def _holds(
    s: Session, keys: dict[int, str], window: Interval, req_id: int, now: datetime
) -> dict[str, list[explain.Hold]]:
    rows = s.execute(
        select(Hold.interviewer_id, Hold.start, Hold.end, Hold.request_id).where(
            Hold.interviewer_id.in_(list(keys)),
            Hold.request_id != req_id,
            Hold.start < window.end,
            Hold.end > window.start,
            (Hold.expires_at.is_(None)) | (Hold.expires_at > now),
        )
    )
    out: dict[str, list[explain.Hold]] = {}
    for iid, start, end, rid in rows:
        out.setdefault(keys[iid], []).append(explain.Hold(Interval(start, end), f"request {rid}"))
    return out


def base_search(
    s: Session, req: SchedulingRequest, zone: str, spans: Sequence[DaySpan], now: datetime
) -> explain.Search | str:
    """The engine's search of the request's loop with its busy time, bookings and other
    requests' holds, over the spans' days (or why the loop cannot be searched)."""
    pic = loop_picture(s, req.loop_id)
    if pic.loop is None:
        return pic.problem
    if not spans:
        return "no ranges were given"
    window = services.search_window(spans[0].day, spans[-1].day)
    busy = services.load_busy(
        s, pic.keys, window, now=now, include_holds=False, exclude_request_id=req.id
    )
    return explain.Search(
        loop=pic.loop,
        interviewers=pic.interviewers,
        busy=busy.busy,
        candidate_tz=zone,
        date_from=spans[0].day,
        date_to=spans[-1].day,
        now=now,
        booked=busy.booked,
        holds=_holds(s, pic.keys, window, req.id, now),
    )


def _inside(search: explain.Search, span: DaySpan) -> explain.Search:
    return replace(
        search, date_from=span.day, date_to=span.day, candidate_hours=(span.start, span.end)
    )


@dataclass(frozen=True)
class Found:
    options: list[Option]
    why: list[dict[str, str]]  # per range and session: the constraint and its detail


def search_spans(
    search: explain.Search | str, spans: Sequence[DaySpan], zone: str, limit: int
) -> Found:
    """Options inside the spans (spread over the days), or why none fits."""
    if isinstance(search, str):
        unsearchable = {"range": "", "session": "", "constraint": "pool_size", "detail": search}
        return Found([], [unsearchable])
    found: dict[str, Option] = {}
    for span in spans:
        for opt in _inside(search, span).options(limit=max(20, 4 * limit)):
            found.setdefault(json.dumps(services.option_json(opt)), opt)
    ranked = sorted(found.values(), key=lambda o: (-o.score, o.start))
    if ranked:
        return Found(pick_diverse(ranked, limit, zone), [])
    from scheduler.explain_why import why

    reasons = [
        {
            "range": span.label(),
            "session": w.session,
            "constraint": w.constraint,
            "detail": w.detail,
        }
        for span in spans
        for w in why(_inside(search, span))
    ]
    return Found([], reasons)


def plain_reason(why: Sequence[dict[str, str]]) -> str:
    """The most common reason, in plain words for the candidate."""
    counts = Counter(w.get("constraint", "") for w in why)
    top = counts.most_common(1)[0][0] if counts else ""
    return PLAIN.get(top, "the interviewers are not free at those times")


def _coordinator_mail(
    req: SchedulingRequest, reply: CandidateReply, spans: list[str], now: datetime
) -> OutboxMail:
    n = len(reply.options)
    what = (
        f"The engine found {n} time(s) inside them; send them from the request page in one click."
        if n
        else f"Nothing fits inside them: {plain_reason(reply.why)}. The request page lists why."
    )
    body = (
        f"{req.candidate_name} says none of the offered times for {req.loop.name} work, and "
        f"gave their own times (their zone: {reply.zone}):\n"
        + (f"“{reply.text}”, read as:\n" if reply.text else "")
        + "\n".join(spans)
        + f"\n\n{what}"
    )
    subject = f"{req.candidate_name}: none of the offered times work"
    return outbox_mail(req, "candidate_reply", req.coordinator.email, subject, body, now)


def _stored(opt: Option) -> dict[str, object]:
    return {"score": opt.score, "sessions": services.option_json(opt)}


def found_options(reply: CandidateReply | None) -> list[Option]:
    """The options kept on a reply for the coordinator to send."""
    if reply is None:
        return []
    return [option_from_json(o["score"], o["sessions"]) for o in reply.options]


def current_reply(s: Session, req_id: int) -> CandidateReply | None:
    return s.scalar(select(CandidateReply).where(CandidateReply.request_id == req_id))


def reply_with_ranges(
    s: Session,
    req: SchedulingRequest,
    spans: Sequence[DaySpan],
    text: str,
    zone: str,
    now: datetime,
    *,
    policy: booking_service.BookingPolicy,
    limit: int = 5,
) -> CandidateReply:
    """Keep the candidate's ranges (replacing earlier ones), search inside them, and offer,
    flag or explain (see the module). Commits."""
    spans = merged(spans)
    if len(spans) > MAX_SPANS:
        raise TooManyRanges(len(spans))
    s.execute(delete(CandidateReply).where(CandidateReply.request_id == req.id))
    result = search_spans(base_search(s, req, zone, spans, now), spans, zone, limit)
    offer_now = bool(result.options) and bool(req.loop.offer_from_ranges)
    state = "offered" if offer_now else ("found" if result.options else "nothing")
    reply = CandidateReply(
        request_id=req.id,
        zone=zone,
        text=text,
        state=state,
        options=[] if offer_now else [_stored(o) for o in result.options],
        why=result.why,
        created_at=now,
        acted_at=now if offer_now else None,
    )
    reply.ranges = [
        CandidateRange(start=i.start, end=i.end) for i in (utc_interval(sp, zone) for sp in spans)
    ]
    s.add(reply)
    labels = [sp.label() for sp in spans]
    req.candidate_reply = f"[{zone}] " + (f"“{text}”: " if text else "") + "; ".join(labels)
    if offer_now:
        _make_offered(s, req, result.options, zone, policy)
    else:
        s.add(_coordinator_mail(req, reply, labels, now))
    record_request(
        s,
        now,
        "candidate",
        "candidate_ranges",
        req,
        zone=zone,
        ranges=len(spans),
        found=len(result.options),
        outcome=state,
    )
    s.commit()
    return reply


def _make_offered(
    s: Session,
    req: SchedulingRequest,
    options: Sequence[Option],
    zone: str,
    policy: booking_service.BookingPolicy,
) -> None:
    """``options`` become the request's offered set, searched in the candidate's zone."""
    services.offer(s, req, options, hold_until=req.expires_at)
    booking_service.apply_hold_policy(s, req, policy)
    req.search_tz = zone
    req.live = False


def send_found(
    s: Session,
    req: SchedulingRequest,
    link: str,
    sender: str,
    who: Actor,
    *,
    policy: booking_service.BookingPolicy,
    now: datetime,
) -> int:
    """The coordinator's one click: the options found in the candidate's ranges become the
    offered set, and the candidate is mailed. How many are still free and were sent (0:
    nothing to send). Raises :class:`NoneStillFree` when none is free any more (nothing
    changes; the request stays flagged). Commits."""
    reply = current_reply(s, req.id)
    if reply is None or reply.state != "found":
        return 0
    options = found_options(reply)
    _make_offered(s, req, options, reply.zone, policy)
    s.flush()
    s.expire(req, ["options"])
    free = len(booking_service.valid_options(s, req, now))
    if not free:
        s.rollback()
        raise NoneStillFree(len(options))
    body = (
        f"Hello {req.candidate_name},\n\n{sender} has found {free} time(s) for "
        f"{req.loop.name} inside the times you gave. Choose one here:\n\n{link}\n"
    )
    subject = f"Times inside your own hours: {req.loop.name}"
    s.add(outbox_mail(req, "candidate_ranges_sent", req.candidate_email, subject, body, now))
    reply.state = "sent"
    reply.acted_at = now
    record_by(s, now, who, "candidate_ranges_sent", "request", req.id, offered=free)
    s.commit()
    return free


def dismiss(s: Session, req: SchedulingRequest, who: Actor, now: datetime) -> bool:
    """The coordinator has seen the reply and acts otherwise. Commits."""
    reply = current_reply(s, req.id)
    if reply is None or reply.state not in NEEDS_YOU:
        return False
    reply.state = "dismissed"
    reply.acted_at = now
    record_by(s, now, who, "candidate_ranges_dismissed", "request", req.id)
    s.commit()
    return True
