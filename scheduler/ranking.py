"""How good an option is, and which options to show first.

The score is a weighted mean in [0, 1] of four parts (documented in the
README): comfort of every person's local clock, compactness of the loop,
how lightly loaded the chosen interviewers are, and how soon it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

WEIGHTS = {"comfort": 0.45, "compact": 0.20, "load": 0.20, "soon": 0.15}
CORE_START = 9 * 60  # the comfortable part of anyone's day, local clock
CORE_END = 17 * 60
EDGE_MINUTES = 60  # closer than this to the edge of someone's hours costs comfort
CLOCK_MINUTES = 180  # this far outside the core day, the clock part reaches zero


def comfort_at(begin: int, start: int, end: int, range_start: int, range_end: int) -> float:
    """The comfort of a seat: half its distance from the range's edges, half its local
    clock (``begin``, minutes after local midnight) against the core day."""
    before, after = start - range_start, range_end - end
    ratio = (before if before <= after else after) / 60 / EDGE_MINUTES
    edge = 1.0 if ratio >= 1.0 else (ratio if ratio > 0.0 else 0.0)
    finish = begin + (end - start) // 60
    outside = (CORE_START - begin if begin < CORE_START else 0) + (
        finish - CORE_END if finish > CORE_END else 0
    )
    clock = 1 - outside / CLOCK_MINUTES
    return 0.5 * edge + 0.5 * (clock if clock > 0.0 else 0.0)


def comfort(values: Sequence[float]) -> float:
    """The comfort part from every seat's :func:`comfort_at`."""
    return 0.5 * sum(values) / len(values) + 0.5 * min(values)


def compactness(busy_seconds: int, span_seconds: int) -> float:
    return busy_seconds / span_seconds if span_seconds else 1.0


def soonness(day_index: int, day_count: int) -> float:
    return 1.0 - day_index / (day_count - 1) if day_count > 1 else 1.0


def score(comfort: float, compact: float, load: float, soon: float) -> float:
    """The weighted mean of the four parts, rounded to 4 places (summed in this order:
    the score is the same float, bit for bit, as before issue 9)."""
    total = WEIGHTS["comfort"] * comfort + WEIGHTS["compact"] * compact
    return round(total + WEIGHTS["load"] * load + WEIGHTS["soon"] * soon, 4)


class Ranked(NamedTuple):
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
