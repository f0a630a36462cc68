"""Busy time as the engine sees it, loaded by one function for every caller: stored
calendar blocks, active booked sessions and, where asked, other requests' live holds."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from scheduler.intervals import subtract
from scheduler.model import Interval
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
    exclude_booking_id: int | None = None,
) -> BusyPicture:
    """The busy time of ``people`` (id -> key, or interviewer rows) overlapping ``window``.

    * Stored calendar blocks always count (only those of ``sources`` when given).
    * Active booked sessions count unless ``include_bookings`` is False; they are also
      listed in ``booked``.
    * Holds count only with ``include_holds`` (they steer what is offered; the booking
      re-check leaves them out), never those of ``exclude_request_id``, and never
      expired ones: a hold whose ``expires_at`` is at or before ``now`` is gone.
    * ``exclude_booking_id`` leaves that booking out: its booked sessions, and its own
      written-back interview events in the calendars it was written to (the event's span
      is cut out of that calendar's blocks), so a booking never stands in its own way.
    """
    by_id = _keys(people)
    busy: dict[str, list[Interval]] = {k: [] for k in by_id.values()}
    booked: dict[str, list[Interval]] = {k: [] for k in by_id.values()}
    if not by_id:
        return BusyPicture(busy, booked)
    query = _query(
        include_bookings,
        include_holds,
        sources is not None,
        exclude_request_id is not None,
        exclude_booking_id is not None,
    )
    params: dict[str, Any] = {"ids": list(by_id), "lo": window.start, "hi": window.end}
    if include_holds:
        params["now"] = now
    if sources is not None:
        params["srcs"] = list(sources)
    if exclude_request_id is not None:
        params["excl"] = exclude_request_id
    own: dict[tuple[int, int], list[Interval]] = {}
    if exclude_booking_id is not None:
        params["exclb"] = exclude_booking_id
        own = written_spans(s, exclude_booking_id)
    for iid, start, end, kind, src in s.execute(query, params):
        spans = [Interval(start, end)]
        if kind == _BLOCK and (iid, src) in own:
            spans = subtract(spans, own[(iid, src)])
        busy[by_id[iid]].extend(spans)
        if kind == _BOOKING:
            booked[by_id[iid]].extend(spans)
    return BusyPicture(busy, booked)


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
            BookingSession.start < hi,
            BookingSession.end > lo,
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
