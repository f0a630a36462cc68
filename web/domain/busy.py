"""Busy time as the engine sees it, loaded by one function for every caller: stored
calendar blocks, active booked sessions and, where asked, other requests' live holds."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from scheduler.intervals import subtract
from scheduler.model import Interval
from web.domain.zones import get_zone
from web.store.models import BookingSession, BusyBlock, Hold, Interviewer

_BLOCK, _BOOKING, _HOLD = 0, 1, 2


@dataclass(frozen=True)
class BusyPicture:
    """Per interviewer key: everything that blocks them (``busy``) and, of that, their
    active booked sessions (``booked``)."""

    busy: dict[str, list[Interval]]
    booked: dict[str, list[Interval]]


def load_busy(
    s: Session,
    people: Mapping[int, str] | Iterable[Interviewer],
    window: Interval,
    *,
    now: datetime,
    include_holds: bool = True,
    include_bookings: bool = True,
    sources: Collection[int] | None = None,
    exclude_request_id: int | None = None,
    week_zones: Mapping[int, str] | None = None,
    exclude_booking_id: int | None = None,
) -> BusyPicture:
    """The busy time of ``people`` (id -> key, or interviewer rows) overlapping ``window``.

    * Stored calendar blocks always count (only those of ``sources`` when given).
    * Active booked sessions count unless ``include_bookings`` is False; they are also
      listed in ``booked``.
    * Holds count only with ``include_holds`` (they steer what is offered; the booking
      re-check leaves them out), never those of ``exclude_request_id``, and never
      expired ones: a hold whose ``expires_at`` is at or before ``now`` is gone.
    * With ``week_zones`` (interviewer id -> their zone), ``booked`` holds each of them's
      booked sessions of every local ISO week the window touches in their zone
      (:func:`week_span`), so weekly caps count the whole week; ``busy`` still holds only
      what overlaps the window. (The caller knows the zones: no extra query.)
    * ``exclude_booking_id`` leaves that booking out: its booked sessions, and its own
      written-back interview events in the calendars it was written to (the event's span
      is cut out of that calendar's blocks), so a booking never stands in its own way.
    """
    by_id = _keys(people)
    pic = BusyPicture({k: [] for k in by_id.values()}, {k: [] for k in by_id.values()})
    if not by_id:
        return pic
    flags = (sources is not None, exclude_request_id is not None, exclude_booking_id is not None)
    query = _query(include_bookings, include_holds, *flags)
    weeks = _weeks(by_id, window, week_zones if include_bookings else None)
    params: dict[str, Any] = {"ids": list(by_id), "lo": window.start, "hi": window.end}
    params["blo"] = min([window.start, *(w.start for w in weeks.values())])
    params["bhi"] = max([window.end, *(w.end for w in weeks.values())])
    optional = {
        "now": now if include_holds else None,
        "srcs": list(sources) if sources is not None else None,
        "excl": exclude_request_id,
        "exclb": exclude_booking_id,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    own = written_spans(s, exclude_booking_id) if exclude_booking_id is not None else {}
    for iid, start, end, kind, src in s.execute(query, params):
        span, week = Interval(start, end), weeks.get(iid, window)
        _add(pic, by_id[iid], span, kind, window, week, own.get((iid, src)))
    return pic


def _add(
    pic: BusyPicture,
    key: str,
    span: Interval,
    kind: int,
    window: Interval,
    week: Interval,
    own: list[Interval] | None,
) -> None:
    """One row into the picture: a booked session of the week is listed as booked; what
    overlaps the window is busy, less the booking's own events in a block (``own``)."""
    if kind == _BOOKING and _overlaps(span, week):
        pic.booked[key].append(span)
    if not _overlaps(span, window):
        return
    if kind == _BLOCK and own:
        pic.busy[key].extend(subtract([span], own))
    else:
        pic.busy[key].append(span)


def _weeks(
    by_id: Mapping[int, str], window: Interval, zones: Mapping[int, str] | None
) -> dict[int, Interval]:
    """Interviewer id -> the local ISO weeks the window touches in their zone."""
    return {iid: week_span(window, tz) for iid, tz in (zones or {}).items() if iid in by_id}


def _overlaps(a: Interval, b: Interval) -> bool:
    return a.start < b.end and b.start < a.end


def week_start(day: date, tz: str) -> datetime:
    """Monday 00:00 in ``tz`` of the ISO week holding ``day``, as a UTC instant (a midnight
    in a clock-change gap is read with the offset before the gap, as the engine reads it)."""
    monday = day - timedelta(days=day.weekday())
    return datetime.combine(monday, time(), get_zone(tz)).astimezone(UTC)


def week_span(window: Interval, tz: str) -> Interval:
    """From Monday 00:00 of the local ISO week of the window's first instant to Monday 00:00
    after the local ISO week of its last instant, in ``tz``."""
    zone = get_zone(tz)
    first = window.start.astimezone(zone).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(zone).date()
    return Interval(week_start(first, tz), week_start(last + timedelta(days=7), tz))


def written_spans(s: Session, booking_id: int) -> dict[tuple[int, int], list[Interval]]:
    """(interviewer id, calendar source id) -> the spans of the booking's interview events
    written back to that calendar (what the booking's own events add to its blocks)."""
    out: dict[tuple[int, int], list[Interval]] = {}
    rows = s.execute(
        select(
            BookingSession.interviewer_id,
            BookingSession.start,
            BookingSession.end,
            BookingSession.calendar_event_id,
        ).where(BookingSession.booking_id == booking_id)
    )
    for iid, start, end, ids in rows:
        for src in event_sources(ids):
            out.setdefault((iid, src), []).append(Interval(start, end))
    return out


def event_sources(ids: str | None) -> list[int]:
    """The calendar source ids of a session's stored event ids (JSON {source id: event id})."""
    if not ids:
        return []
    try:
        data = json.loads(ids)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    return [int(k) for k in data if str(k).isdigit()]


def _keys(people: Mapping[int, str] | Iterable[Interviewer]) -> dict[int, str]:
    if isinstance(people, Mapping):
        return dict(people)
    return {p.id: p.key for p in people}


@lru_cache(maxsize=32)
def _query(
    bookings: bool, holds: bool, by_source: bool, excluding: bool, excluding_booking: bool
) -> Any:
    """The statement for one combination of flags, built once (statement construction
    costs more than the query on a page); values are bound parameters."""
    ids: Any = bindparam("ids", expanding=True)
    lo: Any = bindparam("lo")
    hi: Any = bindparam("hi")
    block_q: Any = select(
        BusyBlock.interviewer_id,
        BusyBlock.start,
        BusyBlock.end,
        literal_column(str(_BLOCK)).label("kind"),
        BusyBlock.source_id.label("src"),
    ).where(BusyBlock.interviewer_id.in_(ids), BusyBlock.start < hi, BusyBlock.end > lo)
    if by_source:
        block_q = block_q.where(BusyBlock.source_id.in_(bindparam("srcs", expanding=True)))
    parts = [block_q]
    if bookings:
        booked_q: Any = select(
            BookingSession.interviewer_id,
            BookingSession.start,
            BookingSession.end,
            literal_column(str(_BOOKING)),
            literal_column("0"),
        ).where(
            BookingSession.interviewer_id.in_(ids),
            BookingSession.active.is_(True),
            BookingSession.start < bindparam("bhi"),
            BookingSession.end > bindparam("blo"),
        )
        if excluding_booking:
            booked_q = booked_q.where(BookingSession.booking_id != bindparam("exclb"))
        parts.append(booked_q)
    if holds:
        parts.append(_hold_query(ids, lo, hi, excluding))
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _hold_query(ids: Any, lo: Any, hi: Any, excluding: bool) -> Any:
    now: Any = bindparam("now")
    q: Any = select(
        Hold.interviewer_id, Hold.start, Hold.end, literal_column(str(_HOLD)), literal_column("0")
    ).where(
        Hold.interviewer_id.in_(ids),
        Hold.start < hi,
        Hold.end > lo,
        (Hold.expires_at.is_(None)) | (Hold.expires_at > now),
    )
    if excluding:
        q = q.where(Hold.request_id != bindparam("excl"))
    return q
