"""Who sits in which session: disjoint interviewer sets, by augmenting paths.

Sessions are slots with a demand (``required``); interviewers have capacity
one. Feasibility is a bipartite b-matching, found in polynomial time - the
engine never enumerates assignments.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

Candidates = tuple[str, ...]


def _augment(slot: int, slots: Sequence[Candidates], owner: dict[str, int], seen: set[str]) -> bool:
    for person in slots[slot]:
        if person in seen:
            continue
        seen.add(person)
        holder = owner.get(person)
        if holder is None or _augment(holder, slots, owner, seen):
            owner[person] = slot
            return True
    return False


def _expand(available: Sequence[Candidates], required: Sequence[int]) -> list[Candidates]:
    return [avail for avail, need in zip(available, required, strict=True) for _ in range(need)]


def feasible(available: Sequence[Candidates], required: Sequence[int]) -> bool:
    """Whether each session ``k`` can get ``required[k]`` distinct people from
    ``available[k]`` with nobody in two sessions."""
    slots = _expand(available, required)
    owner: dict[str, int] = {}
    return all(_augment(n, slots, owner, set()) for n in range(len(slots)))


def best_assignment(
    available: Sequence[Candidates],
    required: Sequence[int],
    cost: Callable[[int, str], float],
) -> tuple[Candidates, ...] | None:
    """A feasible assignment chosen greedily by ascending ``cost(session, person)``.

    Each pick is kept only if the rest can still be completed, so the result
    is always feasible when any assignment is.
    """
    if not feasible(available, required):
        return None
    if all(len(avail) == need for avail, need in zip(available, required, strict=True)):
        return tuple(tuple(sorted(avail)) for avail in available)  # no choice to make
    chosen: list[list[str]] = [[] for _ in available]
    pairs = sorted((cost(k, p), k, p) for k, avail in enumerate(available) for p in avail)
    taken: set[str] = set()
    for _, k, person in pairs:
        if person in taken or len(chosen[k]) == required[k]:
            continue
        if _completes(available, required, chosen, k, person, taken):
            chosen[k].append(person)
            taken.add(person)
    return tuple(tuple(sorted(c)) for c in chosen)


def _completes(
    available: Sequence[Candidates],
    required: Sequence[int],
    chosen: list[list[str]],
    session: int,
    person: str,
    taken: set[str],
) -> bool:
    blocked = taken | {person}
    rest = []
    need = []
    for k, avail in enumerate(available):
        extra = 1 if k == session else 0
        rest.append(tuple(p for p in avail if p not in blocked))
        need.append(required[k] - len(chosen[k]) - extra)
    return feasible(rest, need)


def all_assignments(
    available: Sequence[Candidates], required: Sequence[int]
) -> Iterator[tuple[Candidates, ...]]:
    """Every way to staff the sessions (for ``limit=0``, which asks for everything)."""
    if not feasible(available, required):
        return
    yield from _assign_from(0, available, required, frozenset())


def _assign_from(
    index: int, available: Sequence[Candidates], required: Sequence[int], used: frozenset[str]
) -> Iterator[tuple[Candidates, ...]]:
    if index == len(available):
        yield ()
        return
    free = sorted(p for p in available[index] if p not in used)
    for group in itertools.combinations(free, required[index]):
        for rest in _assign_from(index + 1, available, required, used | set(group)):
            yield (group, *rest)
