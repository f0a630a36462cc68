"""A numpy minute-bitmap solver: the baseline of Panel A in ``bench_engine.py``.

It solves one-session loops whose whole pool is required, as a competent numpy
user would: one boolean array per interviewer with a slot per minute of the
window, working ranges and busy time painted in, a sliding-window sum for
"free for the session plus its buffers", and the AND over the pool; then the
grid, the notice and the candidate's hours. Busy intervals are first cut to
the window in Python (two comparisons each), so that only the few near it are
converted. It returns the set of valid starts (aware UTC datetimes), which the
benchmark compares with the engine's. Needs numpy (``pip install '.[bench]'``).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

DAY = timedelta(days=1)


def wall_minute(day: date, minute: int, tz: ZoneInfo) -> int:
    """POSIX minute of a local wall time (a time in a DST gap takes the offset before it)."""
    if minute == 1440:
        day, minute = day + DAY, 0
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
    return int(local.timestamp()) // 60


def _painted(size: int, origin: int, spans: list[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    for low, high in spans:
        low, high = max(low - origin, 0), min(high - origin, size)
        if low < high:
            mask[low:high] = True
    return mask


def _person(iv, busy, origin: int, size: int, need: int, pad: tuple[int, int], days) -> np.ndarray:
    tz = ZoneInfo(iv.timezone)
    starts = []  # [first, last + 1) minutes where a session fits one working range
    for day in days:
        for start, end in iv.working_hours.on(day.weekday()):
            low, high = wall_minute(day, start, tz), wall_minute(day, end, tz)
            if high - need >= low:
                starts.append((low, high - need + 1))
    ok = _painted(size, origin, starts)
    window_start = datetime.fromtimestamp(origin * 60, UTC)
    window_end = datetime.fromtimestamp((origin + size) * 60, UTC)
    near = [b for b in busy if b.start < window_end and b.end > window_start]
    if not near:
        return ok
    first = np.fromiter((math.floor(b.start.timestamp() / 60) for b in near), np.int64, len(near))
    last = np.fromiter((math.ceil(b.end.timestamp() / 60) for b in near), np.int64, len(near))
    first, last = np.clip(first - origin, 0, size), np.clip(last - origin, 0, size)
    depth = np.bincount(first, minlength=size + 1) - np.bincount(last, minlength=size + 1)
    taken = np.cumsum(depth[:size]) > 0
    before, after = pad
    width = before + need + after
    counts = np.empty(size + 1, dtype=np.int64)
    counts[0] = 0
    np.cumsum(taken, out=counts[1:])
    clear = counts[width:] == counts[:-width]  # no busy minute in [t - before, t + need + after)
    free = np.zeros(size, dtype=bool)
    free[before : before + len(clear)] = clear
    return ok & free


def bitmap_starts(
    loop,
    interviewers,
    busy,
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int],
) -> set[datetime]:
    """Every valid start of a one-session, all-required ``loop`` (minute resolution)."""
    (spec,) = loop.sessions
    rules = loop.settings
    need = spec.duration_minutes
    pad = (rules.buffer_before_minutes, rules.buffer_after_minutes)
    tz = ZoneInfo(candidate_tz)
    origin = wall_minute(date_from - DAY, 0, tz) - pad[0]
    size = wall_minute(date_to + 2 * DAY, 0, tz) + pad[1] - origin
    count = (date_to - date_from).days + 5
    days = [date_from - 2 * DAY + k * DAY for k in range(count)]
    ok = np.ones(size, dtype=bool)
    for member in spec.pool:
        ok &= _person(interviewers[member], busy.get(member, ()), origin, size, need, pad, days)
    minutes = origin + np.arange(size, dtype=np.int64)
    ok &= minutes % 1440 % rules.granularity_minutes == 0
    ok &= minutes * 60 >= (now + timedelta(hours=rules.min_notice_hours)).timestamp()
    hours = []
    day = date_from
    while day <= date_to:
        low = wall_minute(day, candidate_hours[0], tz)
        high = wall_minute(day, candidate_hours[1], tz)
        if high - need >= low:
            hours.append((low, high - need + 1))
        day += DAY
    ok &= _painted(size, origin, hours)
    return {datetime.fromtimestamp(int(m) * 60, UTC) for m in minutes[ok]}
