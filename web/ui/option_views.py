"""Offered options as the candidate and the coordinator see them: one view per option,
grouped by the viewer's local day (shared by the candidate and coordinator blueprints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from scheduler.model import Option
from web.domain import booking as service
from web.store.models import OfferedOption, SchedulingRequest
from web.ui.helpers import db_session


@dataclass(frozen=True)
class SessionView:
    name: str
    start: datetime
    end: datetime
    people: str


@dataclass(frozen=True)
class OptionView:
    id: int | str  # an offered option's row id, or "L" and the key of a live option
    rank: int
    start: datetime
    end: datetime
    sessions: tuple[SessionView, ...]


def _names(
    req: SchedulingRequest, keys: list[str], people: dict[str, str], show: bool | None
) -> str:
    if not (req.loop.show_interviewer_names if show is None else show):
        return ""
    return ", ".join(people.get(k, k) for k in keys)


def option_view(
    req: SchedulingRequest,
    row: OfferedOption,
    people: dict[str, str],
    show: bool | None = None,
) -> OptionView:
    return view_of(req, row.id, row.rank, service.stored_option(row), people, show)


def view_of(
    req: SchedulingRequest,
    ident: int | str,
    rank: int,
    opt: Option,
    people: dict[str, str],
    show: bool | None = None,
) -> OptionView:
    return OptionView(
        id=ident,
        rank=rank,
        start=opt.start,
        end=opt.end,
        sessions=tuple(
            SessionView(s.name, s.start, s.end, _names(req, list(s.interviewers), people, show))
            for s in opt.sessions
        ),
    )


def by_day(views: list[OptionView], tz: str) -> list[tuple[date, list[OptionView]]]:
    zone = ZoneInfo(tz)
    days: dict[date, list[OptionView]] = {}
    for v in sorted(views, key=lambda v: (v.start, v.rank)):
        days.setdefault(v.start.astimezone(zone).date(), []).append(v)
    return list(days.items())


def people_of(req: SchedulingRequest) -> dict[str, str]:
    return service.loop_picture(db_session(), req.loop_id).names
