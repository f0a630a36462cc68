"""A live read that fails is logged with its reason and the fallback it takes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from scheduler.model import Interval
from tests.fixtures.sync import add_source, day_events, ics, run_sync, utc
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import FeedServer, Static, Status
from web.domain.sync.livecheck import live_check
from web.store.db import Database

DAY = utc(2027, 3, 2)


def test_a_failed_live_read_is_logged_with_why_it_fell_back(
    db: Database,
    company: Any,
    feeds: FeedServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # import-linter (tests/engine/test_purity.py) configures logging in-process, which
    # disables every logger that existed then; this one must be live for the test
    monkeypatch.setattr(logging.getLogger("web.domain.sync.livecheck"), "disabled", False)
    feeds.routes["/bob.ics"] = Static(ics(*day_events("b", DAY, [10])), etag='"1"')
    sid = add_source(db, "bob", kind="ics", label="bob-cal", url=feeds.url("/bob.ics"))
    run_sync(db, NOW)
    feeds.routes["/bob.ics"] = Status(503)
    with caplog.at_level(logging.WARNING, logger="web.domain.sync.livecheck"), db.session() as s:
        from web.domain.sync.sync import plan

        [bob] = [p for p in plan(s) if p.key == "bob"]
        check = live_check(s, [bob.id], Interval(DAY, DAY + timedelta(days=1)), NOW)
    assert check.busy[bob.id] == [Interval(DAY + timedelta(hours=10), DAY + timedelta(hours=11))]
    [record] = [r for r in caplog.records if r.name == "web.domain.sync.livecheck"]
    text = record.getMessage()
    assert f"calendar {sid}" in text and "HTTP 503" in text and "stored blocks" in text
