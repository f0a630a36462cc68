"""Calendar-reading benchmark: prints tables of timings (not a test).

    python benchmarks/bench_read.py              # reading table and the bounded cases
    python benchmarks/bench_read.py --quick      # fewer repeats
    python benchmarks/bench_read.py --case NAME  # one bounded case (run in a child process)

Reading: eight interviewers with a year of calendar each (about 700 VEVENTs
per file, generated like Google, Outlook and Apple exports: single meetings
with attendees, folded descriptions and alarms, all-day events, weekly and
daily series with EXDATEs and moved or cancelled instances), read for a
two-week window by ``benchmarks/naive_reader.py`` (icalendar +
recurring-ical-events over the whole file) and by panelslot's three readers,
in the same process. "cold" is the first read of the files in the process,
"median" the median of the repeats; ratios are to the naive reader's.

Bounded cases: each in a fresh process, its wall time and peak memory (max RSS).
``--budget``: the same cases read as the worker reads them, in a child process under
a read budget (time, memory), with the child's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from naive_reader import naive_busy  # noqa: E402

from integrations.errors import CalendarError  # noqa: E402
from integrations.ics import read_ics_bytes, read_ics_file  # noqa: E402
from scheduler.intervals import merge  # noqa: E402
from scheduler.model import Interval  # noqa: E402

WINDOW = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 15, tzinfo=UTC))
# (interviewer zone, how the file writes times)
PEOPLE = [
    ("America/New_York", "google"),
    ("Europe/London", "outlook"),
    ("Europe/Berlin", "apple"),
    ("Asia/Kolkata", "google"),
    ("America/Sao_Paulo", "apple"),
    ("Europe/Helsinki", "outlook"),
    ("Australia/Sydney", "google"),
    ("America/Los_Angeles", "outlook"),
]
WINDOWS_NAMES = {
    "Europe/London": "GMT Standard Time",
    "Europe/Helsinki": "FLE Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
}
FMT = "%Y%m%dT%H%M%S"
TEXT = "Agenda: review the candidate pipeline, the open roles and the interview loop " * 3


class Writer:
    """One generated file in the style of a producer."""

    def __init__(self, rng: random.Random, zone: str, style: str) -> None:
        self.rng, self.zone, self.style = rng, zone, style
        self.tzid = WINDOWS_NAMES.get(zone, zone)
        self.lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//bench//{style}//EN"]
        if style == "google":
            self.lines += ["CALSCALE:GREGORIAN", f"X-WR-TIMEZONE:{zone}"]
        self.events = 0

    def when(self, name: str, local: datetime) -> str:
        if self.style == "google":  # Google writes single events in UTC
            from zoneinfo import ZoneInfo

            utc = local.replace(tzinfo=ZoneInfo(self.zone)).astimezone(UTC)
            return f"{name}:{utc.strftime(FMT)}Z"
        return f"{name};TZID={self.tzid}:{local.strftime(FMT)}"

    def zoned(self, name: str, local: datetime) -> str:
        return f"{name};TZID={self.tzid}:{local.strftime(FMT)}"

    def event(self, uid: str, body: list[str]) -> None:
        self.events += 1
        lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261201T120000Z", *body]
        if self.rng.random() < 0.15:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT10M", "END:VALARM"]
        self.lines += [*lines, "END:VEVENT"]

    def people(self) -> list[str]:
        found = ["ORGANIZER;CN=Org:mailto:org@example.com"]
        for n in range(self.rng.randint(1, 4)):
            state = self.rng.choice(["ACCEPTED", "ACCEPTED", "TENTATIVE", "DECLINED"])
            found.append(f"ATTENDEE;CN=P{n};PARTSTAT={state}:mailto:p{n}@example.com")
        return found

    def text(self) -> list[str]:
        desc = "DESCRIPTION:" + TEXT[: self.rng.randint(20, len(TEXT))]
        folded = [desc[i : i + 74] for i in range(0, len(desc), 74)]
        return [folded[0], *(" " + part for part in folded[1:]), "LOCATION:Room 4"]

    def text_out(self) -> str:
        return "\r\n".join([*self.lines, "END:VCALENDAR"]) + "\r\n"


def singles(w: Writer, first: date) -> None:
    for day in range(365):
        when = first + timedelta(days=day)
        if when.weekday() >= 5:
            continue
        for n in range(w.rng.choice([1, 2, 2, 3, 3, 3])):
            start = datetime.combine(when, datetime.min.time()) + timedelta(
                hours=w.rng.randint(8, 17), minutes=w.rng.choice([0, 15, 30, 45])
            )
            end = start + timedelta(minutes=w.rng.choice([30, 45, 60, 90]))
            extra = ["TRANSP:TRANSPARENT"] if w.rng.random() < 0.05 else []
            extra += ["STATUS:CANCELLED"] if w.rng.random() < 0.03 else []
            body = [w.when("DTSTART", start), w.when("DTEND", end), "SUMMARY:Meeting"]
            w.event(f"s{day}-{n}@bench", [*body, *extra, *w.text(), *w.people()])


def all_day(w: Writer, first: date) -> None:
    for n in range(15):
        day = first + timedelta(days=w.rng.randint(0, 360))
        span = w.rng.choice([1, 1, 3, 5])
        body = [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=span):%Y%m%d}",
            "SUMMARY:Out of office",
            "TRANSP:OPAQUE",
        ]
        w.event(f"d{n}@bench", body)


def series(w: Writer, first: date) -> None:
    """About 40 series; a third with EXDATEs, twenty moved or cancelled instances."""
    overrides = 0
    for n in range(40):
        start = datetime.combine(
            first + timedelta(days=w.rng.randint(-300, 200)), datetime.min.time()
        )
        start += timedelta(hours=w.rng.randint(8, 16))
        days = ["MO", "TU", "WE", "TH", "FR"]
        if n % 4 == 0:
            rule, step = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", timedelta(days=1)
            while start.weekday() >= 5:
                start += timedelta(days=1)
        else:
            every = w.rng.choice([1, 1, 2])
            step = timedelta(weeks=every)
            while start.weekday() >= 5:
                start += timedelta(days=1)
            rule = f"FREQ=WEEKLY;INTERVAL={every};BYDAY={days[start.weekday()]}"
        if n % 5 == 1:
            rule += f";UNTIL={(start + timedelta(days=400)).strftime(FMT)}Z"
        end = start + timedelta(minutes=w.rng.choice([15, 30, 60]))
        body = [w.zoned("DTSTART", start), w.zoned("DTEND", end), f"RRULE:{rule}", "SUMMARY:Series"]
        if n % 3 == 0:
            body += [w.zoned("EXDATE", start + step * k) for k in (3, 7, 11)]
        w.event(f"r{n}@bench", [*body, *w.people()])
        if overrides < 20 and n % 2 == 0:
            overrides += 1
            moved = start + step * 5
            w.event(
                f"r{n}@bench",
                [
                    w.zoned("RECURRENCE-ID", moved),
                    w.zoned("DTSTART", moved + timedelta(hours=2)),
                    w.zoned("DTEND", moved + timedelta(hours=2, minutes=30)),
                    "SEQUENCE:1",
                    *(["STATUS:CANCELLED"] if overrides % 3 == 0 else []),
                ],
            )


def year_file(rng: random.Random, zone: str, style: str) -> tuple[str, int]:
    w = Writer(rng, zone, style)
    first = date(2026, 9, 1)
    singles(w, first)
    all_day(w, first)
    series(w, first)
    return w.text_out(), w.events


def interleaved(
    runs: dict[str, Callable[[], object]], repeats: int
) -> dict[str, tuple[float, float, object]]:
    """(cold ms, median ms of the warm repeats, result) per run. The runs take turns,
    so a change of the machine's load touches all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for _ in range(repeats + 1):
        for name, func in runs.items():
            begin = time.perf_counter()
            results[name] = func()
            samples[name].append(time.perf_counter() - begin)
    return {
        name: (times[0] * 1000, statistics.median(times[1:]) * 1000, results[name])
        for name, times in samples.items()
    }


def write_files(folder: str) -> tuple[list[tuple[Path, str]], list[int]]:
    rng = random.Random(7)
    files, sizes = [], []
    for n, (zone, style) in enumerate(PEOPLE):
        text, count = year_file(rng, zone, style)
        path = Path(folder) / f"p{n}.ics"
        path.write_text(text)
        files.append((path, zone))
        sizes.append(count)
    return files, sizes


def reading_table(repeats: int) -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        files, sizes = write_files(folder)

        def naive() -> list[list[Interval]]:
            return [merge(naive_busy(path, zone, WINDOW)) for path, zone in files]

        def ours(reader: str) -> Callable[[], list[list[Interval]]]:
            def run() -> list[list[Interval]]:
                return [
                    merge(read_ics_file(path, timezone=zone, window=WINDOW, reader=reader).busy)
                    for path, zone in files
                ]

            return run

        runs: dict[str, Callable[[], object]] = {"naive": naive}
        runs.update({reader: ours(reader) for reader in ("full", "windowed", "fast")})
        got = interleaved(runs, repeats)
        base_cold, base, expected = got.pop("naive")
        rows = [("naive (icalendar + r-i-e)", f"{base_cold:.0f}", f"{base:.0f}", "1.00")]
        reference = got["full"][2]
        for reader, (cold, warm, found) in got.items():
            same = "" if found == reference else "  (DIFFERENT busy time!)"
            label = f"panelslot reader={reader}{same}"
            rows.append((label, f"{cold:.0f}", f"{warm:.0f}", f"{warm / base:.2f}"))
        naive_same = "same" if expected == reference else "differs (no DST-gap rule, no declines)"
        print(
            f"files: {len(files)}, VEVENTs per file: {min(sizes)}-{max(sizes)}; window "
            f"{WINDOW.start:%Y-%m-%d}..{WINDOW.end:%Y-%m-%d}; naive busy time {naive_same}"
        )
        return rows


def case_data(name: str) -> tuple[bytes, Interval]:
    def cal(body: str) -> bytes:
        return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{body}END:VCALENDAR\r\n".encode()

    def event(uid: str, start: datetime, length: timedelta, extra: str = "") -> str:
        return (
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\n"
            f"DTSTART:{start.strftime(FMT)}Z\r\nDTEND:{(start + length).strftime(FMT)}Z\r\n"
            f"{extra}SUMMARY:x\r\nEND:VEVENT\r\n"
        )

    two_weeks = WINDOW
    horizon = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 6, 15, tzinfo=UTC))
    second = timedelta(seconds=1)
    if name == "secondly":
        return cal(event("s", datetime(2027, 3, 1, 9), second, "RRULE:FREQ=SECONDLY\r\n")), horizon
    if name.startswith("minutely"):
        rule = "RRULE:FREQ=MINUTELY;UNTIL=20280101T000000Z\r\n"
        data = cal(event("m", datetime(2027, 1, 1), 60 * second, rule))
        if name == "minutely-day":
            return data, Interval(
                datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 2, tzinfo=UTC)
            )
        return data, two_weeks
    first = datetime(2022, 1, 1, 8)
    body = "".join(
        event(f"e{i}", first + timedelta(minutes=75 * i), timedelta(minutes=30))
        for i in range(70000)
    )
    return cal(body), horizon


def run_case(name: str, reader: str) -> None:
    data, window = case_data(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feed.ics"
        path.write_bytes(data)
        begin = time.perf_counter()
        try:
            read = read_ics_file(path, timezone="Europe/Berlin", window=window, reader=reader)
            result = f"read: {len(read.busy)} busy intervals"
        except CalendarError as exc:
            result = f"refused: {type(exc).__name__}"
        seconds = time.perf_counter() - begin
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"bytes": len(data), "seconds": seconds, "peak_mb": peak, "result": result}))


CASES = [
    ("secondly", "FREQ=SECONDLY, sync horizon"),
    ("minutely-year", "FREQ=MINUTELY for a year, two weeks"),
    ("minutely-day", "FREQ=MINUTELY for a year, one day"),
    ("70k", "70,000 events over 11 years, sync horizon"),
]


def cases_table(readers: tuple[str, ...]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, label in CASES:
        for reader in readers:
            out = subprocess.run(
                [sys.executable, __file__, "--case", name, "--reader", reader],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            got = json.loads(out.strip().splitlines()[-1])
            rows.append(
                (
                    label,
                    reader,
                    f"{got['seconds']:.3f} s",
                    f"{got['peak_mb']:.0f} MB",
                    got["result"],
                )
            )
    return rows


def budget_case(name: str) -> tuple[float, float, str]:
    """In the budget's child: (seconds, peak RSS MB of the child, result) of one case."""
    data, window = case_data(name)
    begin = time.perf_counter()
    read = read_ics_bytes(data, source="feed.ics", timezone="Europe/Berlin", window=window)
    seconds = time.perf_counter() - begin
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, peak, f"read: {len(read.busy)} busy intervals"


def budget_table(budgets: list[tuple[float, int]]) -> list[tuple[str, ...]]:
    """Each bounded case read as the worker reads it: in a child under a read budget."""
    from integrations.budget import ReadBudget, Reader

    rows = []
    for name, label in CASES:
        for seconds, memory in budgets:
            reader = Reader(ReadBudget(seconds=seconds, memory_mb=memory))
            begin = time.perf_counter()
            try:
                _, peak, result = reader.run("feed.ics", budget_case, name)
                shown = f"{peak:.0f} MB"
            except CalendarError as exc:
                shown, result = (
                    "-",
                    f"refused: {type(exc).__name__} ({getattr(exc, 'resource', '')})",
                )
            wall = time.perf_counter() - begin
            budget = f"{seconds:g} s, {memory} MB"
            rows.append((label, budget, f"{wall:.3f} s", shown, result))
    return rows


def show(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case")
    parser.add_argument("--reader", default="fast")
    parser.add_argument(
        "--full-cases", action="store_true", help="bounded cases on reader=full too"
    )
    parser.add_argument(
        "--budget", action="store_true", help="only the bounded cases under read budgets"
    )
    args = parser.parse_args()
    if args.budget:
        header = ("bounded case", "budget", "time", "child peak RSS", "result")
        show(header, budget_table([(60.0, 1024), (60.0, 150), (1.0, 1024)]))
        return
    if args.case:
        run_case(args.case, args.reader)
        return
    show(
        ("read 8 files, two-week window", "cold ms", "median ms", "ratio"),
        reading_table(2 if args.quick else 5),
    )
    print()
    readers = ("fast", "full") if args.full_cases else ("fast",)
    show(("bounded case", "reader", "time", "peak RSS", "result"), cases_table(readers))


if __name__ == "__main__":
    main()
