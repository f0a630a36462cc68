"""The fast path: busy time of clean events without icalendar.

Single events and simple fixed-period rules (``blocks.SimpleRule``) read by
the strict reader are turned into occurrences here, with ``dateutil.rrule``
for the rules, following what the full path (icalendar +
recurring-ical-events) does with them:

* a rule walks wall-clock times from DTSTART; an instance is dropped when its
  UTC start is after a UTC ``UNTIL``, or when its UTC or wall-clock time
  equals either form of an EXDATE (the library's matching);
* every instance lasts the wall-clock length of DTSTART..DTEND (or DURATION);
* times are converted with the one DST rule (``zones.to_utc``).

Anything else never reaches this module (see ``window``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from dateutil.rrule import DAILY, HOURLY, MINUTELY, SECONDLY, WEEKLY, rrule

from integrations.ics.blocks import CleanEvent, SimpleRule, Stamp, When, uid_key
from integrations.ics.limits import Recurring, naive, rule_shape
from integrations.ics.model import Occurrence, Reading, address, in_span
from integrations.ics.zones import to_utc
from scheduler.model import Interval

_DAY = timedelta(days=1)
# Wall-clock times are within this of their UTC instants.
_MARGIN = timedelta(hours=15)


def recurring(events: list[CleanEvent]) -> list[Recurring]:
    """The recurring clean events as the expansion limits see them."""
    found = []
    for event in events:
        if event.rule is not None:
            shape = rule_shape(event.rule.parts, event.rule.text)
            found.append(
                Recurring(event.uid, naive(event.start.value), (shape,), event.exdate_count)
            )
    return found


def occurrences(
    events: list[CleanEvent], span: Interval, reading: Reading
) -> list[tuple[str, Occurrence]]:
    """Every occurrence of ``events`` overlapping ``span``, as the full path finds it,
    with the UID (``uid_key``) of its event."""
    found: list[tuple[str, Occurrence]] = []
    for event in events:
        busy = not (event.transparent or event.cancelled or _declined(event, reading.email))
        length = _length(event)
        key = uid_key(event.uid)
        for start in _starts(event, span):
            a = _utc(event.start, start, reading)
            b = _utc(event.start, _add(start, length), reading)
            if in_span(a, b, span):
                found.append((key, Occurrence(a, max(a, b), a < b and busy)))
    return found


def _declined(event: CleanEvent, email: str | None) -> bool:
    if not email:
        return False
    wanted = address(email)
    return any(address(who) == wanted and p.upper() == "DECLINED" for who, p in event.attendees)


def _length(event: CleanEvent) -> timedelta:
    """The wall-clock length of every instance."""
    start = event.start.value
    if event.end is not None:
        return _as_datetime(event.end.value) - _as_datetime(start)
    if event.duration is not None:
        return event.duration
    return _DAY if event.start.kind == "date" else timedelta(0)


def _as_datetime(value: Stamp) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _add(start: Stamp, length: timedelta) -> Stamp:
    if isinstance(start, datetime):
        return start + length
    return start + timedelta(days=length.days)


def _utc(written: When, value: Stamp, reading: Reading) -> datetime:
    if written.kind == "tzid" and written.zone is not None:
        return to_utc(_as_datetime(value), written.zone)
    if written.kind == "utc":
        return _as_datetime(value).replace(tzinfo=UTC)
    if written.kind == "floating":
        return to_utc(value, reading.floating)
    return to_utc(value, reading.zone)


def _starts(event: CleanEvent, span: Interval) -> Iterator[Stamp]:
    """The wall-clock (or date) starts of the event that can touch ``span``."""
    rule = event.rule
    if rule is None:
        yield event.start.value
        return
    length = _length(event)
    lo = naive(span.start) - _MARGIN - max(length, timedelta(0))
    hi = naive(span.end) + _MARGIN
    excluded = _exdate_ids(event.exdates)
    for wall in _walk(rule, _as_datetime(event.start.value), lo, hi):
        if wall < lo or _ids(event.start, wall) & excluded:
            continue
        if rule.until is not None and _after_until(event.start, wall, rule.until):
            break
        yield wall.date() if event.start.kind == "date" else wall


_FREQ: dict[str, Literal[3, 4, 5, 6]] = {
    "SECONDLY": SECONDLY,
    "MINUTELY": MINUTELY,
    "HOURLY": HOURLY,
    "DAILY": DAILY,
}
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": _DAY,
    "WEEKLY": timedelta(weeks=1),
}


def _walk(rule: SimpleRule, start: datetime, lo: datetime, hi: datetime) -> Iterator[datetime]:
    """The rule's wall-clock starts up to ``hi``. Without COUNT the walk begins at the
    last whole number of periods before ``lo`` (the same instances from there on)."""
    period = _PERIOD[rule.freq] * rule.interval
    if rule.count is None and lo - start > 2 * period:
        start += period * ((lo - start) // period - 1)
    limit = hi if rule.until is None else min(hi, _as_datetime(rule.until) + _DAY)
    walker = rrule(
        _FREQ.get(rule.freq, WEEKLY),
        dtstart=start,
        interval=rule.interval,
        count=rule.count,
        byweekday=rule.days or None,
    )
    for wall in walker:
        if wall > limit:
            return
        yield wall


def _after_until(written: When, wall: datetime, until: Stamp) -> bool:
    if written.kind == "date":
        return wall > _as_datetime(until)
    if written.kind == "floating":
        return wall > until
    instant = _utc(written, wall, Reading(UTC, UTC, None)).replace(tzinfo=None)
    return instant > until


def _ids(written: When, wall: datetime) -> set[datetime]:
    """The library's keys for an instance: its UTC time and its wall-clock time."""
    if written.kind == "tzid" and written.zone is not None:
        return {to_utc(wall, written.zone).replace(tzinfo=None), wall}
    return {wall}


def _exdate_ids(exdates: list[When]) -> set[datetime]:
    found: set[datetime] = set()
    for when in exdates:
        wall = _as_datetime(when.value)
        found |= _ids(when, wall)
    return found
