"""Request-scoped access to the database and settings, template filters, audit helper."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from web.domain.audit import record
from web.domain.booking.picture import PictureCache
from web.domain.zones import get_zone, offset_label, zone_ok
from web.store.db import Database, utcnow
from web.store.settings import AppSettings


def get_settings() -> AppSettings:
    return current_app.extensions["panelslot.settings"]  # type: ignore[no-any-return]


def get_db() -> Database:
    return current_app.extensions["panelslot.db"]  # type: ignore[no-any-return]


def get_pictures() -> PictureCache:
    """The app's short-lived cache of loop pictures (for showing pages only)."""
    return current_app.extensions["panelslot.pictures"]  # type: ignore[no-any-return]


def db_session() -> Session:
    """The request's session (closed at teardown; commit explicitly)."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session  # type: ignore[no-any-return]


def now() -> datetime:
    """The clock for a request; tests may pin it with app.config['PANELSLOT_NOW']."""
    pinned = current_app.config.get("PANELSLOT_NOW")
    return pinned if pinned is not None else utcnow()


def audit(s: Session, actor: str, action: str, *what: Any, **detail: Any) -> None:
    """The one audit writer (:func:`web.domain.audit.record`) at this request's now;
    ``what`` is the object type and id, ``detail`` may name ``coordinator_id``."""
    record(s, now(), actor, action, *what, **detail)


def local(dt: datetime | None, tz: str | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    if dt is None:
        return ""
    if not tz or not zone_ok(tz):
        tz = "UTC"
    return dt.astimezone(get_zone(tz)).strftime(fmt)


def register(app: Flask) -> None:
    app.jinja_env.filters["local"] = local
    app.jinja_env.globals["offset_label"] = offset_label
    app.jinja_env.globals["app_mode"] = lambda: get_settings().mode
