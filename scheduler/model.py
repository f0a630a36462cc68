"""The engine's value types. All datetimes are aware and in UTC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A wall-clock range within one local day, in minutes after local midnight;
# the end may be 1440 ("24:00").
LocalRange = tuple[int, int]


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of time ``[start, end)`` between aware UTC datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"Interval needs aware datetimes, got {self.start!r}, {self.end!r}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class WorkingHours:
    """Weekday (0 = Monday) -> sorted, non-overlapping local ranges."""

    ranges: Mapping[int, tuple[LocalRange, ...]] = field(default_factory=dict)

    def on(self, weekday: int) -> tuple[LocalRange, ...]:
        return self.ranges.get(weekday, ())


@dataclass(frozen=True)
class Interviewer:
    id: str
    name: str
    email: str
    timezone: str
    working_hours: WorkingHours
    max_interviews_per_day: int | None = None
    calendars: tuple[str, ...] = ()
    max_interviews_per_week: int | None = None  # per local ISO week, from Monday 00:00


@dataclass(frozen=True)
class Settings:
    granularity_minutes: int = 15
    min_notice_hours: float = 24
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 10


@dataclass(frozen=True)
class SessionSpec:
    name: str
    duration_minutes: int
    pool: tuple[str, ...]
    required: int
    day: int = 1  # the block of a multi-day loop: sessions with the same day share a date

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class RepairRules:
    """A loop's rules for an interviewer who drops out of a booked interview: replaced from
    the pool automatically when the session is more than ``min_hours_before`` away and the
    booking was auto-repaired fewer than ``max_auto_repairs`` times (the web app acts on
    them; the search ignores them)."""

    auto_repair: bool = True
    min_hours_before: float = 48
    max_auto_repairs: int = 3


@dataclass(frozen=True)
class Loop:
    id: str
    name: str
    sessions: tuple[SessionSpec, ...]
    order: str = "fixed"  # "fixed" or "any"
    min_gap_minutes: int = 0
    max_gap_minutes: int = 15
    settings: Settings = field(default_factory=Settings)
    # read by the web app (offer what fits a candidate's own ranges at once); not the engine
    offer_from_ranges: bool = True
    repair: RepairRules = field(default_factory=RepairRules)
    # multi-day loops: candidate-local days from one block's date to the next
    min_days_between: int = 1
    max_days_between: int = 3
    skip_weekends: bool = True  # Saturday and Sunday (candidate's zone) neither count nor hold

    def blocks(self) -> tuple[tuple[SessionSpec, ...], ...]:
        """The sessions grouped by ``day``, in day order (one block for a one-day loop)."""
        days = sorted({spec.day for spec in self.sessions})
        return tuple(tuple(s for s in self.sessions if s.day == d) for d in days)


@dataclass(frozen=True)
class Config:
    """A whole configuration file: defaults, interviewers and loops."""

    settings: Settings
    interviewers: tuple[Interviewer, ...]
    loops: tuple[Loop, ...]
    source: str = "<config>"

    def interviewer_map(self) -> dict[str, Interviewer]:
        return {i.id: i for i in self.interviewers}

    def loop(self, loop_id: str) -> Loop | None:
        return next((lp for lp in self.loops if lp.id == loop_id), None)


@dataclass(frozen=True)
class SessionSlot:
    name: str
    start: datetime
    end: datetime
    interviewers: tuple[str, ...]


@dataclass(frozen=True)
class Option:
    """One way to hold the whole loop; ``score`` in [0, 1], higher is better."""

    score: float
    sessions: tuple[SessionSlot, ...]

    @property
    def start(self) -> datetime:
        return self.sessions[0].start

    @property
    def end(self) -> datetime:
        return self.sessions[-1].end

    def interviewer_ids(self) -> tuple[str, ...]:
        return tuple(i for s in self.sessions for i in s.interviewers)
