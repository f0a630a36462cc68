"""The configuration format: validate a parsed TOML document into a :class:`Config`.

Pure: the caller reads the file (``tomllib``) and passes the data and the
file name used in messages. Every error is a :class:`ConfigError` naming the
source, the field and the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from scheduler.errors import ConfigError
from scheduler.localtime import RangeError, day_ranges, find_zone
from scheduler.model import (
    WEEKDAYS,
    Config,
    Interviewer,
    LocalRange,
    Loop,
    RepairRules,
    SessionSpec,
    Settings,
    WorkingHours,
)

MAX_NOTICE_HOURS = 24 * 366  # a notice longer than a year is a typo
MAX_CAP = 1000  # interviews per day or week

SETTING_FIELDS = (
    "granularity_minutes",
    "min_notice_hours",
    "buffer_before_minutes",
    "buffer_after_minutes",
)
INTERVIEWER_FIELDS = (
    "id",
    "name",
    "email",
    "timezone",
    "calendars",
    "max_interviews_per_day",
    "max_interviews_per_week",
    "working_hours",
)
LOOP_FIELDS = (
    "id",
    "name",
    "order",
    "min_gap_minutes",
    "max_gap_minutes",
    "offer_from_ranges",
    "sessions",
    "scheduling",
    "repair",
    "min_days_between",
    "max_days_between",
    "skip_weekends",
)
REPAIR_FIELDS = ("auto_repair", "min_hours_before", "max_auto_repairs")
SESSION_FIELDS = ("name", "duration_minutes", "interviewers", "required", "day")
MAX_LOOP_DAYS = 14  # blocks of one loop
MAX_DAYS_BETWEEN = 30
TOP_FIELDS = ("scheduling", "interviewers", "loops")
# loop settings of the web app (its importer reads them); the engine passes over them
APP_LOOP_FIELDS = ("live_fallback",)


class _Reader:
    """Typed access to one table, raising ConfigError with the full field path."""

    def __init__(self, source: str, path: str, table: Any) -> None:
        self.source = source
        self.path = path
        if not isinstance(table, Mapping):
            raise self.error(path, table, "expected a table")
        self.table: Mapping[str, Any] = table

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, field: str, value: object, hint: str) -> ConfigError:
        return ConfigError(self.source, field, value, hint)

    def only(self, allowed: tuple[str, ...], *ignored: str) -> None:
        for key in self.table:
            if key not in allowed and key not in ignored:
                raise self.error(self.field(key), self.table[key], _unknown_hint(allowed))

    def text(self, name: str, default: str | None = None) -> str:
        value = self.table.get(name, default)
        if not isinstance(value, str) or not value.strip():
            hint = "required" if name not in self.table else "expected a non-empty string"
            raise self.error(self.field(name), value, hint)
        return value.strip()

    def integer(self, name: str, default: int | None, low: int, high: int | None = None) -> int:
        value = self.table.get(name, default)
        if value is None and default is None and name not in self.table:
            raise self.error(self.field(name), None, "required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(self.field(name), value, "expected a whole number")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.error(self.field(name), value, f"must be {bound}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(self.field(name), value, "expected a number")
        if not math.isfinite(value):
            raise self.error(self.field(name), value, "expected a finite number, not nan or inf")
        if not low <= value <= high:
            raise self.error(self.field(name), value, f"must be between {low:g} and {high:g}")
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            raise self.error(self.field(name), value, "expected true or false")
        return value

    def array(self, name: str, required: bool = False) -> list[Any]:
        if name not in self.table:
            if required:
                raise self.error(self.field(name), None, "required")
            return []
        value = self.table[name]
        if not isinstance(value, list):
            raise self.error(self.field(name), value, "expected an array")
        return value


def _unknown_hint(allowed: tuple[str, ...]) -> str:
    return "unknown field; expected one of " + ", ".join(allowed)


def parse_settings(reader: _Reader, base: Settings) -> Settings:
    return Settings(
        granularity_minutes=reader.integer(
            "granularity_minutes", base.granularity_minutes, 1, 1440
        ),
        min_notice_hours=reader.number(
            "min_notice_hours", base.min_notice_hours, 0, MAX_NOTICE_HOURS
        ),
        buffer_before_minutes=reader.integer(
            "buffer_before_minutes", base.buffer_before_minutes, 0, 1440
        ),
        buffer_after_minutes=reader.integer(
            "buffer_after_minutes", base.buffer_after_minutes, 0, 1440
        ),
    )


def check_timezone(reader: _Reader, name: str) -> str:
    value = reader.text(name)
    if find_zone(value) is None:
        raise reader.error(
            reader.field(name), value, "unknown time zone; use an IANA name like Europe/London"
        )
    return value


def parse_day_ranges(reader: _Reader, day: str, value: Any) -> tuple[LocalRange, ...]:
    field = reader.field(day)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise reader.error(field, value, 'expected a list like ["09:00-17:00"]')
    for index, text in enumerate(value):
        if not isinstance(text, str):
            raise reader.error(f"{field}[{index}]", text, 'expected "HH:MM-HH:MM"')
    try:
        return day_ranges(value)
    except RangeError as exc:
        if exc.index is None:
            raise reader.error(field, value, exc.hint) from None
        raise reader.error(f"{field}[{exc.index}]", value[exc.index], exc.hint) from None


def parse_working_hours(reader: _Reader) -> WorkingHours:
    if "working_hours" not in reader.table:
        return WorkingHours({})
    hours = _Reader(reader.source, reader.field("working_hours"), reader.table["working_hours"])
    hours.only(WEEKDAYS)
    ranges = {
        WEEKDAYS.index(day): parse_day_ranges(hours, day, value)
        for day, value in hours.table.items()
    }
    return WorkingHours({day: r for day, r in ranges.items() if r})


def parse_interviewer(source: str, index: int, table: Any) -> Interviewer:
    reader = _Reader(source, f"interviewers[{index}]", table)
    reader.only(INTERVIEWER_FIELDS)
    ident = reader.text("id")
    email = reader.text("email")
    if "@" not in email:
        raise reader.error(reader.field("email"), email, "expected an e-mail address")
    return Interviewer(
        id=ident,
        name=reader.text("name", ident),
        email=email,
        timezone=check_timezone(reader, "timezone"),
        working_hours=parse_working_hours(reader),
        max_interviews_per_day=_cap(reader, "max_interviews_per_day"),
        calendars=parse_calendars(reader),
        max_interviews_per_week=_cap(reader, "max_interviews_per_week"),
    )


def _cap(reader: _Reader, name: str) -> int | None:
    """An optional limit on interviews (per local day or week): absent means none."""
    return None if reader.table.get(name) is None else reader.integer(name, None, 0, MAX_CAP)


def parse_calendars(reader: _Reader) -> tuple[str, ...]:
    values = reader.array("calendars")
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise reader.error(
                f"{reader.field('calendars')}[{index}]", value, "expected a path or URL"
            )
    return tuple(v.strip() for v in values)


def parse_session(reader: _Reader, known: set[str]) -> SessionSpec:
    reader.only(SESSION_FIELDS)
    pool = reader.array("interviewers", required=True)
    if not pool:
        raise reader.error(
            reader.field("interviewers"), pool, "the pool is empty; name interviewers"
        )
    for index, member in enumerate(pool):
        if member not in known:
            raise reader.error(
                f"{reader.field('interviewers')}[{index}]", member, "no interviewer has this id"
            )
    if len(set(pool)) != len(pool):
        raise reader.error(reader.field("interviewers"), pool, "an interviewer is listed twice")
    return SessionSpec(
        name=reader.text("name"),
        duration_minutes=reader.integer("duration_minutes", None, 1, 1440),
        pool=tuple(pool),
        required=reader.integer("required", len(pool), 1, len(pool)),
        day=reader.integer("day", 1, 1, MAX_LOOP_DAYS),
    )


def parse_loop(source: str, index: int, table: Any, base: Settings, known: set[str]) -> Loop:
    reader = _Reader(source, f"loops[{index}]", table)
    reader.only(LOOP_FIELDS + SETTING_FIELDS, *APP_LOOP_FIELDS)
    ident = reader.text("id")
    settings = parse_settings(reader, base)
    if "scheduling" in reader.table:
        settings = parse_settings(
            _Reader(source, reader.field("scheduling"), reader.table["scheduling"]), settings
        )
    order = reader.text("order", "fixed")
    if order not in ("fixed", "any"):
        raise reader.error(reader.field("order"), order, 'expected "fixed" or "any"')
    min_gap = reader.integer("min_gap_minutes", 0, 0, 1440)
    max_gap = reader.integer("max_gap_minutes", max(15, min_gap), min_gap, 1440)
    sessions = tuple(
        parse_session(_Reader(source, f"{reader.field('sessions')}[{n}]", s), known)
        for n, s in enumerate(reader.array("sessions", required=True))
    )
    if not sessions:
        raise reader.error(reader.field("sessions"), [], "a loop needs at least one session")
    names = [spec.name for spec in sessions]
    for index, name in enumerate(names):
        if name in names[:index]:
            field = f"{reader.field('sessions')}[{index}].name"
            raise reader.error(field, name, "two sessions of this loop have this name")
    _check_days(reader, sessions)
    low_days = reader.integer("min_days_between", 1, 1, MAX_DAYS_BETWEEN)
    high_days = reader.integer("max_days_between", max(3, low_days), 1, MAX_DAYS_BETWEEN)
    if high_days < low_days:
        raise reader.error(
            reader.field("max_days_between"), high_days, f"is less than min_days_between {low_days}"
        )
    skip = reader.boolean("skip_weekends", True)
    offer = reader.boolean("offer_from_ranges", True)
    repair = parse_repair(_Reader(source, reader.field("repair"), reader.table.get("repair", {})))
    name = reader.text("name", ident)
    return Loop(
        ident,
        name,
        sessions,
        order,
        min_gap,
        max_gap,
        settings,
        offer_from_ranges=offer,
        repair=repair,
        min_days_between=low_days,
        max_days_between=high_days,
        skip_weekends=skip,
    )


def _check_days(reader: _Reader, sessions: tuple[SessionSpec, ...]) -> None:
    """The ``day`` numbers of a loop's sessions run 1, 2, ... without a hole."""
    days = sorted({spec.day for spec in sessions})
    for wanted, day in enumerate(days, start=1):
        if day != wanted:
            index = next(n for n, spec in enumerate(sessions) if spec.day == day)
            field = f"{reader.field('sessions')}[{index}].day"
            raise reader.error(
                field, day, f"days must run 1, 2, ... without a gap; {wanted} is missing"
            )


def parse_repair(reader: _Reader) -> RepairRules:
    """A loop's ``[loops.repair]`` table (every field optional)."""
    reader.only(REPAIR_FIELDS)
    auto = reader.table.get("auto_repair", True)
    if not isinstance(auto, bool):
        raise reader.error(reader.field("auto_repair"), auto, "expected true or false")
    return RepairRules(
        auto_repair=auto,
        min_hours_before=reader.number("min_hours_before", 48, 0, 24 * 60),
        max_auto_repairs=reader.integer("max_auto_repairs", 3, 0, 50),
    )


def _unique(source: str, what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            raise ConfigError(source, f"{what}[{index}].id", ident, "this id is used twice")
        seen.add(ident)


def parse_config(data: Mapping[str, Any], source: str = "<config>") -> Config:
    """Validate a parsed TOML document; ``source`` names it in errors."""
    top = _Reader(source, "", data)
    top.only(TOP_FIELDS, "server", "database", "mail", "security", "sync", "booking", "web")
    scheduling = _Reader(source, "scheduling", data.get("scheduling", {}))
    scheduling.only(SETTING_FIELDS)
    settings = parse_settings(scheduling, Settings())
    interviewers = [
        parse_interviewer(source, n, t) for n, t in enumerate(top.array("interviewers"))
    ]
    _unique(source, "interviewers", [i.id for i in interviewers])
    known = {i.id for i in interviewers}
    loops = [parse_loop(source, n, t, settings, known) for n, t in enumerate(top.array("loops"))]
    _unique(source, "loops", [lp.id for lp in loops])
    return Config(settings, tuple(interviewers), tuple(loops), source)


def with_settings(loop: Loop, settings: Settings) -> Loop:
    return replace(loop, settings=settings)
