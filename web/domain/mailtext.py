"""Times in the candidate's mail: their stored zone, named as people say it, in the clock
and date order of their browser's locale (when known). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from web.domain.zones import canonical_zone, get_zone, offset_label, zone_ok
from web.domain.zonetext import clock_pattern, date_pattern, days_later, zone_display
from web.store.models import Booking, SchedulingRequest


def mail_zone(req: SchedulingRequest, b: Booking | None = None) -> str:
    """The candidate's zone for mail: detected or chosen (``candidate_zone``), else the
    one they booked in, else the planned one, else the coordinator's."""
    for tz in (
        req.candidate_zone,
        b.candidate_tz if b else None,
        req.candidate_tz,
        req.search_tz,
        req.coordinator.timezone,
    ):
        if tz and zone_ok(tz):
            return canonical_zone(tz)
    return "UTC"


@dataclass(frozen=True)
class MailClock:
    """How one reader's mail writes times: ``tz`` (IANA) and ``locale`` ('en_US'; None: the
    default 24-hour clock, day before month)."""

    tz: str
    locale: str | None = None

    def zone_name(self, at: datetime) -> str:
        """'Pacific Time (Los Angeles), America/Los_Angeles'."""
        return f"{zone_display(self.tz, at)}, {self.tz}"

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(get_zone(self.tz))

    def clock(self, at: datetime) -> str:
        return self._local(at).strftime(clock_pattern(self.locale))

    def day(self, at: datetime) -> str:
        return self._local(at).strftime(date_pattern(self.locale))

    def moment(self, at: datetime) -> str:
        """'Wednesday, March 3, 2027, 2:30 PM (UTC-08:00)'."""
        return f"{self.day(at)}, {self.clock(at)} ({offset_label(self.tz, at)})"

    def span(self, start: datetime, end: datetime) -> str:
        """'Wednesday 03 March 2027, 23:45–02:00 (+1 day) (UTC+05:30)'."""
        n = days_later(start, end, self.tz)
        later = f" (+{n} day{'s' if n > 1 else ''})" if n else ""
        return (
            f"{self.day(start)}, {self.clock(start)}–{self.clock(end)}{later} "
            f"({offset_label(self.tz, start)})"
        )

    def zone_line(self, at: datetime) -> str:
        return f"Times are in your time zone: {self.zone_name(at)}."


def candidate_clock(req: SchedulingRequest, b: Booking | None = None) -> MailClock:
    return MailClock(mail_zone(req, b), req.candidate_locale)
