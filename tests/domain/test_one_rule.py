"""Rules that existed in several copies now have one; these pin the behaviour chosen."""

from __future__ import annotations

import sqlite3

from integrations.mail import NullMailer
from web.domain.booking.transactions import is_overlap
from web.domain.worker import build_mailer
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
