"""Calendar sync benchmark: 50 interviewers' ICS feeds from loopback into the database.

    python benchmarks/bench_sync.py                  # 50 feeds x 2,000 events, SQLite
    python benchmarks/bench_sync.py --feeds 10 --events 500 --quick
    python benchmarks/bench_sync.py --database-url postgresql://postgres@127.0.0.1:5432/test

Each feed has 2,000 VEVENTs spread over the past year and the next four months
(a third of them weekly or daily series with COUNT/UNTIL, some endless), served
with an ETag by a threaded HTTP server on 127.0.0.1. Measured with
``web.domain.sync_all`` (commit per calendar), wall time with ``perf_counter``
CPU time with ``process_time`` (the loopback server runs in the same process),
and peak Python memory with ``tracemalloc`` (a separate pass, because
tracemalloc slows Python down):

1. full sync into an empty database (download, parse, expand, store blocks),
2. no-change resync in the same process (ETag -> 304, cached expansion),
3. no-change resync in a fresh process (only the database remembers the feed:
   the stored copy is parsed once, the server still answers 304),
4. resync after one feed changed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from integrations.calendars.feed import FeedSnapshots  # noqa: E402
from web.domain.sync.config import SyncConfig  # noqa: E402
from web.domain.sync.sync import SourceResult, sync_all  # noqa: E402
from web.store import migrate  # noqa: E402
from web.store.db import Database  # noqa: E402
from web.store.models import BusyBlock, CalendarSource, Interviewer  # noqa: E402
from web.store.settings import normalize_db_url  # noqa: E402

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Africa/Lagos", "Australia/Sydney")


def make_feed(seed: int, events: int) -> bytes:
    rnd = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//panelslot bench//EN"]
    start_day = NOW - timedelta(days=365)
    for i in range(events):
        day = start_day + timedelta(days=rnd.randrange(365 + 120))
        start = day.replace(hour=rnd.randrange(6, 19), minute=rnd.choice((0, 15, 30, 45)))
        end = start + timedelta(minutes=rnd.choice((15, 30, 45, 60, 90)))
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{seed}-{i}@panelslot",
            "DTSTAMP:20270101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Meeting {i}",
        ]
        if i % 3 == 0:  # a third recurring
            kind = rnd.random()
            if kind < 0.6:
                lines.append(f"RRULE:FREQ=WEEKLY;COUNT={rnd.randrange(4, 30)}")
            elif kind < 0.9:
                until = start + timedelta(days=rnd.randrange(14, 200))
                lines.append(f"RRULE:FREQ=DAILY;INTERVAL=7;UNTIL={until:%Y%m%dT%H%M%SZ}")
            else:
                lines.append("RRULE:FREQ=WEEKLY")  # endless: bounded by the window
        if i % 17 == 0:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


class FeedHost:
    """Static feeds with ETags on loopback; counts 200s and 304s."""

    def __init__(self) -> None:
        self.feeds: dict[str, tuple[bytes, str]] = {}
        self.counts = {200: 0, 304: 0}
        self.bytes_sent = 0
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                body, etag = host.feeds[self.path]
                if self.headers.get("If-None-Match") == etag:
                    host.counts[304] += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                host.counts[200] += 1
                host.bytes_sent += len(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def seed_db(db: Database, host: FeedHost, feeds: int) -> None:
    with db.session() as s:
        for n in range(feeds):
            who = Interviewer(
                key=f"i{n:03d}",
                name=f"Interviewer {n}",
                email=f"i{n}@bench.example",
                timezone=ZONES[n % len(ZONES)],
                working_hours={"mon": ["09:00-17:00"]},
                link_nonce=uuid.uuid4().hex,
            )
            who.calendars.append(
                CalendarSource(kind="ics", label=f"i{n:03d}.ics", url=host.url(f"/i{n:03d}.ics"))
            )
            s.add(who)


def run(db: Database, now: datetime, cfg: SyncConfig) -> list[SourceResult]:
    with db.session() as s:
        return sync_all(s, now, cfg, commit=True)


def measure(label: str, step: Callable[[], list[SourceResult]], *, memory: bool) -> dict[str, Any]:
    if memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    results = step()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = 0
    if memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{label}: {len(failed)} calendars failed, e.g. {failed[0].error}")
    return {
        "step": label,
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak / 1024 / 1024,
        "events": sum(r.events_read for r in results),
        "busy": sum(r.busy for r in results),
        "unchanged": sum(r.unchanged for r in results),
        "calendars": len(results),
    }


def scenario(db: Database, host: FeedHost, *, memory: bool) -> list[dict[str, Any]]:
    cfg = SyncConfig(snapshots=FeedSnapshots())
    rows = [measure("full sync (empty database)", lambda: run(db, NOW, cfg), memory=memory)]
    later = NOW + timedelta(minutes=10)
    rows.append(
        measure("no-change resync (ETag -> 304)", lambda: run(db, later, cfg), memory=memory)
    )

    def fresh() -> list[SourceResult]:
        nonlocal cfg
        cfg = SyncConfig(snapshots=FeedSnapshots())  # as in a new `panelslot sync` process
        return run(db, later + timedelta(minutes=10), cfg)

    rows.append(measure("no-change resync, fresh process", fresh, memory=memory))
    body, _ = host.feeds["/i000.ics"]
    host.feeds["/i000.ics"] = (body.replace(b"SUMMARY:Meeting 1\r\n", b"SUMMARY:Moved\r\n"), '"v2"')
    rows.append(
        measure(
            "resync, one feed changed",
            lambda: run(db, later + timedelta(minutes=20), cfg),
            memory=memory,
        )
    )
    return rows


def fresh_database(url: str | None, folder: Path, tag: str) -> tuple[Database, Callable[[], None]]:
    if url is None:
        db = Database(f"sqlite:///{folder / f'bench-{tag}.sqlite3'}")
        migrate.upgrade(db.engine)
        return db, db.dispose
    base = normalize_db_url(url)
    schema = f"bench_sync_{uuid.uuid4().hex[:8]}"
    admin = Database(base)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(scoped.render_as_string(hide_password=False))
    migrate.upgrade(db.engine)

    def drop() -> None:
        db.dispose()
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return db, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()

    host = FeedHost()
    for n in range(args.feeds):
        host.feeds[f"/i{n:03d}.ics"] = (make_feed(n, args.events), f'"i{n}-v1"')
    size = sum(len(b) for b, _ in host.feeds.values())
    print(
        f"{args.feeds} feeds x {args.events} events ({args.events // 3} recurring), "
        f"{size / 1024 / 1024:.1f} MB in all; database: "
        f"{'SQLite file' if args.database_url is None else 'PostgreSQL'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        passes = [("time", False)] + ([] if args.quick else [("memory", True)])
        results: dict[str, list[dict[str, Any]]] = {}
        for tag, memory in passes:
            for n in range(args.feeds):  # every pass starts from version 1 of every feed
                host.feeds[f"/i{n:03d}.ics"] = (make_feed(n, args.events), f'"i{n}-v1"')
            db, drop = fresh_database(args.database_url, Path(tmp), tag)
            try:
                seed_db(db, host, args.feeds)
                results[tag] = scenario(db, host, memory=memory)
                with db.session() as s:
                    stored = s.scalar(select(func.count()).select_from(BusyBlock))
            finally:
                drop()
    host.stop()

    head = (
        f"| {'step':<34} | {'time':>8} | {'CPU':>8} | {'peak memory':>11} | {'events':>7} "
        f"| {'busy':>6} "
        f"| {'304/unchanged':>13} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for i, row in enumerate(results["time"]):
        mem = results.get("memory")
        peak = f"{mem[i]['peak_mb']:.1f} MB" if mem else "-"
        print(
            f"| {row['step']:<34} | {row['seconds']:>7.2f}s | {row['cpu']:>7.2f}s | {peak:>11} "
            f"| {row['events']:>7} "
            f"| {row['busy']:>6} | {row['unchanged']:>6} of {row['calendars']:<3} |"
        )
    print(
        f"busy blocks stored: {stored}; HTTP 200s: {host.counts[200]}, 304s: {host.counts[304]} "
        "(all passes)"
    )


if __name__ == "__main__":
    main()
