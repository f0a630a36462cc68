"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from integrations.calendars.feed import FeedSnapshots
from web.domain.booking.live import LiveCache
from web.domain.booking.picture import PictureCache
from web.domain.logredact import install_filter
from web.domain.sync.config import SyncConfig
from web.store.db import Database
from web.store.settings import AppSettings, check_production, load_settings
from web.ui.api.problems import ApiProblem, is_api_path, of_problem, problem_response
from web.ui.helpers import RowIdConverter

log = logging.getLogger(__name__)


def create_app(
    config_overrides: dict[str, Any] | None = None, *, settings: AppSettings | None = None
) -> Flask:
    """Build the app. ``config_overrides`` are settings keys ("database.url": ...)."""
    settings = settings or load_settings(config_overrides)
    check_production(settings)
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter
    secret = settings.security.secret_key
    if not secret:
        # demo/testing only (check_production refused production): a per-process key
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
    app.extensions["panelslot.live"] = LiveCache()
    # built once: how calendars are read, with the app's bounded cache of feed copies
    app.extensions["panelslot.sync"] = SyncConfig.from_settings(
        settings, snapshots=FeedSnapshots(), web=True
    )
    csrf = CSRFProtect(app)  # every POST form: the one CSRF check (Flask-WTF)

    _register_blueprints(app, demo=settings.mode == "demo")
    from web.ui.api import views as api_views

    api_views.register(app, csrf)  # /api/v1: tokens, not cookies, so no CSRF

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
    install_filter(app.logger)  # "Exception on /c/<token>": the token never reaches a log
    helpers.register(app)
    from web.ui import zone_views

    zone_views.register(app)
    return app


def _register_blueprints(app: Flask, *, demo: bool) -> None:
    from web.ui.blueprints import (
        candidate,
        coord_booking,
        coord_interviewers,
        coord_loops,
        coord_requests,
        coord_tokens,
        coordinator,
        health,
        interviewer,
        zones,
    )

    for blueprint in (
        coordinator.bp,
        coord_interviewers.bp,
        coord_loops.bp,
        coord_requests.bp,
        coord_tokens.bp,
        candidate.bp,
        interviewer.bp,
        health.bp,
        coord_booking.bp,
        zones.bp,
    ):
        app.register_blueprint(blueprint)
    if demo:
        from web.ui.blueprints import demo as demo_pages

        app.register_blueprint(demo_pages.bp)


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

    @app.errorhandler(ApiProblem)
    def _api(err: ApiProblem) -> Response:
        return of_problem(err)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> tuple[str, int] | Response:
        code = err.code or 500
        if is_api_path():
            return problem_response(code, err.description or err.name)
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
    def _unexpected(err: Exception) -> tuple[str, int] | Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_path():
            return problem_response(500, "the error has been logged; try again")
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
