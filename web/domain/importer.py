"""Import the engine's configuration file into the database, and export it back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.configfile import is_url, read_toml
from integrations.urls import redact_url
from scheduler.config import APP_LOOP_FIELDS, parse_config
from scheduler.errors import ConfigError
from scheduler.localtime import format_minutes
from scheduler.model import WEEKDAYS, Config
from scheduler.model import Interviewer as EInterviewer
from scheduler.model import Loop as ELoop
from web.store.models import CalendarSource, Interviewer, Loop, LoopSession


class ImportError_(ValueError):
    """The file cannot be imported; the message is one line naming file, field and value."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


@dataclass(frozen=True)
class ImportFile:
    """A configuration file: the engine's part and the web app's loop settings
    (loop id -> {"live_fallback": bool}, only the keys the file sets)."""

    config: Config
    loop_settings: dict[str, dict[str, bool]] = field(default_factory=dict)


def read_config(path: str) -> ImportFile:
    try:
        raw = read_toml(Path(path))
        return ImportFile(parse_config(raw, path), app_loop_settings(raw, path))
    except ConfigError as exc:
        raise ImportError_(exc.one_line()) from None


def app_loop_settings(raw: dict[str, Any], source: str) -> dict[str, dict[str, bool]]:
    """The web app's settings of each loop table (``live_fallback``), checked: booleans."""
    out: dict[str, dict[str, bool]] = {}
    loops = raw.get("loops", [])
    for index, table in enumerate(loops if isinstance(loops, list) else []):
        if not isinstance(table, dict):
            continue
        for name in APP_LOOP_FIELDS:
            if name not in table:
                continue
            value = table[name]
            if not isinstance(value, bool):
                field_name = f"loops[{index}].{name}"
                raise ConfigError(source, field_name, value, "expected true or false")
            out.setdefault(str(table.get("id", "")), {})[name] = value
    return out


def hours_json(inter: EInterviewer) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n, day in enumerate(WEEKDAYS):
        ranges = inter.working_hours.on(n)
        if ranges:
            out[day] = [f"{format_minutes(a)}-{format_minutes(b)}" for a, b in ranges]
    return out


def _calendar_url(value: str, base: Path) -> str:
    if value.startswith(("http://", "https://", "webcal://")):
        return value
    p = Path(value)
    return str(p if p.is_absolute() else (base / p).resolve())


def _set(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for k, v in values.items():
        if getattr(row, k) != v:
            setattr(row, k, v)
            changed = True
    return changed


def import_config(
    s: Session, config: Config, loop_settings: dict[str, dict[str, bool]] | None = None
) -> ImportReport:
    """Create or update interviewers and loops by id; running it twice changes nothing.
    ``loop_settings``: the web app's loop settings the file sets (see :class:`ImportFile`);
    a setting the file leaves out keeps its stored value (a new loop: the default)."""
    report = ImportReport()
    by_key = _import_interviewers(s, config, report)
    _import_loops(s, config, by_key, report, loop_settings or {})
    return report


def _tally(report: ImportReport, label: str, created: bool, changed: bool) -> None:
    if created:
        report.created.append(label)
    else:
        (report.updated if changed else report.unchanged).append(label)


def _import_interviewers(
    s: Session, config: Config, report: ImportReport
) -> dict[str, Interviewer]:
    base = Path(config.source).resolve().parent
    by_key = {
        i.key: i
        for i in s.scalars(select(Interviewer).options(selectinload(Interviewer.calendars)))
    }
    for inter in config.interviewers:
        values: dict[str, Any] = {
            "name": inter.name,
            "email": inter.email,
            "timezone": inter.timezone,
            "working_hours": hours_json(inter),
            "max_interviews_per_day": inter.max_interviews_per_day,
            "max_interviews_per_week": inter.max_interviews_per_week,
            "active": True,
        }
        row = by_key.get(inter.id)
        created = row is None
        if row is None:
            row = by_key[inter.id] = Interviewer(key=inter.id, link_nonce="", **values)
            s.add(row)
        changed = created or _set(row, values)
        changed = _add_calendars(row, inter.calendars, base) or changed
        _tally(report, f"interviewer {inter.id}", created, changed)
    s.flush()
    return by_key


def _add_calendars(row: Interviewer, calendars: Iterable[str], base: Path) -> bool:
    known = {c.url for c in row.calendars if c.kind == "ics"}
    added = False
    for cal in calendars:
        url = _calendar_url(cal, base)
        if url not in known:
            row.calendars.append(CalendarSource(kind="ics", label=Path(cal).name, url=url))
            added = True
    return added


def _loop_values(loop: ELoop) -> dict[str, Any]:
    st = loop.settings
    return {
        "name": loop.name,
        "order": loop.order,
        "min_gap_minutes": loop.min_gap_minutes,
        "max_gap_minutes": loop.max_gap_minutes,
        "granularity_minutes": st.granularity_minutes,
        "min_notice_hours": float(st.min_notice_hours),
        "buffer_before_minutes": st.buffer_before_minutes,
        "buffer_after_minutes": st.buffer_after_minutes,
        "offer_from_ranges": loop.offer_from_ranges,
        "auto_repair": loop.repair.auto_repair,
        "repair_min_hours_before": float(loop.repair.min_hours_before),
        "max_auto_repairs": loop.repair.max_auto_repairs,
    }


def _import_loops(
    s: Session,
    config: Config,
    by_key: dict[str, Interviewer],
    report: ImportReport,
    loop_settings: dict[str, dict[str, bool]],
) -> None:
    loops = {
        lp.key: lp
        for lp in s.scalars(
            select(Loop).options(selectinload(Loop.sessions).selectinload(LoopSession.pool))
        )
    }
    for loop in config.loops:
        values = _loop_values(loop) | loop_settings.get(loop.id, {})
        lrow = loops.get(loop.id)
        created = lrow is None
        if lrow is None:
            lrow = Loop(key=loop.id, **values)
            s.add(lrow)
        changed = created or _set(lrow, values)
        changed = _set_sessions(s, lrow, loop, by_key) or changed
        _tally(report, f"loop {loop.id}", created, changed)
    s.flush()


def _set_sessions(s: Session, lrow: Loop, loop: ELoop, by_key: dict[str, Interviewer]) -> bool:
    wanted = [(sp.name, sp.duration_minutes, sp.required, sorted(sp.pool)) for sp in loop.sessions]
    have = [
        (ls.name, ls.duration_minutes, ls.required, sorted(i.key for i in ls.pool))
        for ls in lrow.sessions
    ]
    if wanted == have:
        return False
    lrow.sessions.clear()
    s.flush()
    for pos, (name, minutes, required, pool) in enumerate(wanted):
        lrow.sessions.append(
            LoopSession(
                position=pos,
                name=name,
                duration_minutes=minutes,
                required=required,
                pool=[by_key[k] for k in pool],
            )
        )
    return True


# ---------------------------------------------------------------- export


def _q(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def _v(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_v(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _shown_location(url: str) -> str:
    return redact_url(url) if is_url(url) else url


def export_toml(s: Session, *, include_inactive: bool = False) -> str:
    """Interviewers and loops in the engine's configuration format."""
    q = select(Interviewer).options(selectinload(Interviewer.calendars)).order_by(Interviewer.key)
    if not include_inactive:
        q = q.where(Interviewer.active.is_(True))
    people = list(s.scalars(q))
    keys = {p.key for p in people}
    lines = [
        "# Exported by panelslot: interviewers and loops.",
        "# Feed URLs are secrets (anyone with one reads the calendar): they are shown",
        "# redacted, as on the interviewer's page; files keep their paths.",
        "",
    ]
    for p in people:
        lines += ["[[interviewers]]", f"id = {_q(p.key)}", f"name = {_q(p.name)}"]
        lines += [f"email = {_q(p.email)}", f"timezone = {_q(p.timezone)}"]
        cals = [_shown_location(c.url) for c in p.calendars if c.kind == "ics"]
        if cals:
            lines.append(f"calendars = {_v(cals)}")
        if p.max_interviews_per_day is not None:
            lines.append(f"max_interviews_per_day = {p.max_interviews_per_day}")
        if p.max_interviews_per_week is not None:
            lines.append(f"max_interviews_per_week = {p.max_interviews_per_week}")
        lines.append("[interviewers.working_hours]")
        for day in WEEKDAYS:
            if p.working_hours.get(day):
                lines.append(f"{day} = {_v(p.working_hours[day])}")
        lines.append("")
    loops = s.scalars(
        select(Loop)
        .where(Loop.active.is_(True))
        .options(selectinload(Loop.sessions).selectinload(LoopSession.pool))
        .order_by(Loop.key)
    )
    for lp in loops:
        sessions = []
        for ls in lp.sessions:
            pool = [i.key for i in ls.pool if i.key in keys]
            if len(pool) < ls.required:
                break
            sessions.append((ls, pool))
        else:
            lines += ["[[loops]]", f"id = {_q(lp.key)}", f"name = {_q(lp.name)}"]
            lines += [f"order = {_q(lp.order)}", f"min_gap_minutes = {lp.min_gap_minutes}"]
            lines += [f"max_gap_minutes = {lp.max_gap_minutes}"]
            lines += [f"granularity_minutes = {lp.granularity_minutes}"]
            notice = lp.min_notice_hours
            lines += [f"min_notice_hours = {int(notice) if notice == int(notice) else notice}"]
            lines += [f"buffer_before_minutes = {lp.buffer_before_minutes}"]
            lines += [f"buffer_after_minutes = {lp.buffer_after_minutes}"]
            lines += [f"live_fallback = {_v(bool(lp.live_fallback))}"]
            lines += [f"offer_from_ranges = {_v(bool(lp.offer_from_ranges))}"]
            lines += _repair_lines(lp)
            for ls, pool in sessions:
                lines += ["[[loops.sessions]]", f"name = {_q(ls.name)}"]
                lines += [f"duration_minutes = {ls.duration_minutes}"]
                lines += [f"interviewers = {_v(pool)}", f"required = {ls.required}"]
            lines.append("")
    return "\n".join(lines)


def _repair_lines(lp: Loop) -> list[str]:
    hours = lp.repair_min_hours_before
    return [
        "[loops.repair]",
        f"auto_repair = {'true' if lp.auto_repair else 'false'}",
        f"min_hours_before = {int(hours) if hours == int(hours) else hours}",
        f"max_auto_repairs = {lp.max_auto_repairs}",
    ]
