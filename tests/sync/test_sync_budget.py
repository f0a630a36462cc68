"""Every sync read runs under the read budget and the address guard, in the worker's path:
a feed over its memory budget or behind a private address is refused, and the last good
busy time stays."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from integrations.budget import ReadBudget, Reader
from tests.fixtures.sync import add_source, blocks, day_events, ics, run_sync, utc
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import FeedServer, Redirect, Static
from tests.integrations.test_budget import many_events
from web.domain.sync.config import SyncConfig
from web.store.db import Database
from web.store.settings import load_settings

DAY = utc(2027, 3, 2)
GOOD = ics(*day_events("a", DAY, [9]))


def _first_sync(db: Database, feeds: FeedServer, cfg: SyncConfig) -> int:
    feeds.routes["/alice.ics"] = Static(GOOD)
    sid = add_source(db, "alice", kind="ics", label="alice-work", url=feeds.url("/alice.ics"))
    assert run_sync(db, NOW, cfg)["alice-work"].ok
    return sid


def test_a_feed_over_the_memory_budget_is_refused_and_last_good_kept(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    budget = Reader(ReadBudget(seconds=120, memory_mb=120))
    cfg = SyncConfig(reader=budget, feed_max_bytes=64 * 1024 * 1024)
    sid = _first_sync(db, feeds, cfg)
    before = blocks(db, sid)
    feeds.routes["/alice.ics"] = Static(many_events(70_000))
    result = run_sync(db, NOW, cfg)["alice-work"]
    assert not result.ok and "120 MB of memory (the read budget)" in (result.error or "")
    assert blocks(db, sid) == before


def test_a_private_address_is_refused_at_sync_not_only_when_added(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    sid = _first_sync(db, feeds, SyncConfig())
    before = blocks(db, sid)
    guarded = replace(SyncConfig(), block_private=True)
    result = run_sync(db, NOW, guarded)["alice-work"]
    assert not result.ok and "private or local address" in (result.error or "")
    assert blocks(db, sid) == before


def test_a_redirect_to_a_private_address_is_refused(
    db: Database, company: Any, feeds: FeedServer
) -> None:
    sid = _first_sync(db, feeds, SyncConfig())
    feeds.routes["/alice.ics"] = Redirect(feeds.url("/other.ics"))
    feeds.routes["/other.ics"] = Static(GOOD)
    result = run_sync(db, NOW, replace(SyncConfig(), block_private=True))["alice-work"]
    assert not result.ok and "private or local address" in (result.error or "")
    assert feeds.hits("/other.ics") == []  # the hop was checked before it was fetched
    assert blocks(db, sid)


def test_settings_give_the_worker_and_the_web_their_budgets() -> None:
    settings = load_settings(environ={})
    worker = SyncConfig.from_settings(settings)
    web = SyncConfig.from_settings(settings, web=True)
    assert worker.read_seconds == settings.sync.read_seconds and worker.block_private
    assert web.read_seconds == settings.sync.web_read_seconds < worker.read_seconds
    assert web.timeout <= web.read_seconds and web.reader is not None
    assert web.reader.budget.memory_mb == settings.sync.read_memory_mb
