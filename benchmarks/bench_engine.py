"""Slot-engine benchmark: prints a table of timings and ratios, all from one run (not a test).

    python benchmarks/bench_engine.py            # the table (numpy: pip install '.[bench]')
    python benchmarks/bench_engine.py --quick    # fewer repeats
    python benchmarks/bench_engine.py --ics      # also Panel A read from ICS files

Every time is the best of interleaved rounds (each contender once per round), as
``timeit`` advises: on a shared machine the minimum is the stable figure, and
interleaving exposes the contenders to the same load. As in ``timeit``, garbage
collection is off while a contender runs (it would otherwise keep re-scanning the
benchmark's own year of calendars).

  A. 8 interviewers in 6 zones, a year of calendar each (~2,000 events, recurring
     series included), 14-day window, one 60-minute session with everyone required,
     15-minute grid, every valid start (``limit=0``): a numpy minute-bitmap solver
     (``reference_engine/bitmap.py``) against the engine from plain busy intervals
     and from ``scheduler.prepare_busy`` indexes; all three must find the same starts.
  B. 4 sessions, pools of 6 drawn from 30 interviewers, 10 working days, top 20:
     today's engine against the engine as it was before issue 9
     (``reference_engine/``, a frozen copy); both must return the same options,
     scores and order included. Then pools, sessions and days doubled (growth).
  C. Problem A and a small B solved by the brute-force checker from the tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import reference_engine  # noqa: E402

from scheduler import prepare_busy  # noqa: E402
from scheduler.engine import find_options  # noqa: E402
from scheduler.intervals import merge  # noqa: E402
from scheduler.model import (  # noqa: E402
    Interval,
    Interviewer,
    Loop,
    Option,
    SessionSpec,
    Settings,
    WorkingHours,
)

try:
    from reference_engine.bitmap import bitmap_starts
except ImportError:  # numpy is a benchmark-only extra
    bitmap_starts = None

Row = tuple[str, str, str]

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


def interleaved(contenders: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best milliseconds of each contender, run once each per round."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, func in contenders.items():
            gc.collect()
            gc.disable()  # as timeit does: no collection of the benchmark's own data
            try:
                begin = time.perf_counter()
                func()
                samples[name].append(time.perf_counter() - begin)
            finally:
                gc.enable()
    return {name: min(values) * 1000 for name, values in samples.items()}


def timed(func: Callable[[], object], repeats: int) -> tuple[float, object]:
    result = func()
    return interleaved({"one": func}, repeats)["one"], result


def target(ratio: float, wanted: float) -> str:
    return f"{ratio:.1f}x (target >= {wanted:g}x: {'met' if ratio >= wanted else 'NOT MET'})"


A_REQUEST = dict(
    candidate_tz="Europe/London",
    date_from=FIRST,
    date_to=FIRST + timedelta(days=13),
    now=NOW,
    candidate_hours=(0, 1440),
)


def run_a(people, busy, loop, limit: int = 0, engine=find_options):
    return engine(loop, {p.id: p for p in people}, busy, limit=limit, **A_REQUEST)


def panel_a(repeats: int) -> tuple[list[Row], tuple]:
    rng = random.Random(1)  # a seed whose panel has options (most leave none: 8 busy people)
    people, raw, busy, loop = problem_a(rng)
    events = sum(len(s) + len(r) for s, r in raw.values()) // len(raw)
    prepare_ms, prepared = timed(lambda: {k: prepare_busy(v) for k, v in busy.items()}, repeats)
    plain_starts = {o.start for o in run_a(people, busy, loop)}
    assert plain_starts == {o.start for o in run_a(people, prepared, loop)}, "prepared differs"
    contenders = {
        "plain": lambda: run_a(people, busy, loop),
        "prepared": lambda: run_a(people, prepared, loop),
        "reference": lambda: run_a(people, busy, loop, engine=reference_engine.find_options),
    }
    index = {p.id: p for p in people}
    if bitmap_starts is not None:
        found = bitmap_starts(loop, index, busy, **A_REQUEST)
        assert found == plain_starts, "the numpy solver and the engine disagree"
        contenders["numpy"] = lambda: bitmap_starts(loop, index, busy, **A_REQUEST)
    ms = interleaved(contenders, repeats * 4)
    name = f"A  8 people/6 zones, ~{events} events each, 14 d, all-of, limit=0"
    rows: list[Row] = [
        (
            name + ": engine, plain intervals",
            f"{ms['plain']:.2f} ms",
            f"{len(plain_starts)} starts",
        ),
        ("A  same: engine, prepared indexes", f"{ms['prepared']:.2f} ms", ""),
        ("A  same: engine before issue 9 (reference)", f"{ms['reference']:.2f} ms", ""),
        (
            "A  prepare_busy for the 8 calendars (once per calendar change)",
            f"{prepare_ms:.2f} ms",
            "",
        ),
    ]
    if "numpy" in ms:
        numpy_ms = ms["numpy"]
        rows += [
            ("A  numpy minute-bitmap solver", f"{numpy_ms:.2f} ms", "same starts"),
            ("A  ratio numpy / engine from plain intervals", "", target(numpy_ms / ms["plain"], 2)),
            (
                "A  ratio numpy / engine from prepared indexes",
                "",
                target(numpy_ms / ms["prepared"], 5),
            ),
        ]
    else:
        rows.append(
            ("A  numpy minute-bitmap solver", "n/a", "numpy missing: pip install '.[bench]'")
        )
    return rows, (people, raw, busy, loop)


def run_b(people, busy, loop, last, limit=20, engine=find_options):
    return engine(
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


def same_options(ours: list[Option], theirs: list) -> bool:
    def shape(options: list) -> list:
        return [
            (o.score, [(s.name, s.start, s.end, s.interviewers) for s in o.sessions])
            for o in options
        ]

    return shape(ours) == shape(theirs)


B_CASES = [
    ("B  4 sessions, pools of 6 of 30, 10 working days, top 20", 4, 6, 10),
    ("B  pools doubled (12 of 30)", 4, 12, 10),
    ("B  sessions doubled (8)", 8, 6, 10),
    ("B  days doubled (20)", 4, 6, 20),
    ("B  all doubled (8 sessions, pools 12, 20 days)", 8, 12, 20),
]


def loop_b(repeats: int) -> list[Row]:
    """Each B case: the engine from plain intervals and from prepared indexes against the
    reference (which reads plain intervals), the same options asserted for all three."""
    rows: list[Row] = []
    base = 0.0
    for number, (label, sessions, pool, days) in enumerate(B_CASES):
        people, busy, loop, last = problem_b(random.Random(7), sessions, pool, days)
        prepared = {k: prepare_busy(v) for k, v in busy.items()}
        ours = run_b(people, busy, loop, last)
        theirs = run_b(people, busy, loop, last, engine=reference_engine.find_options)
        assert same_options(ours, theirs), f"{label}: not the same options as the reference"
        assert same_options(run_b(people, prepared, loop, last), theirs), f"{label}: prepared"
        ms = interleaved(
            {
                "new": lambda a=(people, busy, loop, last): run_b(*a),
                "prepared": lambda a=(people, prepared, loop, last): run_b(*a),
                "reference": lambda a=(people, busy, loop, last): run_b(
                    *a, engine=reference_engine.find_options
                ),
            },
            repeats,
        )
        ratio = ms["reference"] / ms["new"]
        if number == 0:
            base, note = ms["new"], "vs reference " + target(ratio, 3)
        else:
            linear = 8 if number == len(B_CASES) - 1 else 2  # three doublings, or one
            grown = ms["new"] / base
            note = f"vs reference {ratio:.1f}x; {grown:.1f}x the first row (linear: {linear}x)"
        rows.append((label, f"{ms['new']:.1f} ms", f"{len(ours)} same options; " + note))
        faster = ms["reference"] / ms["prepared"]
        rows.append(
            ("B  same, from prepared indexes", f"{ms['prepared']:.1f} ms", f"{faster:.1f}x")
        )
        rows.append(("B  same, engine before issue 9 (reference)", f"{ms['reference']:.1f} ms", ""))
    return rows


MULTI_DAY_CASES = [
    ("M  two-day loop, 6 sessions (3 + 3), pools of 6 of 30, 10 working days, top 20", 10),
    ("M  same, days doubled (20)", 20),
]


def two_days(loop: Loop) -> Loop:
    """The loop's sessions split into two days: the first half on day 1, the rest on day 2."""
    half = len(loop.sessions) // 2
    specs = tuple(
        dataclasses.replace(spec, day=1 if k < half else 2) for k, spec in enumerate(loop.sessions)
    )
    return dataclasses.replace(loop, sessions=specs)


def multi_day_rows(repeats: int) -> list[Row]:
    """Issue 14: a two-day 6-session loop against the one-day 4-session Loop B, timed
    interleaved in this process (target: within 2x)."""
    people, busy, loop, last = problem_b(random.Random(7), 4, 6, 10)
    contenders = {"one-day B": lambda a=(people, busy, loop, last): run_b(*a)}
    for label, days in MULTI_DAY_CASES:
        mp, mb, ml, mlast = problem_b(random.Random(7), 6, 6, days)
        contenders[label] = lambda a=(mp, mb, two_days(ml), mlast): run_b(*a)
    ms = interleaved(contenders, repeats)
    base = ms["one-day B"]
    rows: list[Row] = [("M  one-day 4-session Loop B (reference)", f"{base:.1f} ms", "")]
    for number, (label, _) in enumerate(MULTI_DAY_CASES):
        found = len(contenders[label]())  # type: ignore[arg-type]
        ratio = ms[label] / base
        note = f"{found} options; {ratio:.2f}x Loop B " + ("(target 2x)" if number == 0 else "")
        rows.append((label, f"{ms[label]:.1f} ms", note.strip()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--ics", action="store_true", help="also Panel A from ICS files")
    parser.add_argument("--multi-day", action="store_true", help="only the multi-day rows")
    args = parser.parse_args()
    repeats = 3 if args.quick else 25
    if args.multi_day:
        _print_rows(multi_day_rows(repeats))
        return
    rows, (people, raw, busy, loop) = panel_a(repeats)
    if args.ics:
        rows.extend(ics_rows(people, raw, busy, loop, repeats))
    brute = brute_force_a(people, busy, loop)
    if brute is not None:
        every = run_a(people, busy, loop)
        engine_ms = interleaved({"e": lambda: run_a(people, busy, loop)}, repeats)["e"]
        bms, found = timed(brute, 1)
        same = "same set" if found == {o.start for o in every} else "DIFFERENT SET"
        rows.append(
            (
                "A  brute-force checker (tests/engine/bruteforce.py)",
                f"{bms:.1f} ms",
                f"ratio engine/brute {engine_ms / bms:.4f}, {same}",
            )
        )
    rows.extend(loop_b(repeats))
    rows.extend(brute_force_b(repeats))
    rows.extend(multi_day_rows(repeats))
    _print_rows(rows)


def _print_rows(rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'problem':<{width}}  {'best':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


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
