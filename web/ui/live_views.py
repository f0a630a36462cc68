"""The candidate's zone on the offer page: the zone remembered, the notice when the
planned times miss the candidate's hours, and live options in their own zone."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from web.domain import booking as service
from web.domain.booking.live import hhmm, hours_of, option_key, place
from web.store.models import Booking, SchedulingRequest
from web.ui.helpers import (
    db_session,
    get_db,
    get_live,
    get_pictures,
    get_settings,
    get_sync_config,
    now,
    parse_id,
)
from web.ui.option_views import OptionView, option_view, view_of
from web.ui.zone_views import ZonePick

LIVE_PREFIX = "L"


@dataclass(frozen=True)
class Offer:
    views: list[OptionView]
    searching: bool  # the worker is looking for fresh options
    shape: tuple[tuple[str, int], ...]  # the loop's sessions and their minutes
    check: service.ZoneCheck
    live_title: str | None  # the heading above live options (None: the offered ones)


def remember_zone(req: SchedulingRequest, pick: ZonePick) -> None:
    """Keep the zone the browser reported or the candidate chose (``?tz=``) on the request."""
    if request.values.get("tz") and pick.notice is None and req.candidate_zone != pick.tz:
        req.candidate_zone = pick.tz
        db_session().commit()


def _offer_count() -> int:
    return int(get_settings().server.offer_count)


def _live_views(
    req: SchedulingRequest, b: Booking | None, zone: str, pic: service.LoopPicture
) -> list[OptionView]:
    found = service.live_options(
        db_session(),
        req,
        zone,
        now(),
        cache=get_live(),
        limit=_offer_count(),
        people=list(pic.keys),
    )
    names = pic.names
    mine = {(bs.start, bs.end, bs.interviewer.key) for bs in b.sessions} if b else set()
    out = []
    for rank, opt in enumerate(found, start=1):
        people = {(sl.start, sl.end, k) for sl in opt.sessions for k in sl.interviewers}
        if mine and people <= mine:
            continue  # the time already booked
        out.append(view_of(req, LIVE_PREFIX + option_key(opt), rank, opt, names))
    return out


def _title(req: SchedulingRequest, zone: str) -> str:
    a, z = hours_of(req)
    return f"Times in your own hours ({hhmm(a)}–{hhmm(z)} in {place(zone)})"


def offer_for(req: SchedulingRequest, b: Booking | None, zone: str, mode: str) -> Offer:
    """The options to show: the offered ones still valid, or live ones in ``zone``."""
    s = db_session()
    at = now()
    pic = get_pictures().get(s, req.loop_id)
    rows = [] if req.live else service.valid_options(s, req, at, ignore_booking=b, picture=pic)
    check = service.zone_check(req, zone, [(r.start, r.end) for r in rows])
    # a booked candidate whose offered times are gone gets fresh ones at once
    rescheduling = mode == "reschedule" and bool(req.loop.live_fallback) and not rows
    if check.live or rescheduling:
        views = _live_views(req, b, zone, pic)
        if views or req.live:
            return Offer(views, False, pic.sessions, check, _title(req, zone))
    searching = False
    if not rows:
        policy = service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config())
        service.request_fresh_options(get_db(), req.id, at, policy, limit=_offer_count())
        searching = service.refresh_pending(s, req.id, at)
    views = [option_view(req, r, pic.names) for r in rows]
    return Offer(views, searching, pic.sessions, check, None)


def is_live_choice(raw: str) -> bool:
    return raw.startswith(LIVE_PREFIX) and 1 < len(raw) <= 41 and raw[1:].isalnum()


def chosen_option(req: SchedulingRequest, zone: str) -> int | None:
    """The option the form names: an offered option's id, or a live option kept now as an
    offered option (raises ``OptionTaken`` when it is no longer free)."""
    raw = (request.form.get("option") or "").strip()
    if not is_live_choice(raw):
        return parse_id(raw)
    s = db_session()
    found = service.adopt_live(
        s,
        req,
        zone,
        raw[1:],
        now(),
        cache=get_live(),
        limit=_offer_count(),
        people=list(get_pictures().get(s, req.loop_id).keys),
    )
    if found is None:
        raise service.OptionTaken("Sorry, that time was just taken.")
    return found
