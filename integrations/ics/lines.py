"""Bytes to logical content lines: decoding, unfolding and the producer repairs.

Every ``Line`` keeps the 1-based physical line where it starts, so errors and
warnings name the line of the file a person can open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from integrations.errors import CalendarError


@dataclass(slots=True)
class Line:
    number: int  # 1-based physical line where this logical line starts
    text: str


def short(exc: BaseException) -> str:
    """An exception as one short line for a message."""
    msg = str(exc).replace("\n", " ").strip() or type(exc).__name__
    return msg[:160]


def decode(data: bytes, source: str, notes: list[str]) -> str:
    if not data.strip():
        raise CalendarError(source, "the file is empty; expected an iCalendar (.ics) file", 1)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append("encoded as UTF-16; read anyway (iCalendar should be UTF-8)")
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CalendarError(
                source, "broken UTF-16 text", line_of_offset(data, exc.start)
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = line_of_offset(data, exc.start)
        notes.append(f"line {line}: bytes that are not UTF-8 were replaced in text fields")
        text = data.decode("utf-8", errors="replace")
    return text


def line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


_BREAK = re.compile(r"\r\n|\n|\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_LF = re.compile(r"(?<!\r)\n")


def split_lines(text: str) -> list[str]:
    return _BREAK.split(text)


def logical_lines(text: str, source: str, notes: list[str]) -> list[Line]:
    """Unfold ``text`` into content lines, after checking it is an iCalendar text."""
    physical = split_lines(text)
    if "\r\n" in text and _LONE_LF.search(text):
        notes.append("mixed line endings (CRLF and LF); read anyway")
    first = next((i for i, raw in enumerate(physical) if raw.strip()), 0)
    head = physical[first].strip()
    if head.upper() != "BEGIN:VCALENDAR":
        shown = head[:40] + ("..." if len(head) > 40 else "")
        raise CalendarError(
            source, f"not an iCalendar file: expected BEGIN:VCALENDAR, found {shown!r}", first + 1
        )
    bad = _CONTROL.search(text)
    if bad is not None:
        raise CalendarError(
            source,
            f"control character 0x{ord(bad.group()):02X} in the text: this is not a text "
            "iCalendar file (damaged or binary)",
            len(split_lines(text[: bad.start()])),
        )
    lines: list[Line] = []
    append = lines.append
    for number, raw in enumerate(physical, start=1):
        if not raw:
            continue
        if raw[0] in " \t":
            if lines:
                lines[-1].text += raw[1:]
            elif raw.strip():
                append(Line(number, raw))
        elif raw[0].isalpha() or raw.strip():
            append(Line(number, raw))
    return lines


_SWALLOWED = re.compile(r'^([A-Za-z-]+);TZID="([^":]*):([0-9TZ]{8,16})"\s*:?\s*$')
_WEEKLESS = re.compile(r"^(DURATION[^:]*:[+-]?P)T(\d+W)$", re.IGNORECASE)
_DATE_Z = re.compile(r"(?<![0-9T])(\d{8})Z(?=,|$)")
_NAME = re.compile(r"[;:]")


def repair(lines: list[Line], notes: list[str]) -> list[Line]:
    """Fix producer quirks whose meaning is unambiguous."""
    out: list[Line] = []
    in_vtimezone = False
    seen_tzid = False
    for line in lines:
        name = prop_name(line.text)
        if name in ("BEGIN", "END"):
            value = line.text.split(":", 1)[-1].strip().upper()
            if value == "VTIMEZONE":
                in_vtimezone, seen_tzid = name == "BEGIN", False
            out.append(Line(line.number, f"{name}:{value}"))
            continue
        if name == "TZID" and in_vtimezone:
            if seen_tzid:
                notes.append(f"line {line.number}: second TZID in one VTIMEZONE ignored")
            else:
                seen_tzid = True
                out.append(line)
            continue
        text = repair_line(line, name, notes)
        if text is not None:
            out.append(Line(line.number, text) if text is not line.text else line)
    return out


def _empty_rrule(line: Line, name: str) -> bool:
    return name == "RRULE" and not line.text.split(":", 1)[-1].strip()


def repair_line(line: Line, name: str, notes: list[str]) -> str | None:
    """One content line repaired (None: drop it); notes say what was done."""
    text = line.text
    if _empty_rrule(line, name):
        notes.append(f"line {line.number}: empty RRULE ignored")
        return None
    if name == "RRULE" and " " in text.split(":", 1)[-1]:
        head, value = split_value(text)
        notes.append(f"line {line.number}: spaces removed from RRULE")
        return f"{head}:{value.replace(' ', '')}"
    if (m := _SWALLOWED.match(text)) is not None:
        notes.append(f"line {line.number}: value recovered from inside the quoted TZID")
        return f'{m.group(1)};TZID="{m.group(2)}":{m.group(3)}'
    if name == "DURATION" and (m := _WEEKLESS.match(text)) is not None:
        notes.append(f"line {line.number}: duration with 'T' before weeks read as weeks")
        return m.group(1) + m.group(2)
    if name in ("RDATE", "EXDATE") and _DATE_Z.search(text.split(":", 1)[-1]):
        head, value = split_value(text)
        notes.append(f"line {line.number}: 'Z' after a date-only value ignored")
        return head + ":" + _DATE_Z.sub(r"\1", value)
    return text


def prop_name(text: str) -> str:
    return _NAME.split(text, maxsplit=1)[0].strip().upper()


def split_value(text: str) -> tuple[str, str]:
    """Split a content line at the first colon outside quotes."""
    if '"' not in text:
        head, _, value = text.partition(":")
        return head, value
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return text[:i], text[i + 1 :]
    return text, ""
