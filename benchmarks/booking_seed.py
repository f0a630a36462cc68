"""Database and seed of the booking benchmark (`bench_booking.py`): requests with offered
options over a panel of interviewers, for the page, book and race phases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from scheduler.model import Option, SessionSlot
from web.domain import services
from web.store.db import Database, make_engine
from web.store.models import Coordinator, Interviewer, Loop, LoopSession, SchedulingRequest
from web.store.settings import normalize_db_url
from web.ui.auth import hash_password

SECRET = "bench-secret-key-0123456789abcdef"
N_PEOPLE = 40
SLOT = timedelta(minutes=45)


# ---------------------------------------------------------------- database and seed


def prepare_database(url: str | None, folder: Path) -> tuple[str, object]:
    if not url:
        return f"sqlite:///{folder / 'bench.sqlite3'}", None
    base = normalize_db_url(url)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    eng = make_engine(base)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    full = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return full.render_as_string(hide_password=False), (eng, schema)


@dataclass
class Seeded:
    page_tokens: list[str]
    book_tokens: list[str]
    race_tokens: list[str]


def seed(
    db: Database, n_page: int, n_book: int, n_race: int, now: datetime, *, live: bool = False
) -> Seeded:
    day0 = datetime.combine(now.date() + timedelta(days=2), datetime.min.time(), UTC)
    with db.session() as s:
        coord = Coordinator(
            email="bench@example.com",
            name="Bench",
            password_hash=hash_password("bench password"),
            timezone="Europe/London",
        )
        s.add(coord)
        people = []
        for k in range(N_PEOPLE):
            p = Interviewer(
                key=f"p{k:02d}",
                name=f"Person {k:02d}",
                email=f"p{k:02d}@example.com",
                timezone=["Europe/London", "Asia/Kolkata", "America/New_York", "Asia/Tokyo"][k % 4],
                working_hours={
                    d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
            )
            s.add(p)
            people.append(p)
        loop = Loop(
            key="bench",
            name="Bench loop",
            min_notice_hours=1,
            buffer_after_minutes=0,
            granularity_minutes=15,
            video_url_template="https://meet.example.com/{request}",
        )
        s.add(loop)
        s.flush()
        sess = LoopSession(
            loop_id=loop.id, position=0, name="Interview", duration_minutes=45, required=1
        )
        sess.pool = people
        s.add(sess)
        s.flush()

        def option(k: int, slot_index: int) -> Option:
            start = day0 + slot_index * SLOT
            return Option(0.5, (SessionSlot("Interview", start, start + SLOT, (f"p{k:02d}",)),))

        def request(i: int, options: list[Option], is_live: bool = False) -> str:
            req = SchedulingRequest(
                coordinator_id=coord.id,
                loop_id=loop.id,
                candidate_name=f"Candidate {i}",
                candidate_email=f"cand{i}@example.org",
                candidate_tz="Asia/Kolkata",
                date_from=day0.date(),
                date_to=day0.date() + timedelta(days=20),
                status="opened",
                token_nonce=services.new_nonce(),
                created_at=now,
                sent_at=now,
                opened_at=now,
                expires_at=now + timedelta(days=14),
                live=is_live,
            )
            s.add(req)
            s.flush()
            services.offer(s, req, [] if is_live else options, hold_until=None)
            services.release_holds(s, req)
            return services.candidate_token(SECRET, req, now=now)

        # every request: 5 options; option 0 is its own interviewer-time (no conflicts)
        def five(i: int) -> list[Option]:
            return [option(i % N_PEOPLE, i // N_PEOPLE)] + [
                option((i + j) % N_PEOPLE, 2000 + j * 3 + (i % 7)) for j in range(1, 5)
            ]

        page = [request(i, five(i), live) for i in range(n_page)]
        book = [request(n_page + i, five(n_page + i)) for i in range(n_book)]
        shared = option(0, 5000)
        race = [request(100_000 + i, [shared]) for i in range(n_race)]
    return Seeded(page, book, race)
