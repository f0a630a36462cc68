"""Who sits in which session: disjoint interviewer sets, by augmenting paths.

Sessions are slots with a demand (``required``); interviewers have capacity
one. Feasibility is a bipartite b-matching, found in polynomial time - the
engine never enumerates assignments.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

Candidates = tuple[str, ...]


# A complete matching: person -> index of the slot they fill, in the order of
# ``_expand`` (session 0's ``required[0]`` slots first, then session 1's, ...).
Matching = dict[str, int]


def _augment(slot: int, slots: Sequence[Candidates], owner: Matching, seen: set[str]) -> bool:
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
    return matching(available, required) is not None


def matching(
    available: Sequence[Candidates], required: Sequence[int], prefix: Matching | None = None
) -> Matching | None:
    """A complete matching of the sessions, or None when there is none.

    ``prefix``, when given, is a complete matching of all sessions but the last
    (as returned for them): only the last session's slots are then added to it.
    """
    if len(available) == 1:  # one session: enough people is enough
        if len(available[0]) < required[0]:
            return None
        return {person: n for n, person in enumerate(available[0][: required[0]])}
    slots = _expand(available, required)
    owner: Matching = dict(prefix) if prefix is not None else {}
    first = len(slots) - required[-1] if prefix is not None else 0
    for slot in range(first, len(slots)):
        if not _augment(slot, slots, owner, set()):
            return None
    return owner


def best_assignment(
    available: Sequence[Candidates],
    required: Sequence[int],
    costs: Sequence[Sequence[float]],
    found: Matching | None = None,
) -> tuple[Candidates, ...] | None:
    """A feasible assignment chosen greedily by ascending cost (``costs[k][i]`` is the
    cost of ``available[k][i]`` in session ``k``; ties by session, then person).

    Each pick is kept only if the rest can still be completed, so the result
    is always feasible when any assignment is. ``found`` is a complete matching
    of these sessions if the caller has one; the greedy picks repair it rather
    than test each pick from scratch.
    """
    owner = found if found is not None else matching(available, required)
    if owner is None:
        return None
    if all(len(avail) == need for avail, need in zip(available, required, strict=True)):
        return tuple(tuple(sorted(avail)) for avail in available)  # no choice to make
    tops = [
        [min(zip(prices, avail, strict=True))]
        if need == 1
        else sorted(zip(prices, avail, strict=True))[:need]
        for avail, prices, need in zip(available, costs, required, strict=True)
    ]
    picked = [person for top in tops for _, person in top]
    if len(set(picked)) == len(picked):
        # Each session's cheapest people, nobody twice: the greedy below keeps exactly
        # these (each is the first of its session's pairs, never taken, and together
        # they staff every session).
        return tuple(
            (top[0][1],) if len(top) == 1 else tuple(sorted(person for _, person in top))
            for top in tops
        )
    pairs = sorted(
        [
            (cost, k, person)
            for k, (avail, prices) in enumerate(zip(available, costs, strict=True))
            for person, cost in zip(avail, prices, strict=True)
        ]
    )
    return _greedy(pairs, _expand(available, required), required, dict(owner))


def _greedy(
    pairs: list[tuple[float, int, str]],
    slots: list[Candidates],
    required: Sequence[int],
    owner: Matching,
) -> tuple[Candidates, ...]:
    """Keep each pick, best first, while a complete matching with it exists (``owner``
    is one for the picks so far; each pick takes a slot of its session)."""
    chosen: list[list[str]] = [[] for _ in required]
    free: list[list[int]] = []  # per session, its slots not yet fixed to a pick
    first = 0
    for need in required:
        free.append(list(range(first, first + need)))
        first += need
    fixed: set[str] = set()
    for _, session, person in pairs:
        room = free[session]
        if not room or person in fixed:
            continue
        current = owner.get(person)
        if current is not None and current in room:
            slot = current
        elif _moved(person, room[-1], current, slots, owner, fixed):
            slot = room[-1]
        else:
            continue
        room.remove(slot)
        fixed.add(person)
        chosen[session].append(person)
    return tuple(tuple(sorted(c)) for c in chosen)


def _moved(
    person: str,
    slot: int,
    current: int | None,
    slots: list[Candidates],
    owner: Matching,
    fixed: set[str],
) -> bool:
    """Seat ``person`` in ``slot``; re-seat whoever it displaces (False: impossible)."""
    holder = next(p for p, s in owner.items() if s == slot)
    del owner[holder]
    owner[person] = slot
    if current is None or _augment(current, slots, owner, {*fixed, person}):
        return True
    owner[holder] = slot
    owner[person] = current
    return False


def all_assignments(
    available: Sequence[Candidates], required: Sequence[int], staffed: bool = False
) -> Iterator[tuple[Candidates, ...]]:
    """Every way to staff the sessions (for ``limit=0``, which asks for everything);
    ``staffed`` when the caller already holds one complete matching of them."""
    if not staffed and not feasible(available, required):
        return
    if all(len(avail) == need for avail, need in zip(available, required, strict=True)):
        yield tuple(tuple(sorted(avail)) for avail in available)  # the only way
        return
    yield from _assign_from(0, available, required, frozenset())


def count_assignments(available: Sequence[Candidates], required: Sequence[int]) -> int:
    """How many staffings :func:`all_assignments` yields, without building them."""
    if not feasible(available, required):
        return 0
    if all(len(avail) == need for avail, need in zip(available, required, strict=True)):
        return 1
    return _count_from(0, available, required, frozenset(), {})


def _count_from(
    index: int,
    available: Sequence[Candidates],
    required: Sequence[int],
    used: frozenset[str],
    memo: dict[tuple[int, frozenset[str]], int],
) -> int:
    if index == len(available):
        return 1
    key = (index, used & _later(available, index))
    if key in memo:
        return memo[key]
    free = sorted(p for p in available[index] if p not in used)
    total = 0
    for group in itertools.combinations(free, required[index]):
        total += _count_from(index + 1, available, required, used | set(group), memo)
    memo[key] = total
    return total


def _later(available: Sequence[Candidates], index: int) -> frozenset[str]:
    """Everyone who can sit a session from ``index`` on: the only ``used`` that matters."""
    return frozenset(p for avail in available[index:] for p in avail)


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
