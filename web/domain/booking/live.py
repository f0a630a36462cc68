"""Live options in the candidate's own zone and hours, and when a page must offer them.

A request's options were searched in one zone (``search_tz``). When the candidate is in
another zone and an offered time falls outside their hours there, the page says so and,
unless the loop switched it off, offers options searched now by the engine in the
candidate's zone and hours (same loop, rules, busy time and other requests' holds). A
live request (sent without options) always does. No holds are placed for live options:
the booking re-check and the database constraint keep booking race-free, and the chosen
live option becomes an offered-option row at booking time (:func:`adopt_live`).

Searches are kept in :class:`LiveCache`, keyed by the request, zone, hours, dates and the
busy "version" of the loop's interviewers, so a sync or a booking shows at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.engine import pick_diverse
from scheduler.model import Option
from web.domain import services
from web.domain.busy_cache import PreparedBusy
from web.store.models import BookingSession, BusyBlock, Hold, OfferedOption, SchedulingRequest

LIVE_TTL = 60.0  # seconds; the busy version invalidates sooner
Key = tuple[Any, ...]


def planned_zone(req: SchedulingRequest) -> str | None:
    """The zone the request's options were searched in (None for a live request)."""
    if req.live:
        return None
    return req.search_tz or req.candidate_tz or req.coordinator.timezone or "UTC"


def place(zone: str) -> str:
    """'Australia/Sydney' -> 'Sydney', as people name the place."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def hours_of(req: SchedulingRequest) -> tuple[int, int]:
    return (req.candidate_hours_start, req.candidate_hours_end)


def inside(start: datetime, end: datetime, zone: str, hours: tuple[int, int]) -> bool:
    """Whether start..end lies within the local hours of one day in ``zone`` (hours of the
    whole day take any time)."""
    if hours[0] <= 0 and hours[1] >= 24 * 60:
        return True
    z = ZoneInfo(zone)
    a, b = start.astimezone(z), end.astimezone(z)
    first = a.hour * 60 + a.minute
    last = b.hour * 60 + b.minute + (24 * 60 if b.date() > a.date() else 0)
    return hours[0] <= first and last <= hours[1]


def _night(start: datetime, zone: str) -> bool:
    hour = start.astimezone(ZoneInfo(zone)).hour
    return hour < 6 or hour >= 22


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class ZoneCheck:
    """What the page does about the candidate's zone."""

    zone: str  # the candidate's zone
    planned: str | None  # the zone searched (None: a live request)
    notice: str | None  # the plain sentence, when planned times miss the candidate's hours
    live: bool  # show options searched live in the candidate's zone and hours


def zone_check(
    req: SchedulingRequest, zone: str, offered: Sequence[tuple[datetime, datetime]]
) -> ZoneCheck:
    planned = planned_zone(req)
    if planned is None:
        return ZoneCheck(zone, None, None, True)
    hours = hours_of(req)
    outside = [(a, b) for a, b in offered if not inside(a, b, zone, hours)]
    if planned == zone or not outside:
        return ZoneCheck(zone, planned, None, False)
    who = "they" if len(outside) == len(offered) else "some of them"
    night = any(_night(a, zone) for a, _ in outside)
    where = "at night" if night else f"outside {hhmm(hours[0])}–{hhmm(hours[1])}"
    notice = (
        f"These times were planned for {place(planned)}. "
        f"You seem to be in {place(zone)}, where {who} fall {where}."
    )
    return ZoneCheck(zone, planned, notice, bool(req.loop.live_fallback))


def live_dates(req: SchedulingRequest, zone: str, now: datetime) -> tuple[date, date]:
    """The request's dates, or as many days from tomorrow (in ``zone``) if those have passed."""
    today = now.astimezone(ZoneInfo(zone)).date()
    if req.date_to > today:
        return req.date_from, req.date_to
    tomorrow = today + timedelta(days=1)
    return tomorrow, tomorrow + (req.date_to - req.date_from)


def option_key(opt: Option) -> str:
    """A short stable name of an option (its times and people), for the booking form."""
    text = json.dumps(services.option_json(opt), sort_keys=True, default=str)
    return hashlib.sha256(f"{opt.start.isoformat()}|{text}".encode()).hexdigest()[:20]


def busy_version(s: Session, interviewer_ids: Sequence[int]) -> Key:
    """Changes whenever a sync, booking, cancel or hold changes these people's busy time."""
    ids = list(interviewer_ids)
    out: list[Any] = []
    for model, extra in (
        (BusyBlock, ()),
        (Hold, ()),
        (BookingSession, (BookingSession.active.is_(True),)),
    ):
        row = s.execute(
            select(func.count(model.id), func.max(model.id)).where(
                model.interviewer_id.in_(ids), *extra
            )
        ).one()
        out.extend(row)
    return tuple(out)


@dataclass
class LiveCache:
    """Live searches, owned by the app: at most ``max_size``, each for ``ttl`` seconds at
    most (the key's busy version makes changed busy time miss at once)."""

    ttl: float = LIVE_TTL
    max_size: int = 256
    clock: Callable[[], float] = time.monotonic
    _kept: OrderedDict[Key, tuple[float, tuple[Option, ...]]] = field(
        default_factory=OrderedDict, repr=False
    )
    # the interviewers' prepared busy time, reused by every live search (busy-versioned)
    prepared: PreparedBusy = field(default_factory=PreparedBusy, repr=False)

    def get(self, key: Key, compute: Callable[[], Sequence[Option]]) -> tuple[Option, ...]:
        hit = self._kept.get(key)
        at = self.clock()
        if hit is not None and hit[0] > at:
            return hit[1]
        found = tuple(compute())
        self._kept[key] = (at + self.ttl, found)
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_size:
            self._kept.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._kept)


def live_options(
    s: Session,
    req: SchedulingRequest,
    zone: str,
    now: datetime,
    *,
    cache: LiveCache,
    limit: int = 5,
    people: Sequence[int] | None = None,
) -> tuple[Option, ...]:
    """Options searched now in ``zone`` and the request's hours, spread over the days.

    ``people``: the loop's interviewer ids when the caller knows them (a cached loop
    picture), so that a cache hit reads only the busy version."""
    loop_row = services.load_loop(s, req.loop_id) if people is None else None
    if people is None:
        if loop_row is None:
            return ()
        people = list(services.loop_interviewers(loop_row))
    dates = live_dates(req, zone, now)
    key = (req.id, zone, hours_of(req), dates, limit, busy_version(s, sorted(people)))

    def search() -> list[Option]:
        row = loop_row or services.load_loop(s, req.loop_id)
        if row is None:
            return []
        try:
            result = services.search(
                s,
                row,
                candidate_tz=zone,
                date_from=dates[0],
                date_to=dates[1],
                hours=hours_of(req),
                now=now,
                limit=max(20, 4 * limit),
                exclude_request_id=req.id,
                prepared=cache.prepared,
            )
        except services.SearchProblem:
            return []
        return pick_diverse(result.options, limit, zone)

    return tuple(o for o in cache.get(key, search) if o.start > now)


def adopt_live(
    s: Session,
    req: SchedulingRequest,
    zone: str,
    key: str,
    now: datetime,
    *,
    cache: LiveCache,
    limit: int = 5,
    people: Sequence[int] | None = None,
) -> int | None:
    """Keep the live option named ``key`` as an offered option of the request (no holds),
    for the booking service to book; None when it is no longer among the live options."""
    live = live_options(s, req, zone, now, cache=cache, limit=limit, people=people)
    found = [o for o in live if option_key(o) == key]
    if not found:
        return None
    opt = found[0]
    rank = max((o.rank for o in req.options), default=0) + 1
    row = OfferedOption(
        request_id=req.id,
        rank=rank,
        score=opt.score,
        sessions=services.option_json(opt),
        start=opt.start,
        end=opt.end,
    )
    s.add(row)
    s.commit()
    return row.id


__all__ = [
    "LIVE_TTL",
    "LiveCache",
    "ZoneCheck",
    "adopt_live",
    "busy_version",
    "inside",
    "live_dates",
    "live_options",
    "option_key",
    "place",
    "planned_zone",
    "zone_check",
]
