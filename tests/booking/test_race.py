"""Twenty concurrent bookers (threads, each its own session and connection) on SQLite and
PostgreSQL: exactly one wins, the losers leave no rows and get no mail."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from tests.fixtures.booking import policy, request_row, send_request
from tests.fixtures.webapp import NOW
from web.domain import booking, services
from web.store.db import Database
from web.store.models import Booking, BookingSession, JobRequest, OutboxMail

N = 20


def _race(calls: list[Any]) -> list[tuple[str, Any]]:
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> tuple[str, Any]:
        barrier.wait()
        try:
            return "won", call()
        except booking.BookingError as exc:
            return exc.kind, exc.message

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _shared_option(db: Database) -> Any:
    probe = send_request(db, email="probe@example.org", hold=False, limit=1)
    with db.session() as s:
        req = s.get(booking.SchedulingRequest, probe.request_id)
        assert req is not None
        opt = services.stored_option(req.options[0])
        req.status = "cancelled"  # the probe only found the option
    return opt


def test_twenty_candidates_race_for_the_same_interviewer_time(db: Database, company: Any) -> None:
    opt = _shared_option(db)
    sent = [
        send_request(
            db, email=f"cand{i}@example.org", candidate=f"Cand {i}", options=[opt], hold=False
        )
        for i in range(N)
    ]
    calls = [
        (
            lambda s=s, i=i: booking.book(
                db,
                s.request_id,
                s.option_ids[0],
                idempotency_key=f"race-key-{i:04d}-abcdefgh",
                candidate_tz="Asia/Kolkata",
                now=NOW,
                policy=policy(),
            )
        )
        for i, s in enumerate(sent)
    ]
    results = _race(calls)
    kinds = Counter(k for k, _ in results)
    assert kinds == {"won": 1, "taken": N - 1}, results
    winner = next(sent[i] for i, (k, _) in enumerate(results) if k == "won")
    assert _count(db, Booking) == 1
    assert _count(db, BookingSession) == sum(len(sl.interviewers) for sl in opt.sessions)
    assert _count(db, JobRequest) == 1
    with db.session() as s:
        mail_requests = set(s.scalars(select(OutboxMail.request_id).distinct()))
    assert mail_requests == {winner.request_id}
    for s_ in sent:
        req = request_row(db, s_.request_id)
        assert req.status == ("booked" if s_ is winner else "sent")


def test_twenty_tabs_of_one_candidate_book_once(db: Database, company: Any) -> None:
    sent = send_request(db, limit=5)
    calls = [
        (
            lambda i=i: booking.book(
                db,
                sent.request_id,
                sent.option_ids[i % len(sent.option_ids)],
                idempotency_key=f"tab-key-{i:04d}-abcdefgh",
                candidate_tz=None,
                now=NOW,
                policy=policy(),
            )
        )
        for i in range(N)
    ]
    results = _race(calls)
    kinds = Counter(k for k, _ in results)
    assert kinds["won"] == 1 and kinds["won"] + kinds["closed"] + kinds["taken"] == N, results
    assert _count(db, Booking) == 1
    [b] = request_row(db, sent.request_id).bookings
    assert len({bs.uid for bs in b.sessions}) == 2
    assert _count(db, OutboxMail, OutboxMail.kind == "invite") == 3  # itinerary + 2 staff


def test_twenty_double_submits_of_one_form_book_once(db: Database, company: Any) -> None:
    sent = send_request(db, limit=5)
    calls = [
        (
            lambda: booking.book(
                db,
                sent.request_id,
                sent.option_ids[0],
                idempotency_key="the-same-form-key-0001",
                candidate_tz=None,
                now=NOW,
                policy=policy(),
            )
        )
        for _ in range(N)
    ]
    results = _race(calls)
    assert all(k == "won" for k, _ in results), results
    outcomes = [o for _, o in results]
    assert len({o.booking_id for o in outcomes}) == 1
    assert sum(o.created for o in outcomes) == 1
    assert _count(db, Booking) == 1
    assert _count(db, OutboxMail, OutboxMail.kind == "invite") == 3  # itinerary + 2 staff


def test_daily_cap_holds_when_bookers_race(db: Database, company: Any) -> None:
    """Devi takes at most 2 interviews a day: with one booked, two racers for other
    (non-overlapping) times of hers that day cannot both win."""
    from datetime import UTC, datetime, timedelta

    from scheduler.model import Option, SessionSlot

    def opt(sd_who: str, sd_hour: float) -> Option:
        sd = datetime(2027, 3, 3, 0, 0, tzinfo=UTC) + timedelta(hours=sd_hour)
        return Option(
            0.5,
            (
                SessionSlot("System design", sd, sd + timedelta(hours=1), (sd_who,)),
                SessionSlot(
                    "Coding", sd + timedelta(hours=1), sd + timedelta(minutes=105), ("devi",)
                ),
            ),
        )

    # Wed 3 March: Devi (Kolkata, 10:00-19:00 = 04:30-13:30 UTC) codes three times
    picked = [opt("alice", 8), opt("alice", 10), opt("bob", 11.75)]
    sent = [
        send_request(db, email=f"cap{i}@example.org", options=[picked[i]], hold=False)
        for i in range(3)
    ]
    with db.session() as s:
        for one in sent:  # each time is valid on its own
            req = s.get(booking.SchedulingRequest, one.request_id)
            assert [o.id for o in booking.valid_options(s, req, NOW)] == one.option_ids
    booking.book(
        db,
        sent[0].request_id,
        sent[0].option_ids[0],
        idempotency_key="cap-first-key-000001",
        candidate_tz=None,
        now=NOW,
        policy=policy(),
    )
    results = _race(
        [
            (
                lambda s=s, i=i: booking.book(
                    db,
                    s.request_id,
                    s.option_ids[0],
                    idempotency_key=f"cap-race-key-{i:06d}",
                    candidate_tz=None,
                    now=NOW,
                    policy=policy(),
                )
            )
            for i, s in enumerate(sent[1:])
        ]
    )
    assert Counter(k for k, _ in results) == {"won": 1, "taken": 1}, results
    assert _count(db, Booking) == 2
