"""Zones on pages: the zone a visitor asked for (by city, country, IANA name or
abbreviation), the header and per-day offsets of a list of times, template helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Flask, request

from web.domain.zones import canonical_zone, offset_label, zone_ok
from web.domain.zonesearch import ZoneMatch, search_zones
from web.domain.zonetext import (
    clock_pattern,
    date_pattern,
    day_offsets,
    days_later,
    negotiated_locale,
    spans_offsets,
    utc_stamp,
    zone_display,
)
from web.store.models import SchedulingRequest


@dataclass(frozen=True)
class ZonePick:
    tz: str
    notice: str | None = None
    choices: tuple[ZoneMatch, ...] = field(default=())


def pick_zone(asked: str, fallback: str, at: datetime) -> ZonePick:
    """The zone ``asked`` names; when it is unknown or ambiguous, ``fallback`` and why."""
    asked = asked.strip()
    if not asked:
        return ZonePick(fallback)
    name = canonical_zone(asked)
    if zone_ok(name):
        return ZonePick(name)
    found = search_zones(asked, at)
    if found.exact is not None:
        return ZonePick(found.exact.zone)
    if found.matches and found.kind != "prefix":
        return ZonePick(
            fallback,
            f"{asked[:60]!r} could mean several time zones; choose yours below. "
            f"Times are shown in {fallback} until then.",
            found.matches,
        )
    return ZonePick(
        fallback,
        f"Unknown time zone {asked[:60]!r}; showing times in {fallback}."
        + (" Did you mean one of these?" if found.matches else ""),
        found.matches,
    )


@dataclass(frozen=True)
class ZoneHeader:
    tz: str
    label: str  # "Asia/Kolkata, UTC+05:30", or the zone alone when the offset changes
    human: str  # "India Standard Time (Kolkata)"
    spans: bool  # the times straddle a clock change: offsets are given per day
    offsets: dict[date, list[str]]


def zone_header(tz: str, instants: list[datetime], at: datetime) -> ZoneHeader:
    first = min(instants) if instants else at
    spans = spans_offsets(instants, tz)
    return ZoneHeader(
        tz=tz,
        label=tz if spans else f"{tz}, {offset_label(tz, first)}",
        human=zone_display(tz, first),
        spans=spans,
        offsets=day_offsets(instants, tz),
    )


def page_locale() -> str | None:
    """The visitor's locale as ``Accept-Language`` negotiates it (None: none given)."""
    return negotiated_locale(list(request.accept_languages.values()))


def date_format() -> str:
    """The long date in the order of the visitor's first language (``Accept-Language``):
    'Wednesday, March 3, 2027' for en-US, else 'Wednesday 03 March 2027'. The page's
    script redoes this from ``Intl``; this is the order without script."""
    return date_pattern(page_locale())


def clock_format() -> str:
    """The clock of the visitor's locale: '2:30 PM' (en-US) or '14:30' (en-GB, de-DE);
    the page's script redoes it from ``Intl``; this is the clock without script."""
    return clock_pattern(page_locale())


def remember_locale(req: SchedulingRequest) -> bool:
    """Keep the candidate's negotiated locale on the request (their mails use it);
    whether it changed (the caller commits)."""
    found = page_locale()
    if found is None or found == req.candidate_locale:
        return False
    req.candidate_locale = found
    return True


def register(app: Flask) -> None:
    app.jinja_env.globals["date_fmt"] = date_format
    app.jinja_env.globals["clock_fmt"] = clock_format
    app.jinja_env.filters["utc"] = utc_stamp
    app.jinja_env.globals["days_later"] = days_later
    app.jinja_env.globals["zone_display"] = zone_display
