"""Which relaxations can possibly give an option, from the ``why`` tables alone.

An option needs, in every session, a start that the per-session constraints
allow (the candidate's hours, the notice, ``required`` of the pool free) and
from which the neighbouring sessions lie within the gaps. When a relaxation
leaves some session without such a start, it gives no option, and its search
is skipped. This is a necessary condition only: every suggestion made is still
counted by a real search.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from scheduler.explain import Search
from scheduler.explain_why import Table, linked
from scheduler.localtime import zone
from scheduler.model import Loop


class Reach:
    """The tables of one search (its dates and any later ones), asked about relaxations."""

    def __init__(self, search: Search, tables: Sequence[Table]) -> None:
        self.search = search
        self.tables = list(tables)
        self.within = [t.on(search.date_from, search.date_to) for t in self.tables]
        self.zone = zone(search.candidate_tz)

    def possible(
        self,
        loop: Loop | None = None,
        hours: tuple[int, int] | None = None,
        within: Sequence[int] | None = None,
    ) -> bool:
        """Whether ``loop`` (the search's own by default), with the candidate's ``hours``
        and on the starts ``within`` (the searched dates) when given, can have an option."""
        loop = loop or self.search.loop
        within = within or self.within
        masks = []
        for table, spec, inside in zip(self.tables, loop.sessions, within, strict=True):
            ruled = None
            if hours is not None:
                ruled = table.hours_fails(hours, self.zone, self.search.date_to)
            mask = table.passing(frozenset(), spec.required, ruled) & inside
            if not mask:
                return False
            masks.append(mask)
        return all(linked(loop, self.tables, masks))

    def day_possible(self, day: date) -> bool:
        """Whether the search's loop can have an option on ``day`` (within the tables)."""
        return self.possible(within=[t.on(day, day) for t in self.tables])


__all__ = ["Reach"]
