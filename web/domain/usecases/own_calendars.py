"""The interviewer's own page: their calendars (add, test, choose, remove), zone and hours,
upcoming interviews. Credentials are encrypted before they are stored."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from integrations.urlguard import private_host_reason
from web.domain import sync as calsync
from web.domain.audit import record
from web.domain.jobs import enqueue
from web.domain.zones import parse_week
from web.store.models import CalendarSource, Interviewer


def actor(who: Interviewer) -> str:
    return f"interviewer:{who.key}"


def _audit(s: Session, now: datetime, who: Interviewer, action: str, **detail: Any) -> None:
    record(s, now, actor(who), action, "interviewer", who.id, **detail)


def public_host_problem(url: str, allowed: Collection[str] = ()) -> str | None:
    """Why ``url`` may not be read (its host is private, loopback or unknown, and not one of
    the ``allowed`` host:port pairs), or None: the one address guard, as every fetch applies
    it."""
    return private_host_reason(url, allowed=allowed)


def own_source(s: Session, who: Interviewer, cid: int) -> CalendarSource | None:
    src = s.get(CalendarSource, cid)
    return src if src is not None and src.interviewer_id == who.id else None


def read_source_now(
    s: Session, who: Interviewer, src: CalendarSource, now: datetime, cfg: calsync.SyncConfig
) -> tuple[calsync.SourceResult, int]:
    """Read one calendar now (committed); the result and its busy blocks this week."""
    result = calsync.sync_source(s, who, src, now, cfg)
    s.commit()
    week = calsync.busy_summary(s, who, now).get(src.id, 0) if result.ok else 0
    return result, week


def set_hours(
    s: Session, who: Interviewer, tz: str, hours: dict[str, list[str]], now: datetime
) -> None:
    """Save the interviewer's zone and working hours. Commits."""
    who.timezone = tz
    who.working_hours = hours
    _audit(s, now, who, "interviewer_hours_set")
    s.commit()


def _add(s: Session, who: Interviewer, src: CalendarSource, now: datetime) -> CalendarSource:
    who.calendars.append(src)
    s.flush()
    _audit(s, now, who, "calendar_added", kind=src.kind)
    s.commit()
    return src


def add_ics(s: Session, who: Interviewer, url: str, label: str, now: datetime) -> CalendarSource:
    """Add an ICS feed (named after its host when ``label`` is empty). Commits."""
    host = urlsplit(url.replace("webcal://", "https://", 1)).hostname or "feed"
    src = CalendarSource(kind="ics", label=label or f"ICS feed ({host})", url=url)
    return _add(s, who, src, now)


@dataclass(frozen=True)
class CalDAVAccount:
    url: str
    label: str
    username: str
    password: str
    calendars: tuple[str, ...]  # empty: every calendar of the account


def add_caldav(
    s: Session, who: Interviewer, account: CalDAVAccount, cfg: calsync.SyncConfig, now: datetime
) -> CalendarSource:
    """Add a CalDAV account, its password encrypted; raises ``TokenKeyError``. Commits."""
    secret = calsync.encrypt_json({"username": account.username, "password": account.password}, cfg)
    src = CalendarSource(
        kind="caldav",
        label=account.label or f"CalDAV ({urlsplit(account.url).hostname})",
        url=account.url,
        credentials=secret,
        selected_calendars=list(account.calendars) or None,
    )
    return _add(s, who, src, now)


def choose_calendars(s: Session, src: CalendarSource, chosen: list[str]) -> None:
    """Which calendars of an account count (empty: the default). Commits."""
    src.selected_calendars = chosen or None
    s.commit()


def set_caldav_password(
    s: Session,
    who: Interviewer,
    src: CalendarSource,
    login: tuple[str, str],
    cfg: calsync.SyncConfig,
    now: datetime,
) -> None:
    """Replace a CalDAV account's (user name, password); raises ``TokenKeyError``. Commits."""
    src.credentials = calsync.encrypt_json({"username": login[0], "password": login[1]}, cfg)
    src.needs_reconnect = False
    _audit(s, now, who, "calendar_password_changed", kind="caldav")
    s.commit()


def remove_calendar(s: Session, who: Interviewer, src: CalendarSource, now: datetime) -> None:
    """Delete a calendar and the busy time read from it. Commits."""
    calsync.clear_source(s, src)
    s.delete(src)
    _audit(s, now, who, "calendar_removed", kind=src.kind)
    s.commit()


def queue_sync(s: Session, who: Interviewer, now: datetime) -> None:
    """Ask the worker to read all the interviewer's calendars. Commits."""
    enqueue(s, "sync_interviewer", {"interviewer_id": who.id}, now=now, requested_by=actor(who))
    s.commit()


def store_connected(
    s: Session, who: Interviewer, kind: str, label: str, ciphertext: str, now: datetime
) -> CalendarSource:
    """Keep new OAuth credentials on the interviewer's source of ``kind``. Commits."""
    src = next((c for c in who.calendars if c.kind == kind), None)
    if src is None:
        src = CalendarSource(kind=kind, label=label, url="")
        who.calendars.append(src)
    src.credentials = ciphertext
    src.needs_reconnect = False
    src.sync_state = None
    src.last_error = None
    s.flush()
    _audit(s, now, who, "calendar_connected", kind=kind)
    s.commit()
    return src


def shown_url(src: CalendarSource) -> str:
    """Where a calendar lives, without secrets (feed URLs often embed one in the path)."""
    if src.kind == "google":
        return "Google Calendar"
    if src.kind == "msgraph":
        return "Microsoft 365"
    parts = urlsplit(src.url)
    if not parts.scheme:
        return src.url
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}/…" if src.kind == "ics" else f"{parts.scheme}://{host}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def week_preview(tz: str, hours: dict[str, list[str]], at: datetime) -> list[dict[str, Any]]:
    """The next seven local days: working ranges in the local clock and in UTC."""
    zone = ZoneInfo(tz)
    week = parse_week(hours)
    today = at.astimezone(zone).date()
    rows = []
    for offset in range(7):
        day = today + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        ranges = []
        for a, b in week.ranges.get(day.weekday(), ()):
            # wall-clock minutes -> instants (DST days: fold onto the real clock)
            start = (midnight + timedelta(minutes=a)).astimezone(UTC)
            end = (midnight + timedelta(minutes=b)).astimezone(UTC)
            ranges.append(
                {
                    "local": f"{_hhmm(a)}–{_hhmm(b)}",
                    "utc": f"{start:%H:%M}–{end:%H:%M} UTC",
                }
            )
        rows.append({"day": day.strftime("%a %d %b"), "ranges": ranges})
    return rows
