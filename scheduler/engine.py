"""Slot search: the loop options for a request, ranked. (being written)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from scheduler.model import Interval, Interviewer, Loop, Option


def find_options(
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Sequence[Interval]],
    *,
    candidate_tz: str,
    date_from: date,
    date_to: date,
    now: datetime,
    candidate_hours: tuple[int, int] = (8 * 60, 20 * 60),
    limit: int = 20,
    booked: Mapping[str, Sequence[Interval]] | None = None,
) -> list[Option]:
    """Ranked options of ``loop``; ``limit=0`` returns every valid option.

    ``busy`` maps interviewer id -> busy intervals (any order, may overlap).
    ``booked`` maps interviewer id -> interviews already booked, counted
    against ``max_interviews_per_day`` (they should also be in ``busy``).
    ``candidate_hours`` are minutes after local midnight in ``candidate_tz``.
    """
    raise NotImplementedError


def check_option(
    option: Option,
    loop: Loop,
    interviewers: Mapping[str, Interviewer],
    busy: Mapping[str, Sequence[Interval]],
    *,
    now: datetime,
    booked: Mapping[str, Sequence[Interval]] | None = None,
) -> list[str]:
    """Problems that make ``option`` invalid now (empty list: still valid)."""
    raise NotImplementedError
