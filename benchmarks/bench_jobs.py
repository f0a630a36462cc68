"""Job throughput of `panelslot worker` processes sharing one PostgreSQL queue; prints a table.

    python benchmarks/bench_jobs.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/bench_jobs.py --database-url ... --jobs 2000 --workers 1 2 4

For each worker count: a fresh schema, that many real worker processes (started and beating
before the clock starts), then the jobs inserted in one transaction; the time runs until the
last one is done. Two kinds of job: ``ping`` that does nothing (the queue's own cost: claim,
lease, run, finish, four short transactions) and ``ping`` holding its worker 50 ms (a job
that waits on I/O, as a calendar sync does).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from web.store import migrate  # noqa: E402
from web.store.db import Database, make_engine, utcnow  # noqa: E402
from web.store.models import JobRequest, WorkerHeartbeat  # noqa: E402
from web.store.settings import normalize_db_url  # noqa: E402


def fresh_schema(base: str) -> tuple[str, str]:
    schema = f"bench_jobs_{uuid.uuid4().hex[:8]}"
    with make_engine(base).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def start_workers(n: int, url: str, folder: Path) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PANELSLOT_DATABASE_URL": url,
        "PANELSLOT_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PANELSLOT_SERVER_PUBLIC_URL": "https://panelslot.test/",
        "PANELSLOT_SERVER_WORKER_POLL_SECONDS": "0.05",
        "PANELSLOT_MAIL_SENDER": "none",
    }
    env.pop("PANELSLOT_CONFIG", None)
    return [
        subprocess.Popen(
            [sys.executable, "-c", "from web.cli import main; main()", "worker"],
            env=env,
            cwd=ROOT,
            stdout=(folder / f"w{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]


def count(db: Database, model: object, *where: object) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def run(base: str, workers: int, jobs: int, hold: float) -> float:
    url, schema = fresh_schema(base)
    db = Database(url)
    migrate.upgrade(db.engine)
    with tempfile.TemporaryDirectory() as tmp:
        procs = start_workers(workers, url, Path(tmp))
        try:
            deadline = time.monotonic() + 60
            while count(db, WorkerHeartbeat) < workers and time.monotonic() < deadline:
                time.sleep(0.1)
            now = utcnow()
            with db.session() as s:
                s.add_all(
                    JobRequest(kind="ping", payload={"hold_seconds": hold}, created_at=now)
                    for _ in range(jobs)
                )
            t0 = time.perf_counter()
            deadline = time.monotonic() + 600
            while count(db, JobRequest, JobRequest.status == "done") < jobs:
                if time.monotonic() > deadline:
                    raise SystemExit("the workers did not finish within 600 s")
                time.sleep(0.05)
            return jobs / (time.perf_counter() - t0)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
            db.dispose()
            with make_engine(base).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL URL")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    base = normalize_db_url(args.database_url)
    if not base.startswith("postgresql"):
        raise SystemExit("many workers share a queue on PostgreSQL only")
    print(f"{args.jobs} jobs per run, {os.cpu_count()} CPU(s)")
    print("| workers | no-op jobs/s | 50 ms jobs/s |")
    print("| ---: | ---: | ---: |")
    for n in args.workers:
        fast = run(base, n, args.jobs, 0.0)
        slow = run(base, n, max(50, args.jobs // 5), 0.05)
        print(f"| {n} | {fast:.0f} | {slow:.1f} |", flush=True)


if __name__ == "__main__":
    main()
