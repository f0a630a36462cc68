"""Rules that existed in several copies now have one; these pin the behaviour chosen."""

from __future__ import annotations

import sqlite3
import tomllib

import pytest

from integrations.mail import NullMailer
from scheduler.config import parse_config
from scheduler.errors import ConfigError
from web.domain.booking.transactions import is_overlap
from web.domain.worker import build_mailer
from web.domain.zones import HoursError, parse_week, utc_offset_label
from web.store.settings import load_settings


class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_mail_sender_none_keeps_nothing(tmp_path):
    """`mail.sender = "none"` drops mail: the old worker kept every mail in memory for ever."""
    settings = load_settings(environ={}, overrides={"mail.sender": "none"})
    mailer = build_mailer(settings, {})
    assert isinstance(mailer, NullMailer)


def test_the_null_mailer_counts_and_keeps_no_mail():
    from dataclasses import fields

    from integrations.mail import OutgoingMail

    mailer = NullMailer()
    for n in range(3):
        mailer.send(OutgoingMail(to=(f"c{n}@example.com",), subject="S", text="hello"))
    assert mailer.dropped == 3
    kept = [f.name for f in fields(mailer) if isinstance(getattr(mailer, f.name), list | dict)]
    assert kept == []


def test_overlap_is_matched_by_sqlstate_not_by_text():
    assert is_overlap(_PgError("anything at all", "23P01"))
    assert not is_overlap(_PgError("overlap exclusion conflicting key", "23505"))
    assert not is_overlap(ValueError("booking overlap"))


def test_overlap_is_matched_by_sqlite_error_name():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("CREATE TRIGGER no BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, 'nope'); END")
    try:
        db.execute("INSERT INTO t VALUES (1)")
    except sqlite3.IntegrityError as exc:
        assert is_overlap(exc)
    else:
        raise AssertionError("the trigger did not abort")


# ------------------------------------------------ one working-hours reader, one formatter

_TEAM = """
[[interviewers]]
id = "a"
email = "a@example.com"
timezone = "UTC"
[interviewers.working_hours]
mon = [{ranges}]
"""


def _config_hint(ranges: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(tomllib.loads(_TEAM.format(ranges=ranges)), "team.toml")
    return str(err.value)


@pytest.mark.parametrize(
    ("ranges", "hint"),
    [
        (["17:00-09:00"], "the end must be after the start"),
        (["9-5"], 'write a range like "09:00-17:00"'),
        (["09:60-10:00"], "hours are 00:00 to 24:00"),
        (["24:00-24:00"], "24:00 may only end a range"),
        (["09:00-12:00", "11:00-13:00"], "ranges overlap"),
    ],
)
def test_the_config_file_and_the_web_forms_read_hours_alike(ranges, hint):
    """The copies differed: the config said "ends before it starts", the forms "the end
    must be after the start"; the forms took " 9:00" where the config did too, but with
    another message for every fault. Now one reader, one message."""
    with pytest.raises(HoursError) as err:
        parse_week({"mon": ranges})
    assert hint in err.value.hint
    assert hint in _config_hint(", ".join(f'"{r}"' for r in ranges))


def test_good_hours_read_the_same_both_ways():
    ranges = ["13:00-17:00", " 9:00 - 12:30 "]
    config = parse_config(
        tomllib.loads(_TEAM.format(ranges=", ".join(f'"{r}"' for r in ranges))), "t.toml"
    )
    assert parse_week({"mon": ranges}) == config.interviewers[0].working_hours
    assert parse_week({"mon": ranges}).on(0) == ((540, 750), (780, 1020))


def test_one_offset_formatter():
    from datetime import datetime, timedelta, timezone

    def at(offset: timedelta) -> datetime:
        return datetime(2027, 1, 1, tzinfo=timezone(offset))

    assert utc_offset_label(at(timedelta(hours=5, minutes=30))) == "UTC+05:30"
    assert utc_offset_label(at(-timedelta(hours=3, minutes=30))) == "UTC-03:30"


def test_one_audit_writer_for_views_and_the_booking_service(db, company):
    """The view helper and the booking service wrote AuditLog rows each their own way; both
    now go through web.domain.audit.record (the service names the request's coordinator)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from web.domain.audit import record, record_request
    from web.store.models import AuditLog, Loop, SchedulingRequest

    at = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with db.session() as s:
        req = SchedulingRequest(
            coordinator_id=company["ann"],
            loop_id=s.scalars(select(Loop.id)).first(),
            candidate_name="Cam",
            candidate_email="cam@example.com",
            date_from=at.date(),
            date_to=at.date(),
            token_nonce="n",
        )
        s.add(req)
        s.flush()
        by_coordinator = record_request(s, at, "coordinator:ann", "booking_cancelled", req, why="x")
        by_candidate = record_request(s, at, "candidate", "booking_created", req)
        plain = record(
            s, at, "coordinator:zed", "loop_saved", "loop", 7, coordinator_id=company["zed"]
        )
        s.flush()
        rows = {r.id: r for r in s.scalars(select(AuditLog))}
        a, b, c = rows[by_coordinator.id], rows[by_candidate.id], rows[plain.id]
        assert (a.coordinator_id, a.object_type, a.object_id, a.detail) == (
            company["ann"],
            "request",
            str(req.id),
            {"why": "x"},
        )
        assert b.coordinator_id is None and b.at == at
        assert (c.object_type, c.object_id, c.coordinator_id) == ("loop", "7", company["zed"])


def test_the_no_overlap_triggers_are_the_only_sqlite_triggers(db):
    """is_overlap reads SQLITE_CONSTRAINT_TRIGGER as "overlap": that holds while no other
    trigger can abort a write."""
    from sqlalchemy import text

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL matches SQLSTATE 23P01")
    with db.engine.connect() as conn:
        names = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
    assert names == {"booking_sessions_no_overlap_insert", "booking_sessions_no_overlap_update"}
