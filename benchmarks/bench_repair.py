"""Repair latency end to end: an interviewer declines in their Google Calendar (the
emulator) -> the worker's sync reads the answer -> the booking is repaired from the pool ->
the write-back job runs -> the iTIP mails reach a real SMTP server (aiosmtpd on loopback).

Each round books a fresh interview (alice, then devi) with alice's Google Calendar written
back to, then times two things in the same process: a plain round with nothing changed
(sync + jobs + delivery: the reference) and the repair round after alice's decline. The
latency counts from the calendar change until the last repair mail (alice's CANCEL, bob's
REQUEST, the candidate's update, the coordinator's notice) has been received; in service
the sync interval (sync.interval_minutes) adds the wait until the next sync at most.

    python3 benchmarks/bench_repair.py [--rounds 8] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.bench_sync import fresh_database  # noqa: E402
from integrations.backoff import Backoff  # noqa: E402
from integrations.calendars.google_events import google_event_id  # noqa: E402
from integrations.crypto import KEY_ENV_VAR, generate_key  # noqa: E402
from integrations.google_auth import GoogleClientConfig  # noqa: E402
from integrations.mail import SMTPMailer  # noqa: E402
from scheduler.config import parse_config  # noqa: E402
from scheduler.model import Option, SessionSlot  # noqa: E402
from tests.fixtures.booking import policy, send_request  # noqa: E402
from tests.fixtures.webapp import COMPANY, NOW, add_coordinator  # noqa: E402
from tests.integrations.google_emulator import GoogleEmulator  # noqa: E402
from tests.integrations.smtp_server import SMTPTestServer  # noqa: E402
from tests.sync.test_sync_providers import REFRESH, google_source  # noqa: E402
from web.domain import booking  # noqa: E402
from web.domain.importer import import_config  # noqa: E402
from web.domain.sync.config import SyncConfig  # noqa: E402
from web.domain.worker import Worker  # noqa: E402
from web.store.db import Database  # noqa: E402
from web.store.models import BookingSession  # noqa: E402
from web.store.settings import AppSettings  # noqa: E402


class NoSleep:
    def __call__(self, seconds: float) -> None:
        return None


def config(emu: GoogleEmulator) -> SyncConfig:
    return SyncConfig(
        timeout=5.0,
        google=GoogleClientConfig(
            client_id="bench-client",
            client_secret="bench-secret",
            redirect_uri="http://panelslot.test/i/oauth/google/callback",
            token_uri=emu.token_uri,
        ),
        google_api_endpoint=emu.api_endpoint,
        google_backoff=Backoff(attempts=3, base_seconds=0.01, sleep=NoSleep()),
    )


def option(day: datetime) -> Option:
    at = day.replace(hour=10)
    return Option(
        0.9,
        (
            SessionSlot("System design", at, at + timedelta(hours=1), ("alice",)),
            SessionSlot("Coding", at + timedelta(hours=1), at + timedelta(minutes=105), ("devi",)),
        ),
    )


def weekdays(n: int) -> list[datetime]:
    out: list[datetime] = []
    day = datetime(2027, 3, 3, tzinfo=UTC)
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def wait_for(smtp: SMTPTestServer, count: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while len(smtp.messages) < count:
        if time.monotonic() > end:
            raise RuntimeError(f"only {len(smtp.messages)} of {count} mails arrived")
        time.sleep(0.001)


def one_round(
    db: Database, worker: Worker, emu: GoogleEmulator, smtp: SMTPTestServer, day: datetime, i: int
) -> tuple[float, float]:
    sent = send_request(db, options=[option(day)], candidate=f"Cand {i}", email=f"c{i}@example.org")
    out = booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key=f"bench-repair-{i:08d}",
        candidate_tz=None,
        now=NOW,
        policy=policy(live_check=False),
    )
    worker.run_jobs()
    worker.deliver()
    with db.session() as s:
        seat = s.scalar(
            select(BookingSession).where(
                BookingSession.booking_id == out.booking_id,
                BookingSession.session_name == "System design",
            )
        )
        assert seat is not None
        uid, seat_id = seat.uid, seat.id
    t0 = time.perf_counter()
    worker.sync()
    worker.run_jobs()
    worker.deliver()
    plain = time.perf_counter() - t0
    before = len(smtp.messages)
    t0 = time.perf_counter()
    emu.respond("primary", google_event_id(uid), "alice@example.com", "declined")
    worker.sync()
    worker.run_jobs()
    worker.deliver()
    wait_for(smtp, before + 4)
    repair = time.perf_counter() - t0
    with db.session() as s:
        row = s.get(BookingSession, seat_id)
        assert row is not None and row.interviewer.key == "bob", "not repaired"
    return plain, repair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV_VAR, generate_key())
    with tempfile.TemporaryDirectory() as tmp, GoogleEmulator() as emu, SMTPTestServer() as smtp:
        emu.add_calendar("primary")
        emu.issue_refresh_token(REFRESH)
        db, drop = fresh_database(args.database_url, Path(tmp), "repair")
        try:
            with db.session() as s:
                import_config(s, parse_config(COMPANY, str(Path(tmp) / "company.toml")))
            add_coordinator(db, "ann@example.com")
            cfg = config(emu)
            google_source(db, cfg)
            mailer = SMTPMailer(
                smtp.host, smtp.port, security="none", timeout=5, sender="b@x.example"
            )
            worker = Worker(AppSettings(), db, mailer, clock=lambda: NOW, sync_config=cfg)
            rows = [
                one_round(db, worker, emu, smtp, d, i) for i, d in enumerate(weekdays(args.rounds))
            ]
        finally:
            drop()
    plain = statistics.median(p for p, _ in rows) * 1000
    repair = statistics.median(r for _, r in rows) * 1000
    worst_plain, worst = max(p for p, _ in rows) * 1000, max(r for _, r in rows) * 1000
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(f"repair latency, {args.rounds} rounds, {kind}, Google emulator + aiosmtpd on loopback\n")
    print("| round | median ms | worst ms | ratio to the plain round |")
    print("|---|---:|---:|---:|")
    print(f"| plain (sync + jobs + delivery) | {plain:.1f} | {worst_plain:.1f} | 1.00 |")
    print(
        "| decline -> sync -> repair -> write-back -> 4 mails received "
        f"| {repair:.1f} | {worst:.1f} | {repair / plain:.2f} |"
    )


if __name__ == "__main__":
    main()
