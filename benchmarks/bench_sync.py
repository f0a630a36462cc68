"""Calendar sync benchmark: interviewers' ICS feeds from loopback into the database.

    python benchmarks/bench_sync.py                  # 50 feeds x 2,000 events, SQLite
    python benchmarks/bench_sync.py --feeds 200      # 200 interviewers
    python benchmarks/bench_sync.py --quick          # a smoke test: 4 small feeds
    python benchmarks/bench_sync.py --database-url postgresql://postgres@127.0.0.1:5432/test

Each feed has 2,000 VEVENTs spread over the past year and the next four months
(a third of them weekly or daily series with COUNT/UNTIL, some endless), served
with an ETag by a threaded HTTP server on 127.0.0.1. Measured with
``web.domain.sync_all`` (commit per calendar) as the worker runs it: every
parse in a child process under the read budget (``integrations.budget``),
``sync.parallel`` (4) reads at once. Wall time by ``perf_counter``; CPU time
of this process (the loopback server included) and of its children (the
fork server and the readers it forks); peak memory as the largest sum of the
proportional set sizes (PSS: resident memory, pages shared by forked readers
split between them) of this process and all its descendants, sampled every
200 ms (the sampling thread's own CPU is left out):

1. full sync into an empty database (download, parse, expand, store blocks),
2. no-change resync in the same process (ETag -> 304, cached expansion),
3. no-change resync in a fresh process (only the database remembers the feed),
4. one event changed in every feed: the incremental re-read (``ics.incremental``,
   only the changed UID group of each feed is parsed),
5. the reference for 4, in the same run: another event changed in every feed,
   read by a fresh process, which has no incremental state and reads each feed
   whole (the path before the incremental re-read).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import threading
import time
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

from integrations.budget import ReadBudget, Reader  # noqa: E402
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


_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return found


def _stat(pid: int) -> tuple[float, int]:
    """(CPU seconds of the process and of its waited-for children, resident bytes)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / _TICKS, int(fields[21]) * resource.getpagesize()


def tree_cpu() -> float:
    """CPU seconds of this process and of everything it started (the fork server and the
    readers it forked and reaped count through the fork server's children's time)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    gone = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + gone.ru_utime + gone.ru_stime
    return total + sum(_stat(pid)[0] for pid in _children(os.getpid()))


def _pss(pid: int) -> int:
    """The process's proportional set size (shared pages split between their sharers)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _stat(pid)[1]  # no smaps_rollup: the resident size


def tree_rss() -> int:
    """Memory of this process and all its descendants (the sum of their PSS)."""
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += _pss(pid)
        todo += _children(pid)
    return total


class PeakMemory:
    """The largest ``tree_rss`` seen while it runs (a sampling thread); ``cpu`` is what the
    sampling itself cost (reading smaps_rollup walks page tables), to leave out."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.peak = 0
        self.cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss())
            self._stop.wait(self.every)
        self.cpu = time.thread_time()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss())


def measure(label: str, step: Callable[[], list[SourceResult]]) -> dict[str, Any]:
    started, cpu = time.perf_counter(), tree_cpu()
    with PeakMemory() as memory:
        results = step()
    seconds, cpu = time.perf_counter() - started, tree_cpu() - cpu - memory.cpu
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{label}: {len(failed)} calendars failed, e.g. {failed[0].error}")
    return {
        "step": label,
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": memory.peak / 1024 / 1024,
        "events": sum(r.events_read for r in results),
        "busy": sum(r.busy for r in results),
        "unchanged": sum(r.unchanged for r in results),
        "calendars": len(results),
    }


def config() -> SyncConfig:
    """As the worker builds it: reads in child processes under the default read budget;
    a new one is a fresh process (no last good copies in memory)."""
    return SyncConfig(snapshots=FeedSnapshots(), reader=Reader(ReadBudget()))


def change_every_feed(host: FeedHost, event: int, version: str) -> None:
    """Make one event of every feed transparent (a real change of its busy time)."""
    for path, (body, _) in host.feeds.items():
        uid = f"UID:bench-{int(path[2:5])}-{event}@panelslot\r\n".encode()
        host.feeds[path] = (body.replace(uid, uid + b"TRANSP:TRANSPARENT\r\n"), f'"{version}"')


def scenario(db: Database, host: FeedHost) -> list[dict[str, Any]]:
    cfg = config()
    rows = [measure("full sync (empty database)", lambda: run(db, NOW, cfg))]
    at = NOW + timedelta(minutes=10)
    rows.append(measure("no-change resync (ETag -> 304)", lambda: run(db, at, cfg)))
    at += timedelta(minutes=10)
    rows.append(measure("no-change resync, fresh process", lambda: run(db, at, config())))
    change_every_feed(host, 4, "v2")
    at += timedelta(minutes=10)
    rows.append(measure("one event changed in every feed", lambda: run(db, at, cfg)))
    change_every_feed(host, 5, "v3")
    at += timedelta(minutes=10)
    rows.append(measure("same, read whole (reference)", lambda: run(db, at, config())))
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
    parser.add_argument("--quick", action="store_true", help="4 feeds x 200 events (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.feeds, args.events = 4, 200

    host = FeedHost()
    for n in range(args.feeds):
        host.feeds[f"/i{n:03d}.ics"] = (make_feed(n, args.events), f'"i{n}-v1"')
    size = sum(len(b) for b, _ in host.feeds.values())
    print(
        f"{args.feeds} feeds x {args.events} events ({args.events // 3} recurring), "
        f"{size / 1024 / 1024:.1f} MB in all; database: "
        f"{'SQLite file' if args.database_url is None else 'PostgreSQL'}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db, drop = fresh_database(args.database_url, Path(tmp), "sync")
        try:
            seed_db(db, host, args.feeds)
            rows = scenario(db, host)
            with db.session() as s:
                stored = s.scalar(select(func.count()).select_from(BusyBlock))
        finally:
            drop()
    host.stop()
    print_table(rows)
    incremental, whole = rows[3], rows[4]
    print(
        f"busy blocks stored: {stored}; HTTP 200s: {host.counts[200]}, 304s: {host.counts[304]}; "
        f"one changed event per feed: {incremental['seconds'] / whole['seconds']:.2f}x the wall "
        f"time and {incremental['cpu'] / whole['cpu']:.2f}x the CPU of reading each feed whole; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"| {'step':<34} | {'wall':>8} | {'CPU':>8} | {'peak PSS':>9} | {'events':>7} "
        f"| {'busy':>6} | {'304/unchanged':>13} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for row in rows:
        print(
            f"| {row['step']:<34} | {row['seconds']:>7.2f}s | {row['cpu']:>7.2f}s "
            f"| {row['peak_mb']:>6.0f} MB | {row['events']:>7} "
            f"| {row['busy']:>6} | {row['unchanged']:>6} of {row['calendars']:<3} |"
        )


if __name__ == "__main__":
    main()
