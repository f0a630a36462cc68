"""The coordinator's preview of a draft: options grouped by the candidate's local day,
near-duplicates folded under their best representative, sorted by time or by score.

Two options are *near-duplicates* when they fall on the same candidate-local day and
either

* every session has the same interviewers and the loops start within
  ``NEAR_MINUTES`` of each other, or
* every session starts at the same instant and exactly one seat differs (one
  interviewer swapped for another in one session).

Each option joins the first better-scored representative it is a near-duplicate of
(comparing with representatives only, so a fold never chains); otherwise it is a
representative itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from web.domain.engine_values import loop_picture
from web.store.models import OfferedOption
from web.ui.helpers import db_session

NEAR_MINUTES = 30
SORTS = ("time", "score")


def _seats(row: OfferedOption) -> list[tuple[str, frozenset[str]]]:
    return [(sl["name"], frozenset(sl["interviewers"])) for sl in row.sessions]


def _starts(row: OfferedOption) -> list[str]:
    return [str(sl["start"]) for sl in row.sessions]


def _one_swap(a: OfferedOption, b: OfferedOption) -> bool:
    sa, sb = _seats(a), _seats(b)
    if [n for n, _ in sa] != [n for n, _ in sb]:
        return False
    differ = [(x, y) for (_, x), (_, y) in zip(sa, sb, strict=True) if x != y]
    return len(differ) == 1 and len(differ[0][0] - differ[0][1]) == 1 == len(
        differ[0][1] - differ[0][0]
    )


def near_duplicate(a: OfferedOption, b: OfferedOption, tz: str) -> bool:
    """Whether ``a`` and ``b`` are near-duplicates for a candidate in ``tz``."""
    zone = ZoneInfo(tz)
    if a.start.astimezone(zone).date() != b.start.astimezone(zone).date():
        return False
    if _seats(a) == _seats(b) and abs(a.start - b.start) <= timedelta(minutes=NEAR_MINUTES):
        return True
    return _starts(a) == _starts(b) and _one_swap(a, b)


@dataclass
class Group:
    """A representative option and the near-duplicates folded under it."""

    best: OfferedOption
    similar: list[OfferedOption] = field(default_factory=list)

    def ids(self) -> list[int]:
        return [self.best.id] + [o.id for o in self.similar]


def fold(rows: list[OfferedOption], tz: str) -> list[Group]:
    """Near-duplicates folded under the best-scored of them (ties: the better rank)."""
    groups: list[Group] = []
    for row in sorted(rows, key=lambda r: (-r.score, r.rank)):
        home = next((g for g in groups if near_duplicate(g.best, row, tz)), None)
        if home is None:
            groups.append(Group(row))
        else:
            home.similar.append(row)
    return groups


def preview_days(rows: list[OfferedOption], tz: str, sort: str) -> list[tuple[date, list[Group]]]:
    """Folded groups by the candidate's local day, days in date order; within a day by
    start time (``sort`` "time") or by score, best first (``sort`` "score")."""
    zone = ZoneInfo(tz)
    days: dict[date, list[Group]] = {}
    for g in fold(rows, tz):
        days.setdefault(g.best.start.astimezone(zone).date(), []).append(g)
    for groups in days.values():
        if sort == "score":
            groups.sort(key=lambda g: (-g.best.score, g.best.rank))
        else:
            groups.sort(key=lambda g: (g.best.start, g.best.rank))
    return sorted(days.items())


def people_of_loop(loop_id: int) -> dict[str, str]:
    """Interviewer key -> name for a loop's pools."""
    return loop_picture(db_session(), loop_id).names
