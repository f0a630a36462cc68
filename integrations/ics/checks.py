"""Checks of the components icalendar parsed: what decides busy time must be readable."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar

from integrations.errors import CalendarError
from integrations.ics.lines import Line
from integrations.ics.structure import RRULE_PARTS, Block

# Properties whose values decide when an event is busy.
TIME_PROPS = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "FREEBUSY"}
)
SINGLE_PROPS = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "UID", "STATUS", "TRANSP")
FREQS = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})

LineOf = Callable[[icalendar.cal.Component, str | None], int | None]


def guess_line(exc: BaseException, lines: list[Line]) -> int | None:
    """The line an icalendar error message quotes, when it quotes one."""
    message = str(exc)
    candidates = re.findall(r"'([^']{3,})'", message) + re.findall(r":\s*(\S{6,})\s*$", message)
    for needle in candidates:
        for line in lines:
            if needle in line.text:
                return line.number
    return None


def check_components(
    cal: icalendar.Calendar,
    blocks: list[Block],
    lines: list[Line],
    source: str,
    notes: list[str],
) -> None:
    """Raise on the first component whose busy time cannot be known; note the rest."""
    components = list(cal.walk())
    mapped = len(components) == len(blocks) - _extra_calendars(cal)
    block_of = _map_blocks(components, blocks) if mapped else {}

    def line_of(comp: icalendar.cal.Component, prop: str | None) -> int | None:
        block = block_of.get(id(comp))
        if block is None:
            return None
        if prop is None:
            return block.begin
        found = block.props.get(prop)
        return found[0] if found else block.begin

    for comp in components:
        _check_errors(comp, lines, source, notes, line_of)
        if comp.name == "VEVENT":
            _check_event(comp, block_of.get(id(comp)), source, line_of)


def _check_errors(
    comp: icalendar.cal.Component,
    lines: list[Line],
    source: str,
    notes: list[str],
    line_of: LineOf,
) -> None:
    for prop, message in getattr(comp, "errors", []):
        if prop is None:
            bad = guess_line(ValueError(message), lines)
            quoted = re.search(r"'([^']*)'", message)
            shown = quoted.group(1)[:60] if quoted else message[:60]
            raise CalendarError(
                source,
                f"not a NAME:value line: {shown!r} (a multi-line value that was not folded?)",
                bad,
            )
        if comp.name in ("VEVENT", "VFREEBUSY") and prop.upper() in TIME_PROPS:
            raise CalendarError(
                source, f"{prop} cannot be read: {message[:120]}", line_of(comp, prop)
            )
        notes.append(f"{comp.name} {prop} ignored: {message[:80]}")


def _check_event(
    comp: icalendar.cal.Component, block: Block | None, source: str, line_of: LineOf
) -> None:
    for prop in SINGLE_PROPS:
        if isinstance(comp.get(prop), list):
            lines_of = block.props.get(prop, []) if block else []
            raise CalendarError(
                source,
                f"{prop} appears more than once in one VEVENT",
                lines_of[1] if len(lines_of) > 1 else line_of(comp, prop),
            )
    if "DTSTART" not in comp:
        raise CalendarError(source, "VEVENT without DTSTART", line_of(comp, None))
    start: Any = getattr(comp["DTSTART"], "dt", None)
    end: Any = getattr(comp.get("DTEND"), "dt", None)
    duration: Any = getattr(comp.get("DURATION"), "dt", None)
    if isinstance(start, date) and isinstance(end, date) and _comparable(end) < _comparable(start):
        raise CalendarError(source, "DTEND is before DTSTART", line_of(comp, "DTEND"))
    if isinstance(duration, timedelta) and duration < timedelta(0):
        raise CalendarError(source, "negative DURATION", line_of(comp, "DURATION"))
    rrules = comp.get("RRULE")
    for rule in rrules if isinstance(rrules, list) else [rrules] if rrules else []:
        unknown = [k for k in rule if k.upper() not in RRULE_PARTS and not k.startswith("X-")]
        if unknown or "FREQ" not in rule or str(rule["FREQ"][0]).upper() not in FREQS:
            what = ", ".join(unknown) if unknown else "FREQ missing or invalid"
            raise CalendarError(source, f"RRULE cannot be read ({what})", line_of(comp, "RRULE"))


def _extra_calendars(cal: icalendar.Calendar) -> int:
    """Merged streams lose their inner VCALENDAR wrappers (but keep one)."""
    merged = cal.get("X-PANELSLOT-MERGED")
    return int(merged) - 1 if merged else 0


def _map_blocks(components: list[icalendar.cal.Component], blocks: list[Block]) -> dict[int, Block]:
    inner = [b for b in blocks[1:] if b.name != "VCALENDAR"]
    result = {id(components[0]): blocks[0]}
    result.update({id(c): b for c, b in zip(components[1:], inner, strict=False)})
    return result


def _comparable(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(UTC).replace(tzinfo=None)
        )
    return datetime.combine(value, time())
