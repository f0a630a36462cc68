"""Request-scoped access to the database and settings, template filters, audit helper."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from web.domain.audit import record
from web.domain.booking.live import LiveCache
from web.domain.booking.picture import PictureCache
from web.domain.sync.config import SyncConfig
from web.domain.zones import get_zone, offset_label, zone_ok
from web.store.db import Database, utcnow
from web.store.settings import AppSettings

MAX_ID = 2**31 - 1  # row ids are 32-bit on PostgreSQL: a larger one is simply not found


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route, bounded to the ids a row can have (else 404, not 500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def parse_id(raw: str | None) -> int | None:
    """A row id typed into a form field, or None if it cannot be one."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def public_url(path: str) -> str:
    """``path`` on the site's public address, for links that leave the site (mail, pages).

    Production refuses to start without ``server.public_url``; only demo and
    testing fall back to the address of the request.
    """
    base = get_settings().server.public_url or request.url_root
    return base.rstrip("/") + "/" + path.lstrip("/")


def get_settings() -> AppSettings:
    return current_app.extensions["panelslot.settings"]  # type: ignore[no-any-return]


def get_db() -> Database:
    return current_app.extensions["panelslot.db"]  # type: ignore[no-any-return]


def get_pictures() -> PictureCache:
    """The app's short-lived cache of loop pictures (for showing pages only)."""
    return current_app.extensions["panelslot.pictures"]  # type: ignore[no-any-return]


def get_live() -> LiveCache:
    """The app's cache of live searches in candidates' zones."""
    return current_app.extensions["panelslot.live"]  # type: ignore[no-any-return]


def secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])


def get_sync_config() -> SyncConfig:
    """How the app reads calendars (built once by the app factory)."""
    return current_app.extensions["panelslot.sync"]  # type: ignore[no-any-return]


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
