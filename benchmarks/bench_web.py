"""Web app benchmark: page latencies through the WSGI stack (not a test).

    python benchmarks/bench_web.py                       # SQLite file in a temp folder
    python benchmarks/bench_web.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/bench_web.py --quick               # fewer repeats

Data: 200 interviewers in 12 zones (each with a calendar and ~60 busy blocks over
the next 6 weeks), 50 loops (2-4 sessions, pools of 4-6), 5,000 past requests of one
coordinator (with offered options; 2,000 of them booked). Each page is requested
through Flask's WSGI app (werkzeug test client: routing, session cookie, CSRF,
SQL, Jinja) with a signed-in coordinator. Targets (issue 4): the request preview
(engine included) under 300 ms, list pages under 50 ms.

On PostgreSQL the tables are created in a private schema that is dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from web.store import migrate  # noqa: E402
from web.store.db import Database, make_engine  # noqa: E402
from web.store.models import (  # noqa: E402
    Booking,
    BookingSession,
    BusyBlock,
    CalendarSource,
    Coordinator,
    Interviewer,
    Loop,
    LoopSession,
    OfferedOption,
    SchedulingRequest,
)
from web.store.settings import normalize_db_url  # noqa: E402
from web.ui.app import create_app  # noqa: E402
from web.ui.auth import hash_password  # noqa: E402

ZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
)
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "benchmark-password"


def seed(db: Database, rnd: random.Random) -> dict[str, int]:
    hours = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    with db.session() as s:
        coord = Coordinator(
            email="bench@example.com",
            name="Bench",
            timezone="Europe/London",
            password_hash=hash_password(PASSWORD),
        )
        s.add(coord)
        people = []
        for n in range(200):
            p = Interviewer(
                key=f"i{n:03d}",
                name=f"Interviewer {n:03d}",
                email=f"i{n}@example.com",
                timezone=ZONES[n % len(ZONES)],
                working_hours=hours,
                max_interviews_per_day=rnd.choice((None, 2, 3)),
                link_nonce="x",
            )
            p.calendars.append(
                CalendarSource(
                    kind="ics",
                    label=f"i{n}.ics",
                    url=f"/cal/i{n}.ics",
                    last_good_sync_at=NOW - timedelta(minutes=5),
                    events_read=80,
                )
            )
            people.append(p)
        s.add_all(people)
        s.flush()
        blocks = []
        for p in people:
            src = p.calendars[0].id
            for day in range(-3, 42):
                if (NOW + timedelta(days=day)).weekday() >= 5:
                    continue
                for _ in range(rnd.randint(1, 3)):
                    start = (NOW + timedelta(days=day)).replace(
                        hour=rnd.randint(0, 22), minute=rnd.choice((0, 30))
                    )
                    blocks.append(
                        BusyBlock(
                            interviewer_id=p.id,
                            source_id=src,
                            start=start,
                            end=start + timedelta(minutes=rnd.choice((30, 60))),
                        )
                    )
        s.add_all(blocks)
        loops = []
        for n in range(50):
            lp = Loop(
                key=f"loop{n:02d}",
                name=f"Loop {n:02d}",
                order=rnd.choice(("fixed", "any")),
                max_gap_minutes=30,
                min_notice_hours=24,
            )
            for pos in range(rnd.randint(2, 4)):
                pool = rnd.sample(people, rnd.randint(4, 6))
                lp.sessions.append(
                    LoopSession(
                        position=pos,
                        name=f"Session {pos + 1}",
                        duration_minutes=rnd.choice((30, 45, 60)),
                        required=1,
                        pool=pool,
                    )
                )
            loops.append(lp)
        s.add_all(loops)
        s.flush()
        requests = []
        for n in range(5000):
            created = NOW - timedelta(days=rnd.randint(1, 365), minutes=n)
            lp = loops[n % 50]
            status = (
                "booked" if n < 2000 else rnd.choice(("sent", "opened", "cancelled", "expired"))
            )
            requests.append(
                SchedulingRequest(
                    coordinator_id=coord.id,
                    loop_id=lp.id,
                    candidate_name=f"Candidate {n}",
                    candidate_email=f"c{n}@candidate.example",
                    candidate_tz=ZONES[n % len(ZONES)],
                    date_from=created.date(),
                    date_to=(created + timedelta(days=10)).date(),
                    status=status,
                    token_nonce=uuid.uuid4().hex,
                    created_at=created,
                    expires_at=created + timedelta(days=14),
                )
            )
        s.add_all(requests)
        s.flush()
        options, bookings = [], []
        for n, req in enumerate(requests):
            start = datetime.combine(req.date_from, datetime.min.time(), UTC) + timedelta(
                days=2, hours=9
            )
            sess = [
                {
                    "name": "Session 1",
                    "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "interviewers": [people[n % 200].key],
                }
            ]
            for rank in range(1, 4):
                options.append(
                    OfferedOption(
                        request_id=req.id,
                        rank=rank,
                        score=0.9,
                        sessions=sess,
                        start=start,
                        end=start + timedelta(hours=1),
                    )
                )
            if req.status == "booked":
                b = Booking(request_id=req.id, status="confirmed", created_at=req.created_at)
                b.sessions.append(
                    BookingSession(
                        interviewer_id=people[n % 200].id,
                        session_name="Session 1",
                        start=start,
                        end=start + timedelta(hours=1),
                        active=False,
                    )
                )
                bookings.append(b)
        s.add_all(options)
        s.add_all(bookings)
        # the loop the preview searches: 3 sessions, pools of 6
        target = Loop(
            key="bench",
            name="Benchmark onsite",
            order="fixed",
            max_gap_minutes=15,
            min_notice_hours=24,
        )
        for pos, minutes in enumerate((60, 45, 30)):
            target.sessions.append(
                LoopSession(
                    position=pos,
                    name=f"Round {pos + 1}",
                    duration_minutes=minutes,
                    required=1,
                    pool=[
                        p
                        for p in people
                        if p.timezone
                        in (
                            "Europe/London",
                            "Europe/Berlin",
                            "Africa/Lagos",
                            "Asia/Kolkata",
                            "America/New_York",
                            "Asia/Dubai",
                        )
                    ][pos * 6 : pos * 6 + 6],
                )
            )
        s.add(target)
        s.flush()
        return {"loop": target.id, "some_loop": loops[0].id}


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm-up (templates compiled, caches filled)
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 5 if args.quick else 25
    tmp = tempfile.TemporaryDirectory()
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if args.database_url:
        base = normalize_db_url(args.database_url)
        schema = f"bench_web_{uuid.uuid4().hex[:8]}"
        eng = make_engine(base)
        with eng.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        url_s = url.render_as_string(hide_password=False)

        def cleanup() -> None:
            with eng.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            eng.dispose()
    else:
        url_s = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    try:
        db = Database(url_s)
        migrate.upgrade(db.engine)
        t0 = time.perf_counter()
        ids = seed(db, random.Random(42))
        seed_s = time.perf_counter() - t0
        app = create_app(
            {
                "server.mode": "testing",
                "database.url": url_s,
                "mail.sender": "none",
                "security.secret_key": "bench-secret-key-0123456789abcdef",
            }
        )
        app.config["PANELSLOT_NOW"] = NOW
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        assert (
            client.post(
                "/login",
                data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token},
            ).status_code
            == 302
        )
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"',
            client.get("/requests/new").get_data(as_text=True),
        ).group(1)  # type: ignore[union-attr]
        form = {
            "csrf_token": token,
            "candidate_name": "Bench Candidate",
            "candidate_email": "bench@candidate.example",
            "candidate_tz": "Asia/Kolkata",
            "loop": str(ids["loop"]),
            "date_from": "2027-03-03",
            "date_to": "2027-03-12",
            "hours": "08:00-20:00",
            "note": "",
        }
        last: dict[str, Any] = {}

        def search() -> None:
            resp = client.post("/requests/new", data=form)
            assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
            last["preview"] = resp.headers["Location"]

        def preview_page() -> None:
            resp = client.get(last["preview"])
            assert resp.status_code == 200 and '<svg class="timeline"' in resp.get_data(
                as_text=True
            )

        def both() -> None:
            search()
            preview_page()

        def get(url: str) -> Callable[[], None]:
            def run() -> None:
                assert client.get(url).status_code in (200, 503), url

            return run

        rows = [
            ("request preview: search + draft (POST, engine)", search),
            ("request preview: options page (GET, 20 timelines)", preview_page),
            ("request preview: both (the coordinator's wait)", both),
            ("requests list (5,000 past, page 1)", get("/requests")),
            ("requests list, status=booked", get("/requests?status=booked")),
            ("requests list, page 50", get("/requests?page=50")),
            ("interviewers list (200, sync state)", get("/interviewers")),
            ("loops list (51)", get("/loops")),
            ("healthz", get("/healthz")),
        ]
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"panelslot web benchmark - {backend}, seeded in {seed_s:.1f} s, {repeat} runs each, "
            f"werkzeug test client through the WSGI app"
        )
        print(f"{'page':52} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}  target")
        for name, fn in rows:
            ms = sorted(timed(fn, repeat))
            p50 = statistics.median(ms)
            p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
            target = (
                300
                if name.startswith("request preview: both")
                else (50 if "list" in name else None)
            )
            verdict = (
                "" if target is None else (f"< {target} ms " + ("ok" if p50 < target else "MISSED"))
            )
            print(f"{name:52} {p50:8.1f} {p90:8.1f} {ms[-1]:8.1f}  {verdict}")
        options = re.findall(
            r'name="options" value="\d+"', client.get(last["preview"]).get_data(as_text=True)
        )
        print(
            f"(the preview found {len(options)} options for a 3-session loop, pools of 6, 10 days)"
        )
        app.extensions["panelslot.db"].dispose()
        db.dispose()
    finally:
        cleanup()
        tmp.cleanup()


if __name__ == "__main__":
    main()
