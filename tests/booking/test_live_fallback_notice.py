"""When the booking's live re-check falls back to a calendar's stored busy time (its read
ran over the web's short budget, here a real loopback feed that drips one byte at a time,
or the feed failed), the coordinator is told on the request page, from an audit entry tied
to the booking that holds nothing fetched and no URL; the candidate's booking and
confirmation go on as usual. Both databases."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from tests.fixtures.booking import book_option, option_row, policy, send_request
from tests.fixtures.sync import add_source, run_sync
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import Drip, FeedServer, Static, Status
from web.domain.engine_values import stored_option
from web.domain.failures import LIVE_FALLBACK
from web.domain.sync.config import SyncConfig
from web.domain.zonetext import utc_stamp
from web.store.db import Database
from web.store.models import AuditLog, Booking, Interviewer, OutboxMail
from web.ui.helpers import local

EMPTY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//panelslot tests//EN\r\nEND:VCALENDAR\r\n"
SECRET_PATH = "/private-0123456789abcdef/basic.ics"


def _setup(db: Database, feeds: FeedServer) -> tuple[Any, list[str]]:
    """A sent request whose first option's interviewers each have a feed, synced once."""
    sent = send_request(db)
    keys = sorted(set(stored_option(option_row(db, sent.option_ids[0])).interviewer_ids()))
    assert len(keys) >= 2, "the option needs two interviewers (one read, one not)"
    for key in keys:
        feeds.routes[f"/{key}{SECRET_PATH}"] = Static(EMPTY)
        add_source(db, key, kind="ics", label=f"{key} work", url=feeds.url(f"/{key}{SECRET_PATH}"))
    assert all(r.ok for r in run_sync(db, NOW).values())
    return sent, keys


def _web_policy(app: Any) -> Any:
    settings = app.extensions["panelslot.settings"].updated({"sync.web_read_seconds": 1.0})
    return policy(sync=SyncConfig.from_settings(settings, web=True))


def _fallbacks(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == LIVE_FALLBACK))
        return [dict(r.detail) for r in rows]


def test_a_timed_out_live_read_is_told_to_the_coordinator(
    app: Any, db: Database, signed_in: Any, feeds: FeedServer
) -> None:
    sent, keys = _setup(db, feeds)
    slow = keys[0]  # the others' calendars are read live
    feeds.routes[f"/{slow}{SECRET_PATH}"] = Drip(size=1_000_000, every=0.5)
    outcome = book_option(db, sent, key="n" * 20, policy=_web_policy(app))
    assert outcome.created
    with db.session() as s:
        assert s.scalar(select(Booking.status)) == "confirmed"
        who = s.scalars(select(Interviewer).where(Interviewer.key == slow)).one()
        name, zone = who.name, who.timezone
        mails = list(s.scalars(select(OutboxMail).where(OutboxMail.to_addr == "priya@example.org")))
        texts = [f"{m.subject}\n{m.text_body}\n{m.html_body}" for m in mails]
    [entry] = _fallbacks(db)  # the calendar read live is not named
    assert entry["booking"] == outcome.booking_id and entry["name"] == name
    assert entry["cause"] == "timed out" and entry["zone"] == zone
    assert entry["stored_at"] == NOW.isoformat()
    stored = json.dumps(entry)
    assert "private-0123" not in stored and "127.0.0.1" not in stored and "http" not in stored

    html = signed_in.get(f"/requests/{sent.request_id}").get_data(as_text=True)
    stamp = local(NOW, zone)
    notice = (
        f"At booking, {name}'s calendar “{slow} work” could not be read (timed out); the "
        f'booking used the busy time stored at <time datetime="{utc_stamp(NOW)}">{stamp}</time> '
        f"in their zone ({zone})."
    )
    assert notice in html
    assert html.count('class="notice warn live-fallback"') == 1
    assert "private-0123" not in html
    # the candidate's confirmation is as always: sent, and silent about the fallback
    assert texts and not any("could not be read" in t or "busy time" in t for t in texts)


def test_a_failed_feed_is_told_with_its_status_and_nothing_it_sent(
    app: Any, db: Database, signed_in: Any, feeds: FeedServer
) -> None:
    sent, keys = _setup(db, feeds)
    body = b"internal stack trace: token=s3cr3t at http://10.0.0.7/admin"
    for key in keys:
        feeds.routes[f"/{key}{SECRET_PATH}"] = Status(503, body)
    outcome = book_option(db, sent, key="m" * 20, policy=_web_policy(app))
    assert outcome.created
    entries = _fallbacks(db)
    assert len(entries) == len(keys) and all("HTTP 503" in e["cause"] for e in entries)
    assert not any("s3cr3t" in json.dumps(e) or "10.0.0.7" in json.dumps(e) for e in entries)
    html = signed_in.get(f"/requests/{sent.request_id}").get_data(as_text=True)
    assert html.count('class="notice warn live-fallback"') == len(keys)
    assert "s3cr3t" not in html and "private-0123" not in html


def test_a_live_read_that_works_leaves_no_notice(
    app: Any, db: Database, signed_in: Any, feeds: FeedServer
) -> None:
    sent, _ = _setup(db, feeds)
    assert book_option(db, sent, key="o" * 20, policy=_web_policy(app)).created
    assert _fallbacks(db) == []
    html = signed_in.get(f"/requests/{sent.request_id}").get_data(as_text=True)
    assert "live-fallback" not in html


def test_a_reschedule_that_fell_back_is_told_for_the_new_booking(
    app: Any, db: Database, signed_in: Any, feeds: FeedServer
) -> None:
    from web.domain import booking

    sent, _ = _setup(db, feeds)
    first = book_option(db, sent, key="p" * 20, policy=_web_policy(app))
    assert _fallbacks(db) == []
    with db.session() as s:  # every interviewer's calendar now fails
        for who in s.scalars(select(Interviewer)):
            if not who.calendars:
                add_source(db, who.key, kind="ics", label="x", url=feeds.url(f"/{who.key}.ics"))
    for path in [*feeds.routes, *(f"/{k}.ics" for k in _all_keys(db))]:
        feeds.routes[path] = Status(503)
    moved = booking.reschedule(
        db,
        sent.request_id,
        sent.option_ids[1],
        idempotency_key="q" * 20,
        candidate_tz="Asia/Kolkata",
        now=NOW,
        policy=_web_policy(app),
    )
    assert moved.created and moved.booking_id != first.booking_id
    entries = _fallbacks(db)
    keys = set(stored_option(option_row(db, sent.option_ids[1])).interviewer_ids())
    assert entries and {e["booking"] for e in entries} == {moved.booking_id}
    assert len(entries) == len(keys)
    html = signed_in.get(f"/requests/{sent.request_id}").get_data(as_text=True)
    assert html.count('class="notice warn live-fallback"') == len(keys)


def _all_keys(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Interviewer.key)))
