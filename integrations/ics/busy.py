"""Busy expansion of a parsed calendar (the full path: icalendar + recurring-ical-events)."""

from __future__ import annotations

import warnings as pywarnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from integrations.errors import CalendarError
from integrations.ics import fast
from integrations.ics.blocks import CleanEvent, uid_key
from integrations.ics.limits import (
    PAD,
    Load,
    Recurring,
    check_found,
    check_rules,
    naive,
    rule_shape,
)
from integrations.ics.lines import short
from integrations.ics.model import Expansion, ICSRead, Occurrence, Reading, address, in_span
from integrations.ics.zones import attach_zones, resolve_tzid, to_utc
from scheduler.localtime import find_zone
from scheduler.model import Interval

BUSY_FBTYPES = frozenset({"BUSY", "BUSY-UNAVAILABLE", "BUSY-TENTATIVE"})


def busy_from_calendar(
    cal: icalendar.Calendar,
    *,
    source: str,
    timezone: str,
    window: Interval,
    email: str | None = None,
) -> ICSRead:
    """Busy intervals (aware UTC, sorted, not merged) of ``cal`` that overlap ``window``.

    ``timezone`` is the interviewer's IANA zone: all-day events, floating
    times (unless the calendar has an X-WR-TIMEZONE) and events whose TZID is
    unknown are read in it. ``email`` is the interviewer's address: events
    they declined are not busy. ``events_read`` counts the event occurrences
    (and free/busy periods) found in the window, busy or not.
    """
    return expand_calendar(cal, source=source, timezone=timezone, span=window, email=email).read(
        window
    )


def expand_calendar(
    cal: icalendar.Calendar,
    *,
    source: str,
    timezone: str,
    span: Interval,
    email: str | None = None,
    clean: Sequence[CleanEvent] = (),
    carried: Carried | None = None,
) -> Expansion:
    """Every occurrence overlapping ``span`` with its busy flag (see ``busy_from_calendar``).

    ``clean`` are events of the same file that the fast path read instead of
    icalendar (``cal`` holds the rest); they are expanded with the calendar.
    With ``carried`` (groups of the file read earlier: an incremental re-read),
    their rules and occurrences count toward the limits as if they were in
    ``cal``, and the expansion's ``parts`` say which event made what.
    """
    zone = reading_zone(timezone, source)
    try:
        return _expand(cal, source, timezone, zone, span, email, list(clean), carried)
    except CalendarError:
        raise
    except Exception as exc:  # a defect no check foresaw: still one clear line
        raise CalendarError(source, f"cannot be read: {short(exc)}") from None


@dataclass(frozen=True)
class Carried:
    """What the groups of a calendar that are not read again add to the read of the rest:
    the load of their rules and their occurrences in the span."""

    load: Load = Load()
    occurrences: int = 0


@dataclass(frozen=True)
class Parts:
    """Who made what: each occurrence and rule with the UID (``uid_key``) of its event;
    None for free/busy periods."""

    occurrences: tuple[tuple[str | None, Occurrence], ...]
    recurring: tuple[Recurring, ...]


def _expand(
    cal: icalendar.Calendar,
    source: str,
    timezone: str,
    zone: ZoneInfo,
    span: Interval,
    email: str | None,
    clean: list[CleanEvent],
    carried: Carried | None,
) -> Expansion:
    notes: list[str] = []
    standard, floating = apply_x_wr_timezone(cal, notes)
    unknown = attach_zones(standard)
    rules = [*recurring_events(standard), *fast.recurring(clean)]
    check_rules(rules, span, source, carried=carried.load if carried else None)
    found: list[tuple[str | None, Occurrence]] = list(
        fast.occurrences(clean, span, Reading(zone, floating or zone, email))
    )
    for start, end, comp in _occurrences(standard, span, source):
        a, b = to_utc(start, zone), to_utc(end, zone)
        if in_span(a, b, span):  # else found only because the search window is padded
            occ = Occurrence(a, max(a, b), a < b and is_busy(comp, email))
            found.append((uid_key(str(comp.get("UID", ""))), occ))
    for interval in _freebusy_periods(standard, zone):
        if interval.overlaps(span):
            found.append((None, Occurrence(interval.start, interval.end, True)))
    check_found(len(found) + (carried.occurrences if carried else 0), span, source)
    for tzid in unknown:
        notes.append(f"unknown TZID {tzid!r}: its times were read in {timezone}")
    found.sort(key=lambda o: (o[1].start, o[1].end))
    parts = Parts(tuple(found), tuple(rules)) if carried is not None else None
    occurrences = tuple(o for _, o in found)
    return Expansion(span, occurrences, unknown, tuple(dict.fromkeys(notes)), parts)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def recurring_events(cal: icalendar.Calendar) -> list[Recurring]:
    """The recurring VEVENTs of ``cal`` as the expansion limits see them."""
    events = cal.walk("VEVENT")
    overrides = Counter(str(e.get("UID", "")) for e in events if "RECURRENCE-ID" in e)
    found = []
    for event in events:
        rules = _as_list(event.get("RRULE"))
        start: Any = getattr(event.get("DTSTART"), "dt", None)
        if not rules or not isinstance(start, date):
            continue
        uid = str(event.get("UID", ""))
        exdates = sum(len(getattr(x, "dts", ())) for x in _as_list(event.get("EXDATE")))
        shapes = tuple(
            rule_shape({str(k).upper(): list(v) for k, v in rule.items()}, _rule_text(rule))
            for rule in rules
        )
        found.append(Recurring(uid, naive(start), shapes, exdates + overrides[uid]))
    return found


def _rule_text(rule: Any) -> str:
    """The rule for dateutil; UNTIL is left out (the limits apply it themselves)."""
    parts = ((str(k).upper(), v) for k, v in rule.items())
    return ";".join(f"{k}={','.join(str(x) for x in v)}" for k, v in parts if k != "UNTIL")


def apply_x_wr_timezone(
    cal: icalendar.Calendar, notes: list[str]
) -> tuple[icalendar.Calendar, tzinfo | None]:
    """Google's X-WR-TIMEZONE: UTC and floating times become times in that zone
    (so a weekly series follows its zone across DST). The result has no
    X-WR-TIMEZONE left, so the recurrence library does not convert again; the
    zone is returned when it was applied."""
    value = cal.get("X-WR-TIMEZONE")
    if value is None:
        return cal, None
    zone = resolve_tzid(str(value))
    standard = cal
    if zone is None:
        notes.append(f"X-WR-TIMEZONE {str(value)!r} is not a known time zone; ignored")
    else:
        try:
            standard = x_wr_timezone.to_standard(cal, timezone=zone)
        except Exception as exc:  # the library failed on this calendar
            notes.append(f"X-WR-TIMEZONE {str(value)!r} ignored: {short(exc)}")
            zone = None
    shallow = standard.copy()
    shallow.subcomponents = standard.subcomponents
    del shallow["X-WR-TIMEZONE"]
    return shallow, zone


def reading_zone(timezone: str, source: str) -> ZoneInfo:
    zone = find_zone(timezone)
    if zone is None:
        raise CalendarError(source, f"unknown time zone {timezone!r} for reading it")
    return zone


def _occurrences(
    cal: icalendar.Calendar, window: Interval, source: str
) -> Iterator[tuple[date | datetime, date | datetime, icalendar.Event]]:
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            query = recurring_ical_events.of(cal, skip_bad_series=False)
            found = list(query.between(window.start - PAD, window.end + PAD))
    except Exception as exc:
        raise CalendarError(source, f"recurrence cannot be expanded: {short(exc)}") from None
    for event in found:
        start = event.start
        try:
            end = event.end
        except ValueError:  # icalendar's IncompleteComponent: RFC 5545 defaults
            end = start + timedelta(days=1) if not isinstance(start, datetime) else start
        yield start, end, event


def is_busy(event: icalendar.Event, email: str | None) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return not (email and _declined(event, email))


def _declined(event: icalendar.Event, email: str) -> bool:
    wanted = address(email)
    attendees = event.get("ATTENDEE")
    for att in attendees if isinstance(attendees, list) else [attendees] if attendees else []:
        if address(str(att)) == wanted:
            partstat = str(getattr(att, "params", {}).get("PARTSTAT", "")).upper()
            if partstat == "DECLINED":
                return True
    return False


def _interval(start: date | datetime, end: date | datetime, zone: tzinfo) -> Interval | None:
    a, b = to_utc(start, zone), to_utc(end, zone)
    return Interval(a, b) if a < b else None


def _freebusy_periods(cal: icalendar.Calendar, zone: tzinfo) -> Iterable[Interval]:
    for comp in cal.walk("VFREEBUSY"):
        values = comp.get("FREEBUSY")
        for period in values if isinstance(values, list) else [values] if values else []:
            fbtype = str(period.params.get("FBTYPE", "BUSY")).upper()
            if fbtype not in BUSY_FBTYPES:
                continue
            start, end_or_duration = period.dt
            end = (
                start + end_or_duration
                if isinstance(end_or_duration, timedelta)
                else end_or_duration
            )
            interval = _interval(start, end, zone)
            if interval is not None:
                yield interval
