"""Aware-UTC datetimes on both backends; migrations from empty and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from web.store import migrate
from web.store.db import Database, make_engine
from web.store.models import AuditLog, Base
from web.store.settings import normalize_db_url


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2027, 3, 28, 6, 30, tzinfo=kolkata)
    with db.session() as s:
        s.add(AuditLog(at=moment, actor="t", action="x"))
    with db.session() as s:
        got = s.scalar(select(AuditLog.at))
    assert got == moment
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.hour == 1


def test_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        s.add(AuditLog(at=datetime(2027, 1, 1, 12), actor="t", action="x"))
        s.flush()


def test_comparisons_use_utc_instants(db: Database) -> None:
    with db.session() as s:
        for h in range(3):
            s.add(AuditLog(at=datetime(2027, 1, 1, 10 + h, tzinfo=UTC), actor="t", action=str(h)))
    cutoff = datetime(2027, 1, 1, 12, 30, tzinfo=timezone(timedelta(hours=1)))  # 11:30 UTC
    with db.session() as s:
        got = s.scalars(select(AuditLog.action).where(AuditLog.at > cutoff)).all()
    assert got == ["2"]


def _fresh_url(database_url: str, tmp_path: Path) -> tuple[str, object]:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'm{uuid.uuid4().hex[:6]}.sqlite3'}", None
    url = make_url(database_url)
    base = url.set(query={})
    schema = f"pst_mig_{uuid.uuid4().hex[:8]}"
    eng = make_engine(normalize_db_url(base.render_as_string(hide_password=False)))
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    fresh = base.update_query_dict({"options": f"-csearch_path={schema}"})
    return fresh.render_as_string(hide_password=False), (eng, schema)


def test_upgrade_from_empty_then_downgrade_to_base(database_url: str, tmp_path: Path) -> None:
    url, cleanup = _fresh_url(database_url, tmp_path)
    try:
        engine = make_engine(url)
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        # the migrated schema holds what the models write
        db = Database(url)
        with db.session() as s:
            s.add(AuditLog(at=datetime(2027, 1, 1, tzinfo=UTC), actor="t", action="x"))
        db.dispose()
        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        migrate.upgrade(engine)  # and up again
        assert migrate.current_revision(engine) == migrate.head_revision()
        engine.dispose()
    finally:
        if cleanup is not None:
            eng, schema = cleanup  # type: ignore[misc]
            with eng.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            eng.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migration matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [
            d
            for d in compare_metadata(ctx, Base.metadata)
            if "apscheduler_jobs" not in repr(d)  # APScheduler's own table
        ]
    engine.dispose()
    assert diff == []
