"""Staleness flags, the live re-check before booking, `panelslot sync` and the worker."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.model import Interval, Option, SessionSlot
from tests.fixtures.sync import add_source, blocks, day_events, ics, interviewer_id, run_sync, utc
from tests.fixtures.webapp import NOW
from tests.integrations.feed_server import FeedServer, Static, Status
from web.cli import main
from web.domain.sync.health import option_staleness, stale_by_key, stale_calendars
from web.domain.sync.livecheck import live_busy, live_check
from web.store.db import Database
from web.store.models import CalendarSource, JobRequest

DAY = utc(2027, 3, 2)
HOUR = timedelta(hours=1)


@pytest.fixture
def feed_sources(db: Database, company: Any, feeds: FeedServer) -> dict[str, int]:
    feeds.routes["/alice.ics"] = Static(ics(*day_events("a", DAY, [9])), etag='"1"')
    feeds.routes["/bob.ics"] = Static(ics(*day_events("b", DAY, [10])))
    return {
        "alice": add_source(
            db, "alice", kind="ics", label="alice-cal", url=feeds.url("/alice.ics")
        ),
        "bob": add_source(db, "bob", kind="ics", label="bob-cal", url=feeds.url("/bob.ics")),
    }


def option(*people: str) -> Option:
    return Option(
        score=1.0,
        sessions=tuple(
            SessionSlot("S", DAY + timedelta(hours=i), DAY + timedelta(hours=i + 1), (p,))
            for i, p in enumerate(people)
        ),
    )


def test_stale_calendars_flag_options_that_depend_on_them(
    db: Database, feed_sources: dict[str, int], feeds: FeedServer
) -> None:
    run_sync(db, NOW)
    limit = timedelta(minutes=60)
    with db.session() as s:
        assert stale_by_key(s, ["alice", "bob"], NOW + timedelta(minutes=30), limit) == {}
    # later, bob's feed breaks and nobody fixes it
    feeds.routes["/bob.ics"] = Status(500)
    run_sync(db, NOW + timedelta(minutes=90))
    at = NOW + timedelta(minutes=100)
    with db.session() as s:
        stale = stale_by_key(s, ["alice", "bob", "devi"], at, limit)
        assert list(stale) == ["bob"]
        (health,) = stale["bob"]
        assert health.label == "bob-cal" and health.stale
        assert "last good sync 1 h ago" in health.reason and "HTTP 500" in health.reason
        assert option_staleness(option("alice"), stale) == []
        (warning,) = option_staleness(option("alice", "bob"), stale)
        assert warning.startswith("bob: calendar bob-cal is stale")
        by_id = stale_calendars(s, [interviewer_id(db, "bob")], at, limit)
        assert [h.source_id for h in by_id[interviewer_id(db, "bob")]] == [feed_sources["bob"]]


def test_never_synced_is_stale(db: Database, feed_sources: dict[str, int]) -> None:
    with db.session() as s:
        stale = stale_by_key(s, ["alice"], NOW)
        assert stale["alice"][0].reason == "never synced"


def test_coordinator_list_names_the_stale_calendar_and_why(
    db: Database, feed_sources: dict[str, int], signed_in: Any, app: Any
) -> None:
    run_sync(db, NOW - timedelta(hours=3))
    page = signed_in.get("/interviewers").get_data(as_text=True)
    assert "alice-cal: stale: synced 3 h ago (older than 60 min)" in page


def test_live_busy_reads_providers_and_falls_back_to_stored(
    db: Database, feed_sources: dict[str, int], feeds: FeedServer
) -> None:
    run_sync(db, NOW)
    alice, bob = interviewer_id(db, "alice"), interviewer_id(db, "bob")
    # alice's calendar gained an event since the last sync; bob's server is down now
    feeds.routes["/alice.ics"] = Static(ics(*day_events("a", DAY, [9, 13])), etag='"2"')
    feeds.routes["/bob.ics"] = Status(503)
    window = Interval(DAY, DAY + timedelta(days=1))
    with db.session() as s:
        check = live_check(s, [alice, bob], window, NOW)
        busy = live_busy(s, [alice, bob], window, NOW)
    assert busy == check.busy
    assert busy[alice] == [
        Interval(DAY + 9 * HOUR, DAY + 10 * HOUR),
        Interval(DAY + 13 * HOUR, DAY + 14 * HOUR),
    ]
    assert busy[bob] == [Interval(DAY + 10 * HOUR, DAY + 11 * HOUR)]  # the stored copy
    assert alice not in check.fallbacks and "HTTP 503" in check.fallbacks[bob][0]
    # nothing was written by the live check
    assert blocks(db, feed_sources["alice"]) == [(DAY + 9 * HOUR, DAY + 10 * HOUR)]


def test_cli_sync_json(runner: Any, db: Database, feed_sources: dict[str, int]) -> None:
    result = runner.invoke(main, ["sync", "--json", "--now", "2027-03-01T09:00:00Z"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] == 2 and data["failed"] == 0
    rows = {r["calendar"]: r for r in data["calendars"]}
    assert rows["alice-cal"]["interviewer"] == "alice"
    assert rows["alice-cal"]["events_read"] == 1 and rows["alice-cal"]["busy_intervals"] == 1
    assert rows["alice-cal"]["error"] is None and rows["alice-cal"]["seconds"] >= 0
    again = json.loads(
        runner.invoke(
            main, ["sync", "--json", "--interviewer", "alice", "--now", "2027-03-01T09:10:00Z"]
        ).stdout
    )
    assert [r["calendar"] for r in again["calendars"]] == ["alice-cal"]
    assert again["calendars"][0]["unchanged"] is True  # ETag -> 304


def test_cli_sync_table_and_failure_exit(
    runner: Any, db: Database, feed_sources: dict[str, int], feeds: FeedServer
) -> None:
    runner.invoke(main, ["sync", "--now", "2027-03-01T09:00:00Z"])
    feeds.routes["/bob.ics"] = Status(404)
    result = runner.invoke(main, ["sync", "--now", "2027-03-01T09:00:00Z"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()  # stderr may carry a test server thread's noise
    assert lines[0].split() == [
        "interviewer",
        "calendar",
        "kind",
        "events",
        "busy",
        "time",
        "result",
    ]
    bob = next(line for line in lines if line.startswith("bob"))
    assert "ERROR: bob-cal: HTTP 404" in bob and "kept 1 last good blocks" in bob
    assert "Syncing calendars" not in result.output  # no progress bar when not a terminal
    assert lines[-1].startswith("1 of 2 calendars synced"), result.output


def test_cli_unknown_interviewer_is_one_line(runner: Any, db: Database, company: Any) -> None:
    result = runner.invoke(main, ["sync", "--interviewer", "nobody"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1:] == [
        "panelslot: --interviewer 'nobody': no such interviewer; use the id from the config file"
    ]


def test_worker_runs_sync_jobs_and_the_periodic_interval_is_configurable(
    db: Database, app: Any, feed_sources: dict[str, int]
) -> None:
    from integrations.mail import MemoryMailer
    from web.domain.jobs import enqueue
    from web.domain.worker import Worker
    from web.store.settings import load_settings

    with db.session() as s:
        enqueue(s, "sync_interviewer", {"interviewer_id": interviewer_id(db, "alice")}, now=NOW)
    settings = app.extensions["panelslot.settings"]
    worker = Worker(settings, db, MemoryMailer(), clock=lambda: NOW)
    assert worker.run_jobs() == 1
    with db.session() as s:
        job = s.scalar(select(JobRequest))
        assert (
            job is not None and job.status == "done" and "alice-cal: ok" in (job.last_error or "")
        )
    assert blocks(db, feed_sources["alice"]) and not blocks(db, feed_sources["bob"])

    custom = load_settings(
        {
            "server.mode": "testing",
            "database.url": str(db.engine.url.render_as_string(hide_password=False)),
            "sync.interval_minutes": 3,
        }
    )
    w2 = Worker(custom, db, MemoryMailer())
    w2.start(blocking=False)
    try:
        job = w2.scheduler.get_job("job_sync")
        assert job.trigger.interval == timedelta(minutes=3)
    finally:
        w2.shutdown()
    assert Worker(settings, db, MemoryMailer()).settings.sync.interval_minutes == 10


def test_sync_button_queues_a_job(
    db: Database, feed_sources: dict[str, int], signed_in: Any
) -> None:
    from tests.fixtures.webapp import get_csrf

    iid = interviewer_id(db, "alice")
    token = get_csrf(signed_in, f"/interviewers/{iid}")
    resp = signed_in.post(f"/interviewers/{iid}/sync", data={"csrf_token": token})
    assert resp.status_code == 302
    with db.session() as s:
        job = s.scalar(select(JobRequest))
        assert job is not None and job.kind == "sync_interviewer"
        assert job.payload == {"interviewer_id": iid}
        assert s.scalar(select(CalendarSource.last_attempt_at)) is None


def test_request_preview_flags_options_resting_on_stale_calendars(
    db: Database, feed_sources: dict[str, int], signed_in: Any
) -> None:
    from tests.web.test_requests import draft

    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    # never synced: every option with alice or bob is flagged, naming the calendar and why
    assert "Stale calendar: bob: calendar bob-cal is stale (never synced)" in page
    run_sync(db, NOW)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    assert "Stale calendar" not in page


def test_cli_shows_a_progress_bar_on_a_terminal(
    database_url: str, db: Database, feed_sources: dict[str, int]
) -> None:
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {**os.environ, "PANELSLOT_DATABASE_URL": database_url, "COLUMNS": "120"}
    env["PANELSLOT_SYNC_ALLOW_PRIVATE_FEEDS"] = "true"  # the feeds are on loopback
    env.pop("PANELSLOT_CONFIG", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from web.cli import main; main()",
            "sync",
            "--now",
            "2027-03-01T09:00:00Z",
        ],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        check=False,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    out = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, proc.stderr
    assert "Syncing calendars" in out and "2 of 2 calendars synced" in out
