"""Fixtures of the web tests: a migrated database (SQLite, and PostgreSQL when configured),
the app, its test client, a CLI runner and a seeded company."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from scheduler.config import parse_config
from web import migrate
from web.auth import hash_password
from web.db import Database, make_engine
from web.importer import import_config
from web.models import Base, Coordinator

PG_ENV = "PANELSLOT_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday
SECRET = "test-secret-key-not-for-production-0123"
PASSWORD = "correct horse battery"
_PASSWORD_HASH: list[str] = []


def password_hash() -> str:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    return _PASSWORD_HASH[0]


COMPANY: dict[str, Any] = {
    "scheduling": {"granularity_minutes": 15, "min_notice_hours": 24, "buffer_after_minutes": 10},
    "interviewers": [
        {
            "id": "alice",
            "name": "Alice Okafor",
            "email": "alice@example.com",
            "timezone": "Africa/Lagos",
            "working_hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        {
            "id": "bob",
            "name": "Bob Lindqvist",
            "email": "bob@example.com",
            "timezone": "Europe/London",
            "working_hours": {d: ["08:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        {
            "id": "devi",
            "name": "Devi Raman",
            "email": "devi@example.com",
            "timezone": "Asia/Kolkata",
            "max_interviews_per_day": 2,
            "working_hours": {d: ["10:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        {
            "id": "eli",
            "name": "Eli Goldberg",
            "email": "eli@example.com",
            "timezone": "America/New_York",
            "working_hours": {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    ],
    "loops": [
        {
            "id": "onsite",
            "name": "Backend onsite",
            "order": "fixed",
            "max_gap_minutes": 15,
            "sessions": [
                {
                    "name": "System design",
                    "duration_minutes": 60,
                    "interviewers": ["alice", "bob"],
                    "required": 1,
                },
                {
                    "name": "Coding",
                    "duration_minutes": 45,
                    "interviewers": ["bob", "devi", "eli"],
                    "required": 1,
                },
            ],
        },
        {
            "id": "screen",
            "name": "Phone screen",
            "order": "any",
            "min_notice_hours": 12,
            "sessions": [
                {
                    "name": "Pair",
                    "duration_minutes": 45,
                    "interviewers": ["bob", "eli"],
                    "required": 2,
                }
            ],
        },
    ],
}


def _pg_url() -> str | None:
    raw = os.environ.get(PG_ENV)
    if not raw:
        if IN_CI:
            pytest.fail(f"CI=true but {PG_ENV} is not set: the PostgreSQL run is required in CI")
        return None
    return raw


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str | None]:
    """A private schema in the PostgreSQL test database, dropped at the end."""
    raw = os.environ.get(PG_ENV)
    if not raw:
        yield None
        return
    from web.settings import normalize_db_url

    base = normalize_db_url(raw)
    schema = f"pst_web_{uuid.uuid4().hex[:10]}"
    try:
        eng = make_engine(base)
        with eng.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        yield f"unreachable:{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with eng.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


@pytest.fixture(scope="session")
def sqlite_session_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'web.sqlite3'}"


def _migrated(url: str) -> Database:
    db = Database(url)
    migrate.upgrade(db.engine)
    return db


_MIGRATED: dict[str, Database] = {}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, sqlite_session_url: str, pg_schema_url: str | None
) -> Iterator[str]:
    """A migrated, emptied database of each backend."""
    if request.param == "sqlite":
        url = sqlite_session_url
    else:
        if pg_schema_url is None and _pg_url() is None:
            pytest.skip(
                f"PostgreSQL run skipped: set {PG_ENV} (postgresql://postgres@127.0.0.1:5432/test)"
            )
        if pg_schema_url is None or pg_schema_url.startswith("unreachable:"):
            _skip_or_fail(f"PostgreSQL at {PG_ENV} is unreachable: {pg_schema_url}")
        assert pg_schema_url is not None
        url = pg_schema_url
    if url not in _MIGRATED:
        _MIGRATED[url] = _migrated(url)
    db = _MIGRATED[url]
    _empty(db)
    yield url


def _empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if "apscheduler_jobs" in db.engine.dialect.get_table_names(conn):
            conn.execute(text("DELETE FROM apscheduler_jobs"))


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    from web.app import create_app

    app = create_app(
        {
            "server.mode": "testing",
            "database.url": database_url,
            "mail.sender": "file",
            "mail.outbox_dir": str(tmp_path / "outbox"),
            "security.secret_key": SECRET,
            "server.public_url": "http://panelslot.test/",
        }
    )
    app.config["PANELSLOT_NOW"] = NOW
    yield app
    app.extensions["panelslot.db"].dispose()


@pytest.fixture
def db(app: Any) -> Database:
    return app.extensions["panelslot.db"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PANELSLOT_DATABASE_URL", database_url)
    monkeypatch.delenv("PANELSLOT_CONFIG", raising=False)
    return CliRunner()


def add_coordinator(db: Database, email: str, *, tz: str = "Europe/London") -> int:
    with db.session() as s:
        row = Coordinator(
            email=email,
            name=email.split("@")[0].title(),
            password_hash=password_hash(),
            timezone=tz,
        )
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture
def company(db: Database, tmp_path: Path) -> dict[str, int]:
    """Interviewers and loops (through the importer), two coordinators."""
    with db.session() as s:
        import_config(s, parse_config(COMPANY, str(tmp_path / "company.toml")))
    return {
        "ann": add_coordinator(db, "ann@example.com"),
        "zed": add_coordinator(db, "zed@example.com", tz="America/New_York"),
    }


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1) or m.group(2)


def get_csrf(client: Any, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return csrf_of(resp.get_data(as_text=True))


def login(client: Any, email: str = "ann@example.com", password: str = PASSWORD) -> Any:
    token = get_csrf(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def signed_in(client: Any, company: dict[str, int]) -> Any:
    resp = login(client)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client
