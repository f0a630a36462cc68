"""Slot-engine benchmark: prints a table of timings (not a test).

    python benchmarks/bench_engine.py            # full table
    python benchmarks/bench_engine.py --quick    # fewer repeats

Problems:
  A. 8 interviewers in 6 zones, a year of calendar each (~2,000 events,
     recurring series included), 14-day window, one 60-minute session with
     everyone required, 15-minute grid; from busy intervals in memory and from
     ICS files (parse + expand + engine).
  B. 4 sessions, pools of 6 drawn from 30 interviewers, 10 working days,
     top 20 options; then doubling pools, sessions and days.
  C. Problem A and a small B solved by the brute-force checker from the tests,
     as the ratio engine / brute force.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scheduler.engine import find_options  # noqa: E402
from scheduler.intervals import merge  # noqa: E402
from scheduler.model import (  # noqa: E402
    Interval,
    Interviewer,
    Loop,
    SessionSpec,
    Settings,
    WorkingHours,
)

ZONES = [
    "America/New_York",
    "Europe/London",
    "Africa/Lagos",
    "Europe/Berlin",
    "Europe/Helsinki",
    "America/Sao_Paulo",
]
WIDE_ZONES = ZONES + ["America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney"]
NOW = datetime(2027, 2, 26, 12, 0, tzinfo=UTC)
FIRST = date(2027, 3, 1)


def weekday_hours(start: int, end: int) -> WorkingHours:
    return WorkingHours({d: ((start, end),) for d in range(5)})


def person(ident: str, tz: str, hours: WorkingHours) -> Interviewer:
    return Interviewer(ident, ident, f"{ident}@example.com", tz, hours)


def year_of_events(rng: random.Random, tz: str, single: int = 1900) -> tuple[list, list]:
    """(single events, weekly series) in local wall time over 2027."""
    zone = ZoneInfo(tz)
    singles = []
    for _ in range(single):
        day = date(2027, 1, 1) + timedelta(days=rng.randrange(365))
        start = datetime(day.year, day.month, day.day, rng.randrange(0, 24), rng.choice([0, 30]))
        singles.append(
            (start.replace(tzinfo=zone), timedelta(minutes=rng.choice([15, 30, 45, 60])))
        )
    series = []
    for n in range(100):
        day = date(2027, 1, 4) + timedelta(days=n % 5)
        start = datetime(day.year, day.month, day.day, 8 + n % 10, 0, tzinfo=zone)
        series.append((start, timedelta(minutes=30), n % 3 + 1))  # weekly, every 1-3 weeks
    return singles, [s for s in series[:100]]


def expand(singles: list, series: list, window: Interval) -> list[Interval]:
    busy = [Interval(s.astimezone(UTC), (s + d).astimezone(UTC)) for s, d in singles]
    for start, length, every in series:
        moment = start
        while moment < window.end:
            busy.append(Interval(moment.astimezone(UTC), (moment + length).astimezone(UTC)))
            moment += timedelta(weeks=every)
    return busy


def to_ics(singles: list, series: list, tz: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//panelslot//bench//EN"]
    fmt = "%Y%m%dT%H%M%S"
    for n, (start, length) in enumerate(singles):
        lines += _vevent(f"s{n}", start, length, tz, fmt)
    for n, (start, length, every) in enumerate(series):
        lines += _vevent(f"r{n}", start, length, tz, fmt, f"RRULE:FREQ=WEEKLY;INTERVAL={every}")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _vevent(uid: str, start: datetime, length: timedelta, tz: str, fmt: str, *extra: str) -> list:
    end = start + length
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}@bench",
        "DTSTAMP:20270101T000000Z",
        f"DTSTART;TZID={tz}:{start.strftime(fmt)}",
        f"DTEND;TZID={tz}:{end.strftime(fmt)}",
        *extra,
        "SUMMARY:busy",
        "END:VEVENT",
    ]


def timed(func: Callable[[], object], repeats: int) -> tuple[float, object]:
    samples = []
    result: object = None
    for _ in range(repeats):
        begin = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples) * 1000, result


def problem_a(rng: random.Random):
    people = [
        person(f"p{n}", ZONES[n % len(ZONES)], weekday_hours(7 * 60, 20 * 60)) for n in range(8)
    ]
    window = Interval(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    raw = {p.id: year_of_events(rng, p.timezone) for p in people}
    busy = {pid: merge(expand(s, r, window)) for pid, (s, r) in raw.items()}
    loop = Loop(
        "panel",
        "Panel",
        (SessionSpec("Panel", 60, tuple(p.id for p in people), 8),),
        settings=Settings(15, 24, 0, 10),
    )
    return people, raw, busy, loop


def run_a(people, busy, loop, limit: int = 20):
    return find_options(
        loop,
        {p.id: p for p in people},
        busy,
        candidate_tz="Europe/London",
        date_from=FIRST,
        date_to=FIRST + timedelta(days=13),
        now=NOW,
        candidate_hours=(0, 1440),
        limit=limit,
    )


def problem_b(rng: random.Random, sessions: int, pool: int, days: int):
    people = [
        person(f"i{n}", WIDE_ZONES[n % len(WIDE_ZONES)], weekday_hours(8 * 60, 18 * 60))
        for n in range(max(30, pool * 2))
    ]
    window = Interval(datetime(2027, 2, 20, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))
    busy = {}
    for p in people:
        singles, series = year_of_events(rng, p.timezone, single=1200)
        busy[p.id] = merge(b for b in expand(singles, series, window) if b.overlaps(window))
    ids = [p.id for p in people]
    specs = tuple(
        SessionSpec(f"Session {k + 1}", rng.choice([45, 60]), tuple(rng.sample(ids, pool)), 1)
        for k in range(sessions)
    )
    loop = Loop("loop", "Loop", specs, "fixed", 0, 15, Settings(15, 24, 0, 10))
    last = FIRST
    worked = 0
    while worked < days:
        if last.weekday() < 5:
            worked += 1
        last += timedelta(days=1)
    return people, busy, loop, last - timedelta(days=1)


def run_b(people, busy, loop, last, limit=20):
    return find_options(
        loop,
        {p.id: p for p in people},
        busy,
        candidate_tz="Europe/London",
        date_from=FIRST,
        date_to=last,
        now=NOW,
        candidate_hours=(6 * 60, 22 * 60),
        limit=limit,
    )


def brute_force_a(people, busy, loop):
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from engine.bruteforce import valid_starts_single_all_of  # type: ignore
    except ImportError:
        return None
    import inspect

    params = inspect.signature(valid_starts_single_all_of).parameters
    kwargs = dict(
        candidate_tz="Europe/London",
        date_from=FIRST,
        date_to=FIRST + timedelta(days=13),
        now=NOW,
        candidate_hours=(0, 1440),
    )
    kwargs = {k: v for k, v in kwargs.items() if k in params}
    return lambda: valid_starts_single_all_of(loop, {p.id: p for p in people}, busy, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    rng = random.Random(1)  # a seed whose panel has options (most seeds leave none: 8 busy people)
    rows: list[tuple[str, str, str]] = []

    people, raw, busy, loop = problem_a(rng)
    events = sum(len(s) + len(r) for s, r in raw.values()) // len(raw)
    ms, options = timed(lambda: run_a(people, busy, loop), repeats)
    rows.append(
        (
            f"A  8 people/6 zones, ~{events} events each, 14 d, all-of, in memory",
            f"{ms:.2f} ms",
            "< 5 ms",
        )
    )
    ms_all, every = timed(lambda: run_a(people, busy, loop, 0), repeats)
    rows.append(
        ("A  same, every valid start (--limit 0)", f"{ms_all:.2f} ms", f"{len(every)} starts")
    )
    rows.extend(ics_rows(people, raw, busy, loop, repeats))
    brute = brute_force_a(people, busy, loop)
    if brute is not None:
        bms, found = timed(brute, 1)
        same = "same set" if found == {o.start for o in every} else "DIFFERENT SET"
        rows.append(
            (
                "A  brute-force checker (tests/engine/bruteforce.py)",
                f"{bms:.1f} ms",
                f"ratio engine/brute {ms_all / bms:.4f}, {same}",
            )
        )

    for label, sessions, pool, days in [
        ("B  4 sessions, pools of 6 of 30, 10 working days", 4, 6, 10),
        ("B  pools doubled (12 of 30)", 4, 12, 10),
        ("B  sessions doubled (8)", 8, 6, 10),
        ("B  days doubled (20)", 4, 6, 20),
        ("B  all doubled (8 sessions, pools 12, 20 days)", 8, 12, 20),
    ]:
        case = problem_b(random.Random(7), sessions, pool, days)
        ms, options = timed(lambda case=case: run_b(*case), repeats)
        target = "< 200 ms" if label.endswith("10 working days") else ""
        rows.append(
            (label + ", top 20", f"{ms:.1f} ms", f"{len(options)} options {target}".strip())
        )

    rows.extend(brute_force_b(repeats))

    width = max(len(r[0]) for r in rows)
    print(f"{'problem':<{width}}  {'median':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


def brute_force_b(repeats: int) -> list[tuple[str, str, str]]:
    """A small multi-session loop, every option, engine against brute force."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from engine.bruteforce import iter_options  # type: ignore
    except ImportError:
        return []
    people, busy, loop, last = problem_b(random.Random(11), 3, 4, 2)
    people = [p for p in people if any(p.id in s.pool for s in loop.sessions)]
    args = dict(
        candidate_tz="Europe/London",
        date_from=FIRST,
        date_to=last,
        now=NOW,
        candidate_hours=(6 * 60, 22 * 60),
    )
    index = {p.id: p for p in people}
    ems, every = timed(lambda: find_options(loop, index, busy, limit=0, **args), repeats)
    bms, found = timed(lambda: list(iter_options(loop, index, busy, **args)), 1)
    same = "same count" if len(found) == len(every) else f"DIFFERENT: {len(found)}"
    return [
        (
            "B  small (3 sessions, pools of 4, 2 days), every option",
            f"{ems:.1f} ms",
            f"{len(every)} options",
        ),
        (
            "B  small, brute-force checker",
            f"{bms:.0f} ms",
            f"ratio engine/brute {ems / bms:.4f}, {same}",
        ),
    ]


def ics_rows(people, raw, busy, loop, repeats):
    try:
        from integrations.ics import read_ics_file
    except ImportError:
        return [("A  from ICS files", "n/a", "integrations.ics missing")]
    window = Interval(datetime(2027, 2, 27, tzinfo=UTC), datetime(2027, 3, 16, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for p in people:
            path = Path(folder) / f"{p.id}.ics"
            path.write_text(to_ics(*raw[p.id], p.timezone))
            paths[p.id] = path

        def read_all():
            return {
                p.id: merge(read_ics_file(paths[p.id], timezone=p.timezone, window=window).busy)
                for p in people
            }

        read_ms, from_files = timed(read_all, max(1, repeats // 2))
        engine_ms, _ = timed(lambda: run_a(people, from_files, loop), repeats)
    return [
        ("A  from ICS files: parse + expand 8 files", f"{read_ms:.0f} ms", "dominates"),
        ("A  from ICS files: engine on what was read", f"{engine_ms:.2f} ms", ""),
    ]


if __name__ == "__main__":
    main()
