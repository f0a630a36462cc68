"""Multi-day loops: the blocks of a loop (its sessions grouped by ``day``) on later
candidate-local dates.

Each block is searched on its own by the one-day search (``search`` below); the
blocks are then chained by date: a block's date is ``min_days_between`` to
``max_days_between`` candidate-local days after the one before it (Saturday and
Sunday neither counted nor used with ``skip_weekends``), and an interviewer who sits
in two blocks does so on two of their own local dates, with the buffers between,
within their weekly cap. With a limit, each first-block option keeps its best chain
(a branch-and-bound walk over the later blocks, best first); when that gives fewer
than ``limit``, every chain of every block option is listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from scheduler.clock import EPOCH_ORDINAL, LocalClock
from scheduler.intervals import to_seconds
from scheduler.localtime import zone
from scheduler.model import Interval, Interviewer, Loop, Option
from scheduler.ranking import WEIGHTS, Ranked, soonness

# One block's option: its rank (from the one-day search), the option, its candidate date.
Piece = tuple[Ranked, Option, date]

# The one-day search of a block: (block loop, every) -> its pieces; ``every`` lists
# every order, timing and staffing, otherwise each first start's best.
Search = Callable[[Loop, bool], list[Piece]]


def days_between(first: date, second: date, skip_weekends: bool) -> int:
    """Candidate-local days from ``first`` to ``second``, weekends left out if asked."""
    total = (second - first).days
    if not skip_weekends or total <= 0:
        return total
    return sum(1 for k in range(1, total + 1) if (first + timedelta(days=k)).weekday() < 5)


def block_loops(loop: Loop) -> list[Loop]:
    """One loop per block, holding that block's sessions."""
    return [replace(loop, sessions=block) for block in loop.blocks()]


@dataclass
class Chains:
    """What chaining needs: the loop, its people and their booked interviews."""

    loop: Loop
    interviewers: Mapping[str, Interviewer]
    booked: Mapping[str, Sequence[Interval]]
    day_count: int
    _clocks: dict[str, LocalClock] = field(default_factory=dict)
    _weeks: dict[tuple[str, tuple[int, int]], int] = field(default_factory=dict)
    _follows: dict[tuple[date, date], bool] = field(default_factory=dict)

    def _clock(self, person: str) -> LocalClock:
        tz = self.interviewers[person].timezone
        if tz not in self._clocks:
            self._clocks[tz] = LocalClock(zone(tz))
        return self._clocks[tz]

    def _local_date(self, person: str, moment: int) -> date:
        return date.fromordinal(self._clock(person).day(moment) + EPOCH_ORDINAL)

    def _week(self, person: str, moment: int) -> tuple[int, int]:
        year, week, _ = self._local_date(person, moment).isocalendar()
        return year, week

    def _booked_in(self, person: str, week: tuple[int, int]) -> int:
        key = (person, week)
        if key not in self._weeks:
            mine = self.booked.get(person, ())
            self._weeks[key] = sum(
                1 for b in mine if self._week(person, to_seconds(b.start)) == week
            )
        return self._weeks[key]

    def dates_follow(self, before: date, after: date) -> bool:
        key = (before, after)
        if key not in self._follows:
            self._follows[key] = self._follow(before, after)
        return self._follows[key]

    def _follow(self, before: date, after: date) -> bool:
        loop = self.loop
        total = (after - before).days
        if total < loop.min_days_between or 5 * (total // 7) > loop.max_days_between:
            return False  # too close, or too far even without weekends (5 in every 7 days)
        if loop.skip_weekends and after.weekday() >= 5:
            return False
        gap = days_between(before, after, loop.skip_weekends)
        return loop.min_days_between <= gap <= loop.max_days_between

    def people_fit(self, pieces: Sequence[Piece]) -> bool:
        """Nobody twice on one of their local dates, the buffers kept between their
        sessions, and each weekly cap holding every new interview."""
        seats: dict[str, list[tuple[int, int]]] = {}
        for _, option, _ in pieces:
            for slot in option.sessions:
                for person in slot.interviewers:
                    span = (to_seconds(slot.start), to_seconds(slot.end))
                    seats.setdefault(person, []).append(span)
        settings = self.loop.settings
        pad = 60 * max(settings.buffer_before_minutes, settings.buffer_after_minutes)
        return all(self._one_fits(person, sorted(spans), pad) for person, spans in seats.items())

    def _one_fits(self, person: str, spans: list[tuple[int, int]], pad: int) -> bool:
        if len(spans) < 2:
            return True
        dates = [self._local_date(person, start) for start, _ in spans]
        if len(set(dates)) < len(dates):
            return False
        if any(b[0] - a[1] < pad for a, b in zip(spans, spans[1:], strict=False)):
            return False
        cap = self.interviewers[person].max_interviews_per_week
        if cap is None:
            return True
        counts: dict[tuple[int, int], int] = {}
        for start, _ in spans:
            week = self._week(person, start)
            counts[week] = counts.get(week, 0) + 1
        return all(self._booked_in(person, week) + n <= cap for week, n in counts.items())

    def adjusted(self, piece: Piece) -> float:
        """A block's score without its own soonness (the chain's is its first block's)."""
        ranked = piece[0]
        return ranked.score - WEIGHTS["soon"] * soonness(ranked.day_index, self.day_count)

    def combine(self, pieces: Sequence[Piece]) -> tuple[Ranked, Option]:
        first = pieces[0][0]
        mean = sum(self.adjusted(p) for p in pieces) / len(pieces)
        value = mean + WEIGHTS["soon"] * soonness(first.day_index, self.day_count)
        value = round(min(1.0, max(0.0, value)), 4)
        key = tuple(p[0].key for p in pieces)
        sessions = tuple(s for p in pieces for s in p[1].sessions)
        return Ranked(value, first.day_index, first.start, first.end, key), Option(value, sessions)


def _by_date(pieces: list[Piece], chains: Chains) -> dict[date, list[Piece]]:
    """The pieces of a block per date, best first (by their score without soonness)."""
    grouped: dict[date, list[Piece]] = {}
    for piece in sorted(pieces, key=lambda p: (-chains.adjusted(p), p[0].start, p[0].key)):
        if chains.loop.skip_weekends and piece[2].weekday() >= 5:
            continue
        grouped.setdefault(piece[2], []).append(piece)
    return grouped


def _every_chain(
    chains: Chains, blocks: list[dict[date, list[Piece]]], head: list[Piece]
) -> Iterator[list[Piece]]:
    depth = len(head)
    if depth == len(blocks):
        yield head
        return
    for when, pieces in blocks[depth].items():
        if not chains.dates_follow(head[-1][2], when):
            continue
        for piece in pieces:
            chain = [*head, piece]
            if chains.people_fit(chain):
                yield from _every_chain(chains, blocks, chain)


def _tops(chains: Chains, blocks: list[dict[date, list[Piece]]]) -> list[float]:
    """Per block, the best adjusted score of any of its pieces (the bound of the walk)."""
    return [max((chains.adjusted(p[0]) for p in b.values()), default=0.0) for b in blocks]


def _best_chain(
    chains: Chains, blocks: list[dict[date, list[Piece]]], head: list[Piece], tops: list[float]
) -> list[Piece] | None:
    """The chain after ``head`` with the highest total adjusted score (branch and bound)."""
    best: list[list[Piece] | None] = [None]
    best_total = [-1.0]

    def walk(chain: list[Piece], total: float) -> None:
        depth = len(chain)
        if depth == len(blocks):
            if total > best_total[0]:
                best[0], best_total[0] = chain, total
            return
        if total + sum(tops[depth:]) <= best_total[0]:
            return
        for when, pieces in blocks[depth].items():
            if not chains.dates_follow(chain[-1][2], when):
                continue
            for piece in pieces:
                gain = chains.adjusted(piece)
                if total + gain + sum(tops[depth + 1 :]) <= best_total[0]:
                    break  # the rest of this date scores no better
                longer = [*chain, piece]
                if chains.people_fit(longer):
                    walk(longer, total + gain)

    walk(head, sum(chains.adjusted(p) for p in head))
    return best[0]


def multi_day(chains: Chains, search: Search, limit: int) -> list[tuple[Ranked, Option]]:
    """The options of a multi-day loop: every chain when ``limit == 0``; otherwise the
    best chain of each first-block option, or every chain when those are too few."""
    loops = block_loops(chains.loop)
    if limit:
        blocks = [_by_date(search(block, False), chains) for block in loops]
        found = []
        tops = _tops(chains, blocks)
        for pieces in blocks[0].values():
            for piece in pieces:
                chain = _best_chain(chains, blocks, [piece], tops)
                if chain is not None:
                    found.append(chains.combine(chain))
        if len(found) >= limit:
            return found
    blocks = [_by_date(search(block, True), chains) for block in loops]
    every: list[tuple[Ranked, Option]] = []
    for pieces in blocks[0].values():
        for piece in pieces:
            every.extend(chains.combine(c) for c in _every_chain(chains, blocks, [piece]))
    return every


__all__ = ["Chains", "Piece", "block_loops", "days_between", "multi_day"]
