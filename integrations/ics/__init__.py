"""Read iCalendar data into busy intervals.

Parsing (``parse_calendar``) is strict about what decides busy time and
forgiving about what cannot change it:

* errors (``CalendarError`` naming the source and the 1-based line): not an
  iCalendar object, binary data, a truncated file (a BEGIN without its END),
  text after the last END:VCALENDAR, vCalendar 1.0, a content line that cannot
  be parsed, a VEVENT without DTSTART, an unreadable date, time, duration or
  RRULE, an end before the start, a negative duration;
* repaired, with a warning: a byte-order mark, UTF-16, bytes that are not
  UTF-8 (text is replaced; times are ASCII), mixed line endings, lower-case
  component names, several VCALENDARs in one stream (RFC 5545 3.4), and a few
  known producer quirks (empty ``RRULE:``, spaces in RRULE lists, ``PT1W``,
  ``20131210Z`` dates, a quoted TZID that swallowed its value, a VTIMEZONE
  with two TZIDs).

Busy time (``busy_from_calendar``) expands recurrence with
``recurring-ical-events`` and converts everything to aware UTC datetimes.

Three readers give the same busy time, errors (with their lines) and
warnings; ``read_ics_file``/``read_ics_bytes``/``expand_ics_bytes`` take
``reader=`` ("fast" by default; ``$PANELSLOT_ICS_READER`` when the argument
is None):

* "full": the reference, icalendar + recurring-ical-events on the whole file;
* "windowed": blocks that cannot touch the span skip the full parse;
* "fast": plain events and simple rules are also read without icalendar.

Expansion is bounded on every path (``limits``): at most ``MAX_INSTANCES``
(20,000) event instances per calendar in the span, and ``MAX_RECURRENCE_STEPS``
(500,000) repetitions of its rules, checked before anything is expanded;
past them an ``ExpansionRefused`` (a ``CalendarError`` and a ``ValueError``).

Modules, by concern:

* ``lines``: bytes to logical content lines, and the repairs;
* ``structure``, ``checks``, ``parse``: the component structure, the checks
  and the full parse with icalendar;
* ``zones``: TZID resolution and local times to UTC (the DST rule itself is
  ``scheduler.localtime.wall_to_utc``, shared with the engine);
* ``busy``, ``model``: busy expansion of a parsed calendar (the full path);
* ``limits``: the expansion limits;
* ``blocks``, ``contentline``: the one-pass split into VEVENT blocks and the
  strict reader of clean ones;
* ``fast``, ``window``: the fast path and the windowed read with the switch;
* ``read``: files and bytes to busy time.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integrations.ics.busy import BUSY_FBTYPES, busy_from_calendar, expand_calendar
    from integrations.ics.checks import FREQS, SINGLE_PROPS, TIME_PROPS
    from integrations.ics.limits import (
        MAX_INSTANCES,
        MAX_RECURRENCE_STEPS,
        ExpansionRefused,
        RecurrenceTooLarge,
        TooManyInstances,
    )
    from integrations.ics.model import Expansion, ICSRead, Occurrence
    from integrations.ics.parse import parse_calendar, parse_calendar_with_warnings
    from integrations.ics.read import read_ics_bytes, read_ics_file
    from integrations.ics.structure import RRULE_PARTS
    from integrations.ics.window import READER_ENV, READERS, expand_ics_bytes, reader_mode
    from integrations.ics.zones import DATE_PROPS, local_to_utc, resolve_tzid, to_utc


_WHERE = MappingProxyType(
    {
        "BUSY_FBTYPES": "integrations.ics.busy",
        "DATE_PROPS": "integrations.ics.zones",
        "Expansion": "integrations.ics.model",
        "ExpansionRefused": "integrations.ics.limits",
        "FREQS": "integrations.ics.checks",
        "ICSRead": "integrations.ics.model",
        "MAX_INSTANCES": "integrations.ics.limits",
        "MAX_RECURRENCE_STEPS": "integrations.ics.limits",
        "Occurrence": "integrations.ics.model",
        "READERS": "integrations.ics.window",
        "READER_ENV": "integrations.ics.window",
        "RRULE_PARTS": "integrations.ics.structure",
        "RecurrenceTooLarge": "integrations.ics.limits",
        "SINGLE_PROPS": "integrations.ics.checks",
        "TIME_PROPS": "integrations.ics.checks",
        "TooManyInstances": "integrations.ics.limits",
        "busy_from_calendar": "integrations.ics.busy",
        "expand_calendar": "integrations.ics.busy",
        "expand_ics_bytes": "integrations.ics.window",
        "local_to_utc": "integrations.ics.zones",
        "parse_calendar": "integrations.ics.parse",
        "parse_calendar_with_warnings": "integrations.ics.parse",
        "read_ics_bytes": "integrations.ics.read",
        "read_ics_file": "integrations.ics.read",
        "reader_mode": "integrations.ics.window",
        "resolve_tzid": "integrations.ics.zones",
        "to_utc": "integrations.ics.zones",
    }
)


def __getattr__(name: str) -> Any:
    """The package's names, imported when first used: a process that only unpickles
    readers' results (``model``) never imports icalendar, recurring-ical-events or
    dateutil; the readers' children import them (``budget.PRELOAD``)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(where), name)


__all__ = [
    "BUSY_FBTYPES",
    "MAX_INSTANCES",
    "MAX_RECURRENCE_STEPS",
    "ExpansionRefused",
    "RecurrenceTooLarge",
    "TooManyInstances",
    "DATE_PROPS",
    "FREQS",
    "RRULE_PARTS",
    "READERS",
    "READER_ENV",
    "SINGLE_PROPS",
    "TIME_PROPS",
    "Expansion",
    "ICSRead",
    "Occurrence",
    "busy_from_calendar",
    "expand_calendar",
    "expand_ics_bytes",
    "local_to_utc",
    "parse_calendar",
    "parse_calendar_with_warnings",
    "reader_mode",
    "read_ics_bytes",
    "read_ics_file",
    "resolve_tzid",
    "to_utc",
]
