"""The times a candidate types when none of the offered ones work, read as day ranges.

``parse_ranges("Tue 9–12, Thu after 14:00")`` gives one :class:`DayRange` per day and time
range: a weekday (0 = Monday) and minutes after local midnight. Parts are separated by
commas, semicolons, "and" or new lines; a part without a day keeps the day before it
("Mon 9-11, 14:00-17:00"). Times: ``9``, ``9:30``, ``14:00``, ``2pm``, ``2:30 pm``; ranges
with a hyphen or en dash, "after 14:00" (until the end of the day), "before 10" (from its
start), a day alone (the whole day). Days: names or their first three letters, and day
spans ("Tue-Thu"). A part it cannot read raises :class:`RangeTextError` naming the part and
what to write instead. :func:`format_ranges` writes ranges back in the form it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAY_START = 6 * 60  # "before 10" starts here; the day-by-day grid covers these hours too
DAY_END = 22 * 60  # "after 14:00" ends here
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAMES = {
    **{d: i for i, d in enumerate(DAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
_DASH = r"\s*(?:-|–|—|to|until|till)\s*"
_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_RANGE_RE = re.compile(rf"^{_TIME}{_DASH}{_TIME}$")
_AFTER_RE = re.compile(rf"^(?:after|from)\s+{_TIME}$")
_BEFORE_RE = re.compile(rf"^(?:before|until|till)\s+{_TIME}$")
_DAY_RE = re.compile(
    r"^(?:on\s+|any\s*time\s+on\s+|all\s+day\s+)?([a-z]+)\.?(?:\s*(?:-|–|—|to)\s*([a-z]+)\.?)?"
)
_SPLIT_RE = re.compile(r"\s*(?:,|;|\n|\band\b|\bor\b)\s*")
HINT = 'write a day and a time range, like "Tue 9–12", "Thu after 14:00" or "Wed before 10"'


@dataclass(frozen=True, order=True)
class DayRange:
    weekday: int  # 0 = Monday
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight, > start, at most 24:00


class RangeTextError(ValueError):
    """A part of the text could not be read: ``part`` as typed and ``hint`` what to write."""

    def __init__(self, part: str, hint: str) -> None:
        self.part = part
        self.hint = hint
        super().__init__(f"could not read “{part}”: {hint}")


def _minutes(part: str, hour: str, minute: str | None, half: str | None) -> int:
    h, m = int(hour), int(minute or 0)
    if half:
        if not 1 <= h <= 12:
            raise RangeTextError(part, f"{h}{half} is not a time; use 1–12 with am/pm")
        h = h % 12 + (12 if half.startswith("p") else 0)
    if m >= 60 or h > 24 or (h == 24 and m):
        raise RangeTextError(part, "a time is HH:MM between 00:00 and 24:00, like 14:30")
    return h * 60 + m


def _time_range(part: str, text: str) -> tuple[int, int]:
    """The minutes of "9-12", "after 14:00", "before 10" or "" (the whole day)."""
    if not text:
        return DAY_START, DAY_END
    if m := _AFTER_RE.match(text):
        return _minutes(part, *m.groups()), DAY_END
    if m := _BEFORE_RE.match(text):
        return DAY_START, _minutes(part, *m.groups())
    m = _RANGE_RE.match(text)
    if m is None:
        raise RangeTextError(part, HINT)
    h1, m1, half1, h2, m2, half2 = m.groups()
    end = _minutes(part, h2, m2, half2)
    if half1 is None and half2 is not None and 1 <= int(h1) <= 12:
        # "2-5pm": the start shares the end's half of the day when that keeps it earlier
        pm = _minutes(part, h1, m1, half2)
        return (pm if pm < end else _minutes(part, h1, m1, None)), end
    return _minutes(part, h1, m1, half1), end


def _day(word: str) -> int | None:
    """The weekday a word names ("tue", "Tuesday", "Tuesdays"), or None."""
    if word not in _NAMES and word.endswith("s"):
        word = word[:-1]
    return _NAMES.get(word)


def _days(part: str, text: str) -> tuple[tuple[int, ...] | None, str]:
    """The weekdays a part names (None: no day, keep the previous one) and the rest."""
    m = _DAY_RE.match(text)
    first = _day(m.group(1)) if m else None
    if m is None or first is None:
        return None, text
    if m.group(2) is None:
        return (first,), text[m.end() :].strip()
    last = _day(m.group(2))
    if last is None:
        raise RangeTextError(part, f"“{m.group(2)}” is not a day; write Mon, Tue, … Sun")
    span = tuple((first + n) % 7 for n in range((last - first) % 7 + 1))
    return span, text[m.end() :].strip()


def parse_ranges(text: str) -> list[DayRange]:
    """The day ranges written in ``text`` (sorted, duplicates removed)."""
    found: set[DayRange] = set()
    days: tuple[int, ...] | None = None
    for raw in _SPLIT_RE.split(text.strip()):
        part = raw.strip()
        if not part:
            continue
        named, rest = _days(part, part.lower())
        days = named or days
        if days is None:
            raise RangeTextError(part, f"say which day first, like “Tue {part}”")
        start, end = _time_range(part, rest.strip())
        if end <= start:
            raise RangeTextError(part, "the end must be after the start, like 9–12")
        found.update(DayRange(d, start, end) for d in days)
    if not found:
        raise RangeTextError(text.strip(), HINT)
    return sorted(found)


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_ranges(ranges: list[DayRange]) -> str:
    """Ranges written as :func:`parse_ranges` reads them: "Tue 09:00–12:00, Thu 14:00–22:00"."""
    return ", ".join(
        f"{DAYS[r.weekday].title()} {clock(r.start)}–{clock(r.end)}" for r in sorted(ranges)
    )
