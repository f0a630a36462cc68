"""Commands of the web app: db, import/export, create-user, demo, serve, worker."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from alembic.util.exc import CommandError
from sqlalchemy.exc import SQLAlchemyError

from integrations.errors import MailError
from web.store.settings import AppSettings, SettingsError, load_settings

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings TOML (default: $PANELSLOT_CONFIG).",
)


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"panelslot: {message}", err=True)
    sys.exit(code)


def _settings(config_path: str | None, overrides: dict[str, Any] | None = None) -> AppSettings:
    try:
        return load_settings(overrides, config_path=config_path)
    except SettingsError as exc:
        _fail(str(exc))


def _database(settings: AppSettings) -> Any:
    from web.store.db import Database

    try:
        return Database(settings.database_url, echo=bool(settings.database.echo))
    except (SQLAlchemyError, ImportError, ValueError) as exc:  # a bad URL or missing driver
        _fail(f"database.url ({settings.origins['database.url']}): {exc}")


def _check_schema(db: Any) -> None:
    from web.store import migrate

    try:
        current = migrate.current_revision(db.engine)
    except SQLAlchemyError as exc:
        _fail(f"cannot reach the database: {_short(exc)}")
    if current != migrate.head_revision():
        _fail(
            f"the database schema is at {current or 'nothing'}, "
            f"not {migrate.head_revision()}: run `panelslot db upgrade` first"
        )


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


# ---------------------------------------------------------------- db


@click.group("db")
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@CONFIG_OPTION
def db_upgrade(revision: str, config_path: str | None) -> None:
    """Create or migrate the schema up to REVISION (default: head)."""
    from web.store import migrate

    db = _database(_settings(config_path))
    try:
        migrate.upgrade(db.engine, revision)
    except (CommandError, SQLAlchemyError) as exc:
        _fail(f"upgrade failed: {_short(exc)}")
    click.echo(f"database at revision {migrate.current_revision(db.engine)}")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@CONFIG_OPTION
def db_downgrade(revision: str, config_path: str | None) -> None:
    """Migrate the schema down to REVISION (default: one step; "base" removes everything)."""
    from web.store import migrate

    db = _database(_settings(config_path))
    try:
        migrate.downgrade(db.engine, revision)
    except (CommandError, SQLAlchemyError) as exc:
        _fail(f"downgrade failed: {_short(exc)}")
    click.echo(f"database at revision {migrate.current_revision(db.engine) or 'base'}")


@db_group.command("current")
@CONFIG_OPTION
def db_current(config_path: str | None) -> None:
    """Print the schema revision of the database."""
    from web.store import migrate

    db = _database(_settings(config_path))
    click.echo(f"{migrate.current_revision(db.engine) or 'base'} (head {migrate.head_revision()})")


# ---------------------------------------------------------------- data


@click.command("import")
@click.argument("config_file", type=click.Path(dir_okay=False))
@CONFIG_OPTION
def import_command(config_file: str, config_path: str | None) -> None:
    """Load interviewers and loops from CONFIG_FILE (the engine's format); idempotent."""
    from web.domain.importer import ImportError_, import_config, read_config

    try:
        read = read_config(config_file)
    except ImportError_ as exc:
        _fail(str(exc))
    db = _database(_settings(config_path))
    _check_schema(db)
    with db.session() as s:
        report = import_config(s, read.config, read.loop_settings)
    for label in report.created:
        click.echo(f"created  {label}")
    for label in report.updated:
        click.echo(f"updated  {label}")
    click.echo(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )


@click.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@CONFIG_OPTION
def export_command(output: str | None, config_path: str | None) -> None:
    """Write interviewers and loops in the configuration format (stdout by default)."""
    from web.domain.importer import export_toml

    db = _database(_settings(config_path))
    _check_schema(db)
    with db.session() as s:
        text = export_toml(s)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--timezone", "tz", default="UTC", help="The coordinator's IANA zone.")
@click.option("--password-env", default=None, help="Read the password from this variable.")
@click.option("--update", is_flag=True, help="Reset the password of an existing account.")
@CONFIG_OPTION
def create_user(
    email: str, name: str, tz: str, password_env: str | None, update: bool, config_path: str | None
) -> None:
    """Create a coordinator account (asks for the password unless --password-env)."""
    from sqlalchemy import func, select

    from web.domain.zones import zone_ok
    from web.store.models import Coordinator
    from web.ui.auth import hash_password
    from web.ui.forms import EMAIL_RE

    email = email.strip()
    if not EMAIL_RE.match(email):
        _fail(f"EMAIL = {email!r}: not an e-mail address")
    if not zone_ok(tz):
        _fail(f"--timezone = {tz!r}: not a known time zone; use an IANA name like Europe/Berlin")
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            _fail(f"--password-env {password_env}: the variable is empty or not set")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        _fail("the password must have at least 8 characters")
    db = _database(_settings(config_path))
    _check_schema(db)
    with db.session() as s:
        row = s.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.lower()))
        if row is not None and not update:
            _fail(f"EMAIL = {email!r}: an account exists; add --update to reset its password", 1)
        if row is None:
            row = Coordinator(email=email, name=name, timezone=tz, password_hash="")
            s.add(row)
        row.password_hash = hash_password(password)
        if name:
            row.name = name
        row.timezone = tz
    click.echo(f"{'updated' if update else 'created'} coordinator {email}")


@click.command("settings")
@CONFIG_OPTION
def settings_command(config_path: str | None) -> None:
    """Print every web setting, its value and where it came from (secrets hidden)."""
    from web.store.settings import SCHEMA

    st = _settings(config_path)
    helps = {o.key: o.help for o in SCHEMA}
    for key, shown, origin in st.describe():
        click.echo(f"{key:32} {shown:40} {origin}")
        click.echo(f"{'':32} # {helps[key]}")


# ---------------------------------------------------------------- running


@click.command("worker")
@CONFIG_OPTION
def worker_command(config_path: str | None) -> None:
    """Run a job worker (sync, mail delivery, expiry): one on SQLite, any number on
    PostgreSQL (they share the queue; one of them runs the periodic schedule)."""
    from web.domain.worker import Worker, build_mailer

    settings = _settings(config_path)
    db = _database(settings)
    _check_schema(db)
    try:
        mailer = build_mailer(settings)
    except (MailError, ValueError) as exc:  # MailConfigError, a bad port: one line
        _fail(str(exc))
    worker = Worker(settings, db, mailer)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def _stop(signum: int, frame: Any) -> None:
        worker.request_stop()  # start() returns after shutdown: claims given back

    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"panelslot worker {worker.name} polling {settings.database_url.split('@')[-1]}")
    try:
        worker.start(blocking=True)
    except (KeyboardInterrupt, SystemExit):
        worker.shutdown()


@click.command("serve")
@click.option("--host", default=None, help="Default: server.host.")
@click.option("--port", type=int, default=None, help="Default: server.port.")
@click.option("--workers", type=int, default=None, help="Gunicorn processes (server.workers).")
@CONFIG_OPTION
def serve_command(
    host: str | None, port: int | None, workers: int | None, config_path: str | None
) -> None:
    """Serve the web app with gunicorn (run `panelslot worker` beside it)."""
    from gunicorn.app.base import BaseApplication

    from web.ui.app import create_app

    settings = _settings(config_path)
    try:
        app = create_app(settings=settings)
    except SettingsError as exc:
        _fail(str(exc))
    _check_schema(app.extensions["panelslot.db"])
    app.extensions["panelslot.db"].dispose()  # gunicorn forks; no shared connections
    bind = f"{host or settings.server.host}:{port or settings.server.port}"
    options = {
        "bind": bind,
        "workers": workers or int(settings.server.workers),
        "accesslog": "-",
        "logger_class": "web.domain.logredact.RedactingGunicornLogger",
        "timeout": 60,
    }

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for k, v in options.items():
                self.cfg.set(k, v)

        def load(self) -> Any:
            return app

    click.echo(f"panelslot serving on http://{bind} with {options['workers']} worker(s)")
    _App().run()


@click.command("demo")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default="panelslot-demo",
    show_default=True,
    help="Folder for the demo database, calendars and outbox.",
)
@click.option("--no-serve", is_flag=True, hidden=True, help="Set up, print, and exit (tests).")
def demo_command(port: int, folder: str, no_serve: bool) -> None:
    """A working demo: fresh SQLite, a demo company, one pending request, served locally."""
    from web.domain.worker import Worker, build_mailer
    from web.store.db import Database
    from web.ui.app import create_app

    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    db_file = root / "panelslot-demo.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_file) + suffix).unlink(missing_ok=True)
    for old_mail in (root / "outbox").glob("*.eml"):  # a fresh demo starts with an empty outbox
        old_mail.unlink()
    secret = secrets.token_urlsafe(32)
    public = f"http://127.0.0.1:{port}/"
    overrides = {
        "server.mode": "demo",
        "server.public_url": public,
        "database.url": f"sqlite:///{db_file}",
        "mail.sender": "file",
        "mail.outbox_dir": str(root / "outbox"),
        "security.secret_key": secret,
        "server.worker_poll_seconds": 1.0,
    }
    settings = load_settings(overrides, environ={})
    db = Database(settings.database_url)
    _seed_demo(db, root, secret, public)
    worker = Worker(settings, db, build_mailer(settings, {}))
    if no_serve:
        worker.poll()
        worker.heartbeat()
        return
    app = create_app(settings=settings)
    worker.start(blocking=False)
    from werkzeug.serving import run_simple

    from web.domain.logredact import install_werkzeug_filter

    install_werkzeug_filter()
    try:
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    except OSError as exc:
        _fail(f"--port {port}: cannot listen ({exc.strerror or exc}); pick another port")
    finally:
        worker.shutdown()


def _seed_demo(db: Any, root: Path, secret: str, public: str) -> None:
    """Migrate and fill the demo database, and print how to use it."""
    from web import demo
    from web.domain.services import candidate_token
    from web.store import migrate
    from web.store.db import utcnow
    from web.store.models import SchedulingRequest

    migrate.upgrade(db.engine)
    with db.session() as s:
        at = utcnow()  # the CLI is where the demo's clock is read, once
        seeded = demo.seed(s, root, at, secret_key=secret, public_url=public)
    with db.session() as s:
        req = s.get(SchedulingRequest, seeded.request_id)
        assert req is not None
        link = f"{public}c/{candidate_token(secret, req, now=at)}"
    click.echo(f"panelslot demo in {root}")
    click.echo(f"  open        {public}")
    click.echo(f"  sign in as  {seeded.coordinator_email}")
    click.echo(f"  password    {seeded.coordinator_password}")
    click.echo(f"  candidate   {link}")
    click.echo(f"  mail goes to {root / 'outbox'} (page: {public}demo/outbox)")


def register(group: click.Group) -> None:
    for cmd in (
        db_group,
        import_command,
        export_command,
        create_user,
        settings_command,
        worker_command,
        serve_command,
        demo_command,
    ):
        group.add_command(cmd)
