"""The windowed read: only the blocks that can matter go through icalendar.

One pass splits the file into VEVENT blocks (``blocks.split``) before
icalendar sees it. A block is left out of the full parse when it is a *clean*
event (``blocks.read_event``: every line understood, so the full path could
neither raise nor warn on it) with a UID of its own and:

* it is a single event wholly outside the span, with a margin of 16 hours
  for all-day and floating times in any zone (-14h..+14h, plus DST): it is
  skipped;
* or (reader "fast") it is a single event or a simple rule (fixed period,
  SECONDLY to WEEKLY, with INTERVAL, COUNT or UNTIL, plain BYDAY days and
  EXDATEs written like DTSTART): ``fast`` expands it instead of icalendar +
  recurring-ical-events.

Everything else takes the full path with the file's header and zones:
other recurring masters, RECURRENCE-ID overrides and every block sharing
their UID, RDATE, repeated or unknown properties, nested components (the
"fast" reader alone also reads VALARMs it fully understands: they never
change busy time), anything odd. The repairs and checks run on what is kept,
with the original line numbers, so warnings are the full path's. If that
raises a ``CalendarError`` (other than a refused expansion, which both paths
decide from the same rules), the whole file is read again on the full path
so the error, and its line, are exactly the reference's.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integrations.errors import CalendarError
from integrations.ics.blocks import CleanEvent, FileZones, read_event, shared_uids, split
from integrations.ics.busy import Carried, expand_calendar
from integrations.ics.limits import ExpansionRefused, naive
from integrations.ics.lines import Line, decode, logical_lines, repair, short
from integrations.ics.model import Expansion
from integrations.ics.parse import parse_calendar_with_warnings, parse_lines
from scheduler.model import Interval

log = logging.getLogger(__name__)
READERS = ("fast", "windowed", "full")
READER_ENV = "PANELSLOT_ICS_READER"
_MARGIN = timedelta(hours=16)


def reader_mode(reader: str | None = None) -> str:
    """The reader to use: the argument, else ``$PANELSLOT_ICS_READER``, else "fast"."""
    chosen = reader or os.environ.get(READER_ENV) or "fast"
    if chosen not in READERS:
        raise ValueError(f"unknown ICS reader {chosen!r}; expected one of {', '.join(READERS)}")
    return chosen


@dataclass
class Plan:
    kept: list[Line]  # lines for the full path (header, zones, unusual blocks)
    clean: list[CleanEvent] = field(default_factory=list)  # for the fast path
    skipped: int = 0


def plan(lines: list[Line], span: Interval, *, fast: bool) -> Plan | None:
    """Which blocks to skip, to read fast, and to parse fully; None: parse all."""
    found = split(lines)
    if found is None:
        return None
    shared = shared_uids(found.segments)
    zones = FileZones(found.tzids)
    result = Plan([])
    kept_from = 0
    for seg in found.segments:
        if not seg.plain or seg.uid is None or seg.uid in shared or (seg.alarms and not fast):
            continue
        event = read_event(lines[seg.first : seg.last + 1], zones)
        if event is None:
            continue
        if event.rule is None and _outside(event, span):
            result.skipped += 1
        elif fast and _fast_ok(event, found.x_wr):
            result.clean.append(event)
        else:
            continue
        result.kept += lines[kept_from : seg.first]
        kept_from = seg.last + 1
    result.kept += lines[kept_from:]
    return result


def _outside(event: CleanEvent, span: Interval) -> bool:
    start = naive(event.start.value)
    end = start
    if event.end is not None:
        end = naive(event.end.value)
    elif event.duration is not None:
        end = start + event.duration
    elif event.start.kind == "date":
        end = start + timedelta(days=1)
    return end + _MARGIN < naive(span.start) or start - _MARGIN > naive(span.end)


def _fast_ok(event: CleanEvent, x_wr: bool) -> bool:
    """X-WR-TIMEZONE moves UTC and floating series onto its zone's wall clock: those
    stay on the full path (single events keep their instant, or follow the zone)."""
    start = event.start
    if event.rule is None or not x_wr or start.kind == "date":
        return True
    if start.kind != "tzid" or not isinstance(start.value, datetime):
        return False
    name = start.value.replace(tzinfo=start.zone).tzname()
    return name is not None and name.upper() != "UTC"


def expand_ics_bytes(
    data: bytes,
    *,
    source: str,
    timezone: str,
    span: Interval,
    email: str | None = None,
    reader: str | None = None,
) -> tuple[Expansion, tuple[str, ...]]:
    """Every occurrence of an ICS document in ``span``, and the parse warnings.

    ``reader`` picks the path (see ``reader_mode``): "full" is the reference
    (icalendar + recurring-ical-events on the whole file); "windowed" skips
    blocks that cannot touch ``span``; "fast" (the default) also reads plain
    events itself. All three give the same busy time, errors and warnings.
    """
    mode = reader_mode(reader)
    failed: CalendarError | None = None
    if mode != "full":
        try:
            found = _read_windowed(data, source, timezone, span, email, fast=mode == "fast")
        except ExpansionRefused:
            raise
        except CalendarError as exc:
            found, failed = None, exc  # the reference reports it, exactly
        if found is not None:
            return found
    cal, notes = parse_calendar_with_warnings(data, source)
    expansion = expand_calendar(cal, source=source, timezone=timezone, span=span, email=email)
    if failed is not None:  # a defect of the windowed reader: the reference read the file
        log.warning("ICS %s reader failed where the full path did not: %s", mode, failed)
    return expansion, notes


def _read_windowed(
    data: bytes, source: str, timezone: str, span: Interval, email: str | None, *, fast: bool
) -> tuple[Expansion, tuple[str, ...]] | None:
    notes: list[str] = []
    try:
        lines = logical_lines(decode(data, source, notes), source, notes)
    except CalendarError:
        raise
    except Exception as exc:  # as parse_calendar_with_warnings does
        raise CalendarError(source, f"cannot be read: {short(exc)}") from None
    found = read_lines(lines, notes, source, timezone, span, email, fast=fast)
    return None if found is None else (found, tuple(dict.fromkeys(notes)))


def read_lines(
    lines: list[Line],
    notes: list[str],
    source: str,
    timezone: str,
    span: Interval,
    email: str | None,
    *,
    fast: bool,
    carried: Carried | None = None,
) -> Expansion | None:
    """The windowed read of a file's logical ``lines`` (or of a part of them with their
    header and zones, ``carried`` counting the rest); repairs are added to ``notes``.
    None when the structure is broken (the full path reports it)."""
    try:
        chosen = plan(lines, span, fast=fast)
        if chosen is None:
            return None
        cal = parse_lines(repair(chosen.kept, notes), source, notes)
    except CalendarError:
        raise
    except Exception as exc:  # as parse_calendar_with_warnings does
        raise CalendarError(source, f"cannot be read: {short(exc)}") from None
    return expand_calendar(
        cal,
        source=source,
        timezone=timezone,
        span=span,
        email=email,
        clean=chosen.clean,
        carried=carried,
    )
