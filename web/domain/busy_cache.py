"""Prepared busy time kept across searches: :class:`PreparedBusy`, owned by the app or
a worker (never module state), one ``scheduler.prepare_busy`` index per interviewer.

An entry is keyed by the interviewer, the window, what counts (holds, the request left
out) and the interviewer's busy version: per table (calendar blocks, active booked
sessions, live holds) the number of their rows and the largest row id. A sync replaces
blocks (deletes and inserts rows), a booking or cancel adds or deactivates booked
sessions, a hold is added, released or expires: each changes the version, so the next
search misses and reads afresh. At most ``max_size`` entries are kept, the least
recently used going first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import prepare_busy
from scheduler.busy import BusyIndex
from scheduler.model import Interval
from web.domain.busy import load_busy
from web.store.models import BookingSession, BusyBlock, Hold, Interviewer

Version = tuple[Any, ...]


def busy_versions(
    s: Session,
    interviewer_ids: Sequence[int],
    *,
    now: datetime,
    include_holds: bool = True,
    exclude_request_id: int | None = None,
) -> dict[int, Version]:
    """Per interviewer id: the version of what blocks them (see the module)."""
    ids = list(interviewer_ids)
    found: dict[int, list[Any]] = {i: [] for i in ids}
    blocks: Any = select(BusyBlock.interviewer_id, func.count(BusyBlock.id), func.max(BusyBlock.id))
    sessions: Any = select(
        BookingSession.interviewer_id, func.count(BookingSession.id), func.max(BookingSession.id)
    ).where(BookingSession.active.is_(True))
    queries: list[tuple[Any, Any]] = [
        (BusyBlock.interviewer_id, blocks),
        (BookingSession.interviewer_id, sessions),
    ]
    if include_holds:
        holds: Any = select(Hold.interviewer_id, func.count(Hold.id), func.max(Hold.id)).where(
            Hold.expires_at.is_(None) | (Hold.expires_at > now)
        )
        if exclude_request_id is not None:
            holds = holds.where(Hold.request_id != exclude_request_id)
        queries.append((Hold.interviewer_id, holds))
    for position, (column, query) in enumerate(queries):
        rows = s.execute(query.where(column.in_(ids)).group_by(column))
        for iid, count, top in rows:
            found[iid].append((position, count, top))
    return {i: tuple(v) for i, v in found.items()}


@dataclass(frozen=True)
class Prepared:
    """One interviewer's busy time in a window, prepared, and their booked sessions."""

    index: BusyIndex
    booked: list[Interval]


Key = tuple[int, datetime, datetime, bool, int | None, str | None, Version]


@dataclass
class PreparedBusy:
    """Prepared busy indexes per (interviewer, window, busy version); owned by the app."""

    max_size: int = 2048
    hits: int = 0
    misses: int = 0
    _kept: OrderedDict[Key, Prepared] = field(default_factory=OrderedDict, repr=False)

    def load(
        self,
        s: Session,
        people: Mapping[int, str] | Iterable[Interviewer],
        window: Interval,
        *,
        now: datetime,
        include_holds: bool = True,
        exclude_request_id: int | None = None,
        week_zones: Mapping[int, str] | None = None,
    ) -> tuple[dict[str, BusyIndex], dict[str, list[Interval]]]:
        """As :func:`web.domain.busy.load_busy` (busy and booked per key), the busy time
        prepared; only interviewers whose busy version changed are read. ``week_zones``
        as there (the zone is part of the key: it decides which weeks are booked)."""
        by_id = dict(people) if isinstance(people, Mapping) else {p.id: p.key for p in people}
        versions = busy_versions(
            s,
            list(by_id),
            now=now,
            include_holds=include_holds,
            exclude_request_id=exclude_request_id,
        )
        zones = week_zones or {}

        def key_of(iid: int) -> Key:
            what = (include_holds, exclude_request_id, zones.get(iid), versions[iid])
            return (iid, window.start, window.end, *what)

        kept: dict[int, Prepared] = {}
        missing: dict[int, str] = {}
        for iid in by_id:
            key = key_of(iid)
            hit = self._kept.get(key)
            if hit is None:
                missing[iid] = by_id[iid]
                continue
            self._kept.move_to_end(key)
            kept[iid] = hit
        self.hits += len(kept)
        self.misses += len(missing)
        if missing:
            pic = load_busy(
                s,
                missing,
                window,
                now=now,
                include_holds=include_holds,
                exclude_request_id=exclude_request_id,
                week_zones={i: z for i, z in zones.items() if i in missing},
            )
            for iid, name in missing.items():
                entry = Prepared(prepare_busy(pic.busy[name]), pic.booked[name])
                self._kept[key_of(iid)] = kept[iid] = entry
            while len(self._kept) > self.max_size:
                self._kept.popitem(last=False)
        busy = {by_id[i]: kept[i].index for i in by_id}
        return busy, {by_id[i]: kept[i].booked for i in by_id}

    def __len__(self) -> int:
        return len(self._kept)


__all__ = ["Prepared", "PreparedBusy", "busy_versions"]
