"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from web.domain.booking.picture import PictureCache
from web.store.db import Database
from web.store.settings import AppSettings, check_secret_key, load_settings

log = logging.getLogger(__name__)
csrf = CSRFProtect()


def create_app(
    config_overrides: dict[str, Any] | None = None, *, settings: AppSettings | None = None
) -> Flask:
    """Build the app. ``config_overrides`` are settings keys ("database.url": ...)."""
    settings = settings or load_settings(config_overrides)
    check_secret_key(settings)
    app = Flask(__name__)
    secret = settings.security.secret_key
    if not secret:
        # demo/testing only (check_secret_key refused production): a per-process key
        import secrets

        secret = secrets.token_urlsafe(32)
    app.config.update(
        SECRET_KEY=secret,
        TESTING=settings.mode == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.security.secure_cookies)
        and settings.mode == "production",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.extensions["panelslot.settings"] = settings
    db = Database(settings.database_url, echo=bool(settings.database.echo))
    app.extensions["panelslot.db"] = db
    app.extensions["panelslot.pictures"] = PictureCache()
    csrf.init_app(app)

    from web.ui.blueprints import candidate, coordinator, health, interviewer

    app.register_blueprint(coordinator.bp)
    app.register_blueprint(candidate.bp)
    app.register_blueprint(interviewer.bp)
    app.register_blueprint(health.bp)
    from web.ui.blueprints import coord_booking

    app.register_blueprint(coord_booking.bp)
    if settings.mode == "demo":
        from web.ui.blueprints import demo

        app.register_blueprint(demo.bp)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        s = g.pop("db_session", None)
        if s is not None:
            if exc is not None:
                s.rollback()
            s.close()

    _register_error_handlers(app)
    from web.ui import helpers, security

    security.init_app(app, settings)
    helpers.register(app)
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> tuple[str, int]:
        return (
            render_template(
                "error.html",
                code=400,
                title="The form expired",
                message="This form was missing its security token or it was out of date. "
                "Go back, reload the page and submit it again.",
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> tuple[str, int]:
        code = err.code or 500
        titles = {404: "Not found", 403: "Not allowed", 405: "Not allowed", 429: "Slow down"}
        return (
            render_template(
                "error.html",
                code=code,
                title=titles.get(code, err.name),
                message=err.description if code != 404 else "There is nothing at this address.",
            ),
            code,
        )

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return (
            render_template(
                "error.html",
                code=500,
                title="Something went wrong",
                message="The error has been logged. Try again; if it keeps happening, "
                "tell your administrator the time it happened.",
            ),
            500,
        )
