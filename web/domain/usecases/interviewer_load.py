"""How loaded each interviewer is: interviews this week and next (local ISO weeks, from
Monday 00:00 in each interviewer's own zone), against their daily and weekly caps.

An interview counts in the local week and day its start falls in, as the engine counts
it against ``max_interviews_per_day`` / ``max_interviews_per_week``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.domain.busy import week_start
from web.domain.zones import get_zone
from web.store.models import BookingSession, Interviewer

WEEK_LABELS = ("this week", "next week")
OVER, AT, UNDER = "over", "at", ""


def cap_state(count: int, cap: int | None) -> str:
    """ "over" past the cap, "at" on it, "" under it or without one."""
    if cap is None:
        return UNDER
    return OVER if count > cap else AT if count == cap else UNDER


@dataclass(frozen=True)
class WeekLoad:
    label: str  # "this week" | "next week"
    monday: date  # local
    count: int
    week_cap: int | None
    busiest_day: date | None  # local; None when nothing is booked
    busiest_count: int
    day_cap: int | None

    @property
    def week_state(self) -> str:
        return cap_state(self.count, self.week_cap)

    @property
    def day_state(self) -> str:
        return cap_state(self.busiest_count, self.day_cap)

    @property
    def text(self) -> str:
        """ "3 / 4 this week", or "3 this week" without a weekly cap."""
        cap = f" / {self.week_cap}" if self.week_cap is not None else ""
        return f"{self.count}{cap} {self.label}"

    @property
    def day_text(self) -> str:
        """The busiest local day against the daily cap: "Tue 2 / 2"."""
        if self.busiest_day is None:
            return "no interviews"
        cap = f" / {self.day_cap}" if self.day_cap is not None else ""
        return f"busiest {self.busiest_day:%a %d %b}: {self.busiest_count}{cap}"


@dataclass(frozen=True)
class InterviewerLoad:
    interviewer_id: int
    name: str
    key: str
    timezone: str
    weeks: tuple[WeekLoad, ...]

    @property
    def state(self) -> str:
        """The worst of its weeks and days: "over", "at" or ""."""
        states = {w.week_state for w in self.weeks} | {w.day_state for w in self.weeks}
        return OVER if OVER in states else AT if AT in states else UNDER


def interviewer_loads(
    s: Session, now: datetime, *, include_inactive: bool = False
) -> list[InterviewerLoad]:
    """Each interviewer's load this week and next, by name."""
    q = select(Interviewer).order_by(Interviewer.name)
    if not include_inactive:
        q = q.where(Interviewer.active.is_(True))
    people = list(s.scalars(q))
    if not people:
        return []
    mondays = {p.id: now.astimezone(get_zone(p.timezone)).date() for p in people}
    mondays = {i: d - timedelta(days=d.weekday()) for i, d in mondays.items()}
    bounds = {
        p.id: (
            week_start(mondays[p.id], p.timezone),
            week_start(mondays[p.id] + timedelta(days=14), p.timezone),
        )
        for p in people
    }
    starts = _booked_starts(s, bounds)
    return [_load(p, mondays[p.id], starts.get(p.id, [])) for p in people]


def _booked_starts(
    s: Session, bounds: dict[int, tuple[datetime, datetime]]
) -> dict[int, list[datetime]]:
    lo = min(a for a, _ in bounds.values())
    hi = max(b for _, b in bounds.values())
    rows = s.execute(
        select(BookingSession.interviewer_id, BookingSession.start).where(
            BookingSession.interviewer_id.in_(list(bounds)),
            BookingSession.active.is_(True),
            BookingSession.start >= lo,
            BookingSession.start < hi,
        )
    )
    out: dict[int, list[datetime]] = {}
    for iid, start in rows:
        a, b = bounds[iid]
        if a <= start < b:
            out.setdefault(iid, []).append(start)
    return out


def _load(who: Interviewer, monday: date, starts: list[datetime]) -> InterviewerLoad:
    zone = get_zone(who.timezone)
    days = Counter(start.astimezone(zone).date() for start in starts)
    weeks = []
    for n, label in enumerate(WEEK_LABELS):
        first = monday + timedelta(days=7 * n)
        mine = {d: c for d, c in days.items() if first <= d < first + timedelta(days=7)}
        busiest = max(mine, key=lambda d: (mine[d], -d.toordinal()), default=None)
        weeks.append(
            WeekLoad(
                label=label,
                monday=first,
                count=sum(mine.values()),
                week_cap=who.max_interviews_per_week,
                busiest_day=busiest,
                busiest_count=mine.get(busiest, 0) if busiest else 0,
                day_cap=who.max_interviews_per_day,
            )
        )
    return InterviewerLoad(who.id, who.name, who.key, who.timezone, tuple(weeks))
