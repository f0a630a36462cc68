"""Import the engine's configuration file into the database, and export it back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from integrations.configfile import read_toml
from scheduler.config import parse_config
from scheduler.errors import ConfigError
from scheduler.localtime import format_minutes
from scheduler.model import WEEKDAYS, Config
from scheduler.model import Interviewer as EInterviewer
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


def read_config(path: str) -> Config:
    try:
        return parse_config(read_toml(Path(path)), path)
    except ConfigError as exc:
        raise ImportError_(exc.one_line()) from None


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


def import_config(s: Session, config: Config) -> ImportReport:
    """Create or update interviewers and loops by id; running it twice changes nothing."""
    report = ImportReport()
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
            "active": True,
        }
        row = by_key.get(inter.id)
        label = f"interviewer {inter.id}"
        if row is None:
            row = Interviewer(key=inter.id, link_nonce="", **values)
            s.add(row)
            by_key[inter.id] = row
            report.created.append(label)
            changed = True
        else:
            changed = _set(row, values)
        known = {c.url for c in row.calendars if c.kind == "ics"}
        for cal in inter.calendars:
            url = _calendar_url(cal, base)
            if url not in known:
                row.calendars.append(CalendarSource(kind="ics", label=Path(cal).name, url=url))
                changed = True
        if label not in report.created:
            (report.updated if changed else report.unchanged).append(label)
    s.flush()
    loops = {
        lp.key: lp
        for lp in s.scalars(
            select(Loop).options(selectinload(Loop.sessions).selectinload(LoopSession.pool))
        )
    }
    for loop in config.loops:
        st = loop.settings
        values = {
            "name": loop.name,
            "order": loop.order,
            "min_gap_minutes": loop.min_gap_minutes,
            "max_gap_minutes": loop.max_gap_minutes,
            "granularity_minutes": st.granularity_minutes,
            "min_notice_hours": float(st.min_notice_hours),
            "buffer_before_minutes": st.buffer_before_minutes,
            "buffer_after_minutes": st.buffer_after_minutes,
        }
        label = f"loop {loop.id}"
        lrow = loops.get(loop.id)
        if lrow is None:
            lrow = Loop(key=loop.id, **values)
            s.add(lrow)
            report.created.append(label)
            changed = True
        else:
            changed = _set(lrow, values)
        wanted = [
            (sp.name, sp.duration_minutes, sp.required, sorted(sp.pool)) for sp in loop.sessions
        ]
        have = [
            (ls.name, ls.duration_minutes, ls.required, sorted(i.key for i in ls.pool))
            for ls in lrow.sessions
        ]
        if wanted != have:
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
            changed = True
        if label not in report.created:
            (report.updated if changed else report.unchanged).append(label)
    s.flush()
    return report


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


def export_toml(s: Session, *, include_inactive: bool = False) -> str:
    """Interviewers and loops in the engine's configuration format."""
    q = select(Interviewer).options(selectinload(Interviewer.calendars)).order_by(Interviewer.key)
    if not include_inactive:
        q = q.where(Interviewer.active.is_(True))
    people = list(s.scalars(q))
    keys = {p.key for p in people}
    lines = ["# Exported by panelslot: interviewers and loops.", ""]
    for p in people:
        lines += ["[[interviewers]]", f"id = {_q(p.key)}", f"name = {_q(p.name)}"]
        lines += [f"email = {_q(p.email)}", f"timezone = {_q(p.timezone)}"]
        cals = [c.url for c in p.calendars if c.kind == "ics"]
        if cals:
            lines.append(f"calendars = {_v(cals)}")
        if p.max_interviews_per_day is not None:
            lines.append(f"max_interviews_per_day = {p.max_interviews_per_day}")
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
            for ls, pool in sessions:
                lines += ["[[loops.sessions]]", f"name = {_q(ls.name)}"]
                lines += [f"duration_minutes = {ls.duration_minutes}"]
                lines += [f"interviewers = {_v(pool)}", f"required = {ls.required}"]
            lines.append("")
    return "\n".join(lines)
