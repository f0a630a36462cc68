"""The booking's live re-check runs under the web's short read budget: a feed that drips
one byte at a time cannot hold a booking (it took 30-60 s before); the stored busy time
stands in for it and the booking goes through."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from tests.fixtures.booking import book_option, option_row, policy, send_request
from tests.fixtures.sync import add_source, run_sync
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import Drip, FeedServer, Static
from web.domain.engine_values import stored_option
from web.domain.sync.config import SyncConfig
from web.store.db import Database
from web.store.models import Booking

EMPTY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//panelslot tests//EN\r\nEND:VCALENDAR\r\n"
GENEROUS = 60.0  # the thread must be done long before this (the drip would take hours)


def test_a_dripping_feed_cannot_hold_a_booking(
    app: Any, db: Database, company: Any, feeds: FeedServer
) -> None:
    sent = send_request(db)
    option = stored_option(option_row(db, sent.option_ids[0]))
    keys = sorted(set(option.interviewer_ids()))
    for key in keys:
        feeds.routes[f"/{key}.ics"] = Static(EMPTY)
        add_source(db, key, kind="ics", label=f"{key}-cal", url=feeds.url(f"/{key}.ics"))
    assert all(r.ok for r in run_sync(db, NOW).values())
    for key in keys:
        feeds.routes[f"/{key}.ics"] = Drip(size=1_000_000, every=0.5)
    settings = app.extensions["panelslot.settings"].updated({"sync.web_read_seconds": 1.0})
    web = SyncConfig.from_settings(settings, web=True)
    outcome: list[Any] = []

    def book() -> None:
        outcome.append(book_option(db, sent, key="d" * 20, policy=policy(sync=web)))

    worker = threading.Thread(target=book, daemon=True)
    worker.start()
    worker.join(GENEROUS)
    assert not worker.is_alive(), "the booking waited on the dripping feed"
    assert outcome and outcome[0].created
    assert all(feeds.hits(f"/{key}.ics")[-1].status == 200 for key in keys)  # read live
    with db.session() as s:
        assert s.scalar(select(Booking.status)) == "confirmed"
