"""How good an option is, and which options to show first.

The score is a weighted mean in [0, 1] of four parts (documented in the
README): comfort of every person's local clock, compactness of the loop,
how lightly loaded the chosen interviewers are, and how soon it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

WEIGHTS = {"comfort": 0.45, "compact": 0.20, "load": 0.20, "soon": 0.15}
CORE_START = 9 * 60  # the comfortable part of anyone's day, local clock
CORE_END = 17 * 60
EDGE_MINUTES = 60  # closer than this to the edge of someone's hours costs comfort
CLOCK_MINUTES = 180  # this far outside the core day, the clock part reaches zero


@dataclass(frozen=True)
class Seat:
    """One person in one span of the option: their zone and their range's edges."""

    tz: ZoneInfo
    start: int
    end: int
    range_start: int
    range_end: int


def local_minute(moment: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(moment, tz=UTC).astimezone(tz)
    return local.hour * 60 + local.minute


def seat_comfort(seat: Seat) -> float:
    margin = min(seat.start - seat.range_start, seat.range_end - seat.end) / 60
    edge = max(0.0, min(1.0, margin / EDGE_MINUTES))
    begin = local_minute(seat.start, seat.tz)
    finish = begin + (seat.end - seat.start) // 60
    outside = max(0, CORE_START - begin) + max(0, finish - CORE_END)
    clock = max(0.0, 1 - outside / CLOCK_MINUTES)
    return 0.5 * edge + 0.5 * clock


def comfort(seats: Sequence[Seat]) -> float:
    values = [seat_comfort(s) for s in seats]
    return 0.5 * sum(values) / len(values) + 0.5 * min(values)


def compactness(busy_seconds: int, span_seconds: int) -> float:
    return busy_seconds / span_seconds if span_seconds else 1.0


def soonness(day_index: int, day_count: int) -> float:
    return 1.0 - day_index / (day_count - 1) if day_count > 1 else 1.0


def combine(parts: dict[str, float]) -> float:
    return round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)


@dataclass(frozen=True)
class Ranked:
    """An option with what selection needs: score, candidate-local day, start."""

    score: float
    day_index: int
    start: int
    end: int
    key: tuple[object, ...]


def _order(item: Ranked) -> tuple[float, int, tuple[object, ...]]:
    return (-item.score, item.start, item.key)


def select(items: Sequence[Ranked], limit: int) -> list[Ranked]:
    """Best first; with a limit, every day gets a turn before any day gets a second."""
    ranked = sorted(items, key=_order)
    if limit <= 0 or len(ranked) <= limit:
        return ranked
    chosen: list[Ranked] = []
    remaining = ranked
    strict = True
    while len(chosen) < limit and remaining:
        picked = _one_round(remaining, chosen, limit, strict)
        if not picked:
            if not strict:
                break
            strict = False
            continue
        chosen.extend(picked)
        taken = {id(p) for p in picked}
        remaining = [r for r in remaining if id(r) not in taken]
    return sorted(chosen, key=_order)


def _one_round(
    remaining: Sequence[Ranked], chosen: Sequence[Ranked], limit: int, strict: bool
) -> list[Ranked]:
    """The best remaining option of each day, spaced from that day's earlier picks."""
    picked: list[Ranked] = []
    days_done: set[int] = set()
    for item in remaining:
        if len(chosen) + len(picked) >= limit:
            break
        if item.day_index in days_done:
            continue
        if strict and _crowded(item, [*chosen, *picked]):
            continue
        picked.append(item)
        days_done.add(item.day_index)
    return picked


def _crowded(item: Ranked, chosen: Sequence[Ranked]) -> bool:
    gap = max(item.end - item.start, 3600)
    return any(
        other.day_index == item.day_index and abs(other.start - item.start) < gap
        for other in chosen
    )
