"""The naive reader the ICS benchmark compares against (not used by panelslot).

What a short script would do: icalendar parses the whole file,
recurring-ical-events expands it over the window, and every occurrence that
is not transparent or cancelled becomes a busy interval in UTC (dates and
floating times read in the interviewer's zone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from scheduler.model import Interval


def _utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def naive_busy(path: str | Path, timezone: str, window: Interval) -> list[Interval]:
    """Busy intervals of the file in ``window`` (not merged)."""
    zone = ZoneInfo(timezone)
    cal = icalendar.Calendar.from_ical(Path(path).read_bytes())
    pad = timedelta(days=1)
    busy = []
    for event in recurring_ical_events.of(cal).between(window.start - pad, window.end + pad):
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start, end = _utc(event.start, zone), _utc(event.end, zone)
        if start < end and start < window.end and window.start < end:
            busy.append(Interval(start, end))
    return sorted(busy)
