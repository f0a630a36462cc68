""" "None of these work" on the candidate's page: the day-by-day grid, the typed ranges,
and what the engine found inside them (web.domain.usecases.candidate_ranges)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from web.domain import booking as service
from web.domain.rangetext import RangeTextError, clock, parse_ranges
from web.domain.usecases import candidate_ranges as uc
from web.store.models import CandidateReply, SchedulingRequest
from web.ui.helpers import db_session, get_settings, get_sync_config, now

MAX_TEXT = 2000
MAX_GRID_DAYS = 14
OfferPage = Callable[..., ResponseReturnValue]


class BadRanges(ValueError):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Cell:
    value: str  # "2027-03-03T06:00", the day and the first minute of the box
    label: str  # "06:00–08:00"
    checked: bool


@dataclass(frozen=True)
class GridDay:
    day: date
    cells: tuple[Cell, ...]


def _cell_value(day: date, minute: int) -> str:
    return f"{day.isoformat()}T{clock(minute)}"


def grid_for(req: SchedulingRequest, tz: str) -> list[GridDay]:
    """One row per day the candidate may mark, one box per block of hours."""
    ticked = set(request.form.getlist("cell")) if request.method == "POST" else set()
    days = uc.window_days(req, tz, now())[:MAX_GRID_DAYS]
    return [
        GridDay(
            d,
            tuple(
                Cell(_cell_value(d, a), f"{clock(a)}–{clock(b)}", _cell_value(d, a) in ticked)
                for a, b in uc.grid_blocks()
            ),
        )
        for d in days
    ]


def _grid_spans(req: SchedulingRequest, tz: str) -> list[uc.DaySpan]:
    allowed = {
        c.value: (g.day, int(c.value[11:13]) * 60 + int(c.value[14:16]))
        for g in grid_for(req, tz)
        for c in g.cells
    }
    cells = []
    for raw in request.form.getlist("cell"):
        if raw not in allowed:
            raise BadRanges(f"The box “{raw[:40]}” is not on the grid; reload the page.")
        cells.append(allowed[raw])
    return uc.spans_of_grid(cells)


def _text_spans(req: SchedulingRequest, tz: str, text: str) -> list[uc.DaySpan]:
    if not text:
        return []
    try:
        ranges = parse_ranges(text)
    except RangeTextError as exc:
        raise BadRanges(f"We could not read “{exc.part[:80]}”: {exc.hint}.") from None
    spans = uc.spans_of_text(ranges, uc.window_days(req, tz, now()))
    if not spans:
        raise BadRanges("None of those days falls within the dates of this interview.")
    return spans


def shown_ranges(req: SchedulingRequest) -> list[tuple[datetime, datetime]]:
    """The candidate's stored ranges (UTC) when what was found in them is on offer."""
    reply = uc.current_reply(db_session(), req.id)
    if reply is None or reply.state != "offered":
        return []
    return [(r.start, r.end) for r in reply.ranges]


def _policy() -> service.BookingPolicy:
    return service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config())


def submit(
    req: SchedulingRequest, token: str, tz: str, offer_page: OfferPage
) -> ResponseReturnValue:
    """The grid and/or the text, searched at once; the page that says what came of it."""
    text = (request.form.get("ranges") or "").strip()
    try:
        if len(text) > MAX_TEXT:
            raise BadRanges(f"That is {len(text)} characters; please keep it under {MAX_TEXT}.")
        spans = _grid_spans(req, tz) + _text_spans(req, tz, text)
        if not spans:
            raise BadRanges(
                "Tick the hours that suit you on the grid, or write them, "
                "e.g. “Tue 9–12, Thu after 14:00”."
            )
        reply = uc.reply_with_ranges(
            db_session(),
            req,
            spans,
            text,
            tz,
            now(),
            policy=_policy(),
            limit=int(get_settings().server.offer_count),
        )
    except uc.TooManyRanges as exc:
        return offer_page(
            req,
            mode="book",
            code=400,
            reply_text=text[:MAX_TEXT],
            reply_error=f"That is {exc.count} ranges; give at most {uc.MAX_SPANS}.",
        )
    except BadRanges as exc:
        return offer_page(
            req, mode="book", code=400, reply_error=exc.message, reply_text=text[:MAX_TEXT]
        )
    if reply.state == "offered":
        return redirect(url_for("candidate.landing", token=token, tz=tz, ranges="1"), 303)
    return _reply_page(req, reply, tz)


def _reply_page(req: SchedulingRequest, reply: CandidateReply, tz: str) -> ResponseReturnValue:
    who = req.coordinator.name or "Your recruiter"
    if reply.state == "found":
        title = "Thank you"
        message = (
            f"We found {len(reply.options)} time(s) inside the hours you gave. "
            f"{who} will send them to you shortly."
        )
    else:
        title = "Nothing fits those times yet"
        message = (
            f"No interview fits inside the times you gave: {uc.plain_reason(reply.why)}. "
            f"{who} has your times and will be in touch."
        )
    return render_template(
        "candidate/ranges_reply.html",
        title=title,
        message=message,
        outcome=reply.state,
        ranges=[(r.start, r.end) for r in reply.ranges],
        tz=tz,
        contact=req.coordinator.email,
    )
