"""Candidate booking benchmark against `panelslot serve` (gunicorn) on loopback; prints a table.

    python benchmarks/bench_booking.py                       # SQLite file, 50 clients
    python benchmarks/bench_booking.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/bench_booking.py --clients 50 --seconds 10 --workers 4

Phases:
  1. page: GET of candidate pages (the offer: token check, stale-option re-check, render),
     50 concurrent clients. With `wrk` installed it drives this phase (C, little CPU);
     otherwise a Python thread pool on keep-alive-free http.client connections does.
  2. book: 50 Python clients each GET a page (cookie, CSRF token, idempotency key) and
     POST a booking, each for its own request and a distinct interviewer-time: bookings/s.
  3. race: 50 clients, 50 requests all offered the SAME interviewer-time, released together:
     exactly one must get the booking (303), the others 409.
  With --live the page phase's requests are live ones: each page searches the engine in
  the candidate's zone (cached per worker until busy time changes).
  Finally the database is checked for overlapping active booked sessions of any interviewer.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from booking_seed import SECRET, Seeded, prepare_database, seed  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.loopback import listening_socket, port_of, socket_activated  # noqa: E402
from web.store import migrate  # noqa: E402
from web.store.db import Database  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
IDEM_RE = re.compile(r'name="idem" value="([^"]+)"')
OPT_RE = re.compile(r'name="option" id="opt-(\d+)" value="(\d+)"')


# ---------------------------------------------------------------- server


def start_server(
    url: str, listener: socket.socket, workers: int, folder: Path
) -> subprocess.Popen[bytes]:
    """`panelslot serve` on ``listener``, handed to gunicorn by socket activation."""
    port = port_of(listener)
    env = dict(os.environ)
    env.update(
        {
            "PANELSLOT_DATABASE_URL": url,
            "PANELSLOT_SECRET_KEY": SECRET,
            "PANELSLOT_SERVER_MODE": "production",
            "PANELSLOT_SERVER_PUBLIC_URL": f"http://127.0.0.1:{port}/",
            "PANELSLOT_MAIL_SENDER": "none",
            "PANELSLOT_SECURITY_SECURE_COOKIES": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("PANELSLOT_CONFIG", None)
    cmd = [
        sys.executable,
        "-c",
        "from web.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = (folder / "serve.log").open("wb")
    start = socket_activated(cmd, [listener], env)
    with listener:
        proc = subprocess.Popen(
            start.argv,
            env=start.env,
            pass_fds=start.pass_fds,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            status, _, _ = get(port, "/healthz")
            if status in (200, 503):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"`panelslot serve` did not start; see {folder / 'serve.log'}")


def worker_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by the gunicorn workers of ``master``."""
    try:
        kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in kids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def get(port: int, path: str, cookie: str = "") -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    set_cookie = resp.getheader("Set-Cookie") or ""
    conn.close()
    return resp.status, body, set_cookie.split(";")[0]


def post(port: int, path: str, form: dict[str, str], cookie: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        path,
        body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


# ---------------------------------------------------------------- phases


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class PageResult:
    tool: str
    requests: int
    seconds: float
    p50: float
    p99: float
    errors: int


def page_phase_python(port: int, tokens: list[str], clients: int, seconds: float) -> PageResult:
    stop = time.perf_counter() + seconds
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(n: int) -> None:
        i = n
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            status, _, _ = get(port, f"/c/{tokens[i % len(tokens)]}")
            lat[n].append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors[n] += 1
            i += clients

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    took = time.perf_counter() - t0
    flat = [x for row in lat for x in row]
    return PageResult("python threads", len(flat), took, pct(flat, 50), pct(flat, 99), sum(errors))


def page_phase_wrk(
    port: int, tokens: list[str], clients: int, seconds: float, folder: Path
) -> PageResult:
    script = folder / "pages.lua"
    paths = ",".join(f'"/c/{t}"' for t in tokens)
    script.write_text(
        f"local paths = {{{paths}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n"
        "done = function(summary, latency, requests)\n"
        "  io.write(string.format('P50=%f\\nP99=%f\\nN=%d\\nERR=%d\\n', latency:percentile(50), "
        "latency:percentile(99), summary.requests, summary.errors.status + "
        "summary.errors.connect + summary.errors.read + summary.errors.write + "
        "summary.errors.timeout))\nend\n"
    )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    vals = dict(
        line.split("=", 1) for line in out.splitlines() if "=" in line and line[:1].isupper()
    )
    return PageResult(
        "wrk -t2",
        int(vals["N"]),
        seconds,
        float(vals["P50"]) / 1000,
        float(vals["P99"]) / 1000,
        int(vals["ERR"]),
    )


@dataclass
class BookResult:
    attempts: int
    booked: int
    other: dict[int, int]
    seconds: float
    post_p50: float
    post_p99: float


def book_one(port: int, token: str) -> tuple[int, float]:
    status, body, cookie = get(port, f"/c/{token}")
    if status != 200:
        return status, 0.0
    csrf = CSRF_RE.search(body)
    idem = IDEM_RE.search(body)
    opt = OPT_RE.search(body)
    if not (csrf and idem and opt):
        return -1, 0.0
    t0 = time.perf_counter()
    code = post(
        port,
        f"/c/{token}/book",
        {
            "csrf_token": csrf.group(1),
            "idem": idem.group(1),
            "option": opt.group(2),
            "tz": "Asia/Kolkata",
        },
        cookie,
    )
    return code, (time.perf_counter() - t0) * 1000


def book_phase(port: int, tokens: list[str], clients: int) -> BookResult:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda t: book_one(port, t), tokens))
    took = time.perf_counter() - t0
    codes: dict[int, int] = {}
    for code, _ in results:
        codes[code] = codes.get(code, 0) + 1
    lat = [ms for code, ms in results if code == 303]
    return BookResult(len(tokens), codes.pop(303, 0), codes, took, pct(lat, 50), pct(lat, 99))


def race_phase(port: int, tokens: list[str]) -> dict[int, int]:
    prepared = []
    for token in tokens:
        status, body, cookie = get(port, f"/c/{token}")
        csrf, idem, opt = CSRF_RE.search(body), IDEM_RE.search(body), OPT_RE.search(body)
        assert status == 200 and csrf and idem and opt, "race page without a booking form"
        prepared.append(
            (
                token,
                {"csrf_token": csrf.group(1), "idem": idem.group(1), "option": opt.group(2)},
                cookie,
            )
        )
    barrier = threading.Barrier(len(prepared))

    def go(item: tuple[str, dict[str, str], str]) -> int:
        barrier.wait()
        return post(port, f"/c/{item[0]}/book", item[1], item[2])

    with ThreadPoolExecutor(len(prepared)) as pool:
        codes = list(pool.map(go, prepared))
    out: dict[int, int] = {}
    for c in codes:
        out[c] = out.get(c, 0) + 1
    return out


def overlaps(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM booking_sessions a JOIN booking_sessions b "
                    "ON a.interviewer_id = b.interviewer_id AND a.id < b.id "
                    'AND a.active AND b.active AND a.start < b."end" AND b.start < a."end"'
                )
            ).scalar_one()
        )


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default=os.environ.get("PANELSLOT_BENCH_DATABASE_URL"))
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn processes")
    ap.add_argument("--bookings", type=int, default=600)
    ap.add_argument("--no-wrk", action="store_true", help="use the Python load generator only")
    ap.add_argument(
        "--live",
        action="store_true",
        help="the page phase's requests are live (searched in the candidate's zone)",
    )
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="panelslot-bench-"))
    url, cleanup = prepare_database(args.database_url, folder)
    db = Database(url)
    migrate.upgrade(db.engine)
    now = datetime.now(UTC)
    seeded = seed(db, 200, args.bookings, args.clients, now, live=args.live)
    listener = listening_socket()
    port = port_of(listener)
    proc = start_server(url, listener, args.workers, folder)
    try:
        # warm every worker (imports, template compilation, zone list; with --live the
        # live searches of the 20 requests the page phase reads, in each worker's cache)
        if args.live:
            seeded = Seeded(seeded.page_tokens[:20], seeded.book_tokens, seeded.race_tokens)
        t0 = time.perf_counter()
        warm = seeded.page_tokens[:20] * (6 if args.live else 1)
        for t in warm:
            get(port, f"/c/{t}")
        warm_ms = (time.perf_counter() - t0) / len(warm) * 1000
        use_wrk = shutil.which("wrk") is not None and not args.no_wrk
        cpu0 = worker_cpu_seconds(proc.pid)
        if use_wrk:
            page = page_phase_wrk(port, seeded.page_tokens, args.clients, args.seconds, folder)
        else:
            page = page_phase_python(port, seeded.page_tokens, args.clients, args.seconds)
        page_cpu_ms = (worker_cpu_seconds(proc.pid) - cpu0) / max(page.requests, 1) * 1000
        load = os.getloadavg()[0]
        page_py = page_phase_python(port, seeded.page_tokens, args.clients, min(args.seconds, 5))
        cpu0 = worker_cpu_seconds(proc.pid)
        booked = book_phase(port, seeded.book_tokens, args.clients)
        book_cpu_ms = (worker_cpu_seconds(proc.pid) - cpu0) / max(booked.attempts, 1) * 1000
        race = race_phase(port, seeded.race_tokens)
        double = overlaps(db)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        db.dispose()
        if cleanup is not None:
            eng, schema = cleanup  # type: ignore[misc]
            with eng.begin() as conn:  # type: ignore[attr-defined]
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            eng.dispose()  # type: ignore[attr-defined]

    backend = make_url(url).get_backend_name()
    print()
    print(
        f"panelslot booking benchmark: `panelslot serve --workers {args.workers}` (gunicorn), "
        f"{backend}, {os.cpu_count()} CPUs, {args.clients} concurrent clients, loopback"
        + (", live candidate pages" if args.live else "")
    )
    print(f"{'measure':<44} {'value':>14}")
    print("-" * 59)
    for result in (page, page_py) if use_wrk else (page,):
        print(f"{'page GET p50 (' + result.tool + ')':<44} {result.p50:>11.1f} ms")
        print(f"{'page GET p99 (' + result.tool + ')':<44} {result.p99:>11.1f} ms")
        rate = result.requests / result.seconds
        print(f"{'page GET throughput (' + result.tool + ')':<44} {rate:>10.0f} /s")
        print(f"{'page GET errors (' + result.tool + ')':<44} {result.errors:>14}")
    print(f"{'server CPU per page GET':<44} {page_cpu_ms:>11.1f} ms")
    print(f"{'warm-up page GET, one client (mean)':<44} {warm_ms:>11.1f} ms")
    print(f"{'server CPU per booking (GET + POST)':<44} {book_cpu_ms:>11.1f} ms")
    print(f"{'1-min load average during the page phase':<44} {load:>14.1f}")
    print(f"{'bookings made / attempted':<44} {f'{booked.booked}/{booked.attempts}':>14}")
    print(
        f"{'bookings per second (GET page + POST)':<44} {booked.booked / booked.seconds:>12.1f}/s"
    )
    print(f"{'booking POST p50':<44} {booked.post_p50:>11.1f} ms")
    print(f"{'booking POST p99':<44} {booked.post_p99:>11.1f} ms")
    if booked.other:
        print(f"{'booking other statuses':<44} {str(booked.other):>14}")
    race_text = f"{race.get(303, 0)} / {race.get(409, 0)}"
    print(f"{'race: one time, ' + str(args.clients) + ' bookers: 303 / 409':<44} {race_text:>14}")
    print(f"{'overlapping active booked sessions':<44} {double:>14}")
    ok = race.get(303, 0) == 1 and double == 0 and booked.booked == booked.attempts
    print(f"{'verdict':<44} {'OK' if ok else 'FAILED':>14}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
