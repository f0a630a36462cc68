"""The component structure of a calendar's lines, checked before icalendar sees them."""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.errors import CalendarError
from integrations.ics.lines import Line, prop_name, split_value

RRULE_PARTS = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
        "RSCALE",
        "SKIP",
    }
)


@dataclass
class Block:
    """One component in document order (pre-order), for line lookups."""

    name: str
    begin: int
    props: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class _Walk:
    source: str
    stack: list[tuple[str, int]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    open_blocks: list[Block] = field(default_factory=list)
    closed_once: bool = False


def check_structure(lines: list[Line], source: str) -> list[Block]:
    """Every BEGIN has its END, nothing follows the last END:VCALENDAR, VERSION is 2.0,
    every RRULE has readable parts; the blocks found, in document order."""
    walk = _Walk(source)
    for line in lines:
        name = prop_name(line.text)
        value = split_value(line.text)[1].strip().upper()
        if not walk.stack and walk.closed_once and (name, value) != ("BEGIN", "VCALENDAR"):
            raise CalendarError(
                source, f"text after END:VCALENDAR: {line.text[:40]!r}", line.number
            )
        if name == "BEGIN":
            _begin(walk, value, line)
        elif name == "END":
            _end(walk, value, line)
        elif walk.open_blocks:
            _property(walk, name, line)
    if walk.stack:
        opened, at = walk.stack[-1]
        last = lines[-1].number if lines else 1
        raise CalendarError(
            source,
            f"the file ends inside BEGIN:{opened} from line {at} (truncated?)",
            last,
        )
    return walk.blocks


def _begin(walk: _Walk, value: str, line: Line) -> None:
    walk.stack.append((value, line.number))
    block = Block(value, line.number)
    walk.blocks.append(block)
    walk.open_blocks.append(block)


def _end(walk: _Walk, value: str, line: Line) -> None:
    if not walk.stack:
        raise CalendarError(walk.source, f"END:{value} without a BEGIN", line.number)
    if walk.stack[-1][0] != value:
        opened, at = walk.stack[-1]
        raise CalendarError(
            walk.source,
            f"END:{value} found while BEGIN:{opened} (line {at}) is still open",
            line.number,
        )
    walk.stack.pop()
    walk.open_blocks.pop()
    walk.closed_once = walk.closed_once or not walk.stack


def _property(walk: _Walk, name: str, line: Line) -> None:
    block = walk.open_blocks[-1]
    block.props.setdefault(name, []).append(line.number)
    if name == "RRULE":
        check_rrule_text(split_value(line.text)[1], walk.source, line.number)
    if name == "VERSION" and block.name == "VCALENDAR":
        version = split_value(line.text)[1].strip()
        if version != "2.0":
            raise CalendarError(
                walk.source,
                f"VERSION:{version} is not iCalendar 2.0 (vCalendar 1.0 is not "
                "supported); export the calendar as iCalendar 2.0",
                line.number,
            )


def check_rrule_text(value: str, source: str, line: int) -> None:
    """icalendar drops RRULE parts it cannot read; a busy reader must not."""
    keys = []
    for part in value.strip().strip(";").split(";"):
        key, eq, _ = part.partition("=")
        if not eq or not (key.upper() in RRULE_PARTS or key.upper().startswith("X-")):
            raise CalendarError(source, f"RRULE cannot be read: bad part {part[:40]!r}", line)
        keys.append(key.upper())
    if "FREQ" not in keys:
        raise CalendarError(source, "RRULE without FREQ", line)
